"""The top-level preset tables: [preset], [model], [output] and the validated Preset."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath

from studio.preset.coerce import Problem
from studio.preset.fields import NAME_PATTERN, SceneSection, meta
from studio.preset.limits import MAX_UPSCALE, Limits

DEVICE_PATTERN = r"auto|cpu|cuda|cuda:\d+|mps"


@dataclass(frozen=True)
class PresetInfo:
    WHAT = "[preset]"
    name: str = field(**meta(pattern=NAME_PATTERN, expect="a name of up to 100 lower-case letters, digits, '-' or '_'"))
    """Names the output folder: `a-z`, `0-9`, `-`, `_`."""
    title: str = ""
    """Shown in the gallery."""
    description: str = ""
    """Shown in the gallery (markdown)."""
    seed: int = field(default=0, **meta(min=0, max=2**63 - 1))
    """Every random choice derives from it."""
    device: str = field(default="auto", **meta(pattern=DEVICE_PATTERN,
                                                expect='"auto", "cpu", "cuda" or "cuda:N"'))
    """Where to render."""


@dataclass(frozen=True)
class ModelSpec:
    WHAT = "[model]"
    name: str = "efficientnet_lite0"
    """`efficientnet_lite0` (offline), a torchvision classifier name, or a checkpoint path."""
    weights: str = "DEFAULT"
    """`DEFAULT`, `none` (random, from the seed), a torchvision enum name or a state-dict path."""

    def check(self, limits: Limits):
        if not self.name.strip():
            raise Problem("name", "empty", "a model name such as \"vgg16\"", self.name)


@dataclass(frozen=True)
class OutputSpec:
    WHAT = "[output]"
    dir: str = "renders"
    """Root folder of renders (`--out` overrides it)."""
    stills: bool = True
    """Write PNG stills."""
    video: bool = True
    """Write MP4s."""
    frames: bool = False
    """Also write every video frame as a PNG."""
    fps: int = field(default=24, **meta(min=1, max=240))
    """Frames per second."""
    crf: int = field(default=18, **meta(min=0, max=51))
    """H.264 quality (0 lossless .. 51)."""
    upscale: int = field(default=1, **meta(min=1, max=MAX_UPSCALE, limit="upscale"))
    """Integer nearest-neighbour upscale of written images."""

    def check(self, limits: Limits) -> None:
        """A preset is data from strangers: it may not aim its files outside the working tree."""
        path = PurePath(self.dir)
        if path.is_absolute() or ".." in path.parts or self.dir.startswith("~"):
            raise Problem("dir", "outside the working folder",
                          "a relative path without `..` (use --out for other places)", self.dir)


@dataclass(frozen=True)
class Preset:
    """A validated preset: what every scene reads. ``resolved`` is the merged document."""

    preset: PresetInfo
    model: ModelSpec
    output: OutputSpec
    scenes: tuple[SceneSection, ...]  # one section per [[scenes]] table, of its kind's class
    source: str = "<preset>"
    resolved: dict = field(default_factory=dict, compare=False, repr=False)
    extends: tuple[str, ...] = ()
    origins: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.preset.name

    def origin(self, key: str) -> str:
        """Where the value at ``key`` (``scenes.0.layer``) came from: a file, ``--set`` or a flag."""
        return origin_of(self.origins, key, self.source)


def origin_of(origins: dict[tuple, str], key: str, default: str) -> str:
    """The source recorded for ``key`` or for the nearest table holding it."""
    path = tuple(int(p) if p.isdigit() else p for p in key.split(".")) if key else ()
    while path:
        if path in origins:
            return origins[path]
        path = path[:-1]
    return origins.get((), default)
