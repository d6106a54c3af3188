"""Robustness transforms and blur. Kornia blurs; the geometry is six numbers worked out as
kornia's ``get_rotation_matrix2d`` defines it; the warp itself is ours, because on CUDA
``grid_sample``'s backward adds with atomics and a render would not reproduce pixel for pixel.
Our warp's backward is the exact adjoint of bilinear sampling, computed as a gather
(deterministic): two Triton kernels (``cuda_warp.py``), or torch operations where Triton is
missing; on the CPU the native backward already is deterministic.

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

from studio.optimize.cuda_warp import adjoint_reach, warp_function

FILL = 0.5


def blur(images: torch.Tensor, sigma: float, kernel: int | None = None) -> torch.Tensor:
    """Gaussian blur with standard deviation ``sigma`` pixels (0 = unchanged).

    Args:
        images: (B, C, H, W).
        sigma: in pixels.
        kernel: the kernel's side in pixels (odd; seed 002 uses 3, as torchvision's
            ``gaussian_blur(x, 3, sigma)``); None spans ±3σ. Capped by the image size.

    Example:
        >>> blur(torch.ones(1, 3, 8, 8), 1.0).shape
        torch.Size([1, 3, 8, 8])
    """
    if sigma <= 0:
        return images
    radius = kernel // 2 if kernel else max(1, math.ceil(3 * sigma))
    radius = min(radius, (min(images.shape[-2:]) - 1) // 2) or 1
    size = 2 * radius + 1
    return gaussian_blur2d(images, (size, size), (sigma, sigma), border_type="reflect", separable=True)


MARGIN_MODES = {"wrap": "circular", "mirror": "reflect"}


def with_margin(images: torch.Tensor, margin: int, fill: str = "wrap") -> torch.Tensor:
    """The images with ``margin`` pixels of context on every side (at most one less than the
    smaller side), so a network's zero padding lies outside the picture: climbed without it, a
    deep layer's wide receptive fields find the padded border an edge worth amplifying and draw
    a square frame along it.

    The context is the image itself, ``wrap``ped around (the picture continues into its opposite
    side, so no place is a border and the result tiles seamlessly) or ``mirror``ed (a photo's
    edge continues into itself; motifs then like to sit symmetric on the border). No gradient
    flows through the margin, or the pixels it copies would be pushed twice.

    Args:
        images: (B, C, H, W).
        margin: pixels per side (0 = unchanged).
        fill: ``wrap`` or ``mirror``.

    Example:
        >>> with_margin(torch.arange(3.0).view(1, 1, 1, 3).expand(1, 1, 3, 3), 1)[0, 0, 1].tolist()
        [2.0, 0.0, 1.0, 2.0, 0.0]
        >>> with_margin(torch.arange(3.0).view(1, 1, 1, 3).expand(1, 1, 3, 3), 1, "mirror")[0, 0, 1].tolist()
        [1.0, 0.0, 1.0, 2.0, 1.0]
    """
    margin = margin_of(images, margin)
    if margin <= 0:
        return images
    sides = (margin, margin, margin, margin)
    context = F.pad(images.detach(), sides, mode=MARGIN_MODES[fill])
    return context + F.pad(images - images.detach(), sides) if images.requires_grad else context


def margin_of(images: torch.Tensor, margin: int) -> int:
    """The margin :func:`with_margin` gives these images."""
    return max(0, min(margin, min(images.shape[-2:]) - 1))


_GRIDS: dict = {}


def _pixel_grid(height: int, width: int, device, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) pixel coordinates, each (H, W), cached per size and device."""
    key = (height, width, str(device), dtype)
    if key not in _GRIDS:
        ys, xs = torch.meshgrid(torch.arange(height, device=device, dtype=dtype),
                                torch.arange(width, device=device, dtype=dtype), indexing="ij")
        _GRIDS[key] = (xs, ys)
    return _GRIDS[key]


def _sampling_grid(affine: tuple[float, ...], height: int, width: int, device, dtype) -> torch.Tensor:
    """``grid_sample``'s grid (H, W, 2) for output pixel (x, y) sampling the input at ``affine``
    applied to it, ``(a·x + b·y + c) · 2 / (W - 1) - 1`` and its like for y. A coordinate of an
    affine map is a row plus a column: the scaling rides in the row and the column (W and H
    numbers), so each coordinate is one broadcast sum over the picture, not five passes."""
    a, b, c, d, e, f = affine
    xs = torch.arange(width, device=device, dtype=torch.float64)
    ys = torch.arange(height, device=device, dtype=torch.float64).view(-1, 1)
    grid = torch.empty(height, width, 2, device=device, dtype=dtype)
    for slot, (along_x, along_y, offset, side) in enumerate(((a, b, c, width), (d, e, f, height))):
        to_grid = 2 / max(side - 1, 1)
        row, column = (along_x * to_grid) * xs + (offset * to_grid - 1), (along_y * to_grid) * ys
        torch.add(row.to(dtype), column.to(dtype), out=grid[..., slot])
    return grid


def _bilinear(images: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """``grid_sample`` of every image (B, C, H, W) at the one ``grid`` (H, W, 2), zeros outside."""
    return F.grid_sample(images, grid.expand(images.shape[0], -1, -1, -1), mode="bilinear", padding_mode="zeros",
                         align_corners=True)


def _sample(images: torch.Tensor, affine: tuple[float, ...], fill: float = 0.0) -> torch.Tensor:
    """Bilinear samples of ``images`` (B, C, H, W) where ``affine`` maps each output pixel;
    ``fill`` outside."""
    batch, channels, height, width = images.shape
    grid = _sampling_grid(affine, height, width, images.device, images.dtype)
    shifted = images - fill if fill else images  # zeros outside then means fill outside
    if images.device.type == "cpu" and (batch == 1 or height % 2 == 0):
        return _HalvesSample.apply(shifted, grid, fill)
    found = _bilinear(shifted, grid)
    return found + fill if fill else found


class _HalvesSample(torch.autograd.Function):
    """Bilinear sampling on the CPU, shared out between threads by halves of an image.

    The CPU kernels share out work by batch element, so one image would keep one thread of two
    busy. Forward, a single image goes as a batch of two (the same image, twice, no copy) each
    sampled onto half the output's rows: every sample is computed once, the channels share their
    coordinates, and it takes half the time of sampling the colour planes as three images.
    Backward, every image's two halves scatter their gradients, each into a buffer of its own,
    and the two are summed: at 2048² a third faster than three planes on two threads (one
    thread scattering two). An image is sent back the same way whatever shares its batch, so
    its gradient (and its render) does not depend on its batch. The pixels are ``grid_sample``'s;
    the gradient too, but on the rows both halves reach, whose two parts are added last.
    An odd height has no halves: the planes (one image) or images go one per thread.
    """

    @staticmethod
    def forward(ctx, images, grid, fill):
        batch, channels, height, width = images.shape
        ctx.save_for_backward(images, grid)
        if batch > 1:
            return _bilinear(images, grid) + fill
        if height % 2:
            return _bilinear(images.reshape(channels, 1, height, width), grid).view(1, channels, height, width) + fill
        halves = torch.ops.aten.grid_sampler_2d(images.expand(2, -1, -1, -1), grid.view(2, height // 2, width, 2),
                                                0, 0, True)
        # the halves back in one image's order, and the fill added, in one pass
        found = images.new_empty(1, channels, height, width)
        torch.add(halves.transpose(0, 1), fill, out=found.view(channels, 2, height // 2, width))
        return found

    @staticmethod
    def backward(ctx, grad_out):
        images, grid = ctx.saved_tensors
        batch, channels, height, width = images.shape
        if height % 2:  # one image (a batch of odd height goes to grid_sample's own autograd)
            grad, _ = torch.ops.aten.grid_sampler_2d_backward(
                grad_out.reshape(channels, 1, height, width), images.reshape(channels, 1, height, width),
                grid.unsqueeze(0).expand(channels, -1, -1, -1), 0, 0, True, [True, False])
            return grad.view(1, channels, height, width), None, None
        # every image as its two halves, in one call; the input's values are not read for its
        # own gradient (bilinear weights depend on the grid alone), so it goes as a 0-d stand-in
        halves = grad_out.reshape(batch, channels, 2, height // 2, width).transpose(1, 2)
        stand_in = images.new_zeros(()).expand(2 * batch, channels, height, width)
        grids = grid.view(1, 2, height // 2, width, 2).expand(batch, -1, -1, -1, -1)
        parts, _ = torch.ops.aten.grid_sampler_2d_backward(
            halves.reshape(2 * batch, channels, height // 2, width), stand_in,
            grids.reshape(2 * batch, height // 2, width, 2), 0, 0, True, [True, False])
        parts = parts.view(batch, 2, channels, height, width)
        return torch.add(parts[:, 0], parts[:, 1]), None, None


def _apply(affine: tuple[float, ...], x, y):
    a, b, c, d, e, f = affine
    return a * x + b * y + c, d * x + e * y + f


class _AdjointWarp(torch.autograd.Function):
    """out[p] = bilinear sample of x at A·p + t; backward gathers instead of scattering.

    The affine map comes as six Python floats, so no step copies anything to the device.
    """

    @staticmethod
    def forward(ctx, images, affine):
        height, width = images.shape[-2:]
        ctx.affine, ctx.shape = affine, (height, width)
        return _sample(images, affine)

    @staticmethod
    def backward(ctx, grad_out):
        height, width = ctx.shape
        shift_x, shift_y = ctx.affine[2], ctx.affine[5]
        (inverse_a, inverse_b, inverse_d, inverse_e), reach = adjoint_reach(ctx.affine)
        inverse = (inverse_a, inverse_b, 0.0, inverse_d, inverse_e, 0.0)
        x, y = _pixel_grid(height, width, grad_out.device, grad_out.dtype)
        # The output pixels whose samples can land within a pixel of q lie near A⁻¹(q - t).
        centre_x, centre_y = _apply(inverse, x - shift_x, y - shift_y)
        span = math.ceil(2 * reach) + 2
        start_x, start_y = torch.floor(centre_x - reach), torch.floor(centre_y - reach)
        steps = torch.arange(span, device=grad_out.device, dtype=grad_out.dtype)
        px = start_x + steps.view(1, -1, 1, 1)                 # (1, span, H, W)
        py = start_y + steps.view(-1, 1, 1, 1)                 # (span, 1, H, W)
        landed_x, landed_y = _apply(ctx.affine, px, py)        # (span, span, H, W)
        weight = ((1 - (landed_x - x).abs()).clamp_min(0) * (1 - (landed_y - y).abs()).clamp_min(0)
                  * ((px >= 0) & (px <= width - 1) & (py >= 0) & (py <= height - 1)))
        index = (py.clamp(0, height - 1) * width + px.clamp(0, width - 1)).long().flatten()
        flat = grad_out.flatten(2)
        window = span * span
        # Gather the whole window at once (few kernel launches); in slices when that is big.
        rows = max(1, min(window, (1 << 28) // max(1, flat.numel())))
        grad = torch.zeros_like(flat)
        weight = weight.view(window, -1)
        pixels = height * width
        for first in range(0, window, rows):
            last = min(window, first + rows)
            picked = flat[:, :, index[first * pixels:last * pixels]].view(*flat.shape[:2], last - first, pixels)
            grad += (picked * weight[first:last]).sum(dim=2)
        return grad.view_as(grad_out), None


def warp(images: torch.Tensor, affine: tuple[float, ...]) -> torch.Tensor:
    """Resample: output pixel (x, y) takes the input at (a·x + b·y + c, d·x + e·y + f), bilinear,
    ``FILL`` outside the image. Differentiable; deterministic on every device.

    Args:
        images: (B, C, H, W).
        affine: (a, b, c, d, e, f) in pixel units.
    """
    if images.device.type == "cuda":
        kernels = warp_function() if images.dtype == torch.float32 else None
        if kernels is not None:
            return kernels(images, affine, FILL)
        return _AdjointWarp.apply(images - FILL, affine) + FILL  # zeros outside then mean FILL outside
    return _sample(images, affine, FILL)


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
        height, width = images.shape[-2:]
        return warp(images, sampling_affine(*self.draw(generator), height, width))


def sampling_affine(angle: float, scale: float, dx: float, dy: float, height: int, width: int) -> tuple[float, ...]:
    """Where each output pixel of a turn by ``angle`` degrees (counter-clockwise as displayed) and a
    ``scale`` about the image's centre, then a shift by (``dx``, ``dy``), samples its input: the
    inverse of kornia's ``get_rotation_matrix2d`` plus the shift, as (a, b, c, d, e, f) for
    :func:`warp`. Six numbers in Python: the same through kornia's tensors and a 3 × 3 inverse
    cost half a millisecond a step, 4 % of a 128² climb's (the sampling grids come out identical).

    Example:
        >>> [round(v, 6) + 0.0 for v in sampling_affine(90.0, 1.0, 0, 0, 3, 3)]
        [0.0, -1.0, 2.0, 1.0, 0.0, 0.0]
    """
    centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
    radians = math.radians(angle)
    alpha, beta = scale * math.cos(radians), scale * math.sin(radians)
    # where a source pixel lands (kornia's matrix): [[alpha, beta, tx], [-beta, alpha, ty]]
    tx = (1 - alpha) * centre_x - beta * centre_y + dx
    ty = beta * centre_x + (1 - alpha) * centre_y + dy
    determinant = alpha * alpha + beta * beta
    a, b, d, e = alpha / determinant, -beta / determinant, beta / determinant, alpha / determinant
    return a, b, -(a * tx + b * ty), d, e, -(d * tx + e * ty)
