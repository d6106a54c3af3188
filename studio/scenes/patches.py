"""`patches`: for chosen channels, the image patches that excite them most across a set of
images, each cropped to the unit's receptive field (traced from the architecture).

Seed 004 §Maximally activating patches (ml4a): run many images through the network, and for a
unit of interest show the patches that maximally activated it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.fields import MIN_DRAFT_SIDE, Channels, ImageSet, SceneSection, check_channels, meta, side
from studio.preset.limits import Limits
from studio.scenes.support.labels import layer_label
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
models = lazy("studio.models")
receptive = lazy("studio.models.receptive")
layout = lazy("studio.pictures.layout")

TILE = 96            # patches are shown at least this large
MAX_TILE = 160       # and at most this large (aspect kept: a field cut by the edge is narrower)
OVERLAP = 0.5        # a patch may overlap an already chosen one of the same image this much


@dataclass(frozen=True)
class Section(SceneSection):
    WHAT = "a `patches` scene"
    layer: str | None = None
    """A layer by module path (`blocks.4`) or alias (`conv5_1`)."""
    channels: Channels = "0:8"
    """`"all"`, `"a:b"`, a list of indices, or one index: the channels whose top patches are shown."""
    images: ImageSet = "builtin:*"
    """`builtin:*`, `builtin:lfw_subset`, `builtin:NAME`, a folder or file, or a list."""
    top: int = field(default=9, **meta(min=1, max=256))
    """How many to show."""
    size: tuple[int, int] | None = side()
    """Working size `[width, height]` in pixels (default: the model's, photos keep their aspect)."""

    def check(self, limits: Limits):
        check_channels(self.channels, limits)

    def draft_changes(self) -> dict:
        return {"size": [MIN_DRAFT_SIDE, MIN_DRAFT_SIDE], **super().draft_changes()}


def overlap(a: tuple[int, int], b: tuple[int, int], size: tuple[int, int]) -> float:
    """Overlapping fraction of two equal boxes at unit positions a and b (in units of jump)."""
    dy, dx = abs(a[0] - b[0]), abs(a[1] - b[1])
    return max(0.0, 1 - dy / size[0]) * max(0.0, 1 - dx / size[1])


class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        section = context.section
        self.model = context.model()
        self.path = context.layer(self.model, section.layer)
        self.images = context.image_set(section.images, section.size, self.model.input_size, keep_aspect=True)
        first = self.images[0].image
        with torch.no_grad():
            probe = models.LayerTap(self.model, [self.path])(first[None].to(context.device))[self.path]
        self.chosen = context.channels(section.channels, probe.shape[1])
        self.total = len(self.images)
        largest = max((tuple(item.image.shape[-2:]) for item in self.images), key=lambda size: size[0] * size[1])
        self.step = context.plan_step(self.model, [self.path], 1, largest, backward=False, key="images",
                                      what="one image")

    def render(self, progress):
        section = self.context.section
        candidates: list[list[tuple[float, int, int, int]]] = [[] for _ in self.chosen]
        fields = {}
        with torch.no_grad():
            for number, item in enumerate(self.images):
                size = tuple(item.image.shape[-2:])
                if size not in fields:
                    fields[size] = receptive.receptive_field(self.model, self.path, size)
                maps = models.LayerTap(self.model, [self.path])(item.image[None].to(self.context.device))[self.path][0]
                maps = maps[self.chosen].float().cpu()
                width = maps.shape[-1]
                # a few more than `top` per image, so suppression still leaves enough
                best = maps.flatten(1).topk(min(section.top * 4, maps[0].numel()), dim=1)
                for row, (values, places) in enumerate(zip(best.values.tolist(), best.indices.tolist())):
                    candidates[row] += [(v, number, p // width, p % width) for v, p in zip(values, places)]
                progress.update(1)
        tiles, labels, table = [], [], []
        for row, channel in enumerate(self.chosen):
            picked = self._pick(sorted(candidates[row], reverse=True), fields)
            for value, number, y, x in picked:
                item = self.images[number]
                y_field, x_field = fields[tuple(item.image.shape[-2:])]
                (top, bottom), (left, right) = y_field.box(y), x_field.box(x)
                tiles.append(layout.crop(item.image, top, left, bottom, right))
                labels.append(f"{channel}: {value:.2f}")
                table.append({"channel": channel, "image": item.label, "activation": round(value, 6),
                              "unit": [y, x], "box": [left, top, right, bottom]})
            for _ in range(section.top - len(picked)):  # a small set: keep the rows aligned
                tiles.append(torch.zeros(3, 0, 0))
                labels.append("")
        side = min(MAX_TILE, max(TILE, max(t.shape[-1] for t in tiles)))
        blank = (torch.tensor(layout.BACKGROUND, dtype=torch.float32) / 255).view(3, 1, 1).expand(3, side, side)
        grid = torch.stack([layout.fit_tile(t, side) if t.numel() else blank for t in tiles])
        y_field, x_field = next(iter(fields.values()))
        title = (f"{layer_label(self.model, self.path)}: top {section.top} patches per channel over "
                 f"{len(self.images)} images (receptive field {y_field.size}x{x_field.size} px)")
        yield Still(layout.labelled_grid(grid, labels, title=title, columns=section.top))
        yield Record("layer", self.path)
        yield Record("receptive_field", {"height": y_field.size, "width": x_field.size,
                                         "stride": y_field.jump})
        yield Record("images", [item.label for item in self.images])
        yield Record("patches", table)

    def _pick(self, ranked, fields) -> list[tuple[float, int, int, int]]:
        """The strongest units, skipping any that mostly overlaps a stronger one of the same image."""
        picked: list[tuple[float, int, int, int]] = []
        for value, number, y, x in ranked:
            size = fields[tuple(self.images[number].image.shape[-2:])]
            span = (max(1, size[0].size // size[0].jump), max(1, size[1].size // size[1].jump))
            if all(n != number or overlap((y, x), (py, px), span) <= OVERLAP for _, n, py, px in picked):
                picked.append((value, number, y, x))
            if len(picked) == self.context.section.top:
                break
        return picked
