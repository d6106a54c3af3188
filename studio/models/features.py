"""Feature vectors of images: a layer's activations as one vector per image (the penultimate
layer, the input of the classifier, unless a layer is named)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from studio.models.layers import LayerTap
from studio.models.zoo import LoadedModel


def last_linear(module: nn.Module) -> str | None:
    """Module path of the network's last fully connected layer (its classifier)."""
    paths = [path for path, child in module.named_modules() if isinstance(child, nn.Linear)]
    return paths[-1] if paths else None


def _classifier_inputs(model: LoadedModel, images: torch.Tensor) -> torch.Tensor:
    path = last_linear(model.module)
    if path is None:  # no classifier: the network's output is its representation
        return model.module(model.normalize(images))
    captured = []
    handle = dict(model.module.named_modules())[path].register_forward_pre_hook(
        lambda _m, inputs: captured.append(inputs[0]))
    try:
        model.module(model.normalize(images))
    finally:
        handle.remove()
    return captured[-1]


def feature_vectors(model: LoadedModel, images: torch.Tensor, path: str | None = None,
                    batch: int = 32, on_batch: Callable[[int], None] = lambda n: None) -> torch.Tensor:
    """One vector per image.

    Args:
        model: a loaded model.
        images: (N, 3, H, W) in [0, 1] (any device; moved to the model's).
        path: a resolved module path, or None for the penultimate layer (the classifier's input).
            Maps are averaged over space, so the vector does not depend on the image's size.
        batch: images per forward pass.
        on_batch: called with the number of images after each pass (progress bars).

    Returns:
        (N, D) float32 on the CPU.
    """
    vectors = []
    with torch.no_grad():
        for start in range(0, images.shape[0], batch):
            chunk = images[start:start + batch].to(model.device)
            found = _classifier_inputs(model, chunk) if path is None else LayerTap(model, [path])(chunk)[path]
            if found.dim() == 4:
                found = found.mean(dim=(2, 3))
            vectors.append(found.flatten(1).float().cpu())
            on_batch(len(chunk))
    return torch.cat(vectors)


def as_maps(activation: torch.Tensor) -> torch.Tensor:
    """(C, H, W) maps from one example's activation; a vector becomes one square-ish map.

    Example:
        >>> as_maps(torch.arange(3.0)).shape
        torch.Size([1, 2, 2])
    """
    if activation.dim() == 3:
        return activation
    flat = activation.flatten()
    side = math.ceil(math.sqrt(flat.numel()))
    padded = torch.cat([flat, flat.new_full((side * side - flat.numel(),), float(flat.min()))])
    return padded.view(1, side, side)


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


def pca(vectors: torch.Tensor, dimensions: int = 2) -> tuple[torch.Tensor, list[float]]:
    """Project rows of ``vectors`` (N, D) on their top principal axes.

    Returns:
        ((N, dimensions) coordinates, the fraction of variance each axis explains). Axis signs
        are fixed (largest coefficient positive) so the map does not flip between runs.

    Example:
        >>> points, explained = pca(torch.tensor([[0.0, 0.0], [2.0, 0.1], [4.0, 0.0]]), 1)
        >>> round(explained[0], 2)
        1.0
    """
    centred = vectors.double() - vectors.double().mean(dim=0)
    _, singular, axes = torch.linalg.svd(centred, full_matrices=False)
    axes = axes[:dimensions]
    signs = torch.sign(axes.gather(1, axes.abs().argmax(dim=1, keepdim=True)))
    axes = axes * signs
    variance = singular ** 2
    explained = (variance[:dimensions] / variance.sum().clamp_min(1e-12)).tolist()
    return (centred @ axes.T).float(), explained


def tsne(vectors: torch.Tensor, seed: int) -> torch.Tensor:
    from sklearn.manifold import TSNE

    perplexity = max(2.0, min(30.0, (len(vectors) - 1) / 3))
    points = TSNE(2, perplexity=perplexity, init="pca", random_state=seed % (2 ** 31)).fit_transform(
        vectors.double().numpy())
    return torch.from_numpy(points).float()
