"""`guided-backprop`: the class score's gradient where every ReLU passes back only positive
gradients (Springenberg et al., 2015): sharp, coloured pictures of the features used.

Seed 004 §Guided Backpropagation. The ReLUs are swapped during the backward pass only, through
a function mode: the (cached) model is never modified.
"""

from __future__ import annotations

import torch

from studio.attribution import class_gradient, guided_relus, logits, overlay, saliency_map
from studio.errors import PresetError
from studio.frames import Record, Still
from studio.output.images import colormap
from studio.scenes.attributing import AttributionScene


def gradient_picture(gradient: torch.Tensor) -> torch.Tensor:
    """A signed (3, H, W) gradient as colours: grey is zero, contrast stretched to the 99.5th
    percentile so one hot pixel does not flatten the rest."""
    scale = torch.quantile(gradient.abs().flatten().float(), 0.995).clamp_min(1e-12)
    return (0.5 + 0.5 * gradient / scale).clamp(0, 1)


class Scene(AttributionScene):
    kind = "guided-backprop"

    def __init__(self, context):
        super().__init__(context)
        counter = guided_relus()
        with torch.no_grad(), counter:
            logits(self.model, self.image)
        if counter.count == 0:
            raise PresetError(context.source, "model.name", "guided backpropagation needs ReLU "
                              "activations", expected="a network with ReLU or ReLU6 (vgg16, resnet50, "
                              "efficientnet_lite0, ...)", found=f"{self.model.name}, which has none")
        self.relus = counter.count
        self.total = 1

    def render(self, progress):
        gradient = class_gradient(self.model, self.image, self.target, guided=True)[0].cpu()
        progress.update(1)
        heat = saliency_map(gradient[None])[0]
        photo = self.image[0].cpu()
        picture = gradient_picture(gradient)
        laid_over = overlay(photo, heat)
        yield Still(self.panel([photo, picture, colormap(heat[None], "inferno")[0], laid_over],
                               ["input", "guided gradient", "magnitude", "overlay"], "Guided backpropagation"))
        yield Still(picture, name="gradient")
        yield Still(laid_over, name="overlay")
        yield from self.records()
        yield Record("guided_relus", self.relus)
