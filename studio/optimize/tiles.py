"""Tiled gradients: the gradient of a big image computed a tile at a time.

Each tile is scored with ``halo`` pixels of context around it and keeps only the gradient of its
own core, so tiles see across their borders and no seam forms; the tile grid shifts by a random
offset every step (the image itself never moves or wraps), so borders never sit in the same
place twice.
Memory is bounded by one tile plus its halo, not by the image. Tile corners, halos and shifts
sit on a grid of ``align`` pixels (the network's stride), so strided layers sample every tile
exactly as they sample the whole image.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def round_up(value: int, step: int) -> int:
    return -(-value // step) * step


def tiled_gradient(images: torch.Tensor, score: Callable[[torch.Tensor], torch.Tensor], tile: int,
                   halo: int, generator: torch.Generator | None = None,
                   align: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient of Σ score(tile) w.r.t. ``images``, one tile at a time.

    Args:
        images: (B, 3, H, W), no grad needed.
        score: images → (B,) scores; a tile's score is weighted by its share of the image so
            the sum over tiles stands for the whole-image mean.
        tile: core side in pixels.
        halo: context pixels on each side of a core.
        generator: draws the random shift; None means no shift.
        align: tile, halo and shift are rounded up to multiples of this.

    Returns:
        (gradient like ``images``, (B,) total score).
    """
    batch, _, height, width = images.shape
    tile, halo = round_up(tile, align), round_up(halo, align)
    if generator is not None:
        shift_y, shift_x = (int(v) * align for v in torch.randint(0, tile // align, (2,), generator=generator))
    else:
        shift_y = shift_x = 0
    gradient = torch.zeros_like(images)
    total = torch.zeros(batch, device=images.device)
    area = height * width
    for top in range(-shift_y, height, tile):
        for left in range(-shift_x, width, tile):
            bottom, right = min(top + tile, height), min(left + tile, width)
            top, left = max(top, 0), max(left, 0)
            if bottom <= top or right <= left:
                continue
            y0, x0 = max(0, top - halo), max(0, left - halo)
            y1, x1 = min(height, bottom + halo), min(width, right + halo)
            piece = images[:, :, y0:y1, x0:x1].detach().requires_grad_(True)
            weight = (y1 - y0) * (x1 - x0) / area
            scores = score(piece) * weight
            scores.sum().backward()
            core = piece.grad[:, :, top - y0:bottom - y0, left - x0:right - x0]
            gradient[:, :, top:bottom, left:right] = core
            total += scores.detach()
    return gradient, total
