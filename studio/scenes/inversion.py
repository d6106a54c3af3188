"""`inversion`: reconstruct a photo from what one layer keeps of it (Mahendran & Vedaldi, 2015):
start from noise and descend on ‖φ(x) − φ(photo)‖² / ‖φ(photo)‖² plus a total-variation prior.
One reconstruction per layer, all in one batch; a video of the optimisation.

Seed 004 §Feature inversion: early layers keep the picture, late ones keep only what it shows.
"""

from __future__ import annotations

import torch

from studio.frames import Record, Still
from studio.models import LayerTap
from studio.optimize import check_smallest_size
from studio.optimize.match import feature_distance
from studio.optimize.objectives import stacked
from studio.scenes.base import SceneContext, layer_label
from studio.scenes.matching import descend, descent, frame_every, sheet


class Scene:
    kind = "inversion"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model = context.model()
        self.names, self.paths = context.layers(self.model)
        self.photo = context.input(self.model.input_size)
        size = tuple(self.photo.shape[-2:])
        check_smallest_size(self.model, self.paths, size, context.source, context.key("size"))
        self.start = context.input(self.model.input_size, "noise", "start", size=(size[1], size[0]))
        self.memory = context.check_memory(self.model, self.paths, len(self.paths), size,
                                           what=f"a batch of {len(self.paths)} reconstructions")
        self.total = scene.steps

    def render(self, progress):
        scene = self.context.scene
        with torch.no_grad():
            targets = LayerTap(self.model, self.paths)(self.photo)
        features = stacked([feature_distance(path, targets[path].float()) for path in self.paths])
        run = descent(self.context, self.model, {"features": features}, progress, tv_weight=scene.tv_weight)
        labels = ["photo"] + [layer_label(self.model, p) for p in self.paths]
        title = f"Inverting {scene.input} from {self.model.name}'s layers"
        images = yield from descend(
            self.context, run, self.start.expand(len(self.paths), -1, -1, -1), frame_every(scene.steps),
            lambda step, images: sheet([self.photo], images, labels, f"{title}: step {step}/{scene.steps}"))
        final = run.final["features"]
        yield Still(sheet([self.photo], images, ["photo"] + [f"{label}: {loss:.3f}" for label, loss
                                                             in zip(labels[1:], final)], title))
        for name, image in zip(self.names, images):
            yield Still(image.cpu(), name=name)
        yield Record("layers", self.paths)
        yield Record("loss", run.curves["features"])
        yield Record("start_loss_per_layer", dict(zip(self.paths, run.initial["features"])))
        yield Record("final_loss_per_layer", dict(zip(self.paths, final)))
        yield Record("tv_weight", scene.tv_weight)
