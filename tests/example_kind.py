"""A kind written the way every kind is: one file with its Section (keys, check, draft rule)
and its Scene (renderer). ``tests/test_structure.py`` registers it with one line."""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.coerce import Problem
from studio.preset.fields import SceneSection, meta, side
from studio.preset.limits import Limits

torch = lazy("torch")


@dataclass(frozen=True)
class Section(SceneSection):
    WHAT = "a `swatch` scene"
    colour: tuple[float, float, float] = field(default=(1.0, 0.5, 0.0), **meta(min=0.0, max=1.0))
    size: tuple[int, int] | None = side((64, 96))

    def check(self, limits: Limits):
        if sum(self.colour) == 0:
            raise Problem("colour", "black swatches are not allowed", "a colour with some light", list(self.colour))

    def draft_changes(self) -> dict:
        height, width = self.size
        return {"size": [width // 2, height // 2]}


class Scene:
    def __init__(self, context):
        self.context = context
        self.total = 1

    def render(self, progress):
        section = self.context.section
        height, width = section.size
        yield Still(torch.tensor(section.colour).view(3, 1, 1).expand(3, height, width))
        yield Record("colour", list(section.colour))
        progress.update(1)
