"""`atlas`: the first N channels of every chosen module, maximised, one grid per module
(seed 002's map of InceptionV3)."""

from __future__ import annotations

import torch
from torch import nn

from studio.frames import Record, Still
from studio.models.layers import describe_layers
from studio.optimize import check_smallest_size, objectives
from studio.output.images import fit_width, stack
from studio.scenes.base import SceneContext, layer_label
from studio.scenes.optimizing import Climbs, batch_size, chunks, climb_batches, contact_sheet, size_plan


def default_layers(module: nn.Module, size: tuple[int, int]) -> list[str]:
    """The stages of a network: the children of its ``features``/``blocks`` sequence, or its
    top-level modules that produce feature maps."""
    for container in ("features", "blocks", "layers"):
        child = getattr(module, container, None)
        if isinstance(child, nn.Sequential):
            return [f"{container}.{name}" for name, _ in child.named_children()]
    rows = describe_layers(module, size)
    return [path for path, _, shape, _ in rows if "." not in path and shape.count("×") == 2]


class Scene:
    kind = "atlas"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model = context.model()
        self.sizes = size_plan(scene, self.model.input_size)
        names = list(scene.layers) if scene.layers else default_layers(self.model.module, self.sizes[-1])
        self.paths = [context.layer(self.model, n, f"layers.{i}") for i, n in enumerate(names)]
        shapes = check_smallest_size(self.model, self.paths, self.sizes[0], context.source,
                                     context.key("size"))
        self.plan = []
        limit = batch_size(None, self.sizes[-1], context.device)
        for path in self.paths:
            channels = context.channels(scene.channels, shapes[path][0], count_means_first=True)
            self.plan.append((path, chunks(channels, limit)))
        self.start = context.input(self.model.input_size, size=(self.sizes[0][1], self.sizes[0][0]))
        largest = max(len(b[0]) for _, b in self.plan)
        self.memory = context.check_memory(self.model, self.paths, largest, self.sizes[-1],
                                           what=f"a batch of {largest} channels")
        self.total = scene.steps * len(self.sizes) * sum(len(b) for _, b in self.plan)

    def render(self, progress):
        grids, activation, curves = [], {}, {}
        for path, batches in self.plan:
            climbs = Climbs()
            for _ in climb_batches(self.context, self.model,
                                   lambda b, path=path: objectives.channel(path, torch.tensor(b)),
                                   batches, self.start, self.sizes, progress, climbs):
                pass
            channels = [c for batch in batches for c in batch]
            activation.update({f"{path}:{c}": v for c, v in zip(channels, climbs.values)})
            curves[path] = climbs.curve
            grid = contact_sheet(climbs.images, [str(c) for c in channels], layer_label(self.model, path))
            grids.append(grid)
            yield Still(grid, name=path)
        width = min(max(g.shape[-1] for g in grids), 2048)
        yield Still(stack([fit_width(g, width) for g in grids]))
        yield Record("layers", self.paths)
        yield Record("objective", curves)
        yield Record("activation", activation)
