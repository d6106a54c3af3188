"""`dream`: DeepDream. Octaves from a photo or a plain canvas, aimed at chosen layers.

One image per layer in one batch plus a contact sheet (seed 000 §3: VGG19 layers 5, 12, 19, 28,
34 and 35 on black and on white); with ``weights``, one mixed dream of all layers. Big images
are climbed a tile at a time (``tile``; automatic past a megapixel).
"""

from __future__ import annotations

import dataclasses

import torch

from studio.frames import Record, Still
from studio.optimize import Ascent, AscentSettings, check_smallest_size, objectives
from studio.scenes.base import SceneContext
from studio.scenes.optimizing import contact_sheet
from studio.optimize.schedule import octave_sizes

AUTO_TILE_PIXELS = 1024 * 1024
AUTO_TILE = 512
MIN_TILE = 64  # an out-of-memory error halves the tile down to this


class Scene:
    kind = "dream"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model = context.model()
        self.names, self.paths = context.layers(self.model)
        self.start = context.input(self.model.input_size)
        height, width = self.start.shape[-2:]
        self.sizes = octave_sizes(height, width, scene.octaves, scene.octave_scale)
        shapes = check_smallest_size(self.model, self.paths, self.sizes[0], context.source,
                                     context.key("octaves"))
        channels = None
        if scene.channels is not None:
            channels = context.channels(scene.channels, min(s[0] for s in shapes.values()))
        terms = [objectives.layer_l2(p, channels) for p in self.paths]
        if scene.weights is not None:
            weights = (list(scene.weights) if isinstance(scene.weights, tuple)
                       else [scene.weights.get(n, 1.0) for n in self.names])
            self.objective, self.labels = objectives.weighted(terms, weights), ["mixed"]
        else:
            self.objective, self.labels = objectives.stacked(terms), self.names
        tile = scene.tile
        if tile is None and height * width > AUTO_TILE_PIXELS:
            tile = AUTO_TILE
        self.settings = AscentSettings.from_scene(scene, tile=tile)
        if tile:
            self.settings = dataclasses.replace(self.settings, param="pixel")
        step_size = (min(height, tile + 2 * self.settings.halo), min(width, tile + 2 * self.settings.halo)) \
            if tile else (height, width)
        batch = 1 if scene.weights is not None else len(self.paths)
        self.memory = context.check_memory(self.model, self.paths, batch, step_size,
                                           key="tile" if tile else "size",
                                           what="a tile" if tile else "one dream step")
        self.total = scene.steps * len(self.sizes)

    def render(self, progress):
        scene = self.context.scene
        start = self.start.expand(len(self.labels), -1, -1, -1)
        while True:
            ascent = Ascent(self.model, self.objective, self.settings, self.context.generator("ascent"),
                            progress.update)
            try:
                result = ascent.run(start, self.sizes, keep_detail=True)
                break
            except torch.OutOfMemoryError:
                tile = self.settings.tile
                if not tile or tile <= MIN_TILE:
                    raise
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                self.settings = dataclasses.replace(self.settings, tile=tile // 2)
                progress.n = 0
                progress.write(f"out of memory with {tile} px tiles: starting again with {tile // 2} px")
        with torch.no_grad():
            before = ascent.score(self.start.expand(len(self.labels), -1, -1, -1)).tolist() \
                if not self.settings.tile else None
            after = ascent.score(result).tolist() if not self.settings.tile else None
        if len(self.labels) == 1:
            yield Still(result[0])
        else:
            for label, image in zip(self.labels, result):
                yield Still(image, name=label)
            yield Still(contact_sheet([i.cpu() for i in result], self.labels,
                                      f"{self.model.name} dreams on {scene.input}"))
        yield Record("layers", self.paths)
        yield Record("sizes", [[w, h] for h, w in self.sizes])
        yield Record("tile", self.settings.tile)
        yield Record("objective", ascent.scores)
        if before is not None:
            yield Record("activation", {label: {"before": round(b, 6), "after": round(a, 6)}
                                        for label, b, a in zip(self.labels, before, after)})
