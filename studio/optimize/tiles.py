"""Tiled gradients: the gradient of a big image computed a tile at a time.

Each tile is scored with ``halo`` pixels of context around it and keeps only the gradient of its
own core, so tiles see across their borders and no seam forms; the whole tiling shifts by a
random offset every step (wrapping around), so tile borders never sit in the same place twice.
Memory is bounded by one tile plus its halo, not by the image.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def tiled_gradient(images: torch.Tensor, score: Callable[[torch.Tensor], torch.Tensor], tile: int,
                   halo: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient of Σ score(tile) w.r.t. ``images``, one tile at a time.

    Args:
        images: (B, 3, H, W), no grad needed.
        score: images → (B,) scores; a tile's score is weighted by its share of the image so
            the sum over tiles stands for the whole-image mean.
        tile: core side in pixels.
        halo: context pixels on each side of a core.
        generator: draws the random shift; None means no shift.

    Returns:
        (gradient like ``images``, (B,) total score).
    """
    batch, _, height, width = images.shape
    if generator is not None:
        shift_y, shift_x = (int(v) for v in torch.randint(0, tile, (2,), generator=generator))
    else:
        shift_y = shift_x = 0
    rolled = torch.roll(images, shifts=(shift_y, shift_x), dims=(2, 3))
    gradient = torch.zeros_like(rolled)
    total = torch.zeros(batch, device=images.device)
    area = height * width
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            bottom, right = min(top + tile, height), min(left + tile, width)
            y0, x0 = max(0, top - halo), max(0, left - halo)
            y1, x1 = min(height, bottom + halo), min(width, right + halo)
            piece = rolled[:, :, y0:y1, x0:x1].detach().requires_grad_(True)
            weight = (y1 - y0) * (x1 - x0) / area
            scores = score(piece) * weight
            scores.sum().backward()
            core = piece.grad[:, :, top - y0:bottom - y0, left - x0:right - x0]
            gradient[:, :, top:bottom, left:right] = core
            total += scores.detach()
    return torch.roll(gradient, shifts=(-shift_y, -shift_x), dims=(2, 3)), total
