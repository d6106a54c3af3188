"""`patches`: for chosen channels, the image patches that excite them most across a set of
images, each cropped to the unit's receptive field (traced from the architecture).

Seed 004 §Maximally activating patches (ml4a): run many images through the network, and for a
unit of interest show the patches that maximally activated it.
"""

from __future__ import annotations

import torch

from studio.frames import Record, Still
from studio.models import LayerTap
from studio.models.receptive import receptive_field
from studio.output.images import BACKGROUND, labelled_grid
from studio.optimize.param import resize
from studio.scenes.base import SceneContext, layer_label

TILE = 96            # patches are shown at least this large
MAX_TILE = 160       # and at most this large (aspect kept: a field cut by the edge is narrower)
OVERLAP = 0.5        # a patch may overlap an already chosen one of the same image this much


def crop(image: torch.Tensor, top: int, left: int, bottom: int, right: int) -> torch.Tensor:
    """The part of ``image`` (3, H, W) inside a box that may reach past its edges: what the unit
    actually sees of the picture.

    Example:
        >>> crop(torch.ones(3, 4, 4), -1, -1, 2, 3).shape
        torch.Size([3, 2, 3])
    """
    _, rows, columns = image.shape
    return image[:, max(0, top):min(rows, bottom), max(0, left):min(columns, right)]


def fit_tile(patch: torch.Tensor, side: int) -> torch.Tensor:
    """``patch`` scaled to fit a ``side``² tile, aspect kept, centred on the background colour."""
    height, width = patch.shape[-2:]
    scale = side / max(height, width)
    inner = resize(patch[None], max(1, round(height * scale)), max(1, round(width * scale)))[0]
    tile = (torch.tensor(BACKGROUND, dtype=patch.dtype) / 255).view(3, 1, 1).repeat(1, side, side)
    top, left = (side - inner.shape[-2]) // 2, (side - inner.shape[-1]) // 2
    tile[:, top:top + inner.shape[-2], left:left + inner.shape[-1]] = inner
    return tile


def overlap(a: tuple[int, int], b: tuple[int, int], size: tuple[int, int]) -> float:
    """Overlapping fraction of two equal boxes at unit positions a and b (in units of jump)."""
    dy, dx = abs(a[0] - b[0]), abs(a[1] - b[1])
    return max(0.0, 1 - dy / size[0]) * max(0.0, 1 - dx / size[1])


class Scene:
    kind = "patches"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model = context.model()
        self.path = context.layer(self.model, scene.layer)
        self.images = context.image_set(self.model.input_size, keep_aspect=True)
        first = self.images[0].image
        with torch.no_grad():
            probe = LayerTap(self.model, [self.path])(first[None].to(context.device))[self.path]
        self.chosen = context.channels(scene.channels, probe.shape[1])
        self.total = len(self.images)

    def render(self, progress):
        scene = self.context.scene
        candidates: list[list[tuple[float, int, int, int]]] = [[] for _ in self.chosen]
        fields = {}
        with torch.no_grad():
            for number, item in enumerate(self.images):
                size = tuple(item.image.shape[-2:])
                if size not in fields:
                    fields[size] = receptive_field(self.model, self.path, size)
                maps = LayerTap(self.model, [self.path])(item.image[None].to(self.context.device))[self.path][0]
                maps = maps[self.chosen].float().cpu()
                width = maps.shape[-1]
                # a few more than `top` per image, so suppression still leaves enough
                best = maps.flatten(1).topk(min(scene.top * 4, maps[0].numel()), dim=1)
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
                tiles.append(crop(item.image, top, left, bottom, right))
                labels.append(f"{channel}: {value:.2f}")
                table.append({"channel": channel, "image": item.label, "activation": round(value, 6),
                              "unit": [y, x], "box": [left, top, right, bottom]})
            for _ in range(scene.top - len(picked)):  # a small set: keep the rows aligned
                tiles.append(torch.zeros(3, 0, 0))
                labels.append("")
        side = min(MAX_TILE, max(TILE, max(t.shape[-1] for t in tiles)))
        blank = (torch.tensor(BACKGROUND, dtype=torch.float32) / 255).view(3, 1, 1).expand(3, side, side)
        grid = torch.stack([fit_tile(t, side) if t.numel() else blank for t in tiles])
        y_field, x_field = next(iter(fields.values()))
        title = (f"{layer_label(self.model, self.path)}: top {scene.top} patches per channel over "
                 f"{len(self.images)} images (receptive field {y_field.size}x{x_field.size} px)")
        yield Still(labelled_grid(grid, labels, title=title, columns=scene.top))
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
            if len(picked) == self.context.scene.top:
                break
        return picked
