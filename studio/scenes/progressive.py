"""`progressive`: seed 002's neuron-by-neuron video. Frame k maximises neurons 0..k of one
feature map in reading order (row by row). ``frame_start = "fixed"`` (the seed's way): every
frame from the same seeded start, all frames one batch (split to fit memory), frame k with its
own objective. ``"warm"``: frame k goes on from frame k - 1's picture for ``steps_warm`` steps,
so the picture grows instead of being redrawn (and a big film costs a few steps a frame)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from studio.errors import PresetError
from studio.frames import Frame, Record, Still
from studio.lazy import lazy
from studio.preset.coerce import Problem
from studio.preset.fields import DRAFT_FRAMES, InputImage, Optimisation, SceneSection, Video, meta, need_layer
from studio.preset.limits import MAX_FRAMES, MAX_STEPS, Limits
from studio.scenes.support.optimizing import ascent_settings, one_layer_plan, units_per_step
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
optimize = lazy("studio.optimize")
film = lazy("studio.pictures.film")


@dataclass(frozen=True)
class Section(SceneSection, InputImage, Optimisation, Video):
    WHAT = "a `progressive` scene"
    input: str = "noise"
    """`noise`, `uniform-noise`, `black`, `white`, `gray`, `builtin:NAME` or a path."""
    layer: str | None = None
    """A layer by module path (`blocks.4`) or alias (`conv5_1`)."""
    channel: int = field(default=0, **meta(min=0))
    """One channel index."""
    neurons: int | Literal["all"] = field(default="all", **meta(min=1, max=MAX_FRAMES, limit="frames"))
    """`"all"` or the number of frames."""
    batch: int | None = field(default=None, **meta(min=1, max=MAX_FRAMES))
    """Images per batch (default: what fits the device)."""
    tween: int = field(default=0, **meta(min=0, max=120))
    """Frames between consecutive frames (one more neuron each), interpolated in the pictures' parameterisation."""
    frame_start: Literal["fixed", "warm"] = "fixed"
    """`fixed`: every frame from the same seeded start (all frames one batch); `warm`: each frame goes on from the one
    before."""
    steps_warm: int = field(default=12, **meta(min=1, max=MAX_STEPS, limit="steps"))
    """Steps per frame after the first when `frame_start = "warm"`."""

    def check(self, limits: Limits):
        need_layer(self, "Mixed_6b")
        self.check_schedules()
        if self.neurons != "all" and self.neurons * (self.tween + 1) > limits.frames:
            raise Problem("tween", f"over the limit of {limits.frames} frames",
                          f"neurons × (tween + 1) at most {limits.frames}", f"{self.neurons * (self.tween + 1)} frames")

    def draft_changes(self) -> dict:
        changes = super().draft_changes()
        changes["neurons"] = DRAFT_FRAMES if self.neurons == "all" else min(self.neurons, DRAFT_FRAMES)
        if self.tween:
            changes["tween"] = 1
        if self.frame_start == "warm":
            changes["steps_warm"] = min(self.steps_warm, 4)
        return changes


class Scene(SceneBase):
    shared = True  # its climbs are independent batches: a torchrun team shares them

    def __init__(self, context):
        self.context = context
        section = context.section
        self.model, self.path, self.sizes, shape, self.start = one_layer_plan(context, section)
        context.channels(section.channel, shape[0], key="channel")
        final = optimize.check_smallest_size(self.model, [self.path], self.sizes[-1], context.source,
                                             context.key("size"))[self.path]
        if len(final) != 3:
            raise PresetError(context.source, context.key("layer"), "not a feature map",
                              expected="a layer with channels × height × width outputs",
                              found=f"output shape {list(final)}")
        self.grid = final[1:]
        available = final[1] * final[2]
        self.count = available if section.neurons == "all" else min(section.neurons, available)
        self.warm = section.frame_start == "warm"
        self.frames = ([[number] for number in range(1, self.count + 1)] if self.warm else
                       optimize.chunks(list(range(1, self.count + 1)),
                                       optimize.batch_size(section.batch, self.sizes[-1], context.device)))
        self.step = context.plan_step(self.model, [self.path], len(self.frames[0]), self.sizes[-1],
                                      what=f"a batch of {len(self.frames[0])} frames",
                                      units=units_per_step(self.sizes))
        self.total = (section.steps * len(self.sizes) + section.steps_warm * (self.count - 1) if self.warm else
                      section.steps * len(self.sizes) * len(self.frames))
        self.film = (self.count + section.tween * (self.count - 1), section.video_size)

    def climbed(self, objective, progress, climbs):
        """Each frame's picture in order: a batch at a time from the seeded start, or (warm) one
        at a time, each from the one before at the final size."""
        section, settings = self.context.section, ascent_settings(self.context.section)
        if not self.warm:
            for _, result in optimize.climb_batches(self.model, objective, self.frames, self.start, self.sizes, settings,
                                                    self.context.seed("ascent"), progress, self.context.parts, climbs):
                yield from result
            return
        warm, start, sizes = dataclasses.replace(settings, steps=section.steps_warm), self.start, self.sizes
        for number, frame in enumerate(self.frames):
            for _, result in optimize.climb_batches(self.model, objective, [frame], start, sizes,
                                                    settings if number == 0 else warm, self.context.seed("ascent"),
                                                    progress, self.context.parts, climbs):
                start, sizes = result[-1:], self.sizes[-1:]
                yield from result

    def render(self, progress):
        section = self.context.section
        climbs = optimize.Climbs()

        def objective(counts):
            neurons = optimize.objectives.first_neurons(self.path, section.channel, torch.tensor(counts))
            return -neurons if section.negative else neurons

        shown, previous = 0, None
        for image in self.climbed(objective, progress, climbs):
            words = f"{self.path} channel {section.channel}: neurons 1 to {shown + 1} of {self.count}, in reading order"
            if previous is not None:  # frames between, in the parameterisation
                for between in optimize.param.tweens(previous[None], image[None], section.tween, section.param):
                    yield Frame(film.letterbox(between[0], section.video_size, words))
            shown, previous = shown + 1, image
            yield Frame(film.letterbox(image, section.video_size, words))
        yield Still(climbs.images[-1])
        yield Record("layer", self.path)
        yield Record("channel", section.channel)
        yield Record("feature_map", list(self.grid))
        yield Record("frames", self.count)
        yield Record("objective", climbs.curves[0] if self.warm else climbs.curve)  # warm: the first frame's climb
        if climbs.splits:
            yield Record("out_of_memory_splits", climbs.splits)
        yield Record("final_objective_per_frame", climbs.values)
