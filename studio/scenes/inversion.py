"""`inversion`: reconstruct a photo from what one layer keeps of it (Mahendran & Vedaldi, 2015):
start from noise and descend on ‖φ(x) − φ(photo)‖² / ‖φ(photo)‖² plus a total-variation prior.
One reconstruction per layer, all in one batch; a video of the optimisation.

Seed 004 §Feature inversion: early layers keep the picture, late ones keep only what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.fields import InputImage, Matching, SceneSection, Video, meta, need_layers
from studio.preset.limits import Limits
from studio.scenes.support.labels import layer_label
from studio.scenes.support.matching import descend, descent, frame_every
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
models = lazy("studio.models")
optimize = lazy("studio.optimize")
match = lazy("studio.optimize.match")
layout = lazy("studio.pictures.layout")


@dataclass(frozen=True)
class Section(SceneSection, InputImage, Matching, Video):
    WHAT = "an `inversion` scene"
    layer: str | None = None
    """A layer by module path (`blocks.4`) or alias (`conv5_1`)."""
    layers: tuple[str, ...] | None = None
    """Several layers (instead of `layer`): a picture each, matched to the input's features there."""
    tv_weight: float = field(default=0.05, **meta(min=0.0, max=1e6))
    """Weight of the total-variation prior."""
    param: Literal["pixel", "fft"] = "fft"
    """`pixel`, or `fft` (spectral, colour-decorrelated)."""

    def check(self, limits: Limits):
        need_layers(self, allow_default=False)


class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        section = context.section
        self.model = context.model()
        self.names, self.paths = context.layers(self.model, section.layer, section.layers)
        self.photo = context.input(section.input, section.size, self.model.input_size)
        size = tuple(self.photo.shape[-2:])
        optimize.check_smallest_size(self.model, self.paths, size, context.source, context.key("size"))
        self.start = context.input("noise", size, self.model.input_size, "start")
        self.step = context.plan_step(self.model, self.paths, len(self.paths), size,
                                      what=f"a batch of {len(self.paths)} reconstructions")
        self.total = section.steps
        self.film = (section.steps // frame_every(section.steps), section.video_size)

    def render(self, progress):
        section = self.context.section
        with torch.no_grad():
            targets = models.LayerTap(self.model, self.paths)(self.photo)
        features = optimize.objectives.stacked([match.feature_distance(path, targets[path].float())
                                                for path in self.paths])
        run = descent(self.context, section, self.model, {"features": features}, progress,
                      tv_weight=section.tv_weight)
        labels = ["photo"] + [layer_label(self.model, p) for p in self.paths]
        title = f"Inverting {section.input} from {self.model.name}'s layers"
        images = yield from descend(
            self.context, run, self.start.expand(len(self.paths), -1, -1, -1), frame_every(section.steps),
            lambda step, images: layout.comparison_sheet([self.photo], images, labels,
                                                         f"{title}: step {step}/{section.steps}"))
        final = run.final["features"]
        yield Still(layout.comparison_sheet([self.photo], images, ["photo"] + [
            f"{label}: {loss:.3f}" for label, loss in zip(labels[1:], final)], title))
        for name, image in zip(self.names, images):
            yield Still(image.cpu(), name=name)
        yield Record("layers", self.paths)
        yield Record("loss", run.curves["features"])
        yield Record("start_loss_per_layer", dict(zip(self.paths, run.initial["features"])))
        yield Record("final_loss_per_layer", dict(zip(self.paths, final)))
        yield Record("tv_weight", section.tv_weight)
