"""`maximize`: one image per channel that excites it most, all channels as one batch.

Seeds 001 (VGG16 conv1_1..conv5_1 from noise), 003 (start at 56 px, upscale ×1.2 twelve times,
blur after each) and 002 (octaves with lr and blur ramps).
"""

from __future__ import annotations

import torch

from studio.frames import Record, Still
from studio.optimize import objectives
from studio.scenes.base import SceneContext, layer_label
from studio.scenes.optimizing import Climbs, batch_size, chunks, climb_batches, contact_sheet, one_layer_plan


class Scene:
    kind = "maximize"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model, self.path, self.sizes, shape, self.start = one_layer_plan(context)
        self.channels = context.channels(scene.channels, shape[0])
        self.batches = chunks(self.channels, batch_size(scene.batch, self.sizes[-1], context.device))
        self.memory = context.check_memory(self.model, [self.path], len(self.batches[0]), self.sizes[-1],
                                           what=f"a batch of {len(self.batches[0])} channels")
        self.total = scene.steps * len(self.sizes) * len(self.batches)

    def render(self, progress):
        scene = self.context.scene
        climbs = Climbs()
        for batch, result in climb_batches(self.context, self.model,
                                           lambda b: objectives.channel(self.path, torch.tensor(b)),
                                           self.batches, self.start, self.sizes, progress, climbs):
            for channel, image in zip(batch, result):
                yield Still(image, name=f"{scene.layer}-{channel:04d}")
        label = layer_label(self.model, self.path)
        yield Still(contact_sheet(climbs.images, [str(c) for c in self.channels],
                                  f"{self.model.name} {label}: {len(self.channels)} channels maximised"))
        yield Record("layer", self.path)
        yield Record("sizes", [[w, h] for h, w in self.sizes])
        yield Record("objective", climbs.curve)
        if climbs.splits:
            yield Record("out_of_memory_splits", climbs.splits)
        yield Record("activation", {str(c): v for c, v in zip(self.channels, climbs.values)})
