"""`poster`: one large picture in which every cell of a grid is one channel's visualisation.

An atlas climbs each channel on its own and lays the results out; a poster climbs a single
canvas, each cell scored by its own channel over the positions it owns (``objectives.mosaic``),
neighbouring cells cross-fading over ``blend`` of a cell. The cells share the canvas and the
network's context, so the motifs grow into each other at the seams instead of meeting at a gap:
a wall-sized atlas optimised as one image, with octaves for its size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from studio.errors import PresetError
from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.fields import Channels, InputImage, Optimisation, SceneSection, check_channels, meta, need_layer
from studio.preset.limits import Limits
from studio.scenes.support.labels import as_wh, layer_label
from studio.scenes.support.optimizing import ascent_settings, one_layer_plan, units_per_step
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
optimize = lazy("studio.optimize")
layout = lazy("studio.pictures.layout")

KEY_SIDE = 1024  # the labelled key is drawn at most this wide


@dataclass(frozen=True)
class Section(SceneSection, InputImage, Optimisation):
    WHAT = "a `poster` scene"
    input: str = "noise"
    """`noise`, `uniform-noise`, `black`, `white`, `gray`, `builtin:NAME` or a path."""
    layer: str | None = None
    """A layer by module path (`blocks.4`) or alias (`conv5_1`)."""
    channels: Channels = "0:16"
    """`"all"`, `"a:b"`, a list of indices, or one index: one cell each."""
    grid: tuple[int, int] | None = field(default=None, **meta(min=1, max=64))  # [columns, rows]
    """`[columns, rows]` of cells, one channel each (default: about square)."""
    blend: float = field(default=0.3, **meta(min=0.0, max=1.0))
    """Fraction of a cell over which neighbouring cells cross-fade."""

    def check(self, limits: Limits):
        need_layer(self, "blocks.4")
        check_channels(self.channels, limits)
        self.check_schedules()

    def draft_changes(self) -> dict:
        # a draft previews the composition: every channel in its cell, only smaller and shorter
        changes = super().draft_changes()
        changes.pop("channels", None)
        return changes


def grid_for(count: int, height: int, width: int) -> tuple[int, int]:
    """(rows, columns) for ``count`` cells of about square shape on a height × width canvas.

    Example:
        >>> grid_for(16, 1024, 1024), grid_for(6, 1000, 1500)
        ((4, 4), (2, 3))
    """
    columns = max(1, min(count, round(math.sqrt(count * width / height))))
    return math.ceil(count / columns), columns


class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        section = context.section
        self.model, self.path, self.sizes, shape, self.start = one_layer_plan(context, section)
        self.channels = context.channels(section.channels, shape[0])
        height, width = self.sizes[-1]
        if section.grid is None:
            self.rows, self.columns = grid_for(len(self.channels), height, width)
        else:
            self.columns, self.rows = section.grid
        cells = self.rows * self.columns
        if cells < len(self.channels):  # a channel without a cell would be dropped without a word
            raise PresetError(context.source, context.key("grid"), "fewer cells than channels",
                              expected=f"at least {len(self.channels)} cells (columns × rows), or fewer `channels`",
                              found=f"[{self.columns}, {self.rows}]: {cells} cells",
                              hint=f"did you mean {list(grid_for(len(self.channels), height, width)[::-1])}?")
        if len(shape) != 3 or shape[1] < self.rows or shape[2] < self.columns:
            raise PresetError(context.source, context.key("grid"), "more cells than the layer has positions "
                              "at the smallest octave", expected=f"at most {list(shape[1:][::-1])} [columns, rows], "
                              "a larger `size` or fewer `octaves`", found=f"[{self.columns}, {self.rows}]")
        # cells past the channels repeat them from the first, so every cell has a motif
        self.cell_channels = [self.channels[i % len(self.channels)] for i in range(cells)]
        self.step = context.plan_step(self.model, [self.path], 1, self.sizes[-1], what="the poster",
                                      units=units_per_step(self.sizes))
        self.total = section.steps * len(self.sizes)

    def render(self, progress):
        section = self.context.section
        objective = optimize.objectives.mosaic(self.path, self.cell_channels, self.rows, self.columns, section.blend)
        if section.negative:
            objective = -objective
        ascent = optimize.Ascent(self.model, objective, ascent_settings(section),
                                 self.context.generator("ascent"), progress.update)
        poster = ascent.run(self.start, self.sizes)[0]
        with torch.no_grad():
            cells = optimize.objectives.mosaic_cells(self.path, self.cell_channels, self.rows, self.columns,
                                                     section.blend)(ascent.tap(poster[None]))[0].tolist()
        yield Still(poster)
        yield Still(self.key(poster.cpu()), name="key")
        yield Record("layer", self.path)
        yield Record("sizes", as_wh(self.sizes))
        yield Record("grid", [self.columns, self.rows])
        yield Record("objective", ascent.scores)
        yield Record("cells", [{"channel": c, "activation": round(v, 6)} for c, v in zip(self.cell_channels, cells)])

    def key(self, poster):
        """The poster small, with each cell's channel written in it: which motif is which."""
        height, width = poster.shape[-2:]
        ratio = min(1.0, KEY_SIDE / max(height, width))
        small = layout.resize(poster[None], max(1, round(height * ratio)), max(1, round(width * ratio)))[0]
        label = layer_label(self.model, self.path)
        return layout.cell_labels(small, self.rows, self.columns, [str(c) for c in self.cell_channels],
                                  f"{self.model.name} {label}: {len(self.channels)} channels on one canvas")
