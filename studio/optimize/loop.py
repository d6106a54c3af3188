"""The one step loop every optimisation runs, climbing (dream, maximize, progressive, atlas) or
descending (inversion, texture, style): the optimiser, the lr schedule, deferred NaN checks,
snapshots and resumable checkpoints. What is optimised and how it is scored come from outside:
a parameterisation (``param.py``) and a closure that scores the images and backpropagates, as
``torch.optim`` closures do.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import torch

from studio.errors import RenderError
from studio.optimize.rules import Rule, StepRule, make_optimiser
from studio.optimize.schedule import Ramp, Schedule
from studio.optimize.transform import Robustness


@dataclass(frozen=True)
class Settings:
    """How to optimise: ``steps`` per size, ``lr`` and ``blur`` schedules (one ramp over the whole
    run, or one per size), ``blur_kernel`` a fixed Gaussian kernel side (None: ±3σ).

    ``lr`` for pixels is the mean step in [0, 1] units (the gradient is normalised per image,
    DeepDream style); for ``fft`` and for descents it is Adam's step size, as in lucent.
    """

    steps: int
    lr: Schedule
    blur: Schedule = Ramp(0.0, 0.0)
    robustness: Robustness = Robustness()
    param: str = "fft"
    tile: int | None = None       # tile side in pixels; None = the whole image at once
    halo: int = 64                # context around each tile, so seams never show
    blur_kernel: int | None = None
    decorrelate: bool = False     # pixel steps in natural images' colour statistics (no colour casts)
    margin: int = 0               # pixels of context around the image, so the network's padding never
                                  # meets the picture's own border (no frame along the edge)
    margin_fill: str = "wrap"     # that context: the image wrapped around, or mirrored
    levels: bool = False          # the result's tones stretched to the full range (auto-levels)


def autocast(device: torch.device):
    """bf16 autocast on CUDA (where it pays); nothing on the CPU, where fp32 is faster and exact."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class PartStore(Protocol):
    """Where finished work is kept for a resume (``output.cache.PartCache``)."""

    def load(self, key: str) -> dict | None: ...

    def save(self, key: str, payload: dict) -> None: ...

    def mine(self, index: int) -> bool:
        """Whether this process does part ``index`` (a torchrun team shares a scene's parts)."""
        ...


@dataclass
class StepLoop:
    """Optimisation steps on one parameterisation.

    Args:
        steps: how many steps.
        lr: step size at each step index (the caller's schedule).
        rule: ``adam``, ``normalised`` or ``decorrelated`` (see :mod:`studio.optimize.rules`).
        generator: the seeded generator the steps draw from (kept in checkpoints).
        on_step: called with 1 after every step (progress bars).
        hint: what the divergence message advises.
        offset: steps done before this loop (earlier stages), for messages.
        stage: 1-based stage number for messages, or 0 when there is one stage.
        curves: per named value, the batch mean at every step; shared across stages.

    Example:
        >>> from studio.optimize.param import PixelImage
        >>> param = PixelImage(torch.zeros(1, 3, 2, 2))
        >>> def closure():
        ...     score = param.image().mean(dim=(1, 2, 3))
        ...     (-score.sum()).backward()
        ...     return {"score": score.detach()}
        >>> loop = StepLoop(3, lambda step: 0.1, "normalised", torch.Generator())
        >>> list(loop.run(param, closure)), loop.curves["score"]
        ([3], [0.0, 0.1, 0.2])
    """

    steps: int
    lr: Callable[[int], float]
    rule: Rule
    generator: torch.Generator
    on_step: Callable[[int], None] = lambda n: None
    hint: str = "lower `lr`"
    offset: int = 0
    stage: int = 0
    curves: dict[str, list[float]] = field(default_factory=dict)

    def run(self, param, closure: Callable[[], dict[str, torch.Tensor]],
            after_step: Callable[[int], None] | None = None, every: int = 0,
            store: PartStore | None = None, checkpoint_every: int = 0,
            resume: bool = True, checkpoint_key: str = "descent") -> Iterator[int]:
        """Step ``param`` with ``closure`` (scores the images, backpropagates, returns the named
        per-image values to log); yield the step count every ``every`` steps and after the last.

        Args:
            after_step: called with the step index after each step (e.g. a blur).
            store: where checkpoints go; with one (and ``resume``), the loop goes on from its
                last checkpoint exactly as if it had never stopped (only later snapshots are
                yielded).
            checkpoint_every: steps between checkpoints (0: none).
        """
        optimiser = make_optimiser(self.rule, param.parameters(), self.lr(0))
        first = self._resume(store.load(checkpoint_key), param, optimiser) if store is not None and resume else 0
        # Values stay on the device and are checked every few steps: a sync per step would
        # stall a GPU (on the CPU checking every step costs nothing).
        check_every = 1 if param.parameters()[0].device.type == "cpu" else 16
        pending: list[dict[str, torch.Tensor]] = []
        for step in range(first, self.steps):
            optimiser.lr = self.lr(step)
            values = closure()
            optimiser.step()
            optimiser.zero_grad()
            param.after_step()
            if after_step is not None:
                after_step(step)
            pending.append({name: value.mean() for name, value in values.items()})
            snapshot = (every and (step + 1) % every == 0) or step == self.steps - 1
            if len(pending) == check_every or snapshot:
                self._flush(pending, step + 1 - len(pending))
            self.on_step(1)
            if store is not None and checkpoint_every and (step + 1) % checkpoint_every == 0 \
                    and step + 1 < self.steps:
                store.save(checkpoint_key, {
                    "parameters": [t.detach().cpu() for t in param.parameters()],
                    "optimizer": optimiser.state_dict(), "generator": self.generator.get_state(),
                    "curves": self.curves, "step": step + 1})
            if snapshot:
                yield step + 1

    def _resume(self, state: dict | None, param, optimiser: StepRule) -> int:
        if state is None:
            return 0
        with torch.no_grad():
            for tensor, saved in zip(param.parameters(), state["parameters"]):
                tensor.copy_(saved.to(tensor.device))
        optimiser.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.curves.clear()
        self.curves.update(state["curves"])
        self.on_step(state["step"])
        return state["step"]

    def _flush(self, pending: list[dict[str, torch.Tensor]], first_step: int) -> None:
        """Move pending values to the curves (one device sync); stop at the first NaN or Inf."""
        names = list(pending[0])
        rows = torch.stack([torch.stack([values[n].float() for n in names]) for values in pending]).tolist()
        pending.clear()
        for index, row in enumerate(rows):
            for name, number in zip(names, row):
                if not math.isfinite(number):
                    raise RenderError(self.diverged(first_step + index, name))
                self.curves.setdefault(name, []).append(round(number, 6))

    def diverged(self, step: int, name: str = "") -> str:
        where = f"step {self.offset + step + 1}" + (f", stage {self.stage}" if self.stage else "")
        return (f"the optimisation diverged (NaN or Inf{f' in {name}' if name else ''}) at {where}; "
                f"nothing was written for this scene: {self.hint}")
