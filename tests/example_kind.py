"""A kind written the way every kind is: one file with its Section (keys, each with its meaning
beside it; check; draft rule) and its Scene (renderer, on the shared SceneBase).
``tests/test_structure.py`` registers it with one line."""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.coerce import Problem
from studio.preset.fields import SceneSection, meta, side
from studio.preset.limits import Limits
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")


@dataclass(frozen=True)
class Section(SceneSection):
    WHAT = "a `swatch` scene"
    colour: tuple[float, float, float] = field(default=(1.0, 0.5, 0.0), **meta(min=0.0, max=1.0))
    """The swatch's colour, `[red, green, blue]` in [0, 1]."""
    size: tuple[int, int] | None = side((64, 96))
    """The swatch's `[width, height]` in pixels."""

    def check(self, limits: Limits):
        if sum(self.colour) == 0:
            raise Problem("colour", "black swatches are not allowed", "a colour with some light", list(self.colour))

    def draft_changes(self) -> dict:
        height, width = self.size
        return {"size": [width // 2, height // 2]}


class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        self.total = 1

    def render(self, progress):
        section = self.context.section
        height, width = section.size
        yield Still(torch.tensor(section.colour).view(3, 1, 1).expand(3, height, width))
        yield Record("colour", list(section.colour))
        progress.update(1)
