"""`progressive`: seed 002's neuron-by-neuron video. Frame k maximises neurons 0..k of one
feature map in reading order (row by row), every frame from the same seeded start; all frames
are one batch (split to fit memory), frame k with its own objective."""

from __future__ import annotations

import torch

from studio.frames import Frame, Record, Still
from studio.optimize import Ascent, AscentSettings, check_smallest_size, objectives
from studio.scenes.base import SceneContext
from studio.scenes.optimizing import batch_size, chunks, size_plan
from studio.errors import PresetError


class Scene:
    kind = "progressive"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model = context.model()
        self.path = context.layer(self.model, scene.layer)
        self.sizes = size_plan(scene, self.model.input_size)
        shapes = check_smallest_size(self.model, [self.path], self.sizes[0], context.source,
                                     context.key("size"))
        context.channels(scene.channel, shapes[self.path][0], key="channel")
        final = check_smallest_size(self.model, [self.path], self.sizes[-1], context.source,
                                    context.key("size"))[self.path]
        if len(final) != 3:
            raise PresetError(context.source, context.key("layer"), "not a feature map",
                              expected="a layer with channels × height × width outputs",
                              found=f"output shape {list(final)}")
        self.grid = final[1:]
        available = final[1] * final[2]
        self.count = available if scene.neurons == "all" else min(scene.neurons, available)
        self.start = context.input(self.model.input_size, size=(self.sizes[0][1], self.sizes[0][0]))
        self.frames = chunks(list(range(1, self.count + 1)),
                             batch_size(scene.batch, self.sizes[-1], context.device))
        self.settings = AscentSettings.from_scene(scene)
        self.total = scene.steps * len(self.sizes) * len(self.frames)

    def render(self, progress):
        scene = self.context.scene
        last, values, curves = None, [], []
        for counts in self.frames:
            objective = objectives.first_neurons(self.path, scene.channel, torch.tensor(counts))
            ascent = Ascent(self.model, objective, self.settings, self.context.generator("ascent"),
                            progress.update)
            result = ascent.run(self.start.expand(len(counts), -1, -1, -1), self.sizes)
            with torch.no_grad():
                values += [round(v, 6) for v in ascent.score(result).tolist()]
            curves.append(ascent.scores)
            for image in result:
                yield Frame(image)
            last = result[-1]
        yield Still(last)
        yield Record("layer", self.path)
        yield Record("channel", scene.channel)
        yield Record("feature_map", list(self.grid))
        yield Record("frames", self.count)
        yield Record("objective", [round(sum(v) / len(v), 6) for v in zip(*curves)])
        yield Record("final_objective_per_frame", values)
