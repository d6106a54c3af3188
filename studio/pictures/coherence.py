"""Colour that holds over a film, and the numbers that say whether it did.

A feedback film (each frame dreamt from the last) drifts: it brightens, darkens or loses its
palette over a few hundred frames. :func:`match_colours` holds every frame to a reference's
per-channel mean and spread in CIE Lab (Kornia's conversion), as Deforum's colour coherence
does. :func:`tones` and :func:`drift` measure the result: mean luminance and colourfulness
(Hasler and Süsstrunk's metric in CIELab), compared between the first and last tenth of the frames.
"""

from __future__ import annotations

import statistics

import torch
from kornia.color import lab_to_rgb, rgb_to_lab
from kornia.filters import gaussian_blur2d, laplacian


def lab_statistics(image: torch.Tensor) -> torch.Tensor:
    """(3, 3): the mean and the standard deviation of L, a and b over the picture, and its
    colourfulness (see :func:`colourfulness`) in the first place of the third row.

    Args:
        image: (1, 3, H, W) or (3, H, W) in [0, 1].
    """
    lab = rgb_to_lab(image.reshape(1, *image.shape[-3:]).float())
    flat = lab.flatten(2)[0]
    third = torch.zeros(3)
    third[0] = colourfulness(lab)[0]
    return torch.stack([flat.mean(dim=1), flat.std(dim=1), third.to(flat.device)])


def colourfulness(lab: torch.Tensor) -> torch.Tensor:
    """(B,): Hasler and Süsstrunk's colourfulness in its CIELab form, σ_ab + 0.94 μ_C (the
    spread of a and b plus the mean chroma; 0 for grey, 20-40 for an ordinary photo), of Lab
    pictures (B, 3, H, W)."""
    a, b = lab[:, 1].flatten(1), lab[:, 2].flatten(1)
    spread = (a.var(dim=1, correction=0) + b.var(dim=1, correction=0)).sqrt()
    return spread + 0.94 * (a * a + b * b).sqrt().mean(dim=1)


def match_colours(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """The pictures with each Lab channel's mean and spread moved to ``reference``'s, then their
    colours (a and b about their means) scaled so their colourfulness is the reference's: equal
    spreads of a and b still let the mean chroma wander (a grey film whose colour gathers from
    fringes into tints grew 50 % more colourful with the spreads alone held).

    Args:
        images: (B, 3, H, W) in [0, 1].
        reference: (3, 3) from :func:`lab_statistics`.

    Returns:
        (B, 3, H, W) in [0, 1] (colours outside sRGB are clipped).

    Example:
        >>> grey = torch.full((1, 3, 4, 4), 0.5)
        >>> dark = match_colours(torch.rand(1, 3, 4, 4), lab_statistics(grey))
        >>> bool((dark - 0.5).abs().max() < 1e-3)
        True
    """
    lab = rgb_to_lab(images.float())
    mean = lab.mean(dim=(2, 3), keepdim=True)
    spread = lab.std(dim=(2, 3), keepdim=True).clamp_min(1e-3)
    target_mean, target_spread = (value.to(lab.device).view(1, 3, 1, 1) for value in reference[:2])
    matched = (lab - mean) / spread * target_spread + target_mean
    ratio = (reference[2, 0].to(lab.device) / colourfulness(matched).clamp_min(1e-3)).view(-1, 1, 1)
    chroma = target_mean[:, 1:] + (matched[:, 1:] - target_mean[:, 1:]) * ratio.unsqueeze(1)
    return lab_to_rgb(torch.cat([matched[:, :1], chroma], dim=1), clip=True).to(images.dtype)


def tones(image: torch.Tensor) -> tuple[float, float]:
    """(mean luminance L*/100, colourfulness) of one picture (3, H, W) in [0, 1], at full size
    (a reduced copy averages fine colour fringes away, and a film whose colour moves from fringes
    into broad tints would seem to gain colour it does not have).

    Colourfulness is Hasler and Süsstrunk's (2003) in its CIELab form, σ_ab + 0.94 μ_C: the
    spread of a and b plus the mean chroma (0 for grey; 20-40 for an ordinary photo).

    Example:
        >>> luminance, colourfulness = tones(torch.full((3, 8, 8), 0.5))
        >>> luminance, colourfulness < 0.01
        (0.53389, True)
    """
    lab = rgb_to_lab(image.reshape(1, *image.shape[-3:]).float())
    return round(float(lab[0, 0].mean()) / 100, 6), round(float(colourfulness(lab)[0]), 6)


def drift(measured: list[tuple[float, float]]) -> dict[str, float]:
    """Relative change of luminance and colourfulness from the first tenth of a film's frames to
    its last tenth (0: none; 0.05: 5 % more). ``measured``: :func:`tones` per frame.

    Example:
        >>> drift([(0.5, 0.1)] * 9 + [(0.55, 0.1)])
        {'luminance': 0.1, 'colourfulness': 0.0}
    """
    count = max(1, len(measured) // 10)
    result = {}
    for index, name in enumerate(("luminance", "colourfulness")):
        first = statistics.fmean(m[index] for m in measured[:count])
        last = statistics.fmean(m[index] for m in measured[-count:])
        result[name] = round((last - first) / first, 6) if first > 1e-9 else 0.0
    return result


def detail(images: torch.Tensor) -> torch.Tensor:
    """(B,): the fine detail of each picture, the mean |Laplacian| of its luma (Kornia's
    ``laplacian``), 0 for a flat picture."""
    luma = images.float().mean(dim=1, keepdim=True)
    return laplacian(luma, 3).abs().mean(dim=(1, 2, 3))


def match_detail(images: torch.Tensor, target: torch.Tensor | float) -> torch.Tensor:
    """The pictures with their fine detail brought to ``target`` (see :func:`detail`) by an
    unsharp mask of the strength that gets there (none where they already have as much, at most
    twice their own detail). A feedback film's frames between its dreamt frames are resampled
    and cross-faded, and lose detail the dreamt frames have: matched, the film does not shimmer.

    Args:
        images: (B, 3, H, W) in [0, 1].
        target: per picture, or one value for all.

    Example:
        >>> soft = gaussian_blur2d(torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0)),
        ...                        (5, 5), (1.0, 1.0))
        >>> bool(abs(detail(match_detail(soft, 1.3 * detail(soft))) / detail(soft) - 1.3) < 0.05)
        True
    """
    fine = images - gaussian_blur2d(images, (7, 7), (1.0, 1.0), border_type="reflect")
    now, boosted = detail(images), detail(images + fine)
    strength = ((torch.as_tensor(target, device=images.device) - now) / (boosted - now).clamp_min(1e-6))
    strength = strength.clamp(0.0, 2.0).view(-1, 1, 1, 1).to(images.dtype)
    return (images + strength * fine).clamp(0, 1)
