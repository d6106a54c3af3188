"""`style`: neural style transfer (Gatys et al., 2016). Start from the content photo and descend
on content distance (one layer's features) + ``style_weight`` × style distance (Gram matrices at
several layers); a video of the painting as it happens.

Seed 004 §Neural style transfer. Both losses are relative, so ``style_weight`` means the same
on any network: 1 balances them, 5 (the default) leans to the style.
"""

from __future__ import annotations

import torch

from studio.errors import PresetError
from studio.frames import Record, Still
from studio.models import LayerTap
from studio.optimize import check_smallest_size
from studio.optimize.match import feature_distance
from studio.scenes.base import SceneContext
from studio.scenes.matching import content_layer, descend, descent, frame_every, sheet, style_layers
from studio.scenes.texture import style_loss


class Scene:
    kind = "style"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        if not scene.style:
            raise PresetError(context.source, context.key("style"), "required key is missing",
                              expected="the style image: builtin:NAME or a path (e.g. \"builtin:hubble_deep_field\")")
        self.model = context.model()
        self.names, self.paths = style_layers(context, self.model)
        self.content_path = content_layer(context, self.model)
        self.content = context.input(self.model.input_size)
        self.style = context.input(self.model.input_size, scene.style, "style", size=None)
        check_smallest_size(self.model, [*self.paths, self.content_path], tuple(self.content.shape[-2:]),
                            context.source, context.key("size"))
        self.memory = context.check_memory(self.model, [*self.paths, self.content_path], 1,
                                           tuple(self.content.shape[-2:]))
        self.total = scene.steps

    def render(self, progress):
        scene = self.context.scene
        with torch.no_grad():
            target = LayerTap(self.model, [self.content_path])(self.content)[self.content_path].float()
        terms = {"content": feature_distance(self.content_path, target),
                 "style": style_loss(self.model, self.paths, self.style)}
        run = descent(self.context, self.model, terms, progress, weights={"style": scene.style_weight})
        labels = ["content", "style", "result"]
        title = f"{scene.input} in the style of {scene.style} ({self.model.name}, style weight {scene.style_weight:g})"
        images = yield from descend(self.context, run, self.content, frame_every(scene.steps),
                                    lambda _, images: images[0].cpu())
        yield Still(images[0].cpu())
        yield Still(sheet([self.content, self.style], images, labels, title), name="comparison")
        yield Record("style_layers", self.paths)
        yield Record("content_layer", self.content_path)
        yield Record("style_loss", run.curves["style"])
        yield Record("content_loss", run.curves["content"])
        yield Record("start", {name: values[0] for name, values in run.initial.items()})
        yield Record("final", {name: values[0] for name, values in run.final.items()})
