"""Aligned interpolation (Olah et al., "Feature Visualization", Distill 2017): the frames of a
tour between key pictures share part of their parameterisation, so neighbouring frames keep
the same layout while their objectives blend from one channel to the next.

Each frame is a spectrum (as :class:`~studio.optimize.param.SpectralImage`) interpolated
between the spectra of the two keys it sits between, plus a fainter spectrum of its own (so it
can follow its own blend of objectives), plus low-resolution tensors: some common to every
frame, some held per key and interpolated along the tour (lucid's ``lowres_tensor`` recipe).
Everything is summed before the colour decorrelation and the sigmoid. Interpolating the full
spectra too, not only the shared low-resolution ones, is what keeps fine texture from
flickering between frames.
"""

from __future__ import annotations

import torch

from studio.optimize.param import FFT_MAGIC, colour_matrix, from_spectrum, mix_colours, spectrum_scale

# (how many copies: 1 = common to every frame, 0 = one per key; downscale factor)
SHARED = ((1, 2), (1, 4), (1, 8), (0, 8), (1, 16), (0, 16))
INITIAL_SPREAD = 0.01  # lucid's sd for fresh parameters
OWN_WEIGHT = 0.25      # how much of a frame's spectrum is its own rather than its keys' blend


def key_weights(positions: torch.Tensor, keys: int) -> torch.Tensor:
    """(N, keys) hat-function weights: a frame at position 1.25 is 0.75 key 1 and 0.25 key 2.

    Example:
        >>> key_weights(torch.tensor([0.0, 0.5, 1.0]), 2)
        tensor([[1.0000, 0.0000],
                [0.5000, 0.5000],
                [0.0000, 1.0000]])
    """
    return (1 - (positions.view(-1, 1) - torch.arange(keys).view(1, -1)).abs()).clamp_min(0)


class AlignedImages:
    """``positions`` (N,) in [0, keys - 1]: where along the tour each frame sits.

    Args:
        positions: frame positions; key k's own picture is the frame at position k.
        keys: number of key pictures.
        size: (height, width) of every frame.
        generator: seeds every initial value.
        device: where the parameters live.
    """

    kind = "aligned"

    def __init__(self, positions: torch.Tensor, keys: int, size: tuple[int, int], generator: torch.Generator,
                 device: torch.device):
        height, width = size
        count = len(positions)
        self.size = size
        self.spectrum_weights = spectrum_scale(height, width, device=device) / FFT_MAGIC

        def fresh(*shape):
            return (INITIAL_SPREAD * torch.randn(shape, generator=generator)).to(device).requires_grad_(True)

        self.keyed = fresh(keys, 3, height, width // 2 + 1, 2)
        self.unique = fresh(count, 3, height, width // 2 + 1, 2)
        self.shared = [fresh(copies or keys, 3, max(1, height // factor), max(1, width // factor))
                       for copies, factor in SHARED]
        self.weights = key_weights(positions.float().cpu(), keys).to(device)

    def parameters(self) -> list[torch.Tensor]:
        return [self.keyed, self.unique, *self.shared]

    def image(self) -> torch.Tensor:
        """(N, 3, H, W) frames in (0, 1)."""
        height, width = self.size
        blended = (self.weights @ self.keyed.flatten(1)).view_as(self.unique[:1].expand(len(self.weights),
                                                                                       *self.unique.shape[1:]))
        spectrum = torch.view_as_complex((blended + OWN_WEIGHT * self.unique).contiguous())
        linear = from_spectrum(spectrum, self.spectrum_weights, self.size)
        for tensor in self.shared:
            per_frame = tensor if tensor.shape[0] == 1 else (self.weights @ tensor.flatten(1)).view(
                -1, *tensor.shape[1:])
            linear = linear + torch.nn.functional.interpolate(per_frame, size=(height, width), mode="bilinear",
                                                              align_corners=False)
        return torch.sigmoid(mix_colours(linear, colour_matrix(linear.device)))

    def after_step(self) -> None:
        pass
