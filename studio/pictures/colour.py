"""Colour: colour maps for activations and signed values, overlays, 8-bit conversion.

Images are float tensors in [0, 1], shaped (3, H, W) for one picture or (N, 3, H, W) for many.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from PIL import Image

from studio.errors import RenderError


@functools.lru_cache(maxsize=16)
def _lut(name: str) -> torch.Tensor:
    import matplotlib

    return torch.from_numpy(matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3]).float()


def colormap(maps: torch.Tensor, name: str = "viridis", per_map: bool = True,
             span: tuple[float, float] | None = None) -> torch.Tensor:
    """Colour single-channel maps through a matplotlib colour map.

    Args:
        maps: (N, H, W) activations, any range.
        name: a matplotlib colour map name.
        per_map: stretch each map to its own min..max (else one range for all).
        span: a fixed (low, high) range instead (values outside are clipped), e.g. symmetric
            about zero for signed maps.

    Returns:
        (N, 3, H, W) in [0, 1]. A constant map comes out as the colour map's lowest colour.

    Example:
        >>> colormap(torch.arange(4.).view(1, 2, 2)).shape
        torch.Size([1, 3, 2, 2])
    """
    maps = maps.detach().float().cpu()
    dims = (1, 2) if per_map else (0, 1, 2)
    if span is not None:
        low, width = torch.tensor(span[0]), torch.tensor(max(span[1] - span[0], 1e-12))
    else:
        low = maps.amin(dim=dims, keepdim=True)
        width = (maps.amax(dim=dims, keepdim=True) - low).clamp_min(1e-12)
    index = ((maps - low) / width * 255).round().long().clamp(0, 255)
    return _lut(name)[index].permute(0, 3, 1, 2).contiguous()


STRETCH_SAMPLES = 1 << 20  # values the percentiles are taken from, at most (a strided sample)


def stretch(images: torch.Tensor, low: float = 0.005, high: float = 0.995) -> torch.Tensor:
    """Auto-levels: each image's ``low`` and ``high`` quantiles of all its values (the three
    colours together, so hues keep) become black and white, linearly; what lies outside is
    clipped. An octave or upscale climb ends in a narrow band of tones (every upscale and blur
    averages contrast away); this gives the picture its full range back.

    Args:
        images: (N, 3, H, W) in [0, 1].
        low, high: quantiles, 0 ≤ low < high ≤ 1.

    Returns:
        (N, 3, H, W) in [0, 1]; an image with one tone comes back as it was.

    Example:
        >>> stretch(torch.tensor([0.25, 0.5, 0.75]).view(1, 3, 1, 1), 0.0, 1.0).flatten().tolist()
        [0.0, 0.5, 1.0]
    """
    return apply_levels(images, tone_bounds(images, low, high))


def tone_bounds(images: torch.Tensor, low: float = 0.005, high: float = 0.995) -> torch.Tensor:
    """(2, N): each image's ``low`` and ``high`` quantiles, the black and white points of
    :func:`stretch` (a film keeps frame 0's for every frame, so its tones never flicker)."""
    flat = images.detach().flatten(1).float()
    sample = flat[:, ::max(1, flat.shape[1] // STRETCH_SAMPLES)]
    return torch.quantile(sample, torch.tensor([low, high], device=sample.device), dim=1)


def apply_levels(images: torch.Tensor, bounds: torch.Tensor) -> torch.Tensor:
    """``bounds`` (2, N or 1) from :func:`tone_bounds` to black and white, linearly, clipped."""
    bottom, top = bounds[0].view(-1, 1, 1, 1).to(images.device), bounds[1].view(-1, 1, 1, 1).to(images.device)
    width = top - bottom
    stretched = ((images - bottom) / width.clamp_min(1e-6)).clamp(0, 1)
    return torch.where(width > 1e-6, stretched, images)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [0, 1] → (H, W, 3) uint8. Refuses NaN/Inf: no broken picture is written."""
    image = image.detach().float().cpu()
    if not torch.isfinite(image).all():
        raise RenderError("the image holds NaN or Inf values; nothing was written "
                          "(lower `lr` or raise `blur` in the scene)")
    if image.dim() == 2:
        image = image.unsqueeze(0)
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    return (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()


def upscale(image: torch.Tensor, factor: int) -> torch.Tensor:
    """Integer nearest-neighbour upscale of (..., H, W) images (crisp pixels for tiny nets)."""
    if factor == 1:
        return image
    return image.repeat_interleave(factor, dim=-2).repeat_interleave(factor, dim=-1)


def from_pil(picture: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(picture.convert("RGB")).copy()).permute(2, 0, 1).float() / 255


def diverging(maps: torch.Tensor) -> torch.Tensor:
    """(N, H, W) signed values → (N, 3, H, W) through coolwarm, zero at the middle colour,
    one scale for all maps.

    Example:
        >>> diverging(torch.tensor([[[-1.0, 0.0, 1.0]]])).shape
        torch.Size([1, 3, 1, 3])
    """
    scale = maps.abs().amax().clamp_min(1e-12)
    centred = torch.cat([maps / scale, torch.tensor([-1.0, 1.0]).view(2, 1, 1).expand(2, *maps.shape[1:])])
    return colormap(centred, "coolwarm", per_map=False)[:-2]


def signed_colours(gradient: torch.Tensor) -> torch.Tensor:
    """A signed (3, H, W) gradient as colours: grey is zero, contrast stretched to the 99.5th
    percentile so one hot pixel does not flatten the rest."""
    scale = torch.quantile(gradient.abs().flatten().float(), 0.995).clamp_min(1e-12)
    return (0.5 + 0.5 * gradient / scale).clamp(0, 1)


def overlay(image: torch.Tensor, heat: torch.Tensor, name: str = "inferno", strength: float = 0.75) -> torch.Tensor:
    """A heat map laid over a dimmed photo where it is strong.

    Args:
        image: (3, H, W) in [0, 1].
        heat: (H, W), any range; only its positive part shows.
    """
    heat = heat.float().cpu().clamp_min(0)
    weight = (heat / heat.max().clamp_min(1e-12)).unsqueeze(0)
    colours = colormap(heat[None], name)[0]
    base = image.float().cpu() * 0.55
    return (base * (1 - strength * weight) + colours * strength * weight).clamp(0, 1)
