"""`neighbours`: for each query image, its k nearest images in the network's feature space
(cosine distance, penultimate layer unless a layer is named), one row per query.

Seed 004 §Nearest neighbours: pixels differ, features agree; the same objects sit together.
"""

from __future__ import annotations

import torch

from studio.frames import Record, Still
from studio.models.features import feature_vectors
from studio.output.images import labelled_grid
from studio.optimize.param import resize
from studio.scenes.base import SceneContext, layer_label
from studio.scenes.optimizing import batch_size

TILE = 128


def nearest(vectors: torch.Tensor, queries: list[int], k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k nearest rows of ``vectors`` (N, D) to each query row, by cosine distance.

    Returns:
        ((Q, k) indices, (Q, k) distances), nearest first; a query is its own nearest (0).

    Example:
        >>> nearest(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1]]), [0], 2)[0]
        tensor([[0, 2]])
    """
    unit = torch.nn.functional.normalize(vectors.double(), dim=1)
    distances = (1 - unit[queries] @ unit.T).clamp_min(0)
    distances[torch.arange(len(queries)), queries] = 0.0  # rounding must not unseat the query
    order = torch.sort(distances, dim=1, stable=True)
    return order.indices[:, :k], order.values[:, :k].float()


def query_indices(count: int, wanted: int) -> list[int]:
    """``wanted`` queries spread evenly over a set of ``count`` images (all when fewer)."""
    if wanted >= count:
        return list(range(count))
    return sorted({round(i * (count - 1) / (wanted - 1)) for i in range(wanted)}) if wanted > 1 else [0]


class Scene:
    kind = "neighbours"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model = context.model()
        self.path = context.layer(self.model, scene.layer) if scene.layer else None
        self.images = context.image_set(self.model.input_size)
        self.total = len(self.images)

    def vectors(self, progress) -> torch.Tensor:
        stack = torch.stack([item.image for item in self.images])
        batch = batch_size(None, tuple(stack.shape[-2:]), self.context.device, backward=False)
        return feature_vectors(self.model, stack, self.path, batch, progress.update)

    @property
    def layer_name(self) -> str:
        return layer_label(self.model, self.path) if self.path else "penultimate layer"

    def render(self, progress):
        scene = self.context.scene
        vectors = self.vectors(progress)
        queries = query_indices(len(self.images), scene.queries)
        k = min(scene.k + 1, len(self.images))  # the query itself, then k others
        indices, distances = nearest(vectors, queries, k)
        tiles, labels, table = [], [], []
        for query, row, row_distances in zip(queries, indices.tolist(), distances.tolist()):
            for rank, (index, distance) in enumerate(zip(row, row_distances)):
                tiles.append(resize(self.images[index].image[None], TILE, TILE)[0])
                labels.append(self.images[index].label if rank == 0 else
                              f"{self.images[index].label} {distance:.2f}")
            table.append({"query": self.images[query].label,
                          "neighbours": [{"image": self.images[i].label, "distance": round(d, 6)}
                                         for i, d in zip(row, row_distances)]})
        title = f"{self.model.name}, {self.layer_name}: {k - 1} nearest of {len(self.images)} (cosine)"
        yield Still(labelled_grid(torch.stack(tiles), labels, title=title, columns=k))
        yield Record("layer", self.path or "penultimate")
        yield Record("dimensions", vectors.shape[1])
        yield Record("neighbours", table)
