"""Robustness transforms and blur. Kornia builds the geometry and blurs; the warp itself is
ours, because on CUDA ``grid_sample``'s backward adds with atomics and a render would not
reproduce pixel for pixel. Our warp's backward is the exact adjoint of bilinear sampling,
computed as a gather (deterministic); on the CPU the native backward already is.

Random transforms draw from a seeded CPU ``torch.Generator`` we pass in, never from a global
RNG, so a render reproduces (lucent#50). One draw per step applies to the whole batch, so an
image's result does not depend on what else shares its batch. Pixels warped in from outside
the image are mid-gray, like lucent's padding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d
from kornia.geometry.transform import get_rotation_matrix2d

FILL = 0.5


def blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur with standard deviation ``sigma`` pixels (0 = unchanged).

    Args:
        images: (B, C, H, W).
        sigma: in pixels; the kernel spans ±3σ, capped by the image size.

    Example:
        >>> blur(torch.ones(1, 3, 8, 8), 1.0).shape
        torch.Size([1, 3, 8, 8])
    """
    if sigma <= 0:
        return images
    radius = max(1, math.ceil(3 * sigma))
    radius = min(radius, (min(images.shape[-2:]) - 1) // 2) or 1
    size = 2 * radius + 1
    return gaussian_blur2d(images, (size, size), (sigma, sigma), border_type="reflect", separable=True)


def _pixel_grid(height: int, width: int, device, dtype) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(height, device=device, dtype=dtype),
                            torch.arange(width, device=device, dtype=dtype), indexing="ij")
    return torch.stack([xs, ys], dim=-1)  # (H, W, 2) as (x, y)


def _sample(images: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of ``images`` at pixel coordinates ``source`` (H, W, 2); zeros outside."""
    height, width = images.shape[-2:]
    scale = torch.tensor([2 / max(width - 1, 1), 2 / max(height - 1, 1)], device=source.device,
                         dtype=source.dtype)
    grid = (source * scale - 1).unsqueeze(0).expand(images.shape[0], -1, -1, -1)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


class _AdjointWarp(torch.autograd.Function):
    """out[p] = bilinear sample of x at A·p + t; backward gathers instead of scattering."""

    @staticmethod
    def forward(ctx, images, matrix, offset):
        height, width = images.shape[-2:]
        pixels = _pixel_grid(height, width, images.device, images.dtype)
        ctx.save_for_backward(matrix, offset)
        ctx.shape = (height, width)
        return _sample(images, pixels @ matrix.T + offset)

    @staticmethod
    def backward(ctx, grad_out):
        matrix, offset = ctx.saved_tensors
        height, width = ctx.shape
        targets = _pixel_grid(height, width, grad_out.device, grad_out.dtype)
        inverse = torch.linalg.inv(matrix)
        centres = (targets - offset) @ inverse.T  # output pixels whose samples land near q
        reach = float(inverse.abs().sum(dim=1).max())
        start = torch.floor(centres - reach)
        span = math.ceil(2 * reach) + 2
        grad = torch.zeros_like(grad_out)
        for dy in range(span):
            for dx in range(span):
                p = start + torch.tensor([dx, dy], device=start.device, dtype=start.dtype)
                inside = ((p[..., 0] >= 0) & (p[..., 0] <= width - 1) &
                          (p[..., 1] >= 0) & (p[..., 1] <= height - 1))
                landed = p @ matrix.T + offset
                weight = (1 - (landed - targets).abs()).clamp_min(0).prod(dim=-1) * inside
                px = p[..., 0].clamp(0, width - 1).long()
                py = p[..., 1].clamp(0, height - 1).long()
                grad += weight * grad_out[:, :, py, px]
        return grad, None, None


def warp(images: torch.Tensor, matrix: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """Resample: output pixel p takes the input at ``matrix @ p + offset`` (pixel units, x then y),
    bilinear, ``FILL`` outside the image. Differentiable; deterministic on every device.

    Args:
        images: (B, C, H, W).
        matrix: (2, 2) linear part; offset: (2,) translation.
    """
    shifted = images - FILL  # zeros outside then mean FILL outside
    if images.device.type == "cuda":
        return _AdjointWarp.apply(shifted, matrix, offset) + FILL
    height, width = images.shape[-2:]
    pixels = _pixel_grid(height, width, images.device, images.dtype)
    return _sample(shifted, pixels @ matrix.T + offset) + FILL


@dataclass(frozen=True)
class Robustness:
    """Jitter (±px), rotation (±degrees) and scale ([lo, hi]) drawn afresh every step."""

    jitter: int = 0
    rotate: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)

    @property
    def identity(self) -> bool:
        return self.jitter == 0 and self.rotate == 0 and self.scale == (1.0, 1.0)

    def draw(self, generator: torch.Generator) -> tuple[float, float, float, float]:
        """(angle, scale, dx, dy) for one step."""
        u = torch.rand(4, generator=generator, dtype=torch.float64).tolist()
        angle = (2 * u[0] - 1) * self.rotate
        scale = self.scale[0] + u[1] * (self.scale[1] - self.scale[0])
        dx = round((2 * u[2] - 1) * self.jitter)
        dy = round((2 * u[3] - 1) * self.jitter)
        return angle, scale, dx, dy

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Apply one random draw to every image of the batch."""
        if self.identity:
            return images
        angle, scale, dx, dy = self.draw(generator)
        height, width = images.shape[-2:]
        centre = torch.tensor([[(width - 1) / 2, (height - 1) / 2]], dtype=torch.float64)
        forward = get_rotation_matrix2d(centre, torch.tensor([angle], dtype=torch.float64),
                                        torch.tensor([[scale, scale]], dtype=torch.float64))[0]
        forward[:, 2] += torch.tensor([dx, dy], dtype=torch.float64)
        # kornia gives where a source pixel lands; sampling needs where an output pixel comes from
        full = torch.cat([forward, torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)])
        back = torch.linalg.inv(full)[:2]
        matrix = back[:, :2].to(images.device, images.dtype)
        offset = back[:, 2].to(images.device, images.dtype)
        return warp(images, matrix, offset)
