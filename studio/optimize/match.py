"""Descent towards targets: feature inversion, Gram-matrix texture synthesis, style transfer.

Where ``Ascent`` climbs an objective, ``Descent`` lowers a weighted sum of named losses built
from the same :class:`Objective` pieces, on the same parameterisations and robustness
transforms, with Adam. Every loss is relative (1 = as far from the target as all-zero features),
so one weight means the same on any layer, image size or network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch

from studio.models import LayerTap, LoadedModel
from studio.optimize.loop import PartStore, Settings, StepLoop, autocast
from studio.optimize.objectives import Objective, _as_maps, gram
from studio.optimize.param import make_param


def _relative(difference: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    dims = tuple(range(1, difference.dim()))
    return difference.pow(2).sum(dim=dims) / target.float().pow(2).sum(dim=dims).clamp_min(1e-12)


def feature_distance(layer: str, target: torch.Tensor) -> Objective:
    """‖φ(x) − φ(target)‖² / ‖φ(target)‖² per batch element (Mahendran & Vedaldi's loss).

    ``target`` is the layer's activation of the reference image, (1 or B, C, H, W).
    """
    return Objective(lambda acts: _relative(_as_maps(acts[layer]).float() - target, target), [layer],
                     f"feature_distance({layer})")


def gram_distance(layer: str, target: torch.Tensor) -> Objective:
    """‖G(φ(x)) − G_target‖² / ‖G_target‖² per batch element (Gatys et al.'s style loss).

    ``target`` is the Gram matrix of the reference image at that layer, (1, C, C).
    """
    return Objective(lambda acts: _relative(gram(_as_maps(acts[layer])) - target, target), [layer],
                     f"gram_distance({layer})")


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of neighbouring pixels, per image: (B, 3, H, W) → (B,).

    Example:
        >>> total_variation(torch.zeros(1, 3, 4, 4))
        tensor([0.])
    """
    dy = (images[..., 1:, :] - images[..., :-1, :]).pow(2).mean(dim=(1, 2, 3))
    dx = (images[..., :, 1:] - images[..., :, :-1]).pow(2).mean(dim=(1, 2, 3))
    return dx + dy


@dataclass
class Descent:
    """Adam on a batch of images to lower Σ weight·term (+ ``tv_weight`` · total variation).

    Args:
        model: a loaded model.
        terms: named losses (per batch element, lower is better).
        weights: a weight per term (default 1).
        settings: steps, lr ramp, robustness transforms, parameterisation (``tile`` unused).
        generator: seeded CPU generator for the transforms.
        tv_weight: weight of the total-variation prior (Mahendran & Vedaldi).

    Attributes:
        curves: per term (and ``total``), the batch mean at every step, for log.json.
        initial, final: per term, the value of each batch element at the start and after the
            last step (without robustness transforms: what the pictures really score).
    """

    model: LoadedModel
    terms: dict[str, Objective]
    settings: Settings
    generator: torch.Generator
    weights: dict[str, float] = field(default_factory=dict)
    tv_weight: float = 0.0
    on_step: Callable[[int], None] = lambda n: None
    curves: dict[str, list[float]] = field(default_factory=dict)
    initial: dict[str, list[float]] = field(default_factory=dict)
    final: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self):
        layers = [layer for term in self.terms.values() for layer in term.layers]
        self.tap = LayerTap(self.model, layers)
        self.curves = {name: [] for name in [*self.terms, "total"]}

    def losses(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every term, and their weighted ``total``, for images (B, 3, H, W): (B,) each."""
        with autocast(images.device):
            activations = self.tap(images)
            found = {name: term(activations).float() for name, term in self.terms.items()}
        total = sum(self.weights.get(name, 1.0) * value for name, value in found.items())
        if self.tv_weight:
            found["tv"] = total_variation(images.float())
            total = total + self.tv_weight * found["tv"]
        found["total"] = total
        return found

    def run(self, start: torch.Tensor, every: int = 0, store: PartStore | None = None,
            checkpoint_every: int = 0, resume: bool = True) -> Iterator[tuple[int, torch.Tensor]]:
        """Descend from ``start`` (B, 3, H, W) in [0, 1].

        Args:
            every: yield the images every this many steps (0: only at the end).
            store: where a checkpoint goes every ``checkpoint_every`` steps (the
                parameterisation, Adam's state, the generator, the curves); a descent that
                finds one goes on from it exactly as if never stopped (only later yields are
                made); with ``resume`` False it starts over all the same.

        Yields:
            (steps done, images) every ``every`` steps and after the last step; the last yield
            is the result.
        """
        settings = self.settings
        self.initial = self._values(start)
        param = make_param(settings.param, start)

        def closure() -> dict[str, torch.Tensor]:
            found = self.losses(settings.robustness(param.image(), self.generator))
            found["total"].sum().backward()
            return {name: value.detach() for name, value in found.items()}

        loop = StepLoop(settings.steps, lambda step: settings.lr.at(step / max(settings.steps - 1, 1)), "adam",
                        self.generator, self.on_step, curves=self.curves)
        for step in loop.run(param, closure, every=every, store=store, checkpoint_every=checkpoint_every,
                             resume=resume):
            with torch.no_grad():
                images = param.image().detach()
            if step == settings.steps:
                self.final = self._values(images)
            yield step, images

    def _values(self, images: torch.Tensor) -> dict[str, list[float]]:
        with torch.no_grad():
            return {name: [round(v, 6) for v in value.tolist()] for name, value in self.losses(images).items()}
