"""`saliency`: the gradient of the class score with respect to the pixels, |·| max over
colour (Simonyan et al., 2013); with ``samples`` > 0, SmoothGrad's average over noisy copies.

Seed 004 §Saliency maps: where the network looks when it calls the cat a cat.
"""

from __future__ import annotations

from studio.attribution import overlay, smooth_saliency
from studio.frames import Record, Still
from studio.output.images import colormap
from studio.scenes.attributing import AttributionScene
from studio.scenes.optimizing import batch_size



class Scene(AttributionScene):
    kind = "saliency"

    def __init__(self, context):
        super().__init__(context)
        self.total = max(1, context.scene.samples)
        self.batch = batch_size(None, tuple(self.image.shape[-2:]), context.device)
        self.memory = context.check_memory(self.model, [], min(self.batch, self.total), tuple(self.image.shape[-2:]),
                                           what="a batch of gradients")

    def render(self, progress):
        scene = self.context.scene
        _, heat = smooth_saliency(self.model, self.image, self.target, scene.samples, scene.noise,
                                  self.context.generator("smoothgrad"), self.batch, on_batch=progress.update)
        photo = self.image[0].cpu()
        coloured = colormap(heat[None], "inferno")[0]
        laid_over = overlay(photo, heat)
        what = f"SmoothGrad ({scene.samples} samples, noise {scene.noise:g})" if scene.samples else "Saliency"
        yield Still(self.panel([photo, coloured, laid_over], ["input", "saliency", "overlay"], what))
        yield Still(colormap(heat[None], "gray")[0], name="map")
        yield Still(laid_over, name="overlay")
        yield from self.records()
        yield Record("samples", scene.samples)
        yield Record("saliency_total", round(float(heat.sum()), 6))
