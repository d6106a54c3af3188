"""`feature-maps`: a layer's activations for one input image, as labelled colour-mapped grids.

Seed 000 §2: VGG16's feature maps at the ends of blocks 1, 3 and 5 for a face.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.fields import Channels, Grid, InputImage, SceneSection, check_count, need_layers
from studio.preset.limits import Limits
from studio.scenes.support.labels import layer_label
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
models = lazy("studio.models")
features = lazy("studio.models.features")
colour = lazy("studio.pictures.colour")
layout = lazy("studio.pictures.layout")

MIN_TILE = 64  # small maps (7x7 at the end of VGG) are enlarged to stay legible


@dataclass(frozen=True)
class Section(Grid, SceneSection, InputImage):
    WHAT = "a `feature-maps` scene"
    layer: str | None = None
    """A layer by module path (`blocks.4`) or alias (`conv5_1`)."""
    layers: tuple[str, ...] | None = None
    """Several layers (instead of `layer`): a grid of maps each."""
    channels: Channels = 64
    """Per layer: `"all"`, `"a:b"`, a list of indices, or a count N (the first N maps)."""
    colormap: Literal["viridis", "magma", "inferno", "plasma", "gray", "cividis", "twilight",
                      "turbo"] = "viridis"
    """Matplotlib colour map."""

    def check(self, limits: Limits):
        need_layers(self, allow_default=False)
        check_count(self.channels, limits)

    def draft_changes(self) -> dict:
        changes = super().draft_changes()
        changes.pop("channels", None)  # maps cost nothing to draw: a draft shows them all
        return changes


class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        section = context.section
        self.model = context.model()
        _, self.paths = context.layers(self.model, section.layer, section.layers)
        self.image = context.input(section.input, section.size, self.model.input_size)
        self.step = context.plan_step(self.model, self.paths, 1, tuple(self.image.shape[-2:]), backward=False,
                                      what="the forward pass", units=len(self.paths))
        with torch.no_grad():
            self.activations = models.LayerTap(self.model, self.paths)(self.image)
        self.channels = {path: context.channels(section.channels,
                                                features.as_maps(self.activations[path][0]).shape[0],
                                                count_means_first=True)
                         for path in self.paths}
        self.total = len(self.paths)

    def render(self, progress):
        section = self.context.section
        grids, summary = [], {}
        height, width = self.image.shape[-2:]
        grids.append(layout.labelled_grid(self.image.cpu(), [f"{section.input}  {width}x{height}"],
                                          title=f"{self.model.name} feature maps"))
        for path in self.paths:
            maps = features.as_maps(self.activations[path][0])
            chosen = self.channels[path]
            tiles = layout.enlarge(colour.colormap(maps[chosen], section.colormap), MIN_TILE)
            title = (f"{layer_label(self.model, path)}: {len(chosen)} of {maps.shape[0]} maps, "
                     f"{maps.shape[-1]}x{maps.shape[-2]}")
            grid = layout.labelled_grid(tiles, [str(c) for c in chosen], title=title, columns=section.columns)
            grids.append(grid)
            yield Still(grid, name=path)
            summary[path] = {"shape": list(self.activations[path].shape[1:]), "channels": chosen,
                             "mean": round(float(maps.mean()), 6), "max": round(float(maps.max()), 6)}
            progress.update(1)
        width = max(g.shape[-1] for g in grids)
        yield Still(layout.stack([layout.fit_width(g, min(width, 2048)) for g in grids]))
        yield Record("input", {"spec": section.input, "size": [int(width), int(height)]})
        yield Record("layers", summary)
