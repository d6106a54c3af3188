"""Gradient ascent of an objective on a batch of images: robustness transforms, blur between
steps, a schedule of sizes (octaves or upscales) and tiles for big images, each stage run by
the shared :class:`~studio.optimize.loop.StepLoop`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from studio.errors import RenderError
from studio.models import LayerTap, LoadedModel
from studio.optimize.loop import Settings, StepLoop, autocast
from studio.optimize.objectives import Objective
from studio.optimize.param import make_param
from studio.optimize.tiles import tiled_gradient
from studio.optimize.transform import blur, margin_of, with_margin
from studio.pictures.colour import stretch
from studio.pictures.layout import resize


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
    settings: Settings
    generator: torch.Generator
    on_step: Callable[[int], None] = lambda n: None
    curves: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self):
        self.tap = LayerTap(self.model, self.objective.layers)

    @property
    def scores(self) -> list[float]:
        return self.curves.get("score", [])

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
                    images = blur(resize(images, height, width), self.settings.blur.between(stage, len(sizes)),
                                  self.settings.blur_kernel)
            images = self._climb(images, done, stage, len(sizes))
            done += self.settings.steps
        return stretch(images) if self.settings.levels else images

    def _climb(self, images: torch.Tensor, done: int, stage: int, stages: int) -> torch.Tensor:
        settings = self.settings
        param = make_param(settings.param, images)

        def closure() -> dict[str, torch.Tensor]:
            if settings.tile:
                image = param.image().detach()
                framed = with_margin(image, settings.margin, settings.margin_fill)
                gradient, score = tiled_gradient(framed, self.score, settings.tile, settings.halo, self.generator)
                margin = margin_of(image, settings.margin)  # the margin is context: its gradient is dropped
                height, width = image.shape[-2:]
                param.pixels.grad = -gradient[..., margin:margin + height, margin:margin + width]
                return {"score": score}
            framed = with_margin(param.image(), settings.margin, settings.margin_fill)
            scores = self.score(settings.robustness(framed, self.generator))
            (-scores.sum()).backward()
            return {"score": scores.detach()}

        def blur_after(step: int) -> None:
            sigma = settings.blur.during(stage, stages, step, settings.steps)
            if sigma > 0:
                with torch.no_grad():
                    param.set_image(blur(param.image(), sigma, settings.blur_kernel))

        rule = "adam" if settings.param == "fft" else "decorrelated" if settings.decorrelate else "normalised"
        loop = StepLoop(settings.steps, lambda step: settings.lr.during(stage, stages, step, settings.steps),
                        rule, self.generator, self.on_step,
                        hint="lower `lr`, or add `blur`", offset=done, stage=stage + 1, curves=self.curves)
        for _ in loop.run(param, closure, after_step=blur_after):
            pass
        with torch.no_grad():
            result = param.image().detach()
        if not torch.isfinite(result).all():
            raise RenderError(loop.diverged(settings.steps - 1))
        return result


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
