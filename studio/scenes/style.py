"""`style`: neural style transfer (Gatys et al., 2016). Start from the content photo and descend
on content distance (one layer's features) + ``style_weight`` × style distance (Gram matrices at
several layers); a video of the painting as it happens.

Seed 004 §Neural style transfer. Both losses are relative, so ``style_weight`` means the same
on any network: 1 balances them, 5 (the default) leans to the style.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.coerce import Problem
from studio.preset.fields import Video, meta
from studio.preset.limits import Limits
from studio.scenes.support.matching import Gram, content_layer, descend, descent, frame_every, style_layers
from studio.scenes.support.scene import SceneBase
from studio.scenes.texture import style_loss

torch = lazy("torch")
models = lazy("studio.models")
optimize = lazy("studio.optimize")
match = lazy("studio.optimize.match")
layout = lazy("studio.pictures.layout")


@dataclass(frozen=True)
class Section(Gram, Video):
    WHAT = "a `style` scene"
    content_layer: str | None = None
    """Layer whose features the result keeps."""
    style_weight: float = field(default=5.0, **meta(min=0.0, max=1e9))
    """Style against content (relative losses)."""

    def check(self, limits: Limits):
        if not self.style:
            raise Problem("style", "required key is missing",
                          "the style image: builtin:NAME or a path (e.g. \"builtin:hubble_deep_field\")", None)


class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        section = context.section
        self.model = context.model()
        self.names, self.paths = style_layers(context, self.model, section.layers)
        self.content_path = content_layer(context, self.model, section.content_layer)
        self.content = context.input(section.input, section.size, self.model.input_size)
        self.style = context.input(section.style, section.size, self.model.input_size, "style")
        size = tuple(self.content.shape[-2:])
        optimize.check_smallest_size(self.model, [*self.paths, self.content_path], size, context.source,
                                     context.key("size"))
        self.step = context.plan_step(self.model, [*self.paths, self.content_path], 1, size)
        self.total = section.steps
        self.film = (section.steps // frame_every(section.steps), section.video_size)

    def render(self, progress):
        section = self.context.section
        with torch.no_grad():
            target = models.LayerTap(self.model, [self.content_path])(self.content)[self.content_path].float()
        terms = {"content": match.feature_distance(self.content_path, target),
                 "style": style_loss(self.model, self.paths, self.style)}
        run = descent(self.context, section, self.model, terms, progress, weights={"style": section.style_weight})
        labels = ["content", "style", "result"]
        title = (f"{section.input} in the style of {section.style} ({self.model.name}, "
                 f"style weight {section.style_weight:g})")
        images = yield from descend(self.context, run, self.content, frame_every(section.steps),
                                    lambda _, images: images[0].cpu())
        yield Still(images[0].cpu())
        yield Still(layout.comparison_sheet([self.content, self.style], images, labels, title), name="comparison")
        yield Record("style_layers", self.paths)
        yield Record("content_layer", self.content_path)
        yield Record("style_loss", run.curves["style"])
        yield Record("content_loss", run.curves["content"])
        yield Record("start", {name: values[0] for name, values in run.initial.items()})
        yield Record("final", {name: values[0] for name, values in run.final.items()})
