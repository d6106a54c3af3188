"""Corruption recipes: training data that is not allowed to be perfect (seed 000's idea).

Applied once, deterministically from the seed, in this order: missing, conflicting, label_noise,
pixel_noise, occlude. Each reports how many examples it touched.
"""

from __future__ import annotations

import math

import torch

from studio.training.datasets import Dataset


def _pick(count: int, total: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randperm(total, generator=generator)[:count]


def _other_label(labels: torch.Tensor, classes: int, generator: torch.Generator) -> torch.Tensor:
    """A label different from each given one, uniformly among the others."""
    shift = torch.randint(1, classes, labels.shape, generator=generator)
    return (labels + shift) % classes


def corrupt(data: Dataset, recipe, generator: torch.Generator) -> tuple[Dataset, torch.Tensor, dict]:
    """Apply ``recipe`` (a validated ``Corruption``) to ``data``.

    Returns:
        the corrupted dataset, each example's true label (for clean accuracy), and a report
        ``{recipe: {"fraction" or "std": ..., "examples": n}}``.
    """
    images, labels, classes = data.images.clone(), data.labels.clone(), len(data.classes)
    truth = labels.clone()
    report: dict = {}

    if recipe.missing:
        drop = round(recipe.missing * len(labels))
        keep = torch.sort(torch.randperm(len(labels), generator=generator)[drop:]).values
        images, labels, truth = images[keep], labels[keep], truth[keep]
        report["missing"] = {"fraction": recipe.missing, "examples": drop}
    if recipe.conflicting:
        count = round(recipe.conflicting * len(labels))
        chosen = _pick(count, len(labels), generator)
        images = torch.cat([images, images[chosen]])
        labels = torch.cat([labels, _other_label(labels[chosen], classes, generator)])
        truth = torch.cat([truth, truth[chosen]])
        report["conflicting"] = {"fraction": recipe.conflicting, "examples": count,
                                 "duplicates_of": chosen.tolist()}
    if recipe.label_noise:
        count = round(recipe.label_noise * len(labels))
        chosen = _pick(count, len(labels), generator)
        labels[chosen] = _other_label(labels[chosen], classes, generator)
        report["label_noise"] = {"fraction": recipe.label_noise, "examples": count}
    images = as_seen(images, recipe, generator)
    if recipe.pixel_noise:
        report["pixel_noise"] = {"std": recipe.pixel_noise, "examples": len(labels)}
    if recipe.occlude:
        report["occlude"] = {"fraction": recipe.occlude, "patch": patch_side(recipe.occlude, images.shape[-1]),
                             "examples": len(labels)}
    return Dataset(images, labels, data.classes), truth, report


def patch_side(fraction: float, size: int) -> int:
    return max(1, round(math.sqrt(fraction) * size))


def as_seen(images: torch.Tensor, recipe, generator: torch.Generator) -> torch.Tensor:
    """``images`` (N, C, S, S) as training shows them: the recipe's pixel noise, then its
    occluding patch (the label recipes change nothing a picture shows)."""
    if recipe.pixel_noise:
        images = (images + recipe.pixel_noise * torch.randn(images.shape, generator=generator)).clamp(0, 1)
    if recipe.occlude:
        images = images.clone()
        size = images.shape[-1]
        side = patch_side(recipe.occlude, size)
        corners = torch.randint(0, size - side + 1, (len(images), 2), generator=generator).tolist()
        for index, (top, left) in enumerate(corners):
            images[index, :, top:top + side, left:left + side] = 0.0
    return images
