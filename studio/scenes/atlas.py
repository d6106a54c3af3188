"""`atlas`: the first N channels of every chosen module, maximised, one grid per module
(seed 002's map of InceptionV3)."""

from __future__ import annotations

import torch
from torch import nn

from studio.frames import Record, Still
from studio.models.layers import describe_layers
from studio.optimize import Ascent, AscentSettings, check_smallest_size, objectives
from studio.output.images import fit_width, stack
from studio.scenes.base import SceneContext, layer_label
from studio.scenes.optimizing import batch_size, chunks, contact_sheet, size_plan


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
        self.settings = AscentSettings.from_scene(scene)
        self.total = scene.steps * len(self.sizes) * sum(len(b) for _, b in self.plan)

    def render(self, progress):
        grids, activation = [], {}
        for path, batches in self.plan:
            images, labels = [], []
            for batch in batches:
                ascent = Ascent(self.model, objectives.channel(path, torch.tensor(batch)), self.settings,
                                self.context.generator("ascent"), progress.update)
                result = ascent.run(self.start.expand(len(batch), -1, -1, -1), self.sizes)
                with torch.no_grad():
                    values = ascent.score(result).tolist()
                activation.update({f"{path}:{c}": round(v, 6) for c, v in zip(batch, values)})
                images += [img.cpu() for img in result]
                labels += [str(c) for c in batch]
            grid = contact_sheet(images, labels, f"{layer_label(self.model, path)}")
            grids.append(grid)
            yield Still(grid, name=path)
        width = min(max(g.shape[-1] for g in grids), 2048)
        yield Still(stack([fit_width(g, width) for g in grids]))
        yield Record("layers", self.paths)
        yield Record("activation", activation)
