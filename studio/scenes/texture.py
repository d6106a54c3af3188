"""`texture`: Gram-matrix texture synthesis (Gatys et al., 2015). From noise, match the Gram
matrices of a sample's feature maps at several layers: the statistics of the texture without its
layout, at any output size.

Seed 004 §Texture synthesis, §Gram matrix. The sample is ``style`` (or ``input`` if no style).
"""

from __future__ import annotations

import torch

from studio.frames import Record, Still
from studio.models import LayerTap
from studio.optimize import check_smallest_size
from studio.optimize.match import gram, gram_distance
from studio.optimize.objectives import weighted
from studio.scenes.base import SceneContext
from studio.scenes.matching import descend, descent, frame_every, sheet, style_layers
from studio.scenes.optimizing import working_size


def style_loss(model, paths: list[str], sample: torch.Tensor):
    """Mean of the relative Gram distances at ``paths`` to ``sample`` (1, 3, H, W)."""
    with torch.no_grad():
        found = LayerTap(model, paths)(sample)
    return weighted([gram_distance(p, gram(found[p])) for p in paths], [1 / len(paths)] * len(paths))


class Scene:
    kind = "texture"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model = context.model()
        self.names, self.paths = style_layers(context, self.model)
        spec, key = (scene.style, "style") if scene.style else (scene.input, "input")
        self.sample = context.input(self.model.input_size, spec, key, size=None)
        self.sample_name = spec
        height, width = working_size(scene, self.model.input_size)
        check_smallest_size(self.model, self.paths, (height, width), context.source, context.key("size"))
        self.start = context.input(self.model.input_size, "noise", "start", size=(width, height))
        self.memory = context.check_memory(self.model, self.paths, 1, (height, width))
        self.total = scene.steps

    def render(self, progress):
        scene = self.context.scene
        run = descent(self.context, self.model, {"style": style_loss(self.model, self.paths, self.sample)},
                      progress)
        images = yield from descend(self.context, run, self.start, frame_every(scene.steps))
        yield Still(images[0].cpu())
        yield Still(sheet([self.sample], images, ["sample", f"synthesised, loss {run.final['style'][0]:.3f}"],
                          f"Texture of {self.sample_name} from {self.model.name}: {', '.join(self.names)}"),
                    name="comparison")
        yield Record("layers", self.paths)
        yield Record("loss", run.curves["style"])
        yield Record("start_loss", run.initial["style"][0])
        yield Record("final_loss", run.final["style"][0])
