"""Occlusion (Zeiler & Fergus): how much a class probability drops when a window hides part of
the image, for every window position, the occluded copies run in batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from studio.attribute.gradients import logits
from studio.models import LoadedModel


def window_positions(length: int, window: int, stride: int) -> list[int]:
    """Window starts along one side, the last flush with the edge so every pixel is covered.

    Example:
        >>> window_positions(10, 4, 3)
        [0, 3, 6]
        >>> window_positions(11, 4, 3)
        [0, 3, 6, 7]
    """
    if window >= length:
        return [0]
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


FILLS = ("gray", "black", "mean", "blur", "noise")


def occlude(image: torch.Tensor, boxes: list[tuple[int, int, int, int]], fill: str = "gray",
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Copies of ``image`` (1, 3, H, W), copy i with box i = (top, left, height, width) hidden.

    Args:
        fill: what hides the box: ``gray`` (0.5, Zeiler & Fergus), ``black``, ``mean`` (the
            box's own mean colour: detail goes, colour stays), ``blur`` (a heavy Gaussian blur
            of the image) or ``noise`` (uniform noise from ``generator``).

    Example:
        >>> occlude(torch.ones(1, 3, 4, 4), [(0, 0, 2, 2)])[0, 0]
        tensor([[0.5000, 0.5000, 1.0000, 1.0000],
                [0.5000, 0.5000, 1.0000, 1.0000],
                [1.0000, 1.0000, 1.0000, 1.0000],
                [1.0000, 1.0000, 1.0000, 1.0000]])
    """
    copies = image.expand(len(boxes), -1, -1, -1).clone()
    blurred = None
    if fill == "blur":
        from kornia.filters import gaussian_blur2d

        sigma = max(image.shape[-2:]) / 16
        side = 2 * int(3 * sigma) + 1
        blurred = gaussian_blur2d(image, (side, side), (sigma, sigma), border_type="reflect")[0]
    for index, (top, left, height, width) in enumerate(boxes):
        window = copies[index, :, top:top + height, left:left + width]
        if fill == "mean":
            window[:] = window.mean(dim=(1, 2), keepdim=True)
        elif fill == "blur":
            window[:] = blurred[:, top:top + height, left:left + width]
        elif fill == "noise":
            window[:] = torch.rand(window.shape, generator=generator).to(window.device)
        else:
            window[:] = 0.0 if fill == "black" else 0.5
    return copies


def target_probability(model: LoadedModel, images: torch.Tensor, target: int) -> torch.Tensor:
    """(N,) softmax probability of class ``target``."""
    with torch.no_grad():
        return logits(model, images).softmax(dim=1)[:, target]


@dataclass
class Occlusion:
    """What hiding each window did: ``drops[i, j]`` is the probability lost with the window at
    (``tops[i]``, ``lefts[j]``); ``map`` spreads those over pixels (mean of the windows that
    cover each); ``baseline`` is the probability with nothing hidden."""

    map: torch.Tensor      # (H, W)
    drops: torch.Tensor    # (rows, columns)
    tops: list[int]
    lefts: list[int]
    baseline: float


def occlusion_map(model: LoadedModel, image: torch.Tensor, target: int, window: int, stride: int,
                  fill: str = "gray", generator: torch.Generator | None = None, batch: int = 32,
                  on_batch: Callable[[int], None] = lambda n: None) -> Occlusion:
    """Zeiler & Fergus: how much the target's probability drops when each region is hidden.

    Args:
        image: (1, 3, H, W) in [0, 1].
        window, stride: side of the square and its step, in pixels.
        fill: see :func:`occlude`.

    Returns:
        An :class:`Occlusion` (negative drops where hiding helps the class).
    """
    height, width = image.shape[-2:]
    tops, lefts = window_positions(height, window, stride), window_positions(width, window, stride)
    boxes = [(top, left, window, window) for top in tops for left in lefts]
    baseline = float(target_probability(model, image, target)[0])
    drops = []
    for start in range(0, len(boxes), batch):
        chunk = boxes[start:start + batch]
        drops.append(baseline - target_probability(model, occlude(image, chunk, fill, generator), target).cpu())
        on_batch(len(chunk))
    drops = torch.cat(drops).view(len(tops), len(lefts))
    total = torch.zeros(height, width)
    cover = torch.zeros(height, width)
    for row, top in enumerate(tops):
        for column, left in enumerate(lefts):
            total[top:top + window, left:left + window] += drops[row, column]
            cover[top:top + window, left:left + window] += 1
    return Occlusion(total / cover.clamp_min(1), drops, tops, lefts, baseline)
