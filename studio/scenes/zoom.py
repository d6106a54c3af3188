"""`zoom`: the feedback zoom of the DeepDream notebooks and Deforum. Dream a frame, move the
camera a little (zoom, rotate, translate, Kornia's ``warp_affine``), dream again, for hundreds
of frames; every move and dream setting is a keyframe schedule (``"0:(1.02), 120:(1.0)"``).

- ``cadence = k`` dreams every k-th frame. The frames between are the camera's own moves: the
  last dreamt frame carried forward, cross-faded into the next dreamt frame carried back (where
  that one sees them), so new detail fades in over k frames instead of popping.
- ``colour_coherence = "first"`` holds every dreamt frame to frame 0's colours (per-channel mean
  and spread in Lab), so a long film does not brighten, darken or bleach.
- The film measures itself: the warping error between consecutive frames (the camera is known,
  so it is exact) and the drift of luminance and colourfulness over the film.
- Every finished frame is a part: an interrupted film resumes at its last dreamt frame and ends
  byte-identical to an uninterrupted one.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from studio.frames import Frame, Record, Still
from studio.lazy import lazy
from studio.preset import keyframes
from studio.preset.fields import (
    Channels,
    InputImage,
    Optimisation,
    SceneSection,
    check_channels,
    check_layer_weights,
    layer_weights,
    meta,
    need_layers,
    side,
)
from studio.preset.limits import MAX_FRAMES, MAX_OCTAVES, MAX_SIDE, MAX_STEPS, Limits
from studio.scenes.support.labels import as_wh
from studio.scenes.support.optimizing import ascent_settings, dream_plan, tile_plan, units_per_step
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
numpy = lazy("numpy")
optimize = lazy("studio.optimize")
motion = lazy("studio.pictures.motion")
coherence = lazy("studio.pictures.coherence")
colour = lazy("studio.pictures.colour")

DRAFT_CADENCE = 4
# per-frame bounds of each keyed value: (low, high); translations are bounded by the frame
BOUNDS = {"zoom": (0.5, 2.0), "angle": (-45.0, 45.0), "steps": (0, MAX_STEPS), "lr": (0.0, 1000.0),
          "weights": (-1000.0, 1000.0)}


@dataclass(frozen=True)
class Plan:
    """Every keyed value at every frame (lists indexed by frame)."""

    zoom: list[float]
    angle: list[float]
    translation_x: list[float]
    translation_y: list[float]
    steps: list[int]
    lr: list[float]
    weights: dict[str, list[float]]  # per layer name


@dataclass(frozen=True)
class Section(SceneSection, InputImage, Optimisation):
    WHAT = "a `zoom` scene"
    FRAME_NAME: ClassVar[str] = "{:06d}.png"
    input: str = "builtin:coffee"
    """The first frame: `noise`, `black`, `white`, `gray`, `builtin:NAME` or a path."""
    size: tuple[int, int] | None = side((720, 1280))
    """The film's frame `[width, height]` in pixels (tiles past a megapixel)."""
    frames: int = field(default=120, **meta(min=1, max=MAX_FRAMES, limit="frames"))
    """Frames in the film."""
    layer: str | None = None
    """A layer by module path (`blocks.4`) or alias (`conv5_1`)."""
    layers: tuple[str, ...] | None = None
    """Several layers dreamt together (instead of `layer`), each weighed by `weights`."""
    channels: Channels | None = None
    """Dream only these channels of each layer."""
    weights: tuple[keyframes.Value, ...] | dict[str, keyframes.Value] | None = None
    """Per layer: a number or a schedule (an array in `layers` order, or a table by name); the dream can travel
    through depth."""
    steps: int | str = 4
    """Dream steps per dreamt frame (per octave): a number or a schedule."""
    lr: float | str = 0.02
    """Dream step size (mean pixel move per step): a number or a schedule."""
    zoom: float | str = 1.02
    """Scale per frame (above 1 moves in): a number or a schedule, `"0:(1.02), 120:(1.0)"`."""
    angle: float | str = 0.0
    """Degrees turned per frame (counter-clockwise): a number or a schedule."""
    translation_x: float | str = 0.0
    """Pixels moved per frame, at the working size: a number or a schedule."""
    translation_y: float | str = 0.0
    """Pixels moved per frame, at the working size: a number or a schedule."""
    cadence: int = field(default=1, **meta(min=1, max=64))
    """Dream every k-th frame; the frames between are the camera's move, cross-faded into the next dreamt frame."""
    colour_coherence: Literal["first", "none"] = "first"
    """`first`: every frame keeps frame 0's colours (Lab mean and spread); `none`."""
    border: Literal["reflect", "wrap", "zeros"] = "reflect"
    """What the camera sees past the frame: `reflect`, `wrap` or `zeros`."""
    octaves: int = field(default=1, **meta(min=1, max=MAX_OCTAVES, limit="octaves"))
    """Number of scales."""
    param: Literal["pixel"] = "pixel"
    """`pixel` only: the loop feeds pictures back."""
    jitter: int = field(default=4, **meta(min=0, max=512))
    """Random shift in pixels each step."""
    rotate: float = field(default=0.0, **meta(min=0.0, max=180.0))
    """Random rotation in degrees each step."""
    scale: tuple[float, float] = field(default=(1.0, 1.0), **meta(min=0.1, max=10.0))
    """Random scale range each step."""
    tile: int | None = field(default=None, **meta(min=64, max=MAX_SIDE))
    """Climb big images a tile at a time (pixels; automatic past a megapixel)."""

    def check(self, limits: Limits):
        need_layers(self, allow_default=False)
        self.check_schedules()
        if self.channels is not None:
            check_channels(self.channels, limits)
        check_layer_weights(self.weights, self.layers or (self.layer,), "zoom")
        self.plan(limits)

    def plan(self, limits: Limits | None = None) -> Plan:
        """Every schedule evaluated at every frame. With ``limits`` (validation) each is checked
        against its bounds: a value out of bounds at any frame is a :class:`Problem` naming the key
        and the frame. Without, the values of a section validated already (under whatever
        ``--raise-limits``)."""
        frames = self.frames
        height, width = self.size or (720, 1280)
        ceiling = MAX_STEPS * limits.factor if limits else None

        def keyed(key, value, low, high):
            return keyframes.evaluate(value, frames, key, *((low, high) if limits else (None, None)))

        names = self.layers or (self.layer,)
        keys = (f"weights.{n}" if isinstance(self.weights, Mapping) else f"weights.{i}" if self.weights else "weights"
                for i, n in enumerate(names))
        weights = layer_weights(self.weights, names)
        return Plan(
            zoom=keyed("zoom", self.zoom, *BOUNDS["zoom"]),
            angle=keyed("angle", self.angle, *BOUNDS["angle"]),
            translation_x=keyed("translation_x", self.translation_x, -width / 2, width / 2),
            translation_y=keyed("translation_y", self.translation_y, -height / 2, height / 2),
            steps=[round(s) for s in keyed("steps", self.steps, 0, ceiling)],
            lr=keyed("lr", self.lr, *BOUNDS["lr"]),
            weights={name: keyed(key, weight, *BOUNDS["weights"]) for name, key, weight in zip(names, keys, weights)})

    def draft_changes(self) -> dict:
        changes = super().draft_changes()
        ratio = changes["size"][0] / (self.size or (720, 1280))[1] if "size" in changes else 1.0
        changes["translation_x"] = keyframes.scaled(self.translation_x, ratio)
        changes["translation_y"] = keyframes.scaled(self.translation_y, ratio)
        changes["cadence"] = max(self.cadence, DRAFT_CADENCE)
        if isinstance(self.steps, int):
            changes["steps"] = max(1, self.steps // 2)
        return changes


FRAME_SECONDS_PER_MEGAPIXEL = 0.3  # warp, frames between, colour coherence, warping error, encoding (profiled)


class Scene(SceneBase):
    unit = "frame"  # progress and the estimate count frames

    def __init__(self, context):
        self.context = context
        section = context.section
        self.plan = section.plan()
        self.model, self.names, self.paths, self.start, self.sizes, self.terms = dream_plan(context, section)
        height, width = self.start.shape[-2:]
        tile, step_size, tiles = tile_plan(section.tile, height, width, optimize.Settings.halo)
        # levels are applied to the film's frames, never fed back into the loop
        self.settings = dataclasses.replace(ascent_settings(section, tile=tile), levels=False)
        self.dreamed = list(range(0, section.frames, section.cadence))
        work = sum(self.plan.steps[k] for k in self.dreamed) * len(self.sizes) / units_per_step(self.sizes, tiles)
        self.step = context.plan_step(self.model, self.paths, 1, step_size, key="tile" if tile else "size",
                                      what="a tile" if tile else "one dream step",
                                      units=section.frames / max(work, 1e-9))
        self.total = section.frames
        self.film = (section.frames, (height, width), FRAME_SECONDS_PER_MEGAPIXEL)

    def render(self, progress):
        film = Film(self, progress)
        yield from film.run()
        section = self.context.section
        yield Still(film.last)
        yield Record("frames", section.frames)
        yield Record("dreamed", len(self.dreamed))
        yield Record("layers", self.paths)
        yield Record("sizes", as_wh(self.sizes))
        yield Record("tile", self.settings.tile)
        errors = film.records["warp_error"]
        yield Record("warp_error", {"per_frame": errors, "mean": round(sum(errors) / max(len(errors), 1), 6)})
        yield Record("drift", coherence.drift(film.records["tones"]))
        yield Record("objective", film.records["objective"])
        def rounded(values):
            return [round(value, 6) for value in values]

        yield Record("schedule", {key: {name: rounded(v) for name, v in values.items()} if key == "weights"
                                  else rounded(values) for key, values in dataclasses.asdict(self.plan).items()})


class Film:
    """One render of a zoom scene: the feedback loop, its frames and what it measures."""

    def __init__(self, scene: Scene, progress):
        self.scene, self.progress = scene, progress
        self.section = scene.context.section
        self.parts = scene.context.parts
        self.height, self.width = scene.start.shape[-2:]
        plan = scene.plan
        self.moves = [motion.move_matrix(motion.Move(plan.zoom[k], plan.angle[k], plan.translation_x[k],
                                                     plan.translation_y[k]), self.height, self.width)
                      for k in range(self.section.frames)]  # moves[k]: frame k - 1 to frame k
        self.generator = scene.context.generator("zoom")
        self.records: dict[str, list] = {"warp_error": [], "tones": [], "objective": []}
        self.reference = self.levels = self.previous = self.last = None
        self.saver = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="zoom-parts")
        self.saving: list[concurrent.futures.Future] = []

    def run(self):
        """Every frame of the film, in order (its parts all written when this ends, however it ends)."""
        try:
            yield from self._frames()
        finally:
            self.saver.shutdown(wait=True)

    def _frames(self):
        section, dreamed = self.section, self.scene.dreamed
        resumed = self._resume()
        if resumed is None:
            state, done = self._dream(self.scene.start, 0), 0
            if section.colour_coherence == "first":
                self.reference = coherence.lab_statistics(state)
            if section.levels == "stretch":
                self.levels = colour.tone_bounds(state)
            yield self._emit(0, state)
            self._checkpoint(0, state)
        else:
            state, done = resumed
            for index in range(done + 1):
                yield self._replay(index)
        for target in [d for d in dreamed if d > done] + ([section.frames] if dreamed[-1] < section.frames - 1
                                                           else []):
            if target == section.frames:  # the tail after the last dreamt frame: the camera alone
                detail = coherence.detail(state)
                for index in range(done + 1, section.frames):
                    yield self._emit(index, coherence.match_detail(self._held(self._carry(state, done, index)), detail))
                break
            following = self._held(self._dream(self._carry(state, done, target, "bilinear"), target))
            details = (coherence.detail(state), coherence.detail(following))
            for index in range(done + 1, target):
                yield self._emit(index, self._between(state, done, following, target, index, details))
            yield self._emit(target, following)
            self._checkpoint(target, following)
            state, done = following, target

    def _held(self, image):
        """The picture held to frame 0's colours (every frame: resampling and cross-fades alone
        would wash fine colour out), or as it is without colour coherence."""
        return image if self.reference is None else coherence.match_colours(image, self.reference)

    def _carry(self, state, done: int, index: int, mode: str = "bicubic"):
        """Frame ``done`` carried forward by the camera to frame ``index``. What the next dream
        starts from is carried bilinearly, as the DeepDream notebook and Deforum do: its slight
        softening each time lets the dream grow larger shapes instead of piling up finer grain
        (bicubic feedback gave a film of uniform fine grain). Frames that are only shown are
        carried bicubically, and given back the dreamt frames' fine detail."""
        moved = motion.warp(state, motion.compose(self.moves[done + 1:index + 1]), self.section.border, mode)
        return moved.clamp(0, 1)

    def _between(self, state, done: int, following, target: int, index: int, details):
        """An in-between frame: the last dreamt frame carried forward, cross-faded into the next
        carried back where the next one sees it (elsewhere the forward one alone), its colours
        held and its fine detail brought to that of the dreamt frames around it (resampling and
        cross-fading soften it: uncorrected, a film shimmers at the cadence). ``details``: the two
        dreamt frames' fine detail (:func:`coherence.detail`)."""
        back = torch.linalg.inv(motion.compose(self.moves[index + 1:target + 1]))
        share = (index - done) / (target - done)
        weight = share * motion.inside(back, self.height, self.width, state.device).to(state.dtype)
        blended = self._carry(state, done, index) * (1 - weight) + motion.warp(following, back, "zeros") * weight
        detail = (1 - share) * details[0] + share * details[1]
        return coherence.match_detail(self._held(blended.clamp(0, 1)), detail)

    def _dream(self, image, index: int):
        plan, scene = self.scene.plan, self.scene
        active = [(term, plan.weights[name][index]) for term, name in zip(scene.terms, scene.names)
                  if plan.weights[name][index] != 0]
        if plan.steps[index] == 0 or not active:
            return image
        objective = optimize.objectives.weighted([t for t, _ in active], [w for _, w in active])
        if self.section.negative:
            objective = -objective
        settings = dataclasses.replace(scene.settings, steps=plan.steps[index],
                                       lr=optimize.Ramp(plan.lr[index], plan.lr[index]))
        ascent = optimize.Ascent(scene.model, objective, settings, self.generator)
        result = ascent.run(image, scene.sizes, keep_detail=True)
        if ascent.scores:
            self.records["objective"].append(ascent.scores[-1])
        return result

    def _emit(self, index: int, image) -> Frame:
        """Frame ``index``: levels, measures, a part for a resume."""
        shown = colour.apply_levels(image, self.levels) if self.levels is not None else image
        pixels = colour.to_uint8(shown[0])
        seen = torch.from_numpy(pixels).permute(2, 0, 1).float().div(255)  # what the viewer sees
        self._measure(index, seen)
        if self.parts is not None:  # compressed beside the next dream (zlib lets go of the GIL)
            self.saving.append(self.saver.submit(self._save_frame, index, pixels))
        return Frame(seen)

    def _save_frame(self, index: int, pixels) -> None:
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
        self.parts.save(f"frame-{index}", {"png": torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8)})

    def _measure(self, index: int, seen) -> None:
        if index:
            self.records["warp_error"].append(round(motion.warp_error(self.previous, seen, self.moves[index]), 6))
        self.records["tones"].append(coherence.tones(seen))
        self.previous = self.last = seen
        self.progress.update(1)

    def _replay(self, index: int) -> Frame:
        from PIL import Image

        payload = self.parts.load(f"frame-{index}")
        with Image.open(io.BytesIO(payload["png"].numpy().tobytes())) as picture:
            seen = torch.from_numpy(numpy.asarray(picture.convert("RGB")).copy())
        seen = seen.permute(2, 0, 1).float().div(255)
        self.previous = self.last = seen
        self.progress.update(1)
        return Frame(seen)

    def _checkpoint(self, index: int, state) -> None:
        if self.parts is None:
            return
        for saved in self.saving:  # a checkpoint only once its frames are all on disk
            saved.result()
        self.saving.clear()
        self.parts.save("film", {"done": index, "state": state.detach().cpu(),
                                 "generator": self.generator.get_state(), "reference": self.reference,
                                 "levels": self.levels, "records": self.records})

    def _resume(self):
        """(state, last dreamt frame) from an interrupted render's parts, or None."""
        if self.parts is None:
            return None
        saved = self.parts.load("film")
        if saved is None or not all(self.parts.has(f"frame-{i}") for i in range(saved["done"] + 1)):
            return None
        self.generator.set_state(saved["generator"])
        self.reference, self.levels = saved["reference"], saved["levels"]
        self.records = saved["records"]
        self.records["tones"] = [tuple(t) for t in self.records["tones"]]
        return saved["state"].to(self.scene.start.device), saved["done"]
