"""The camera of a feedback film: one frame's affine move (zoom, rotation, translation about the
centre) as Kornia's matrices, composed over several frames, and applied with Kornia's
``warp_affine`` under a border rule. Sizes are (h, w); matrices map a point of the earlier
frame to where it lands in the later one, as ``kornia.geometry.transform`` writes them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from kornia.geometry.transform import get_rotation_matrix2d, warp_affine

BORDERS = {"reflect": "reflection", "zeros": "zeros", "wrap": "wrap"}


@dataclass(frozen=True)
class Move:
    """One frame's camera move: ``zoom`` (scale per frame, above 1 moves in), ``angle``
    (degrees, counter-clockwise as Kornia turns), ``dx``, ``dy`` (pixels)."""

    zoom: float = 1.0
    angle: float = 0.0
    dx: float = 0.0
    dy: float = 0.0


def move_matrix(move: Move, height: int, width: int) -> torch.Tensor:
    """The (3, 3) float64 matrix of one move about the frame's centre.

    Example:
        >>> move_matrix(Move(zoom=2.0), 3, 3)[:2].tolist()
        [[2.0, 0.0, -1.0], [0.0, 2.0, -1.0]]
    """
    centre = torch.tensor([[(width - 1) / 2, (height - 1) / 2]], dtype=torch.float64)
    matrix = get_rotation_matrix2d(centre, torch.tensor([move.angle], dtype=torch.float64),
                                   torch.tensor([[move.zoom, move.zoom]], dtype=torch.float64))[0]
    matrix[:, 2] += torch.tensor([move.dx, move.dy], dtype=torch.float64)
    return torch.cat([matrix, torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)])


def compose(matrices: list[torch.Tensor]) -> torch.Tensor:
    """The moves one after the other (the first applied first); identity for none."""
    total = torch.eye(3, dtype=torch.float64)
    for matrix in matrices:
        total = matrix @ total
    return total


def warp(images: torch.Tensor, matrix: torch.Tensor, border: str = "reflect", mode: str = "bicubic") -> torch.Tensor:
    """Move the camera: ``images`` seen after ``matrix`` (3, 3), through Kornia's ``warp_affine``.
    Where the new view looks past the frame, ``border`` says what is there: the frame mirrored
    (``reflect``), continued from its opposite side (``wrap``), or black (``zeros``).

    ``mode``: ``bicubic`` (values may overshoot [0, 1] slightly) keeps fine detail; ``bilinear``
    at fractional positions is a low-pass filter that takes about a third of a dream's finest
    detail each time.

    Args:
        images: (B, C, H, W).
        matrix: (3, 3) from :func:`move_matrix` or :func:`compose`.
        border: ``reflect``, ``wrap`` or ``zeros``.

    Returns:
        (B, C, H, W) on the images' device and dtype.

    Example:
        >>> warp(torch.rand(1, 3, 8, 8), move_matrix(Move(zoom=1.1), 8, 8)).shape
        torch.Size([1, 3, 8, 8])
    """
    height, width = images.shape[-2:]
    affine = matrix[:2].unsqueeze(0)
    if border == "wrap":  # no wrap in grid_sample: show it a frame extended by its own opposite sides
        pad = _reach(matrix, height, width)
        if pad:
            images = F.pad(images, (pad, pad, pad, pad), mode="circular")
            shift = torch.tensor([[1.0, 0.0, pad], [0.0, 1.0, pad], [0.0, 0.0, 1.0]], dtype=torch.float64)
            affine = (matrix @ torch.linalg.inv(shift))[:2].unsqueeze(0)
        padding = "reflection"  # past the extension (a move of more than a frame): mirrored
    else:
        padding = BORDERS[border]
    return warp_affine(images, affine.to(images.device, images.dtype), (height, width), mode=mode,
                       padding_mode=padding, align_corners=True)


def _reach(matrix: torch.Tensor, height: int, width: int) -> int:
    """How far past the frame (pixels) the view of ``matrix`` looks, at most a frame's side."""
    corners = torch.tensor([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1], [width - 1, height - 1, 1]],
                           dtype=torch.float64)
    sources = corners @ torch.linalg.inv(matrix).T
    beyond = max(float(-sources[:, 0].min()), float(sources[:, 0].max()) - (width - 1),
                 float(-sources[:, 1].min()), float(sources[:, 1].max()) - (height - 1), 0.0)
    return min(int(beyond) + 3, height - 1, width - 1) if beyond > 0 else 0  # + bicubic's reach


def inside(matrix: torch.Tensor, height: int, width: int, device=None) -> torch.Tensor:
    """(1, 1, H, W) booleans: the pixels of the moved view whose source lies inside the frame,
    far enough from its edge that bicubic sampling reads only the frame's own pixels.

    Example:
        >>> inside(move_matrix(Move(zoom=0.5), 4, 4), 4, 4).flatten().tolist()[:4]
        [False, False, False, False]
    """
    key = tuple(round(v, 12) for v in matrix[:2].flatten().tolist())
    return _inside(key, height, width, str(torch.device(device or "cpu")))


@functools.lru_cache(maxsize=16)  # a film's moves repeat: constant zooms give the same mask
def _inside(key: tuple[float, ...], height: int, width: int, device: str) -> torch.Tensor:
    forward = torch.tensor([key[:3], key[3:], (0.0, 0.0, 1.0)], dtype=torch.float64)
    a, b, c, d, e, f = torch.linalg.inv(forward)[:2].flatten().tolist()
    y = torch.arange(height, dtype=torch.float64, device=device).view(-1, 1)
    x = torch.arange(width, dtype=torch.float64, device=device).view(1, -1)
    source_x, source_y = a * x + b * y + c, d * x + e * y + f
    reach = 1 - 1e-6  # bicubic reads a pixel either side (at exact pixel positions it reads just one)
    found = (source_x >= reach) & (source_x <= width - 1 - reach) & (source_y >= reach) & \
        (source_y <= height - 1 - reach)
    return found.view(1, 1, height, width)


def warp_error(earlier: torch.Tensor, later: torch.Tensor, matrix: torch.Tensor) -> float:
    """Mean absolute difference (0..1) between ``later`` and ``earlier`` moved by ``matrix``, over
    the pixels whose source lies inside ``earlier``: how far a feedback film departs from its
    own camera between two frames.

    Args:
        earlier, later: (3, H, W) or (1, 3, H, W) in [0, 1].
        matrix: the move from ``earlier`` to ``later``.
    """
    earlier, later = earlier.reshape(1, *earlier.shape[-3:]), later.reshape(1, *later.shape[-3:])
    height, width = earlier.shape[-2:]
    mask = inside(matrix, height, width, earlier.device).expand_as(earlier)
    difference = (warp(earlier, matrix, "zeros") - later).abs()[mask]
    return float(difference.mean()) if difference.numel() else 0.0
