"""`occlusion`: slide a grey window over the photo and map how much the class probability
drops at each place (Zeiler & Fergus, 2014). The occluded copies run through the network in
batches.

Seed 004 §Occlusion experiments: hide the cat's face and the network stops seeing a cat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from studio.errors import PresetError
from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.fields import meta
from studio.preset.limits import MAX_SIDE
from studio.scenes.support.attributing import AttributionScene, Explained

optimize = lazy("studio.optimize")
attribute = lazy("studio.attribute")
colour = lazy("studio.pictures.colour")


@dataclass(frozen=True)
class Section(Explained):
    WHAT = "an `occlusion` scene"
    window: int = field(default=32, **meta(min=1, max=MAX_SIDE))
    """Occluding square's side in pixels."""
    stride: int = field(default=16, **meta(min=1, max=MAX_SIDE))
    """Its step in pixels."""
    fill: Literal["gray", "black", "mean", "blur", "noise"] = "gray"
    """What hides the window."""

    def draft_changes(self) -> dict:
        return {**super().draft_changes(), "stride": max(self.stride, self.window)}


class Scene(AttributionScene):
    def __init__(self, context):
        super().__init__(context)
        section = context.section
        height, width = self.image.shape[-2:]
        if section.window > min(height, width):
            raise PresetError(context.source, context.key("window"), "window larger than the image",
                              expected=f"at most {min(height, width)} px (the image is {width}x{height})",
                              found=section.window)
        self.total = (len(attribute.window_positions(height, section.window, section.stride))
                      * len(attribute.window_positions(width, section.window, section.stride)))
        self.batch = min(self.total, optimize.batch_size(None, (height, width), context.device, backward=False))
        self.step = context.plan_step(self.model, [], self.batch, (height, width), backward=False,
                                      what=f"a batch of {self.batch} occluded copies", units=self.batch)

    def render(self, progress):
        section = self.context.section
        found = attribute.occlusion_map(self.model, self.image, self.target, section.window, section.stride,
                                        section.fill, self.context.generator("fill"), self.batch,
                                        on_batch=progress.update)
        drop = found.map
        photo = self.image[0].cpu()
        reach = float(drop.abs().max()) or 1.0
        signed = colour.colormap(drop[None], "RdBu_r", span=(-reach, reach))[0]
        laid_over = colour.overlay(photo, drop)
        yield Still(self.panel([photo, signed, laid_over],
                               ["input", "probability drop (red) / rise (blue)", "overlay"],
                               f"Occlusion ({section.window} px {section.fill} window, stride {section.stride})"))
        yield Still(signed, name="map")
        yield Still(laid_over, name="overlay")
        yield from self.records()
        peak = divmod(int(drop.argmax()), drop.shape[1])
        yield Record("window", section.window)
        yield Record("stride", section.stride)
        yield Record("fill", section.fill)
        yield Record("positions", self.total)
        yield Record("drops", {"tops": found.tops, "lefts": found.lefts,
                               "values": [[round(v, 6) for v in row] for row in found.drops.tolist()]})
        yield Record("largest_drop", {"value": round(float(drop.max()), 6), "y": peak[0], "x": peak[1]})
