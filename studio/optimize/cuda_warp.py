"""The robustness warp on CUDA as two Triton kernels: bilinear sampling under an affine map,
and its exact adjoint as a gather (each input pixel sums the few output pixels whose samples
land within a pixel of it), so the backward needs no atomics and a render reproduces pixel for
pixel. One launch each way, no intermediate tensors: the warp written with torch operations
(``transform._AdjointWarp``) launches about forty kernels a step and, gathering through a
(span², H, W) window, added a third to a 2048² step on an H200.

``warp_function()`` is None where Triton cannot be imported; ``transform.warp`` then uses the
torch operations. The kernels also run in Triton's interpreter (``TRITON_INTERPRET=1``) on CPU
tensors, which is how the test suite checks them on a machine without a GPU.
"""

from __future__ import annotations

import contextlib
import math

import torch

BLOCK = 256
SLACK = 0.01  # pixels: fp32 rounding of coordinates up to ~16k px stays well inside it


def _kernels():
    import triton
    import triton.language as tl

    @triton.jit
    def sample(source, out, height, width, a, b, c, d, e, f, fill, BLOCK: tl.constexpr):
        plane = tl.program_id(1).to(tl.int64) * height * width
        index = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        live = index < height * width
        x = (index % width).to(tl.float32)
        y = (index // width).to(tl.float32)
        # clamped first: a point far outside samples only fill, and its integer corner must not overflow
        source_x = tl.minimum(tl.maximum(a * x + b * y + c, -2.0), width + 1.0)
        source_y = tl.minimum(tl.maximum(d * x + e * y + f, -2.0), height + 1.0)
        left, top = tl.floor(source_x), tl.floor(source_y)
        along_x, along_y = source_x - left, source_y - top
        column, row = left.to(tl.int32), top.to(tl.int32)
        total = tl.zeros([BLOCK], dtype=tl.float32)
        for step_y in tl.static_range(2):
            for step_x in tl.static_range(2):
                weight_x = along_x * step_x + (1.0 - along_x) * (1 - step_x)
                weight_y = along_y * step_y + (1.0 - along_y) * (1 - step_y)
                at_x, at_y = column + step_x, row + step_y
                inside = (at_x >= 0) & (at_x < width) & (at_y >= 0) & (at_y < height)
                value = tl.load(source + plane + at_y * width + at_x, mask=live & inside, other=fill)
                total += weight_x * weight_y * value
        tl.store(out + plane + index, total, mask=live)

    @triton.jit
    def adjoint(grad_out, grad_in, height, width, a, b, c, d, e, f, inv_a, inv_b, inv_d, inv_e, reach,
                SPAN: tl.constexpr, BLOCK: tl.constexpr):
        plane = tl.program_id(1).to(tl.int64) * height * width
        index = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        live = index < height * width
        x = (index % width).to(tl.float32)
        y = (index // width).to(tl.float32)
        # the output pixels whose samples can land within a pixel of (x, y) lie near A⁻¹((x, y) - t)
        first_x = tl.floor(inv_a * (x - c) + inv_b * (y - f) - reach)
        first_y = tl.floor(inv_d * (x - c) + inv_e * (y - f) - reach)
        total = tl.zeros([BLOCK], dtype=tl.float32)
        for tap in tl.static_range(SPAN * SPAN):
            out_x = first_x + tap % SPAN
            out_y = first_y + tap // SPAN
            landed_x = a * out_x + b * out_y + c
            landed_y = d * out_x + e * out_y + f
            weight = tl.maximum(1.0 - tl.abs(landed_x - x), 0.0) * tl.maximum(1.0 - tl.abs(landed_y - y), 0.0)
            inside = (out_x >= 0) & (out_x <= width - 1) & (out_y >= 0) & (out_y <= height - 1)
            take = live & inside & (weight > 0)
            at = tl.where(take, out_y.to(tl.int32) * width + out_x.to(tl.int32), 0)
            total += weight * tl.load(grad_out + plane + at, mask=take, other=0.0)
        tl.store(grad_in + plane + index, total, mask=live)

    return triton.cdiv, sample, adjoint


class _TritonWarp(torch.autograd.Function):
    """out = bilinear sample of ``images`` at A·p + t, ``fill`` outside; see the module."""

    @staticmethod
    def forward(ctx, images, affine, fill):
        cdiv, sample, _ = KERNELS
        images = images.contiguous()
        batch, channels, height, width = images.shape
        ctx.affine, ctx.shape = affine, images.shape
        out = torch.empty_like(images)
        with _on(images):
            sample[(cdiv(height * width, BLOCK), batch * channels)](images, out, height, width, *affine, fill,
                                                                   BLOCK=BLOCK)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        cdiv, _, adjoint = KERNELS
        batch, channels, height, width = ctx.shape
        inverse, reach = adjoint_reach(ctx.affine)
        reach += SLACK
        span = math.ceil(2 * reach) + 1
        grad_in = torch.empty(ctx.shape, device=grad_out.device, dtype=torch.float32)
        with _on(grad_in):
            adjoint[(cdiv(height * width, BLOCK), batch * channels)](
                grad_out.float().contiguous(), grad_in, height, width, *ctx.affine, *inverse, reach,
                SPAN=span, BLOCK=BLOCK)
        return grad_in, None, None


def adjoint_reach(affine: tuple[float, ...]) -> tuple[tuple[float, float, float, float], float]:
    """The inverse (a, b, d, e) of the affine map's linear part, and how far (in output pixels,
    per axis) from A⁻¹(q - t) an output pixel whose sample lands within a pixel of q can lie.

    Example:
        >>> adjoint_reach((2.0, 0.0, 5.0, 0.0, 2.0, -1.0))
        ((0.5, -0.0, -0.0, 0.5), 0.5)
    """
    a, b, _, d, e, _ = affine
    det = a * e - b * d
    inverse = (e / det, -b / det, -d / det, a / det)
    return inverse, max(abs(inverse[0]) + abs(inverse[1]), abs(inverse[2]) + abs(inverse[3]))


def _on(tensor: torch.Tensor):
    """Triton launches on the current CUDA device, torch on the tensor's: make them the same
    (a render on ``cuda:1`` from a process whose current device is 0)."""
    return torch.cuda.device(tensor.device) if tensor.is_cuda else contextlib.nullcontext()


KERNELS = None


def warp_function():
    """``_TritonWarp.apply(images, affine, fill)`` where Triton imports, else None (the kernels
    are compiled on first use, once per process and span)."""
    global KERNELS
    if KERNELS is None:
        try:
            KERNELS = _kernels()
        except ImportError:
            KERNELS = False
    return _TritonWarp.apply if KERNELS else None
