"""`dream`: DeepDream. Octaves from a photo or a plain canvas, aimed at chosen layers.

One image per layer plus a contact sheet (seed 000 §3: VGG19 layers 5, 12, 19, 28, 34 and 35 on
black and on white); with ``weights``, one mixed dream of all layers. Big images are climbed a
tile at a time (``tile``; automatic past a megapixel).

On a GPU the layers' images climb as one batch. On the CPU each climbs alone, through the network
only as deep as its own layer: a batch saves the CPU little per image, and a shallow layer's image
no longer pays for the deepest layer's blocks. Every climb replays the same random draws, so the
two ways agree to float rounding for the first steps; a dream is chaotic (a ReLU6 that flips at
its kink changes a gradient outright), so over many steps their details part. Each way gives the
same pixels on every run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.coerce import Problem
from studio.preset.fields import (
    Channels,
    InputImage,
    Optimisation,
    SceneSection,
    Schedule,
    check_channels,
    check_layer_weights,
    layer_weights,
    meta,
    need_layers,
    rate,
    steps,
)
from studio.preset.limits import MAX_OCTAVES, MAX_SIDE, Limits
from studio.scenes.support.labels import as_wh
from studio.scenes.support.optimizing import ascent_settings, dream_plan, tile_plan, tiled_work, units_per_step
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
optimize = lazy("studio.optimize")
layout = lazy("studio.pictures.layout")


@dataclass(frozen=True)
class Section(SceneSection, InputImage, Optimisation):
    WHAT = "a `dream` scene"
    input: str = "gray"
    """`noise`, `uniform-noise`, `black`, `white`, `gray`, `builtin:NAME` or a path."""
    layer: str | None = None
    """A layer by module path (`blocks.4`) or alias (`conv5_1`)."""
    layers: tuple[str, ...] | None = None
    """Several layers dreamt (instead of `layer`): a dream each, or one mixed dream with `weights`."""
    channels: Channels | None = None
    """Dream only these channels of each layer: `"all"`, `"a:b"`, a list of indices, or one index (default: all)."""
    weights: tuple[float, ...] | dict[str, float] | None = None
    """Each layer's share of one mixed dream: an array in `layers` order, or a table by layer name (a layer left
    out weighs 1); unset: one dream per layer."""
    octaves: int = field(default=4, **meta(min=1, max=MAX_OCTAVES, limit="octaves"))
    """Number of scales."""
    steps: int = steps(20)
    """Optimisation steps (per octave where there are octaves)."""
    lr: Schedule = rate(0.02)
    """Step size, `[start, end]` ramped over the run, or one `[start, end]` per octave."""
    param: Literal["pixel", "fft"] = "pixel"
    """`pixel`, or `fft` (spectral, colour-decorrelated)."""
    tile: int | None = field(default=None, **meta(min=64, max=MAX_SIDE))
    """Climb big images a tile at a time (pixels; automatic past a megapixel)."""

    def check(self, limits: Limits):
        need_layers(self, allow_default=False)
        self.check_schedules()
        if self.channels is not None:
            check_channels(self.channels, limits)
        if self.tile is not None and self.param != "pixel":
            raise Problem("tile", "tiling works on pixels", 'param = "pixel" with `tile`', self.param)
        check_layer_weights(self.weights, self.layers or (self.layer,), "dream")


class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        section = context.section
        self.model, self.names, self.paths, self.start, self.sizes, terms = dream_plan(context, section)
        height, width = self.start.shape[-2:]
        objectives = optimize.objectives
        if section.weights is not None:
            self.objective = objectives.weighted(terms, layer_weights(section.weights, self.names))
            self.labels = ["mixed"]
            self.climbs = [self.objective]
        else:
            self.objective, self.labels = objectives.stacked(terms), self.names
            self.climbs = terms if context.device.type == "cpu" else [self.objective]
        if section.negative:  # dream away from what the layers respond to
            self.objective = -self.objective
            self.climbs = [-objective for objective in self.climbs]
        tile, step_size, _ = tile_plan(section.tile, height, width, optimize.Settings.halo)
        self.settings = ascent_settings(section, tile=tile)
        if tile:
            self.settings = dataclasses.replace(self.settings, param="pixel")
        batch = 1 if len(self.climbs) > 1 or section.weights is not None else len(self.paths)
        # memory is a tile's; time is every piece of the moving grid, halos and margin included
        self.step = context.plan_step(self.model, self.paths, batch, step_size,
                                      key="tile" if tile else "size",
                                      what="a tile" if tile else "one dream step",
                                      units=units_per_step(self.sizes),
                                      time_size=tiled_work(height, width, tile, optimize.Settings.halo,
                                                           section.margin) if tile else None)
        self.total = section.steps * len(self.sizes) * len(self.climbs)

    def render(self, progress):
        section = self.context.section
        results, curves = [], []
        batch = len(self.labels) if len(self.climbs) == 1 else 1  # images per climb
        for objective in self.climbs:

            def climb(settings):
                ascent = optimize.Ascent(self.model, objective, settings, self.context.generator("ascent"),
                                         progress.update)
                return ascent, ascent.run(self.start.expand(batch, -1, -1, -1), self.sizes, keep_detail=True)

            (ascent, result), self.settings = optimize.shrink_tile_on_out_of_memory(climb, self.settings, progress)
            results.append(result)
            curves.append(torch.tensor(ascent.scores, dtype=torch.float64) * batch)
        result = torch.cat(results)
        scores = (torch.stack(curves).sum(0) / len(self.labels)).tolist()  # the batch mean, as one climb logs it
        start = self.start.expand(len(self.labels), -1, -1, -1)
        with torch.no_grad():
            scorer = optimize.Ascent(self.model, self.objective, self.settings, torch.Generator())
            before = scorer.score(start).tolist() if not self.settings.tile else None
            after = scorer.score(result).tolist() if not self.settings.tile else None
        if len(self.labels) == 1:
            yield Still(result[0])
        else:
            for label, image in zip(self.labels, result):
                yield Still(image, name=label)
            yield Still(layout.contact_sheet([i.cpu() for i in result], self.labels,
                                             f"{self.model.name} dreams on {section.input}"))
        yield Record("layers", self.paths)
        yield Record("sizes", as_wh(self.sizes))
        yield Record("tile", self.settings.tile)
        yield Record("objective", [round(score, 6) for score in scores])
        if before is not None:
            yield Record("activation", {label: {"before": round(b, 6), "after": round(a, 6)}
                                        for label, b, a in zip(self.labels, before, after)})
