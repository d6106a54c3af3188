"""`saliency`: the gradient of the class score with respect to the pixels, |·| max over
colour (Simonyan et al., 2013); with ``samples`` > 0, SmoothGrad's average over noisy copies.

Seed 004 §Saliency maps: where the network looks when it calls the cat a cat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.fields import meta
from studio.scenes.support.attributing import AttributionScene, Explained

optimize = lazy("studio.optimize")
attribute = lazy("studio.attribute")
colour = lazy("studio.pictures.colour")


@dataclass(frozen=True)
class Section(Explained):
    WHAT = "a `saliency` scene"
    samples: int = field(default=0, **meta(min=0, max=1024))
    """SmoothGrad's noisy copies (0: the plain gradient)."""
    noise: float = field(default=0.1, **meta(min=0.0, max=10.0))
    """SmoothGrad's noise, a fraction of the range."""

    def draft_changes(self) -> dict:
        changes = super().draft_changes()
        if self.samples > 4:
            changes["samples"] = 4
        return changes


class Scene(AttributionScene):
    def __init__(self, context):
        super().__init__(context)
        self.total = max(1, context.section.samples)
        self.batch = optimize.batch_size(None, tuple(self.image.shape[-2:]), context.device)
        self.step = context.plan_step(self.model, [], min(self.batch, self.total), tuple(self.image.shape[-2:]),
                                      what="a batch of gradients", units=min(self.batch, self.total))

    def render(self, progress):
        section = self.context.section
        _, heat = attribute.smooth_saliency(self.model, self.image, self.target, section.samples, section.noise,
                                            self.context.generator("smoothgrad"), self.batch,
                                            on_batch=progress.update)
        photo = self.image[0].cpu()
        coloured = colour.colormap(heat[None], "inferno")[0]
        laid_over = colour.overlay(photo, heat)
        what = f"SmoothGrad ({section.samples} samples, noise {section.noise:g})" if section.samples else "Saliency"
        yield Still(self.panel([photo, coloured, laid_over], ["input", "saliency", "overlay"], what))
        yield Still(colour.colormap(heat[None], "gray")[0], name="map")
        yield Still(laid_over, name="overlay")
        yield from self.records()
        yield Record("samples", section.samples)
        yield Record("saliency_total", round(float(heat.sum()), 6))
