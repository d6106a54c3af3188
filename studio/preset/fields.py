"""What every scene section is built from: the base class, the key groups several kinds share
(an input image, optimisation settings), and the rules that join keys.

A kind's own section lives in its scene module (``studio/scenes/<kind>.py``) and combines these.
Field metadata (bounds, patterns, words for the expectation): see ``coerce.py``. Sizes are
written ``[width, height]`` in a preset, as artists say them, and held as ``(height, width)``
in a section, as tensors are shaped: the only place the order turns is here (``side``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from studio.errors import did_you_mean
from studio.preset.coerce import Problem
from studio.preset.limits import MAX_CHANNELS, MAX_OCTAVES, MAX_SIDE, MAX_STEPS, Limits

NAME_PATTERN = r"[a-z0-9_-]{1,100}"  # a folder and file name on every file system
CHANNELS_TEXT = r"all|\d+:\d+"
MIN_DRAFT_SIDE = 80  # inception_v3 needs 75 px
DRAFT_CHANNELS = 4
DRAFT_FRAMES = 6

Channels = int | tuple[int, ...] | str
# lr and blur: a number, a [start, end] pair over the whole run, or one pair per octave
Schedule = float | tuple[float, float] | tuple[tuple[float, float], ...]
ImageSet = str | tuple[str, ...]


def meta(**kwargs) -> dict:
    return {"metadata": kwargs}


def side(default: tuple[int, int] | None = None):
    """A ``size`` field: ``[width, height]`` in TOML, ``(height, width)`` once validated."""
    return field(default=default, **meta(min=8, max=MAX_SIDE, limit=f"{MAX_SIDE} px per side", reversed=True,
                                          expect=f"[width, height] between 8 and {MAX_SIDE} px"))


def video_size(default: tuple[int, int] = (720, 1280)):
    """A ``video_size`` field: the MP4's frame, ``[width, height]`` in TOML, landscape 16:9 by
    default."""
    return field(default=default, **meta(min=64, max=MAX_SIDE, limit=f"{MAX_SIDE} px per side", reversed=True,
                                          expect=f"[width, height] between 64 and {MAX_SIDE} px"))


@dataclass(frozen=True)
class Video:
    """A scene that makes a video: its frame size."""

    video_size: tuple[int, int] = video_size()
    """The MP4's frame `[width, height]` (landscape 16:9 by default); pictures are fitted into it with a caption line
    that always fits."""


def steps(default: int):
    return field(default=default, **meta(min=1, max=MAX_STEPS, limit="steps"))


def rate(default: float):
    return field(default=default, **meta(min=0.0, max=1000.0))


def as_toml_size(size: tuple[int, int]) -> list[int]:
    """(height, width) back to the preset's ``[width, height]``."""
    return [size[1], size[0]]


@dataclass(frozen=True)
class SceneSection:
    """The keys every scene has. A kind's section adds its own and may override ``check``
    (rules joining several keys) and ``draft_changes`` (what ``--draft`` scales down)."""

    WHAT: ClassVar[str] = "a scene"
    kind: str = ""
    """The scene's technique: one of the kinds below."""
    name: str | None = field(default=None, **meta(pattern=NAME_PATTERN,
                                                   expect="up to 100 lower-case letters, digits, '-' or '_'"))
    """The scene's output stem."""

    def check(self, limits: Limits) -> None:
        pass

    def network(self, model_name: str) -> str:
        """The network this scene looks through: the preset's ``[model]`` (``model_name``),
        unless the kind builds its own."""
        return model_name

    def draft_changes(self) -> dict:
        """Keys a draft changes, with TOML-ready values: the shared keys (size, steps, octaves,
        channels) scaled down, whichever of them this section has; kinds add their own."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        changes = {}
        if values.get("size"):
            height, width = values["size"]
            changes["size"] = [max(MIN_DRAFT_SIDE, width // 4), max(MIN_DRAFT_SIDE, height // 4)]
        if values.get("video_size"):  # a draft video at half size, never below 640 x 360
            height, width = values["video_size"]
            scale = min(1.0, max(0.5, 640 / width, 360 / height))
            changes["video_size"] = [round(width * scale), round(height * scale)]
        if isinstance(values.get("steps"), int):
            changes["steps"] = max(2, values["steps"] // 8)
        if values.get("octaves", 1) > 2:
            changes["octaves"] = 2
        if values.get("channels") is not None and not isinstance(values["channels"], int):
            changes["channels"] = fewer_channels(values["channels"])
        return changes

    def draft(self) -> dict:
        """The keys of this scene that ``--draft`` changes, with their draft values."""
        changes = self.draft_changes()
        if hasattr(self, "draft_schedules"):
            changes.update(self.draft_schedules(changes))
        return {k: v for k, v in changes.items() if v != getattr(self, k)}


def fewer_channels(channels: Channels) -> Channels | list[int]:
    if channels == "all":
        return f"0:{DRAFT_CHANNELS}"
    if isinstance(channels, str):
        start, stop = map(int, channels.split(":"))
        return f"{start}:{min(stop, start + DRAFT_CHANNELS)}"
    if isinstance(channels, tuple):
        return list(channels[:DRAFT_CHANNELS])
    return channels


FFT_LR = 0.12   # Adam on the spectrum: 64 steps pass lucent's 128 at 0.05 (bench/bench_vs_lucent.py)
PIXEL_LR = 0.05  # the normalised pixel step: a mean move of 5 % per step


@dataclass(frozen=True)
class RateByParam:
    """A climb whose default ``lr`` follows its parameterisation: ``FFT_LR`` for ``fft``,
    ``PIXEL_LR`` for ``pixel`` (filled in at validation, so a scene's keys always say it)."""

    lr: Schedule | None = rate(None)
    """Step size: Adam's on the spectrum with `fft` (default 0.12), the mean pixel step with `pixel` (default 0.05);
    `[start, end]` ramps it, one pair per octave."""

    def __post_init__(self):
        if self.lr is None:
            object.__setattr__(self, "lr", FFT_LR if getattr(self, "param", "fft") == "fft" else PIXEL_LR)


@dataclass(frozen=True)
class Grid:
    """A scene whose pictures are laid out as a grid of cells: ``columns`` cells per row
    (default: about square). Unset, it is left out of the scene's fingerprint (``since``): the
    key renders what studio rendered before it existed."""

    columns: int | None = field(default=None, **meta(min=1, max=MAX_CHANNELS, since="0.2.1"))
    """Cells per row of the grid (default: about square; 8 channels with `columns = 4`: 4 × 2, no hole)."""


@dataclass(frozen=True)
class InputImage:
    input: str = "builtin:chelsea"
    """`noise`, `uniform-noise`, `black`, `white`, `gray`, `builtin:NAME` or a path."""
    size: tuple[int, int] | None = side()
    """Working size `[width, height]` in pixels (default: the model's, photos keep their aspect)."""


@dataclass(frozen=True)
class Transforms:
    """Robustness transforms drawn every step, and the image parameterisation."""

    jitter: int = field(default=8, **meta(min=0, max=512))
    """Random shift in pixels each step."""
    rotate: float = field(default=5.0, **meta(min=0.0, max=180.0))
    """Random rotation in degrees each step."""
    scale: tuple[float, float] = field(default=(0.95, 1.05), **meta(min=0.1, max=10.0))
    """Random scale range each step."""
    param: Literal["pixel", "fft"] = "fft"
    """`pixel`, or `fft` (spectral, colour-decorrelated)."""


@dataclass(frozen=True)
class Optimisation(Transforms):
    """An ascent: steps per size, schedules, octaves and blur between steps."""

    steps: int = steps(64)
    """Optimisation steps (per octave where there are octaves)."""
    lr: Schedule = rate(0.05)
    """Step size, `[start, end]` ramped over the run, or one `[start, end]` per octave."""
    octaves: int = field(default=1, **meta(min=1, max=MAX_OCTAVES, limit="octaves"))
    """Number of scales."""
    octave_scale: float = field(default=1.4, **meta(min=1.0, max=4.0))
    """Size ratio between octaves."""
    blur: Schedule = field(default=0.0, **meta(min=0.0, max=64.0))
    """Gaussian sigma between steps, `[start, end]`, or one `[start, end]` per octave."""
    blur_kernel: int | None = field(default=None, **meta(min=1, max=63))
    """The Gaussian kernel's side in pixels, odd (default: ±3 sigma)."""
    negative: bool = False
    """Minimise instead: what the unit is against."""
    decorrelate: bool = False
    """Pixel steps in natural images' colour statistics: no green or magenta casts (`pixel` only)."""
    margin: int = field(default=0, **meta(min=0, max=512))
    """Pixels of context around the image, so the network's padding never frames the picture."""
    margin_fill: Literal["wrap", "mirror"] = "wrap"
    """That context: `wrap` (the picture continues into its opposite side; results tile) or `mirror` (photos)."""
    levels: Literal["as-is", "stretch"] = "as-is"
    """`as-is`, or `stretch`: the result's 0.5 % and 99.5 % tones become black and white (auto-levels; octave and
    upscale climbs end low in contrast)."""

    def stages(self, changes: dict | None = None) -> int:
        """How many sizes a climb passes through (the octaves; maximize's upscales), with
        ``changes`` (a draft's) applied."""
        return (changes or {}).get("octaves", self.octaves)

    def check_schedules(self) -> None:
        """One ``[start, end]`` pair per stage, where ``lr`` or ``blur`` gives pairs per stage;
        an odd ``blur_kernel``."""
        for key in ("lr", "blur"):
            value = getattr(self, key)
            if value == ():
                raise Problem(key, "empty", "a number, a [start, end] pair, or one [start, end] pair per octave", [])
            if per_stage(value) and len(value) != self.stages():
                raise Problem(key, f"one [start, end] pair per octave ({self.stages()} here)",
                              f"{self.stages()} pairs", [list(pair) for pair in value])
        if self.decorrelate and self.param != "pixel":
            raise Problem("decorrelate", f'has no effect: param = "{self.param}" is already colour-decorrelated',
                          'no `decorrelate` (fft needs none), or param = "pixel" with `decorrelate = true`', self.param)
        if self.blur_kernel is not None and self.blur_kernel % 2 == 0:
            raise Problem("blur_kernel", "a Gaussian kernel has a centre pixel", "an odd number of pixels",
                          self.blur_kernel, f"did you mean {self.blur_kernel + 1}?")

    def draft_schedules(self, changes: dict) -> dict:
        """A draft with fewer stages keeps the last stages' schedules."""
        stages = self.stages(changes)
        return {key: [list(pair) for pair in value[len(value) - stages:]]
                for key, value in ((key, getattr(self, key)) for key in ("lr", "blur"))
                if per_stage(value) and len(value) > stages}


def per_stage(value) -> bool:
    """Whether a schedule gives one pair per stage."""
    return isinstance(value, tuple) and bool(value) and isinstance(value[0], tuple)


@dataclass(frozen=True)
class Variants:
    """Several pictures per channel that push apart (lucent's diversity, on Gram matrices)."""

    variants: int = field(default=1, **meta(min=1, max=64))
    """Pictures per channel, climbed side by side."""
    diversity: float = field(default=0.0, **meta(min=0.0, max=1e6))
    """How hard the variants push apart."""


@dataclass(frozen=True)
class Matching(Transforms):
    """A descent towards a target matches it exactly: no robustness transforms unless asked,
    Adam on pixels (Mahendran & Vedaldi, Gatys et al.)."""

    steps: int = steps(200)
    """Optimisation steps."""
    lr: float | tuple[float, float] = rate(0.05)
    """Adam's step size, or `[start, end]` ramped over the run."""
    jitter: int = field(default=0, **meta(min=0, max=512))
    """Random shift in pixels each step."""
    rotate: float = field(default=0.0, **meta(min=0.0, max=180.0))
    """Random rotation in degrees each step."""
    scale: tuple[float, float] = field(default=(1.0, 1.0), **meta(min=0.1, max=10.0))
    """Random scale range each step."""
    param: Literal["pixel", "fft"] = "pixel"
    """`pixel`, or `fft` (spectral, colour-decorrelated)."""


def check_channels(channels: Channels, limits: Limits, key: str = "channels") -> None:
    if isinstance(channels, str):
        if not re.fullmatch(CHANNELS_TEXT, channels):
            dashed = re.fullmatch(r"\s*(\d+)\s*[-–]\s*(\d+)\s*", channels)
            raise Problem(key, "badly formed", '"all", "a:b", an integer or an array of integers', channels,
                          f'did you mean "{dashed[1]}:{dashed[2]}" (a range is written with a colon)?' if dashed else None)
        if channels != "all":
            start, stop = map(int, channels.split(":"))
            if stop <= start:
                raise Problem(key, "empty range", '"a:b" with b greater than a', channels)
            if stop - start > limits.channels:
                raise Problem(key, f"over the limit of {limits.channels} channels",
                              f"at most {limits.channels} channels", channels)
    elif isinstance(channels, tuple):
        if not channels:
            raise Problem(key, "empty", "at least one channel", [])
        if any(c < 0 for c in channels):
            raise Problem(key, "negative channel", "channel indices of 0 or more", list(channels))
        if len(channels) > limits.channels:
            raise Problem(key, f"over the limit of {limits.channels} channels",
                          f"at most {limits.channels} channels", f"{len(channels)} channels")
    elif isinstance(channels, int) and channels < 0:
        raise Problem(key, "negative channel", "a channel index of 0 or more", channels)


def check_count(channels: Channels, limits: Limits, key: str = "channels") -> None:
    """``channels`` where an integer is a count ("the first N"): at least one."""
    if isinstance(channels, int) and channels < 1:
        raise Problem(key, "no channels", "a count of at least 1 (the first N channels)", channels)
    check_channels(channels, limits, key)


def need_layer(section, example: str) -> None:
    if section.layer is None:
        raise Problem("layer", "required key is missing", f"a layer name such as \"{example}\"", None)


def check_layer_weights(weights, names, what: str) -> None:
    """``weights`` of a dream or a zoom: one per layer (an array), or a table keyed by layer names."""
    if isinstance(weights, tuple) and len(weights) != len(names):
        raise Problem("weights", "one weight per layer", f"{len(names)} weights", list(weights))
    for name in weights if isinstance(weights, Mapping) else ():
        if name not in names:
            raise Problem(f"weights.{name}", f"not one of this {what}'s layers", "a table keyed by names in `layers`",
                          name, did_you_mean(name, names))


def layer_weights(weights, names) -> list:
    """Each layer's weight, in ``names`` order: an array as given, a table's entries (1 for a layer it
    leaves out), or 1 each without ``weights``.

    Example:
        >>> layer_weights({"b": 2.0}, ["a", "b"]), layer_weights(None, ["a"])
        ([1.0, 2.0], [1.0])
    """
    if isinstance(weights, tuple):
        return list(weights)
    return [weights.get(name, 1.0) if weights is not None else 1.0 for name in names]


def need_layers(section, allow_default: bool) -> None:
    if section.layer is not None and section.layers is not None:
        raise Problem("layers", "give `layer` or `layers`, not both", None, None)
    if not allow_default and section.layer is None and section.layers is None:
        raise Problem("layer", "required key is missing", "a layer name such as \"blocks.4\"", None)
    if section.layers is not None and not section.layers:
        raise Problem("layers", "empty", "at least one layer name", [])
