"""`maximize`: one image per channel that excites it most, all channels as one batch.

Seeds 001 (VGG16 conv1_1..conv5_1 from noise), 003 (start at 56 px, upscale ×1.2 twelve times,
blur after each) and 002 (octaves with lr and blur ramps).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.fields import (
    Channels,
    Grid,
    InputImage,
    Optimisation,
    RateByParam,
    SceneSection,
    Variants,
    check_channels,
    meta,
    need_layer,
)
from studio.preset.limits import MAX_CHANNELS, Limits
from studio.scenes.support.labels import as_wh, layer_label
from studio.scenes.support.optimizing import (
    ascent_settings,
    channel_objectives,
    one_layer_plan,
    sheet_columns,
    size_plan,
    units_per_step,
    variant_distance,
    variant_labels,
    variant_starts,
)
from studio.scenes.support.scene import SceneBase

optimize = lazy("studio.optimize")
layout = lazy("studio.pictures.layout")


@dataclass(frozen=True)
class Section(Grid, RateByParam, SceneSection, InputImage, Optimisation, Variants):
    WHAT = "a `maximize` scene"
    input: str = "noise"
    """`noise`, `uniform-noise`, `black`, `white`, `gray`, `builtin:NAME` or a path."""
    layer: str | None = None
    """A layer by module path (`blocks.4`) or alias (`conv5_1`)."""
    channels: Channels = "0:16"
    """`"all"`, `"a:b"`, a list of indices, or one index: a picture each."""
    upscale_steps: int = field(default=0, **meta(min=0, max=64))
    """Seed 003's schedule: upscale this many times."""
    upscale_factor: float = field(default=1.2, **meta(min=1.0, max=4.0))
    """Size ratio per upscale."""
    batch: int | None = field(default=None, **meta(min=1, max=MAX_CHANNELS))
    """Images per batch (default: what fits the device)."""

    def check(self, limits: Limits):
        need_layer(self, "blocks.3")
        check_channels(self.channels, limits)
        self.check_schedules()

    def stages(self, changes: dict | None = None) -> int:
        upscales = (changes or {}).get("upscale_steps", self.upscale_steps)
        return upscales + 1 if upscales else super().stages(changes)

    def draft_changes(self) -> dict:
        changes = super().draft_changes()
        if self.upscale_steps > 2:
            changes["upscale_steps"] = 2
        if self.variants > 2:
            changes["variants"] = 2
        return changes


def sizes(section: Section, model_size: tuple[int, int]) -> list[tuple[int, int]]:
    return size_plan(section, model_size, section.upscale_steps, section.upscale_factor)


class Scene(SceneBase):
    shared = True  # its climbs are independent batches: a torchrun team shares them

    def __init__(self, context):
        self.context = context
        section = context.section
        self.model, self.path, self.sizes, shape, start = one_layer_plan(context, section, sizes)
        self.start = variant_starts(context, start, section.variants)
        self.channels = context.channels(section.channels, shape[0])
        images = optimize.batch_size(section.batch, self.sizes[-1], context.device)
        self.batches = optimize.chunks(self.channels, max(1, images // section.variants))
        self.step = context.plan_step(self.model, [self.path], len(self.batches[0]) * section.variants,
                                      self.sizes[-1], what=f"a batch of {len(self.batches[0])} channels"
                                      + (f" × {section.variants} variants" if section.variants > 1 else ""),
                                      units=units_per_step(self.sizes))
        self.total = section.steps * len(self.sizes) * len(self.batches)

    def render(self, progress):
        section = self.context.section
        climbs = optimize.Climbs()
        count = section.variants
        objective, measure = channel_objectives(self.path, section)
        for batch, result in optimize.climb_batches(self.model, objective, self.batches, self.start, self.sizes,
                                                    ascent_settings(section), self.context.seed("ascent"),
                                                    progress, self.context.parts, climbs, measure):
            for index, image in enumerate(result):
                channel, variant = batch[index // count], index % count
                yield Still(image, name=f"{section.layer}-{channel:04d}" + (f"-{variant + 1}" if count > 1 else ""))
        label = layer_label(self.model, self.path)
        what = "minimised" if section.negative else "maximised"
        if len(climbs.images) == 1:  # one picture is its own still, at full size
            yield Still(climbs.images[0])
        else:
            yield Still(layout.contact_sheet(climbs.images, variant_labels(self.channels, count),
                                             f"{self.model.name} {label}: {len(self.channels)} channels {what}",
                                             columns=sheet_columns(section)))
        yield Record("layer", self.path)
        yield Record("sizes", as_wh(self.sizes))
        yield Record("objective", climbs.curve)
        if climbs.splits:
            yield Record("out_of_memory_splits", climbs.splits)
        yield Record("activation", dict(zip(variant_labels(self.channels, count), climbs.values)))
        if count > 1:
            yield Record("variant_distance", variant_distance(self.model, self.path, climbs.images, count))
