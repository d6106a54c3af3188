"""One frozen dataclass per scene kind: the keys of PRESETS.md, their types, defaults and bounds.

Mixins hold the key groups several kinds share (an input image, optimisation settings). A kind's
``check()`` holds the rules that join several keys. Field metadata: see ``coerce.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from studio.preset import limits
from studio.preset.coerce import Problem

NAME_PATTERN = r"[a-z0-9_-]+"
CHANNELS_TEXT = r"all|\d+:\d+"


def meta(**kwargs):
    return {"metadata": kwargs}


def side(default=None):
    return field(default=default, **meta(min=8, max=limits.MAX_SIDE, limit=f"{limits.MAX_SIDE} px per side",
                                       expect=f"[width, height] between 8 and {limits.MAX_SIDE} px"))


@dataclass(frozen=True)
class SceneBase:
    WHAT = "a scene"
    kind: str = ""
    name: str | None = field(default=None, **meta(pattern=NAME_PATTERN,
                                                   expect="lower-case letters, digits, '-' or '_'"))

    def check(self) -> None:
        pass


@dataclass(frozen=True)
class InputImage:
    input: str = "builtin:chelsea"
    size: tuple[int, int] | None = side()


@dataclass(frozen=True)
class Optimisation:
    steps: int = field(default=64, **meta(min=1, max=limits.MAX_STEPS, limit="steps"))
    lr: float | tuple[float, float] = field(default=0.05, **meta(min=0.0, max=1000.0))
    octaves: int = field(default=1, **meta(min=1, max=limits.MAX_OCTAVES, limit="octaves"))
    octave_scale: float = field(default=1.4, **meta(min=1.0, max=4.0))
    blur: float | tuple[float, float] = field(default=0.0, **meta(min=0.0, max=64.0))
    jitter: int = field(default=8, **meta(min=0, max=512))
    rotate: float = field(default=5.0, **meta(min=0.0, max=180.0))
    scale: tuple[float, float] = field(default=(0.95, 1.05), **meta(min=0.1, max=10.0))
    param: Literal["pixel", "fft"] = "fft"


def check_channels(channels, key: str = "channels") -> None:
    if isinstance(channels, str):
        if not re.fullmatch(CHANNELS_TEXT, channels):
            raise Problem(key, "badly formed", '"all", "a:b", an integer or an array of integers',
                          channels)
        if channels != "all":
            start, stop = map(int, channels.split(":"))
            if stop <= start:
                raise Problem(key, "empty range", '"a:b" with b greater than a', channels)
            if stop - start > limits.MAX_CHANNELS * limits.factor():
                raise Problem(key, f"over the limit of {limits.MAX_CHANNELS} channels",
                              f"at most {limits.MAX_CHANNELS} channels", channels)
    elif isinstance(channels, tuple):
        if not channels:
            raise Problem(key, "empty", "at least one channel", [])
        if any(c < 0 for c in channels):
            raise Problem(key, "negative channel", "channel indices of 0 or more", list(channels))
        if len(channels) > limits.MAX_CHANNELS * limits.factor():
            raise Problem(key, f"over the limit of {limits.MAX_CHANNELS} channels",
                          f"at most {limits.MAX_CHANNELS} channels", f"{len(channels)} channels")
    elif isinstance(channels, int) and channels < 0:
        raise Problem(key, "negative channel", "a channel index of 0 or more", channels)


Channels = int | tuple[int, ...] | str


def need_layers(scene, allow_default: bool) -> None:
    if scene.layer is not None and scene.layers is not None:
        raise Problem("layers", "give `layer` or `layers`, not both", None, None)
    if not allow_default and scene.layer is None and scene.layers is None:
        raise Problem("layer", "required key is missing", "a layer name such as \"blocks.4\"", None)
    if scene.layers is not None and not scene.layers:
        raise Problem("layers", "empty", "at least one layer name", [])


@dataclass(frozen=True)
class DreamScene(SceneBase, InputImage, Optimisation):
    WHAT = "a `dream` scene"
    input: str = "gray"
    layer: str | None = None
    layers: tuple[str, ...] | None = None
    channels: Channels | None = None
    weights: tuple[float, ...] | dict[str, float] | None = None
    octaves: int = field(default=4, **meta(min=1, max=limits.MAX_OCTAVES, limit="octaves"))
    steps: int = field(default=20, **meta(min=1, max=limits.MAX_STEPS, limit="steps"))
    lr: float | tuple[float, float] = field(default=0.02, **meta(min=0.0, max=1000.0))
    param: Literal["pixel", "fft"] = "pixel"
    tile: int | None = field(default=None, **meta(min=64, max=limits.MAX_SIDE))

    def check(self):
        need_layers(self, allow_default=False)
        if self.channels is not None:
            check_channels(self.channels)
        if self.tile is not None and self.param != "pixel":
            raise Problem("tile", "tiling works on pixels", 'param = "pixel" with `tile`', self.param)
        if isinstance(self.weights, tuple) and len(self.weights) != len(self.layers or (self.layer,)):
            raise Problem("weights", "one weight per layer", f"{len(self.layers or (self.layer,))} weights",
                          list(self.weights))


@dataclass(frozen=True)
class MaximizeScene(SceneBase, InputImage, Optimisation):
    WHAT = "a `maximize` scene"
    input: str = "noise"
    layer: str | None = None
    channels: Channels = "0:16"
    upscale_steps: int = field(default=0, **meta(min=0, max=64))
    upscale_factor: float = field(default=1.2, **meta(min=1.0, max=4.0))
    batch: int | None = field(default=None, **meta(min=1, max=limits.MAX_CHANNELS))

    def check(self):
        if self.layer is None:
            raise Problem("layer", "required key is missing", "a layer name such as \"blocks.3\"", None)
        check_channels(self.channels)


@dataclass(frozen=True)
class ProgressiveScene(SceneBase, InputImage, Optimisation):
    WHAT = "a `progressive` scene"
    input: str = "noise"
    layer: str | None = None
    channel: int = field(default=0, **meta(min=0))
    neurons: int | Literal["all"] = field(default="all", **meta(min=1, max=limits.MAX_FRAMES,
                                                                limit="frames"))
    batch: int | None = field(default=None, **meta(min=1, max=limits.MAX_FRAMES))

    def check(self):
        if self.layer is None:
            raise Problem("layer", "required key is missing", "a layer name such as \"Mixed_6b\"", None)


@dataclass(frozen=True)
class FeatureMapsScene(SceneBase, InputImage):
    WHAT = "a `feature-maps` scene"
    layer: str | None = None
    layers: tuple[str, ...] | None = None
    channels: Channels = 64
    colormap: Literal["viridis", "magma", "inferno", "plasma", "gray", "cividis", "twilight",
                      "turbo"] = "viridis"

    def check(self):
        need_layers(self, allow_default=False)
        check_channels(self.channels)


@dataclass(frozen=True)
class AtlasScene(SceneBase, InputImage, Optimisation):
    WHAT = "an `atlas` scene"
    input: str = "noise"
    layers: tuple[str, ...] | None = None
    channels: Channels = 16
    size: tuple[int, int] | None = side((96, 96))

    def check(self):
        check_channels(self.channels)


@dataclass(frozen=True)
class ProbeScene(SceneBase, InputImage):
    WHAT = "a `probe` scene"
    layer: str | None = None
    top: int = field(default=15, **meta(min=1, max=limits.MAX_CHANNELS))

    def check(self):
        if self.layer is None:
            raise Problem("layer", "required key is missing", "a layer name such as \"blocks.5\"", None)


@dataclass(frozen=True)
class Corruption:
    WHAT = "`corruption`"
    label_noise: float = field(default=0.0, **meta(min=0.0, below=1.0, expect="a fraction in [0, 1)"))
    pixel_noise: float = field(default=0.0, **meta(min=0.0, max=10.0))
    conflicting: float = field(default=0.0, **meta(min=0.0, below=1.0, expect="a fraction in [0, 1)"))
    missing: float = field(default=0.0, **meta(min=0.0, below=1.0, expect="a fraction in [0, 1)"))
    occlude: float = field(default=0.0, **meta(min=0.0, below=1.0, expect="a fraction in [0, 1)"))


@dataclass(frozen=True)
class LossSchedule:
    WHAT = "`loss_schedule`"
    kind: Literal["constant", "cyclic", "flooding", "piecewise"] = "constant"
    points: tuple[tuple[float, float], ...] = ()
    period: float = 100.0
    low: float = -0.5
    high: float = 1.0
    level: float = field(default=0.1, **meta(min=0.0))

    def check(self):
        if self.kind == "piecewise":
            if not self.points:
                raise Problem("points", "empty", "[[epoch, multiplier], ...] with at least one point", [])
            epochs = [p[0] for p in self.points]
            if any(b <= a for a, b in zip(epochs, epochs[1:])):
                raise Problem("points", "epochs not in increasing order",
                              "points sorted by epoch", [list(p) for p in self.points])
        if self.kind == "cyclic" and self.period <= 0:
            raise Problem("period", "not positive", "a period above 0", self.period)


@dataclass(frozen=True)
class TrainScene(SceneBase):
    WHAT = "a `train` scene"
    dataset: str = "faces"
    net: Literal["mlp2", "small_cnn"] = "mlp2"
    hidden: int = field(default=16, **meta(min=1, max=4096))
    epochs: int = field(default=450, **meta(min=1, max=limits.MAX_EPOCHS, limit="epochs"))
    snapshot_every: int = field(default=10, **meta(min=1))
    lr: float | tuple[float, float] = field(default=0.01, **meta(min=0.0, max=100.0))
    batch_size: int = field(default=64, **meta(min=1, max=65536))
    watch: str | None = None
    probe: str = "dataset:0"
    image_size: int = field(default=25, **meta(min=8, max=256))
    classes: int = field(default=4, **meta(min=2, max=64))
    per_class: int = field(default=100, **meta(min=1, max=10_000))
    optimizer: Literal["adam", "sgd"] = "adam"
    dreams_every: int = field(default=0, **meta(min=0))
    corruption: Corruption = field(default_factory=Corruption)
    loss_schedule: LossSchedule = field(default_factory=LossSchedule)

    def check(self):
        if self.snapshot_every > self.epochs:
            raise Problem("snapshot_every", "longer than the training", f"at most `epochs` ({self.epochs})",
                          self.snapshot_every)
        frames = self.epochs // self.snapshot_every + 1
        if frames > limits.MAX_FRAMES * limits.factor():
            raise Problem("snapshot_every", f"over the limit of {limits.MAX_FRAMES} frames",
                          f"epochs / snapshot_every at most {limits.MAX_FRAMES}", f"{frames} frames")


@dataclass(frozen=True)
class AttributionScene(SceneBase, InputImage):
    WHAT = "an attribution scene"
    target: int | Literal["top"] = field(default="top", **meta(min=0))
    window: int = field(default=32, **meta(min=1, max=limits.MAX_SIDE))
    stride: int = field(default=16, **meta(min=1, max=limits.MAX_SIDE))
    samples: int = field(default=0, **meta(min=0, max=1024))
    noise: float = field(default=0.1, **meta(min=0.0, max=10.0))
    fill: Literal["gray", "black", "mean", "blur", "noise"] = "gray"


ImageSet = str | tuple[str, ...]


@dataclass(frozen=True)
class PatchesScene(SceneBase):
    WHAT = "a `patches` scene"
    layer: str | None = None
    channels: Channels = "0:8"
    images: ImageSet = "builtin:*"
    top: int = field(default=9, **meta(min=1, max=256))
    size: tuple[int, int] | None = side()

    def check(self):
        check_channels(self.channels)


@dataclass(frozen=True)
class NeighboursScene(SceneBase):
    WHAT = "a `neighbours` or `embedding` scene"
    images: ImageSet = "builtin:*"
    layer: str | None = None
    k: int = field(default=5, **meta(min=1, max=256))
    queries: int = field(default=8, **meta(min=1, max=256))
    method: Literal["pca", "tsne"] = "pca"
    size: tuple[int, int] | None = side()


@dataclass(frozen=True)
class Matching(Optimisation):
    """Descents towards a target match it exactly: no robustness transforms unless asked,
    Adam on pixels (Mahendran & Vedaldi, Gatys et al.)."""
    steps: int = field(default=200, **meta(min=1, max=limits.MAX_STEPS, limit="steps"))
    lr: float | tuple[float, float] = field(default=0.05, **meta(min=0.0, max=1000.0))
    jitter: int = field(default=0, **meta(min=0, max=512))
    rotate: float = field(default=0.0, **meta(min=0.0, max=180.0))
    scale: tuple[float, float] = field(default=(1.0, 1.0), **meta(min=0.1, max=10.0))
    param: Literal["pixel", "fft"] = "pixel"


@dataclass(frozen=True)
class InversionScene(SceneBase, InputImage, Matching):
    WHAT = "an `inversion` scene"
    layer: str | None = None
    layers: tuple[str, ...] | None = None
    tv_weight: float = field(default=0.05, **meta(min=0.0, max=1e6))
    param: Literal["pixel", "fft"] = "fft"

    def check(self):
        need_layers(self, allow_default=False)


@dataclass(frozen=True)
class StyleScene(SceneBase, InputImage, Matching):
    WHAT = "a `texture` or `style` scene"
    style: str | None = None
    layers: tuple[str, ...] | None = None
    content_layer: str | None = None
    style_weight: float = field(default=5.0, **meta(min=0.0, max=1e9))
    lr: float | tuple[float, float] = field(default=0.03, **meta(min=0.0, max=1000.0))


SCENE_KINDS: dict[str, type] = {
    "dream": DreamScene,
    "maximize": MaximizeScene,
    "progressive": ProgressiveScene,
    "feature-maps": FeatureMapsScene,
    "atlas": AtlasScene,
    "probe": ProbeScene,
    "train": TrainScene,
    "saliency": AttributionScene,
    "guided-backprop": AttributionScene,
    "occlusion": AttributionScene,
    "patches": PatchesScene,
    "neighbours": NeighboursScene,
    "embedding": NeighboursScene,
    "inversion": InversionScene,
    "texture": StyleScene,
    "style": StyleScene,
}
