"""`texture`: Gram-matrix texture synthesis (Gatys et al., 2015). From noise, match the Gram
matrices of a sample's feature maps at several layers: the statistics of the texture without its
layout, at any output size.

Seed 004 §Texture synthesis, §Gram matrix. The sample is ``style`` (or ``input`` if no style).
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.scenes.support.matching import Gram, descend, descent, frame_every, style_layers
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
models = lazy("studio.models")
optimize = lazy("studio.optimize")
match = lazy("studio.optimize.match")
layout = lazy("studio.pictures.layout")


@dataclass(frozen=True)
class Section(Gram):
    WHAT = "a `texture` scene"


def style_loss(model, paths: list[str], sample):
    """Mean of the relative Gram distances at ``paths`` to ``sample`` (1, 3, H, W)."""
    with torch.no_grad():
        found = models.LayerTap(model, paths)(sample)
    return optimize.objectives.weighted([match.gram_distance(p, optimize.objectives.gram(found[p])) for p in paths],
                                        [1 / len(paths)] * len(paths))


class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        section = context.section
        self.model = context.model()
        self.names, self.paths = style_layers(context, self.model, section.layers)
        spec, key = (section.style, "style") if section.style else (section.input, "input")
        self.sample = context.input(spec, section.size, self.model.input_size, key)
        self.sample_name = spec
        size = section.size or self.model.input_size
        optimize.check_smallest_size(self.model, self.paths, size, context.source, context.key("size"))
        self.start = context.input("noise", size, self.model.input_size, "start")
        self.step = context.plan_step(self.model, self.paths, 1, size)
        self.total = section.steps

    def render(self, progress):
        section = self.context.section
        run = descent(self.context, section, self.model,
                      {"style": style_loss(self.model, self.paths, self.sample)}, progress)
        images = yield from descend(self.context, run, self.start, frame_every(section.steps))
        yield Still(images[0].cpu())
        yield Still(layout.comparison_sheet([self.sample], images,
                                            ["sample", f"synthesised, loss {run.final['style'][0]:.3f}"],
                                            f"Texture of {self.sample_name} from {self.model.name}: "
                                            f"{', '.join(self.names)}"), name="comparison")
        yield Record("layers", self.paths)
        yield Record("loss", run.curves["style"])
        yield Record("start_loss", run.initial["style"][0])
        yield Record("final_loss", run.final["style"][0])
