"""`guided-backprop`: the class score's gradient where every ReLU passes back only positive
gradients (Springenberg et al., 2015): sharp, coloured pictures of the features used.

Seed 004 §Guided Backpropagation. The ReLUs are swapped during the backward pass only, through
a function mode: the (cached) model is never modified.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.errors import PresetError
from studio.frames import Record, Still
from studio.lazy import lazy
from studio.scenes.support.attributing import AttributionScene, Explained

torch = lazy("torch")
attribute = lazy("studio.attribute")
colour = lazy("studio.pictures.colour")


@dataclass(frozen=True)
class Section(Explained):
    WHAT = "a `guided-backprop` scene"


class Scene(AttributionScene):
    def __init__(self, context):
        super().__init__(context)
        counter = attribute.guided_relus()
        with torch.no_grad(), counter:
            attribute.logits(self.model, self.image)
        if counter.count == 0:
            raise PresetError(context.source, "model.name", "guided backpropagation needs ReLU "
                              "activations", expected="a network with ReLU or ReLU6 (vgg16, resnet50, "
                              "efficientnet_lite0, ...)", found=f"{self.model.name}, which has none")
        self.relus = counter.count
        self.total = 1
        self.step = context.plan_step(self.model, [], 1, tuple(self.image.shape[-2:]), what="the gradient")

    def render(self, progress):
        gradient = attribute.class_gradient(self.model, self.image, self.target, guided=True)[0].cpu()
        progress.update(1)
        heat = attribute.saliency_map(gradient[None])[0]
        photo = self.image[0].cpu()
        picture = colour.signed_colours(gradient)
        laid_over = colour.overlay(photo, heat)
        yield Still(self.panel([photo, picture, colour.colormap(heat[None], "inferno")[0], laid_over],
                               ["input", "guided gradient", "magnitude", "overlay"], "Guided backpropagation"))
        yield Still(picture, name="gradient")
        yield Still(laid_over, name="overlay")
        yield from self.records()
        yield Record("guided_relus", self.relus)
