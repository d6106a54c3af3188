"""Tiled gradients: the gradient of a big image computed a tile at a time.

Each tile is scored with ``halo`` pixels of context around it and keeps only the gradient of its
own core, so tiles see across their borders and no seam forms; the tile grid shifts by a random
offset every step (the image itself never moves or wraps), so borders never sit in the same
place twice.
Memory is bounded by one tile plus its halo, not by the image. Tile corners, halos and shifts
sit on a grid of ``align`` pixels (the network's stride), so strided layers sample every tile
exactly as they sample the whole image.

Every piece the network sees has the same size (a tile and two halos; a few pixels more along
the far edges, to stay on the grid): a piece at the picture's edge takes its context from inside
the picture instead of being cut short. Cut-short pieces came in a thousand sizes as the grid
moved, and on a GPU each new size costs cuDNN a new plan (the likely reason a 2048 px tiled
dream ran slower on an H200 than on two CPU cores).
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
    piece_side = tile + 2 * halo
    gradient = torch.zeros_like(images)
    total = torch.zeros(batch, device=images.device)
    area = height * width
    for top in range(-shift_y, height, tile):
        for left in range(-shift_x, width, tile):
            bottom, right = min(top + tile, height), min(left + tile, width)
            top, left = max(top, 0), max(left, 0)
            if bottom <= top or right <= left:
                continue
            y0, y1 = _window(top, bottom, height, piece_side, halo, align)
            x0, x1 = _window(left, right, width, piece_side, halo, align)
            piece = images[:, :, y0:y1, x0:x1].detach().requires_grad_(True)
            weight = (y1 - y0) * (x1 - x0) / area
            scores = score(piece) * weight
            scores.sum().backward()
            core = piece.grad[:, :, top - y0:bottom - y0, left - x0:right - x0]
            gradient[:, :, top:bottom, left:right] = core
            total += scores.detach()
    return gradient, total


def _window(start: int, end: int, side: int, span: int, halo: int, align: int) -> tuple[int, int]:
    """The piece [first, last) holding the core [start, end) of an axis of ``side`` pixels:
    ``halo`` before the core, ``span`` long, slid back inside the axis at its ends with its
    first pixel on the ``align`` grid (so at the far end it runs up to ``align`` - 1 pixels
    longer).

    Example:
        >>> _window(0, 512, 2048, 640, 64, 32), _window(512, 1024, 2048, 640, 64, 32)
        ((0, 640), (448, 1088))
        >>> _window(1536, 2000, 2000, 640, 64, 32)
        (1344, 2000)
    """
    if side <= span:
        return 0, side
    first = min(max(0, start - halo), (side - span) // align * align)
    return first, min(side, max(first + span, end))
