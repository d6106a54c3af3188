"""`maximize`: one image per channel that excites it most, all channels as one batch.

Seeds 001 (VGG16 conv1_1..conv5_1 from noise), 003 (start at 56 px, upscale ×1.2 twelve times,
blur after each) and 002 (octaves with lr and blur ramps).
"""

from __future__ import annotations

import torch

from studio.frames import Record, Still
from studio.optimize import Ascent, AscentSettings, check_smallest_size, objectives
from studio.scenes.base import SceneContext, layer_label
from studio.scenes.optimizing import batch_size, chunks, contact_sheet, size_plan


class Scene:
    kind = "maximize"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model = context.model()
        self.path = context.layer(self.model, scene.layer)
        self.sizes = size_plan(scene, self.model.input_size)
        shapes = check_smallest_size(self.model, [self.path], self.sizes[0], context.source,
                                     context.key("size"))
        self.channels = context.channels(scene.channels, shapes[self.path][0])
        self.start = context.input(self.model.input_size, size=(self.sizes[0][1], self.sizes[0][0]))
        self.batches = chunks(self.channels, batch_size(scene.batch, self.sizes[-1], context.device))
        self.settings = AscentSettings.from_scene(scene)
        self.total = scene.steps * len(self.sizes) * len(self.batches)

    def render(self, progress):
        scene = self.context.scene
        images, activation, curves = [], {}, []
        for batch in self.batches:
            # Every batch replays the same random draws: a channel's image does not depend on
            # which other channels share its batch.
            ascent = Ascent(self.model, objectives.channel(self.path, torch.tensor(batch)), self.settings,
                            self.context.generator("ascent"), progress.update)
            result = ascent.run(self.start.expand(len(batch), -1, -1, -1), self.sizes)
            with torch.no_grad():
                final = ascent.score(result).tolist()
            for channel, image, value in zip(batch, result, final):
                activation[channel] = round(value, 6)
                images.append(image.cpu())
                yield Still(image, name=f"{scene.layer}-{channel:04d}")
            curves.append(ascent.scores)
        label = layer_label(self.model, self.path)
        yield Still(contact_sheet(images, [str(c) for c in self.channels],
                                  f"{self.model.name} {label}: {len(self.channels)} channels maximised"))
        yield Record("layer", self.path)
        yield Record("sizes", [[w, h] for h, w in self.sizes])
        yield Record("objective", [round(sum(v) / len(v), 6) for v in zip(*curves)])
        yield Record("activation", activation)
