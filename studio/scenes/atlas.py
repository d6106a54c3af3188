"""`atlas`: the first N channels of every chosen module, maximised, one grid per module
(seed 002's map of InceptionV3)."""

from __future__ import annotations

from dataclasses import dataclass

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.fields import (
    DRAFT_CHANNELS,
    Channels,
    Grid,
    InputImage,
    Optimisation,
    RateByParam,
    SceneSection,
    Variants,
    check_count,
    side,
)
from studio.preset.limits import Limits
from studio.scenes.support.labels import layer_label
from studio.scenes.support.optimizing import (
    ascent_settings,
    channel_objectives,
    sheet_columns,
    size_plan,
    units_per_step,
    variant_labels,
    variant_starts,
)
from studio.scenes.support.scene import SceneBase

optimize = lazy("studio.optimize")
layout = lazy("studio.pictures.layout")
layers = lazy("studio.models.layers")


@dataclass(frozen=True)
class Section(Grid, RateByParam, SceneSection, InputImage, Optimisation, Variants):
    WHAT = "an `atlas` scene"
    input: str = "noise"
    """`noise`, `uniform-noise`, `black`, `white`, `gray`, `builtin:NAME` or a path."""
    layers: tuple[str, ...] | None = None
    """Several modules climbed side by side (instead of `layer`): one grid each."""
    channels: Channels = 16
    """Per module: `"all"`, `"a:b"`, a list of indices, or a count N (the first N channels)."""
    size: tuple[int, int] | None = side((96, 96))
    """Working size `[width, height]` in pixels (default: the model's, photos keep their aspect)."""

    def check(self, limits: Limits):
        check_count(self.channels, limits)
        self.check_schedules()

    def draft_changes(self) -> dict:
        changes = super().draft_changes()
        if isinstance(self.channels, int):  # a count: the first N of every module
            changes["channels"] = min(self.channels, DRAFT_CHANNELS)
        return changes


class Scene(SceneBase):
    shared = True  # its climbs are independent batches: a torchrun team shares them

    def __init__(self, context):
        self.context = context
        section = context.section
        self.model = context.model()
        self.sizes = size_plan(section, self.model.input_size)
        names = list(section.layers) if section.layers else layers.stage_paths(self.model.module, self.sizes[-1])
        self.paths = [context.layer(self.model, n, f"layers.{i}") for i, n in enumerate(names)]
        shapes = optimize.check_smallest_size(self.model, self.paths, self.sizes[0], context.source,
                                              context.key("size"))
        self.plan = []
        limit = max(1, optimize.batch_size(None, self.sizes[-1], context.device) // section.variants)
        for path in self.paths:
            channels = context.channels(section.channels, shapes[path][0], count_means_first=True)
            self.plan.append((path, optimize.chunks(channels, limit)))
        self.start = variant_starts(context, context.input(section.input, self.sizes[0], self.model.input_size),
                                    section.variants)
        largest = max(len(b[0]) for _, b in self.plan) * section.variants
        self.step = context.plan_step(self.model, self.paths, largest, self.sizes[-1],
                                      what=f"a batch of {largest} channels",
                                      units=units_per_step(self.sizes))
        self.total = section.steps * len(self.sizes) * sum(len(b) for _, b in self.plan)

    def seconds(self) -> float:
        """Each module's batches climb only as deep as that module: a shallow module's step
        costs a fraction of the deepest one's."""
        from studio.budget import CLIMB_OVERHEAD, Workload, seconds_per_step

        section = self.context.section
        steps = section.steps * len(self.sizes) / units_per_step(self.sizes)  # in final-size steps
        return CLIMB_OVERHEAD * sum(steps * seconds_per_step(self.model, Workload((path,), len(batch) * section.variants,
                                                                 self.sizes[-1]))
                   for path, batches in self.plan for batch in batches)

    def render(self, progress):
        section = self.context.section
        settings = ascent_settings(section)
        grids, activation, curves = [], {}, {}
        for path, batches in self.plan:
            climbs = optimize.Climbs()
            objective, measure = channel_objectives(path, section)
            for _ in optimize.climb_batches(self.model, objective, batches, self.start, self.sizes, settings,
                                            self.context.seed("ascent"), progress, self.context.parts, climbs,
                                            measure):
                pass
            labels = variant_labels([c for batch in batches for c in batch], section.variants)
            activation.update({f"{path}:{label}": v for label, v in zip(labels, climbs.values)})
            curves[path] = climbs.curve
            grid = layout.contact_sheet(climbs.images, labels, layer_label(self.model, path),
                                        columns=sheet_columns(section))
            grids.append(grid)
            yield Still(grid, name=path)
        width = min(max(g.shape[-1] for g in grids), 2048)
        yield Still(layout.stack([layout.fit_width(g, width) for g in grids]))
        yield Record("layers", self.paths)
        yield Record("objective", curves)
        yield Record("activation", activation)
