"""What the attribution scenes (saliency, guided-backprop, occlusion) share: the keys that name a
photo and the class to explain, the model and photo, and the side-by-side panel they end in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from studio.errors import PresetError
from studio.frames import Record
from studio.lazy import lazy
from studio.preset.fields import InputImage, SceneSection, meta
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
attribute = lazy("studio.attribute")
layout = lazy("studio.pictures.layout")


@dataclass(frozen=True)
class Explained(SceneSection, InputImage):
    """A photo and the class whose score is explained: ``"top"`` or a class index."""

    target: int | Literal["top"] = field(default="top", **meta(min=0))
    """`"top"` (the predicted class) or a class index."""


class AttributionScene(SceneBase):
    """Base of the three scenes: resolves ``target`` against the model's outputs before
    anything renders."""

    def __init__(self, context):
        self.context = context
        section = context.section
        self.model = context.model()
        self.image = context.input(section.input, section.size, self.model.input_size)
        with torch.no_grad():
            probabilities = attribute.logits(self.model, self.image).softmax(dim=1)[0].float().cpu()
        classes = probabilities.numel()
        if section.target == "top":
            self.target = int(probabilities.argmax())
        elif section.target >= classes:
            raise PresetError(context.source, context.key("target"), "no such class",
                              expected=f"\"top\" or a class index 0..{classes - 1} ({self.model.name} "
                              f"has {classes} outputs)", found=section.target)
        else:
            self.target = section.target
        self.probability = float(probabilities[self.target])

    @property
    def class_label(self) -> str:
        names = self.model.categories
        return f"class {self.target}" + (f" ({names[self.target]})" if self.target < len(names) else "")

    def panel(self, tiles: list, captions: list[str], what: str):
        title = (f"{what} of {self.class_label}, p = {self.probability:.3f}; "
                 f"{self.model.name}, {self.context.section.input}")
        return layout.labelled_grid(torch.stack([t.float().cpu() for t in tiles]), captions, title=title,
                                    columns=len(tiles))

    def records(self):
        yield Record("target", self.target)
        yield Record("class", self.class_label)
        yield Record("probability", round(self.probability, 6))
        yield Record("input", self.context.section.input)
