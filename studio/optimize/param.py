"""Image parameterisations: what the optimiser actually changes.

``PixelImage`` holds pixels in [0, 1]. ``SpectralImage`` holds a scaled Fourier spectrum in a
decorrelated colour space squashed by a sigmoid (Lucid/lucent's ``fft_image`` + ``to_valid_rgb``):
gradients act on all frequencies evenly, which favours natural-looking images.
Both can be read (``image()``), overwritten (``set_image``, exact for both) and resized, which
is how blur, octaves and upscale schedules work on either.
"""

from __future__ import annotations

import torch

# Lucid's colour correlation (square root of the ImageNet colour covariance), normalised.
COLOUR_CORRELATION = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
COLOUR_CORRELATION = COLOUR_CORRELATION / COLOUR_CORRELATION.norm(dim=0).max()
FFT_MAGIC = 4.0  # lucent's scaling of the inverse FFT
_COPIES: dict = {}


def colour_matrix(device, dtype=torch.float32, preconditioner: bool = False) -> torch.Tensor:
    """``COLOUR_CORRELATION`` (or ``C Cᵀ``, the pixel step's preconditioner) on ``device``, copied
    there once: a host-to-device copy every step would stall a GPU's queue."""
    key = (str(device), dtype, preconditioner)
    if key not in _COPIES:
        matrix = COLOUR_CORRELATION @ COLOUR_CORRELATION.T if preconditioner else COLOUR_CORRELATION
        _COPIES[key] = matrix.to(device, dtype)
    return _COPIES[key]
EDGE = 1e-4      # keeps the sigmoid's inverse finite on pure black and white


class PixelImage:
    """Pixels in [0, 1], clamped after every change. Shape (B, 3, H, W)."""

    kind = "pixel"

    def __init__(self, images: torch.Tensor):
        self.pixels = images.detach().clone().clamp(0, 1).requires_grad_(True)

    def parameters(self) -> list[torch.Tensor]:
        return [self.pixels]

    def image(self) -> torch.Tensor:
        return self.pixels

    def set_image(self, images: torch.Tensor) -> None:
        with torch.no_grad():
            if images.shape != self.pixels.shape:
                self.pixels = images.detach().clone().clamp(0, 1).requires_grad_(True)
            else:
                self.pixels.copy_(images.clamp(0, 1))

    def after_step(self) -> None:
        with torch.no_grad():
            self.pixels.clamp_(0, 1)


def mix_colours(images: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """out[:, d] = Σ_c matrix[d, c] · images[:, c]; a batched matmul is several times faster
    than einsum or a 1×1 convolution here."""
    return (matrix @ images.flatten(2)).view_as(images)


def spectrum_scale(height: int, width: int, decay_power: float = 1.0, device=None) -> torch.Tensor:
    """1/frequency weights of an rfft2 spectrum, shape (H, W//2+1)."""
    fy = torch.fft.fftfreq(height, device=device).view(-1, 1)
    fx = torch.fft.rfftfreq(width, device=device).view(1, -1)
    frequency = torch.sqrt(fx * fx + fy * fy)
    return 1.0 / frequency.clamp_min(1.0 / max(height, width)) ** decay_power


def from_spectrum(spectrum: torch.Tensor, weights: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The linear (pre-colour, pre-sigmoid) image of a complex ``spectrum`` (B, 3, H, W//2+1)
    weighted by ``weights``, which are ``spectrum_scale / FFT_MAGIC``: FFT_MAGIC rides in the
    weights because, a power of two, it gives exactly the pixels of dividing the image by it,
    without a pass over the image and its backward."""
    return torch.fft.irfft2(spectrum * weights, s=size, norm="ortho")


class SpectralImage:
    """Spectral parameterisation with colour decorrelation. Shape of ``image()``: (B, 3, H, W)."""

    kind = "fft"

    def __init__(self, images: torch.Tensor):
        self.set_image(images)

    def parameters(self) -> list[torch.Tensor]:
        return [self.spectrum]

    def image(self) -> torch.Tensor:
        linear = from_spectrum(torch.view_as_complex(self.spectrum), self.spectrum_weights, self.size)
        return torch.sigmoid(mix_colours(linear, colour_matrix(linear.device)))

    def set_image(self, images: torch.Tensor) -> None:
        """The exact inverse of :meth:`image` (pixels are kept off 0 and 1 by ``EDGE``)."""
        images = images.detach().float()
        height, width = images.shape[-2:]
        same_shape = getattr(self, "size", None) == (height, width) and \
            self.spectrum.shape[0] == images.shape[0]
        self.size = (height, width)
        self.scale = spectrum_scale(height, width, device=images.device)
        self.spectrum_weights = self.scale / FFT_MAGIC
        logits = torch.logit(images.clamp(EDGE, 1 - EDGE))
        inverse = torch.linalg.inv(colour_matrix(images.device))
        linear = mix_colours(logits, inverse) * FFT_MAGIC
        spectrum = torch.view_as_real(torch.fft.rfft2(linear, norm="ortho") / self.scale)
        if same_shape:  # in place, so an optimiser holding the tensor keeps its state
            with torch.no_grad():
                self.spectrum.copy_(spectrum)
        else:
            self.spectrum = spectrum.contiguous().requires_grad_(True)

    def after_step(self) -> None:
        pass


def make_param(kind: str, images: torch.Tensor) -> PixelImage | SpectralImage:
    """``pixel`` or ``fft`` parameterisation starting from ``images`` (B, 3, H, W) in [0, 1]."""
    return PixelImage(images) if kind == "pixel" else SpectralImage(images)


def tweens(first: torch.Tensor, second: torch.Tensor, count: int, kind: str = "fft"):
    """The ``count`` pictures evenly spaced between ``first`` and ``second`` (both (B, 3, H, W)
    in [0, 1]; neither included) in the parameterisation ``kind``: for ``fft`` the spectra are
    interpolated (through the sigmoid, so colours move as the optimisation moves them, not as a
    cross-fade of pixels does); for ``pixel`` the pixels.

    Example:
        >>> grey, white = torch.full((1, 3, 4, 4), 0.5), torch.full((1, 3, 4, 4), 0.9)
        >>> [round(float(t.mean()), 3) for t in tweens(grey, white, 1)]
        [0.75]
        >>> [round(float(t.mean()), 3) for t in tweens(grey, white, 1, "pixel")]
        [0.7]
    """
    if kind == "pixel":
        for number in range(1, count + 1):
            yield torch.lerp(first.float(), second.float(), number / (count + 1))
        return
    start, end = SpectralImage(first), SpectralImage(second)
    origin = start.spectrum.detach().clone()
    with torch.no_grad():
        for number in range(1, count + 1):
            start.spectrum.copy_(torch.lerp(origin, end.spectrum, number / (count + 1)))
            yield start.image()
