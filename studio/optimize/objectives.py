"""Objectives: small callables from layer activations to one score per batch element.

They compose with arithmetic, as in lucent: ``channel("blocks.3", 7) - 0.1 * layer_l2("blocks.1")``.
An objective returns a tensor of shape (B,): higher is better. Index tensors make one objective
hold a different target per batch element (a 16-channel grid is ``channel(layer, arange(16))``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

Activations = dict[str, torch.Tensor]


class Objective:
    """A named score function over activations, with the layers it needs.

    Args:
        fn: activations → (B,) scores.
        layers: module paths ``fn`` reads.
        name: for logs.

    Example:
        >>> acts = {"l": torch.ones(2, 4, 3, 3)}
        >>> (2 * channel("l", 1) - layer_l2("l"))(acts)
        tensor([1., 1.])
    """

    def __init__(self, fn: Callable[[Activations], torch.Tensor], layers: Sequence[str], name: str):
        self.fn, self.layers, self.name = fn, tuple(dict.fromkeys(layers)), name

    def __call__(self, activations: Activations) -> torch.Tensor:
        return self.fn(activations)

    def __add__(self, other: Objective | float) -> Objective:
        if not isinstance(other, Objective):
            return Objective(lambda a: self(a) + other, self.layers, f"{self.name} + {other}")
        return Objective(lambda a: self(a) + other(a), self.layers + other.layers, f"{self.name} + {other.name}")

    __radd__ = __add__

    def __neg__(self) -> Objective:
        return Objective(lambda a: -self(a), self.layers, f"-{self.name}")

    def __sub__(self, other: Objective | float) -> Objective:
        return self + (-other)

    def __rsub__(self, other: float) -> Objective:
        return (-self) + other

    def __mul__(self, weight: float) -> Objective:
        return Objective(lambda a: weight * self(a), self.layers, f"{weight}·{self.name}")

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"Objective({self.name})"


def _per_element(index: int | torch.Tensor | Sequence[int], batch: int, device) -> torch.Tensor:
    index = torch.as_tensor(index, device=device)
    return index.expand(batch) if index.dim() == 0 else index


def _as_maps(activation: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) view of any activation: vectors become (B, C, 1, 1)."""
    return activation if activation.dim() == 4 else activation.reshape(*activation.shape[:2], 1, 1)


def channel(layer: str, index: int | torch.Tensor | Sequence[int]) -> Objective:
    """Mean activation of a channel (one index, or one per batch element)."""
    def fn(acts):
        maps = _as_maps(acts[layer])
        chosen = _per_element(index, maps.shape[0], maps.device)
        return maps[torch.arange(maps.shape[0], device=maps.device), chosen].float().mean(dim=(1, 2))
    return Objective(fn, [layer], f"channel({layer}, {index if isinstance(index, int) else '…'})")


def blend(layer: str, first: torch.Tensor, second: torch.Tensor, alpha: torch.Tensor) -> Objective:
    """(1 − α)·channel(first) + α·channel(second), per batch element: the frames of a tour.

    Example:
        >>> acts = {"l": torch.arange(4.0).view(1, 4, 1, 1).expand(2, -1, -1, -1)}
        >>> blend("l", torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([0.5, 1.0]))(acts)
        tensor([1., 3.])
    """
    here, there = channel(layer, first), channel(layer, second)

    def fn(acts):
        weight = alpha.to(acts[layer].device)
        return (1 - weight) * here(acts) + weight * there(acts)
    return Objective(fn, [layer], f"blend({layer})")


def neuron(layer: str, index: int, y: int | None = None, x: int | None = None) -> Objective:
    """One spatial position of a channel (the centre by default)."""
    def fn(acts):
        maps = _as_maps(acts[layer])
        row = maps.shape[2] // 2 if y is None else y
        column = maps.shape[3] // 2 if x is None else x
        return maps[:, index, row, column].float()
    return Objective(fn, [layer], f"neuron({layer}, {index})")


def layer_l2(layer: str, channels: Sequence[int] | None = None) -> Objective:
    """DeepDream's objective: the mean squared activation of a layer (or some of its channels)."""
    def fn(acts):
        maps = _as_maps(acts[layer])
        if channels is not None:
            maps = maps[:, list(channels)]
        return maps.float().pow(2).mean(dim=(1, 2, 3))
    return Objective(fn, [layer], f"l2({layer})")


def gram(maps: torch.Tensor) -> torch.Tensor:
    """Gram matrices of feature maps, averaged over positions so any image size compares.

    Args:
        maps: (B, C, H, W).

    Returns:
        (B, C, C): entry (i, j) is the mean over positions of channel i times channel j.

    Example:
        >>> gram(torch.ones(1, 2, 3, 3))
        tensor([[[1., 1.],
                 [1., 1.]]])
    """
    flat = maps.float().flatten(2)
    return flat @ flat.transpose(1, 2) / flat.shape[-1]


def similarity(layer: str, group: int) -> Objective:
    """How alike each image's style is to the others of its group (Gram-matrix cosine
    similarity, averaged over the group's other members): subtract it to push variants apart,
    as lucent's ``diversity``. Batch elements form consecutive groups of ``group`` images.

    Example:
        >>> acts = {"l": torch.stack([torch.ones(2, 3, 3), torch.ones(2, 3, 3)])}
        >>> similarity("l", 2)(acts)
        tensor([1., 1.])
    """
    def fn(acts):
        grams = gram(_as_maps(acts[layer])).flatten(1)
        unit = torch.nn.functional.normalize(grams, dim=1).view(-1, group, grams.shape[1])
        pairs = unit @ unit.transpose(1, 2)  # (groups, group, group)
        others = pairs.sum(dim=2) - pairs.diagonal(dim1=1, dim2=2)
        return (others / max(group - 1, 1)).flatten()
    return Objective(fn, [layer], f"similarity({layer}, {group})")


def reading_order_mask(count: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(B, H, W) masks: element b keeps the first ``count[b]`` positions, row by row."""
    positions = torch.arange(height * width, device=count.device).view(1, height, width)
    return (positions < count.view(-1, 1, 1)).float()


def first_neurons(layer: str, index: int, count: int | torch.Tensor | Sequence[int]) -> Objective:
    """Mean of the first ``count`` neurons of channel ``index`` in reading order (per element)."""
    def fn(acts):
        maps = _as_maps(acts[layer])[:, index].float()
        counts = _per_element(count, maps.shape[0], maps.device)
        mask = reading_order_mask(counts, maps.shape[1], maps.shape[2])
        return (maps * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2)).clamp_min(1)
    return Objective(fn, [layer], f"first_neurons({layer}, {index})")


def cell_weights(rows: int, columns: int, height: int, width: int, blend: float, device=None) -> torch.Tensor:
    """(rows·columns, H, W) weights of a grid of cells over an H × W map, cells in reading order:
    1 inside a cell, cross-fading linearly to its neighbours over ``blend`` of a cell at each
    seam; at every position the weights add up to 1.

    Example:
        >>> cell_weights(1, 2, 1, 8, 0.5)[:, 0].tolist()
        [[1.0, 1.0, 1.0, 0.75, 0.25, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.25, 0.75, 1.0, 1.0, 1.0]]
    """
    band = max(blend, 1e-3)

    def along(cells: int, length: int) -> torch.Tensor:  # (cells, length)
        where = (torch.arange(length, device=device) + 0.5) * cells / length
        index = torch.arange(cells, device=device).view(-1, 1).float()
        rise = ((where - index) / band + 0.5).clamp(0, 1)
        fall = ((index + 1 - where) / band + 0.5).clamp(0, 1)
        rise[0], fall[-1] = 1.0, 1.0
        return rise * fall

    return (along(rows, height)[:, None, :, None] * along(columns, width)[None, :, None, :]).flatten(0, 1)


def mosaic_cells(layer: str, channels: Sequence[int], rows: int, columns: int, blend: float) -> Objective:
    """(B, cells): each cell's channel, averaged over the positions the cell owns (its weights
    from :func:`cell_weights`). Not an objective by itself: see :func:`mosaic`."""
    def fn(acts):
        maps = _as_maps(acts[layer]).float()
        weights = cell_weights(rows, columns, maps.shape[2], maps.shape[3], blend, maps.device)
        chosen = maps[:, list(channels)]
        return (chosen * weights).sum(dim=(2, 3)) / weights.sum(dim=(1, 2))
    return Objective(fn, [layer], f"mosaic_cells({layer})")


def mosaic(layer: str, channels: Sequence[int], rows: int, columns: int, blend: float = 0.3) -> Objective:
    """A poster: cell i of a rows × columns grid (reading order) maximises channel
    ``channels[i]`` over its own positions; the score is the cells' mean.

    Example:
        >>> acts = {"l": torch.zeros(1, 2, 2, 2)}
        >>> acts["l"][0, 0, :, 0] = 1.0  # channel 0 on the left column, where cell 0 is
        >>> mosaic("l", [0, 1], 1, 2, blend=0.0)(acts), mosaic("l", [1, 0], 1, 2, blend=0.0)(acts)
        (tensor([0.5000]), tensor([0.]))
    """
    cells = mosaic_cells(layer, channels, rows, columns, blend)
    return Objective(lambda acts: cells(acts).mean(dim=1), [layer], f"mosaic({layer}, {len(channels)} cells)")


def weighted(objectives: Sequence[Objective], weights: Sequence[float]) -> Objective:
    """Σ wᵢ·objectiveᵢ."""
    total = None
    for objective, weight in zip(objectives, weights):
        term = weight * objective
        total = term if total is None else total + term
    return total


def stacked(objectives: Sequence[Objective]) -> Objective:
    """Batch element i is scored by objective i (one image per layer in one batch)."""
    def fn(acts):
        return torch.stack([objective(acts)[i] for i, objective in enumerate(objectives)])
    layers = [layer for objective in objectives for layer in objective.layers]
    return Objective(fn, layers, "[" + ", ".join(o.name for o in objectives) + "]")
