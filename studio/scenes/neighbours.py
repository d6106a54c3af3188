"""`neighbours`: for each query image, its k nearest images in the network's feature space
(cosine distance, penultimate layer unless a layer is named), one row per query.

Seed 004 §Nearest neighbours: pixels differ, features agree; the same objects sit together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.fields import MIN_DRAFT_SIDE, ImageSet, SceneSection, meta, side
from studio.scenes.support.labels import layer_label
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
optimize = lazy("studio.optimize")
features = lazy("studio.models.features")
layout = lazy("studio.pictures.layout")

TILE = 128


@dataclass(frozen=True)
class ImageSetSection(SceneSection):
    """A set of images seen through one layer (the penultimate by default)."""

    images: ImageSet = "builtin:*"
    """`builtin:*`, `builtin:lfw_subset`, `builtin:NAME`, a folder or file, or a list."""
    layer: str | None = None
    """A layer by module path (`blocks.4`) or alias (`conv5_1`)."""
    size: tuple[int, int] | None = side()
    """Working size `[width, height]` in pixels (default: the model's, photos keep their aspect)."""

    def draft_changes(self) -> dict:
        return {"size": [MIN_DRAFT_SIDE, MIN_DRAFT_SIDE], **super().draft_changes()}


@dataclass(frozen=True)
class Section(ImageSetSection):
    WHAT = "a `neighbours` scene"
    k: int = field(default=5, **meta(min=1, max=256))
    """Neighbours per query."""
    queries: int = field(default=8, **meta(min=1, max=256))
    """Rows of queries."""


class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        section = context.section
        self.model = context.model()
        self.path = context.layer(self.model, section.layer) if section.layer else None
        self.images = context.image_set(section.images, section.size, self.model.input_size)
        self.total = len(self.images)
        size = tuple(self.images[0].image.shape[-2:])
        batch = min(self.total, optimize.batch_size(None, size, context.device, backward=False))
        self.step = context.plan_step(self.model, [self.path] if self.path else [], batch, size, backward=False,
                                      key="images", what=f"a batch of {batch} images", units=batch)

    def vectors(self, progress) -> torch.Tensor:
        stack = torch.stack([item.image for item in self.images])
        batch = optimize.batch_size(None, tuple(stack.shape[-2:]), self.context.device, backward=False)
        return features.feature_vectors(self.model, stack, self.path, batch, progress.update)

    @property
    def layer_name(self) -> str:
        return layer_label(self.model, self.path) if self.path else "penultimate layer"

    def render(self, progress):
        section = self.context.section
        vectors = self.vectors(progress)
        queries = features.query_indices(len(self.images), section.queries)
        k = min(section.k + 1, len(self.images))  # the query itself, then k others
        indices, distances = features.nearest(vectors, queries, k)
        tiles, labels, table = [], [], []
        for query, row, row_distances in zip(queries, indices.tolist(), distances.tolist()):
            for rank, (index, distance) in enumerate(zip(row, row_distances)):
                tiles.append(layout.resize(self.images[index].image[None], TILE, TILE)[0])
                labels.append(self.images[index].label if rank == 0 else
                              f"{self.images[index].label} {distance:.2f}")
            table.append({"query": self.images[query].label,
                          "neighbours": [{"image": self.images[i].label, "distance": round(d, 6)}
                                         for i, d in zip(row, row_distances)]})
        title = f"{self.model.name}, {self.layer_name}: {k - 1} nearest of {len(self.images)} (cosine)"
        yield Still(layout.labelled_grid(torch.stack(tiles), labels, title=title, columns=k))
        yield Record("layer", self.path or "penultimate")
        yield Record("dimensions", vectors.shape[1])
        yield Record("neighbours", table)
