"""The one place Kornia's geometry and filters are called (its API has moved before: lucent#12).

Random transforms draw from a seeded CPU ``torch.Generator`` we pass in, never from a global
RNG, so a render reproduces (lucent#50). One draw per step applies to the whole batch, so an
image's result does not depend on what else shares its batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from kornia.filters import gaussian_blur2d
from kornia.geometry.transform import get_rotation_matrix2d, warp_affine


def blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur with standard deviation ``sigma`` pixels (0 = unchanged).

    Args:
        images: (B, C, H, W).
        sigma: in pixels; the kernel spans ±3σ, capped by the image size.
    """
    if sigma <= 0:
        return images
    radius = max(1, math.ceil(3 * sigma))
    radius = min(radius, (min(images.shape[-2:]) - 1) // 2) or 1
    size = 2 * radius + 1
    return gaussian_blur2d(images, (size, size), (sigma, sigma), border_type="reflect", separable=True)


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
        """Apply one random draw to every image of the batch (reflection at the borders)."""
        if self.identity:
            return images
        angle, scale, dx, dy = self.draw(generator)
        batch, _, height, width = images.shape
        device, dtype = images.device, images.dtype
        centre = torch.tensor([[(width - 1) / 2, (height - 1) / 2]], device=device, dtype=dtype)
        matrix = get_rotation_matrix2d(centre, torch.tensor([angle], device=device, dtype=dtype),
                                       torch.tensor([[scale, scale]], device=device, dtype=dtype))
        matrix = matrix + torch.tensor([[[0, 0, dx], [0, 0, dy]]], device=device, dtype=dtype)
        return warp_affine(images, matrix.expand(batch, 2, 3), (height, width), mode="bilinear",
                           padding_mode="reflection", align_corners=True)
