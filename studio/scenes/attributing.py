"""What the attribution scenes (saliency, guided-backprop, occlusion) share: the model, the
photo, the class they explain, and the side-by-side panel they end in."""

from __future__ import annotations

import torch

from studio.attribution import logits
from studio.errors import PresetError
from studio.frames import Record
from studio.output.images import labelled_grid
from studio.scenes.base import SceneContext


class AttributionScene:
    """Base of the three scenes: resolves ``target`` ("top" or a class index) against the
    model's outputs before anything renders."""

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model = context.model()
        self.image = context.input(self.model.input_size)
        with torch.no_grad():
            probabilities = logits(self.model, self.image).softmax(dim=1)[0].float().cpu()
        classes = probabilities.numel()
        if scene.target == "top":
            self.target = int(probabilities.argmax())
        elif scene.target >= classes:
            raise PresetError(context.source, context.key("target"), "no such class",
                              expected=f"\"top\" or a class index 0..{classes - 1} ({self.model.name} "
                              f"has {classes} outputs)", found=scene.target)
        else:
            self.target = scene.target
        self.probability = float(probabilities[self.target])

    @property
    def class_label(self) -> str:
        names = self.model.categories
        return f"class {self.target}" + (f" ({names[self.target]})" if self.target < len(names) else "")

    def panel(self, tiles: list[torch.Tensor], captions: list[str], what: str) -> torch.Tensor:
        title = (f"{what} of {self.class_label}, p = {self.probability:.3f}; "
                 f"{self.model.name}, {self.context.scene.input}")
        return labelled_grid(torch.stack([t.float().cpu() for t in tiles]), captions, title=title,
                             columns=len(tiles))

    def records(self):
        yield Record("target", self.target)
        yield Record("class", self.class_label)
        yield Record("probability", round(self.probability, 6))
        yield Record("input", self.context.scene.input)
