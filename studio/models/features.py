"""Feature vectors of images: a layer's activations as one vector per image (the penultimate
layer, the input of the classifier, unless a layer is named)."""

from __future__ import annotations

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
