"""`occlusion`: slide a grey window over the photo and map how much the class probability
drops at each place (Zeiler & Fergus, 2014). The occluded copies run through the network in
batches.

Seed 004 §Occlusion experiments: hide the cat's face and the network stops seeing a cat.
"""

from __future__ import annotations

from studio.attribution import occlusion_map, overlay, window_positions
from studio.errors import PresetError
from studio.frames import Record, Still
from studio.output.images import colormap
from studio.scenes.attributing import AttributionScene
from studio.scenes.optimizing import batch_size


class Scene(AttributionScene):
    kind = "occlusion"

    def __init__(self, context):
        super().__init__(context)
        scene = context.scene
        height, width = self.image.shape[-2:]
        if scene.window > min(height, width):
            raise PresetError(context.source, context.key("window"), "window larger than the image",
                              expected=f"at most {min(height, width)} px (the image is {width}x{height})",
                              found=scene.window)
        self.total = (len(window_positions(height, scene.window, scene.stride))
                      * len(window_positions(width, scene.window, scene.stride)))
        self.batch = min(self.total, batch_size(None, (height, width), context.device, backward=False))
        self.memory = context.check_memory(self.model, [], self.batch, (height, width), backward=False,
                                           what=f"a batch of {self.batch} occluded copies")

    def render(self, progress):
        scene = self.context.scene
        found = occlusion_map(self.model, self.image, self.target, scene.window, scene.stride,
                              scene.fill, self.context.generator("fill"), self.batch,
                              on_batch=progress.update)
        drop = found.map
        photo = self.image[0].cpu()
        reach = float(drop.abs().max()) or 1.0
        signed = colormap(drop[None], "RdBu_r", span=(-reach, reach))[0]
        laid_over = overlay(photo, drop)
        yield Still(self.panel([photo, signed, laid_over],
                               ["input", "probability drop (red) / rise (blue)", "overlay"],
                               f"Occlusion ({scene.window} px {scene.fill} window, stride {scene.stride})"))
        yield Still(signed, name="map")
        yield Still(laid_over, name="overlay")
        yield from self.records()
        peak = divmod(int(drop.argmax()), drop.shape[1])
        yield Record("window", scene.window)
        yield Record("stride", scene.stride)
        yield Record("fill", scene.fill)
        yield Record("positions", self.total)
        yield Record("drops", {"tops": found.tops, "lefts": found.lefts,
                               "values": [[round(v, 6) for v in row] for row in found.drops.tolist()]})
        yield Record("largest_drop", {"value": round(float(drop.max()), 6), "y": peak[0], "x": peak[1]})
