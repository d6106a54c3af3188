"""`feature-maps`: a layer's activations for one input image, as labelled colour-mapped grids.

Seed 000 §2: VGG16's feature maps at the ends of blocks 1, 3 and 5 for a face.
"""

from __future__ import annotations

import math

import torch

from studio.frames import Record, Still
from studio.models import LayerTap
from studio.output.images import colormap, enlarge, fit_width, labelled_grid, stack
from studio.scenes.base import SceneContext, layer_label

MIN_TILE = 64  # small maps (7x7 at the end of VGG) are enlarged to stay legible


def as_maps(activation: torch.Tensor) -> torch.Tensor:
    """(C, H, W) maps from one example's activation; a vector becomes one square-ish map."""
    if activation.dim() == 3:
        return activation
    flat = activation.flatten()
    side = math.ceil(math.sqrt(flat.numel()))
    padded = torch.cat([flat, flat.new_full((side * side - flat.numel(),), float(flat.min()))])
    return padded.view(1, side, side)


class Scene:
    kind = "feature-maps"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model = context.model()
        _, self.paths = context.layers(self.model)
        self.image = context.input(self.model.input_size)
        with torch.no_grad():
            self.activations = LayerTap(self.model, self.paths)(self.image)
        self.channels = {path: context.channels(scene.channels, as_maps(self.activations[path][0]).shape[0],
                                                count_means_first=True)
                         for path in self.paths}
        self.total = len(self.paths)

    def render(self, progress):
        scene = self.context.scene
        grids, summary = [], {}
        height, width = self.image.shape[-2:]
        grids.append(labelled_grid(self.image.cpu(), [f"{scene.input}  {width}x{height}"],
                                   title=f"{self.model.name} feature maps"))
        for path in self.paths:
            maps = as_maps(self.activations[path][0])
            chosen = self.channels[path]
            tiles = enlarge(colormap(maps[chosen], scene.colormap), MIN_TILE)
            title = (f"{layer_label(self.model, path)}: {len(chosen)} of {maps.shape[0]} maps, "
                     f"{maps.shape[-1]}x{maps.shape[-2]}")
            grid = labelled_grid(tiles, [str(c) for c in chosen], title=title)
            grids.append(grid)
            yield Still(grid, name=path)
            summary[path] = {"shape": list(self.activations[path].shape[1:]), "channels": chosen,
                             "mean": round(float(maps.mean()), 6), "max": round(float(maps.max()), 6)}
            progress.update(1)
        width = max(g.shape[-1] for g in grids)
        yield Still(stack([fit_width(g, min(width, 2048)) for g in grids]))
        yield Record("input", {"spec": scene.input, "size": [int(width), int(height)]})
        yield Record("layers", summary)
