"""`progressive`: seed 002's neuron-by-neuron video. Frame k maximises neurons 0..k of one
feature map in reading order (row by row), every frame from the same seeded start; all frames
are one batch (split to fit memory), frame k with its own objective."""

from __future__ import annotations

import torch

from studio.errors import PresetError
from studio.frames import Frame, Record, Still
from studio.optimize import check_smallest_size, objectives
from studio.scenes.base import SceneContext
from studio.scenes.optimizing import Climbs, batch_size, chunks, climb_batches, one_layer_plan


class Scene:
    kind = "progressive"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model, self.path, self.sizes, shape, self.start = one_layer_plan(context)
        context.channels(scene.channel, shape[0], key="channel")
        final = check_smallest_size(self.model, [self.path], self.sizes[-1], context.source,
                                    context.key("size"))[self.path]
        if len(final) != 3:
            raise PresetError(context.source, context.key("layer"), "not a feature map",
                              expected="a layer with channels × height × width outputs",
                              found=f"output shape {list(final)}")
        self.grid = final[1:]
        available = final[1] * final[2]
        self.count = available if scene.neurons == "all" else min(scene.neurons, available)
        self.frames = chunks(list(range(1, self.count + 1)),
                             batch_size(scene.batch, self.sizes[-1], context.device))
        self.memory = context.check_memory(self.model, [self.path], len(self.frames[0]), self.sizes[-1],
                                           what=f"a batch of {len(self.frames[0])} frames")
        self.total = scene.steps * len(self.sizes) * len(self.frames)

    def render(self, progress):
        scene = self.context.scene
        climbs = Climbs()
        for _, result in climb_batches(
                self.context, self.model,
                lambda counts: objectives.first_neurons(self.path, scene.channel, torch.tensor(counts)),
                self.frames, self.start, self.sizes, progress, climbs):
            for image in result:
                yield Frame(image)
        yield Still(climbs.images[-1])
        yield Record("layer", self.path)
        yield Record("channel", scene.channel)
        yield Record("feature_map", list(self.grid))
        yield Record("frames", self.count)
        yield Record("objective", climbs.curve)
        if climbs.splits:
            yield Record("out_of_memory_splits", climbs.splits)
        yield Record("final_objective_per_frame", climbs.values)
