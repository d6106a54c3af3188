"""The ascent loop every optimisation scene shares: objective, parameterisation, robustness
transforms, blur, lr schedule, a schedule of sizes (octaves or upscales), tiles for big images."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from studio.errors import RenderError
from studio.models import LayerTap, LoadedModel
from studio.optimize.objectives import Objective
from studio.optimize.param import make_param, resize
from studio.optimize.schedule import Ramp
from studio.optimize.tiles import tiled_gradient
from studio.optimize.transform import Robustness, blur


@dataclass(frozen=True)
class AscentSettings:
    """How to climb: ``steps`` per size, ``lr`` and ``blur`` ramps over the whole run.

    ``lr`` for pixels is the mean step in [0, 1] units (the gradient is normalised per image,
    DeepDream style); for ``fft`` it is Adam's step size, as in lucent.
    """

    steps: int
    lr: Ramp
    blur: Ramp = Ramp(0.0, 0.0)
    robustness: Robustness = Robustness()
    param: str = "fft"
    tile: int | None = None       # tile side in pixels; None = the whole image at once
    halo: int = 64                # context around each tile, so seams never show

    @classmethod
    def from_scene(cls, scene, tile: int | None = None) -> AscentSettings:
        return cls(scene.steps, Ramp.of(scene.lr), Ramp.of(scene.blur),
                   Robustness(scene.jitter, scene.rotate, scene.scale), scene.param, tile)


def normalised(gradient: torch.Tensor) -> torch.Tensor:
    """DeepDream's step direction: each image's gradient scaled to a mean magnitude of 1."""
    return gradient / (gradient.abs().mean(dim=(1, 2, 3), keepdim=True) + 1e-8)


def autocast(device: torch.device):
    """bf16 autocast on CUDA (where it pays); nothing on the CPU, where fp32 is faster and exact."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@dataclass
class Ascent:
    """Gradient ascent of ``objective`` on a batch of images.

    Args:
        model: a loaded model.
        objective: scores per batch element (see ``objectives.py``).
        settings: steps, schedules, transforms, parameterisation, tiling.
        generator: seeded CPU generator for every random draw.
        on_step: called with the number of steps done (progress bars).

    Attributes:
        scores: mean objective over the batch at every step (for log.json).
    """

    model: LoadedModel
    objective: Objective
    settings: AscentSettings
    generator: torch.Generator
    on_step: Callable[[int], None] = lambda n: None
    scores: list[float] = field(default_factory=list)

    def __post_init__(self):
        self.tap = LayerTap(self.model, self.objective.layers)

    def score(self, images: torch.Tensor) -> torch.Tensor:
        with autocast(images.device):
            return self.objective(self.tap(images)).float()

    def run(self, start: torch.Tensor, sizes: list[tuple[int, int]], keep_detail: bool = False) -> torch.Tensor:
        """Climb through ``sizes`` (smallest first) and return the final images in [0, 1].

        Args:
            start: (B, 3, H, W) in [0, 1], on the model's device.
            sizes: (height, width) per stage; ``steps`` each.
            keep_detail: DeepDream octaves: each stage is the start image at that size plus
                the detail the previous stages added (so a photo stays sharp); otherwise the
                previous result is simply resized (activation maximisation, upscale schedules).
        """
        total = self.settings.steps * len(sizes)
        images = resize(start, *sizes[0])
        base = images
        done = 0
        for stage, (height, width) in enumerate(sizes):
            if stage:
                if keep_detail:
                    detail = resize(images - base, height, width)
                    base = resize(start, height, width)
                    images = (base + detail).clamp(0, 1)
                else:
                    images = blur(resize(images, height, width), self.settings.blur.at(done / total))
            images = self._climb(images, done, total, stage)
            done += self.settings.steps
        return images

    def _climb(self, images: torch.Tensor, done: int, total: int, stage: int) -> torch.Tensor:
        settings = self.settings
        param = make_param(settings.param, images)
        optimizer = None
        if settings.param == "fft":  # one fused kernel per step on CUDA
            optimizer = torch.optim.Adam(param.parameters(), lr=settings.lr.start,
                                         fused=images.device.type == "cuda")
        # Scores stay on the device and are checked every few steps: a sync per step would
        # stall a GPU (on the CPU checking every step costs nothing).
        check_every = 1 if images.device.type == "cpu" else 16
        pending: list[torch.Tensor] = []
        for step in range(settings.steps):
            progress = (done + step) / max(total - 1, 1)
            lr = settings.lr.at(progress)
            if settings.tile:
                gradient, score = tiled_gradient(param.image().detach(), self.score, settings.tile,
                                                 settings.halo, self.generator)
                with torch.no_grad():
                    param.pixels += lr * normalised(gradient)
            else:
                scores = self.score(settings.robustness(param.image(), self.generator))
                (-scores.sum()).backward()
                score = scores.detach()
                if optimizer is not None:
                    for group in optimizer.param_groups:
                        group["lr"] = lr
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
                else:
                    pixels = param.pixels
                    with torch.no_grad():  # pixels.grad is of the loss, -score: step against it
                        pixels -= lr * normalised(pixels.grad)
                    pixels.grad = None
            param.after_step()
            sigma = settings.blur.at(progress)
            if sigma > 0:
                with torch.no_grad():
                    param.set_image(blur(param.image(), sigma))
            pending.append(score.mean())
            if len(pending) == check_every or step == settings.steps - 1:
                self._flush(pending, done + step + 1 - len(pending), stage)
            self.on_step(1)
        with torch.no_grad():
            result = param.image().detach()
        if not torch.isfinite(result).all():
            raise RenderError(self._diverged(done + settings.steps - 1, stage))
        return result

    def _flush(self, pending: list[torch.Tensor], first_step: int, stage: int) -> None:
        """Move pending step scores to the log; stop at the first that is NaN or Inf."""
        values = torch.stack(pending).tolist()
        pending.clear()
        for index, value in enumerate(values):
            if not math.isfinite(value):
                raise RenderError(self._diverged(first_step + index, stage))
            self.scores.append(round(value, 6))

    def _diverged(self, step: int, stage: int) -> str:
        return (f"the optimisation diverged (NaN or Inf) at step {step + 1}, stage {stage + 1}; "
                "nothing was written for this scene: lower `lr`, or add `blur`")


MIN_SIDE = 16  # below this no network sees anything worth dreaming about
PROBE_PIXELS = 1024 * 1024


def check_smallest_size(model: LoadedModel, layers, size: tuple[int, int], source: str,
                        key: str) -> dict[str, tuple[int, ...]]:
    """Refuse, naming the size, a stage smaller than the network can look at (neural-dream#1).

    Returns the activation shapes (without the batch) at that size. Past a megapixel the probe
    runs on a copy scaled to a megapixel (a big image is never too small, and a full-size probe
    would cost more memory than the tiled render itself): channel counts stay exact, spatial
    sizes are then those of the scaled copy.
    """
    from studio.errors import PresetError

    if min(size) < MIN_SIDE:
        raise PresetError(source, key, f"the smallest image, {size[1]}x{size[0]} px, is below "
                          f"{MIN_SIDE} px", expected="a larger `size`, fewer `octaves` or a smaller "
                          "`octave_scale`")
    ratio = min(1.0, (PROBE_PIXELS / (size[0] * size[1])) ** 0.5)
    probe = (max(MIN_SIDE, round(size[0] * ratio)), max(MIN_SIDE, round(size[1] * ratio)))
    try:
        with torch.no_grad():
            found = LayerTap(model, layers)(torch.zeros(1, 3, *probe, device=model.device))
            return {path: tuple(value.shape[1:]) for path, value in found.items()}
    except (RuntimeError, ValueError) as error:
        raise PresetError(source, key, f"the smallest image, {size[1]}x{size[0]} px, is too small for "
                          f"{model.name} up to {', '.join(layers)}",
                          expected="a larger `size`, fewer `octaves` or a smaller `octave_scale`",
                          found=str(error).splitlines()[0][:120]) from None
