"""A tour: frames that morph from one channel's picture to the next, optimised together.

Frame j sits at position t = i + k/F between key channels i and i + 1 and climbs the blend
(1 − k/F)·channel(cᵢ) + k/F·channel(cᵢ₊₁) of the two, on an :class:`AlignedImages`
parameterisation. The frames are one batch: their gradients are summed into the shared
parameters in fixed chunks (so memory stays bounded and the pixels never depend on it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from studio.models import LayerTap, LoadedModel
from studio.optimize.aligned import AlignedImages
from studio.optimize.loop import Settings, StepLoop, autocast
from studio.optimize.objectives import blend

CHUNK = 16  # frames per forward pass at 128 x 128; fixed per size, so the gradients are always summed the same way
CHUNK_PIXELS = CHUNK * 128 * 128  # past this a CPU step costs more per frame (caches), so bigger frames go fewer at once


def chunk_size(size: tuple[int, int]) -> int:
    """Frames per forward pass at ``size`` (h, w): 16 at 128², 1 at 512² and above.

    Example:
        >>> chunk_size((128, 128)), chunk_size((256, 256)), chunk_size((1024, 1024))
        (16, 4, 1)
    """
    return max(1, CHUNK_PIXELS // (size[0] * size[1]))


def tour_positions(keys: int, frames_per_channel: int) -> torch.Tensor:
    """Positions of the frames along a tour of ``keys`` pictures, ends included.

    Example:
        >>> tour_positions(3, 2)
        tensor([0.0000, 0.5000, 1.0000, 1.5000, 2.0000])
    """
    return torch.arange((keys - 1) * frames_per_channel + 1) / frames_per_channel


def tour(model: LoadedModel, path: str, channels: Sequence[int], frames_per_channel: int, settings: Settings,
         generator: torch.Generator, size: tuple[int, int], on_step: Callable[[int], None] = lambda n: None,
         curves: dict | None = None) -> torch.Tensor:
    """The frames of a tour through ``channels`` of ``path``, (N, 3, H, W) in [0, 1] on the CPU.

    Args:
        channels: the channels visited, in order (a channel may come back).
        frames_per_channel: frames from one key picture to the next.
        settings: steps, lr and robustness transforms (``fft``-like: the tour's own
            parameterisation is spectral).
        curves: filled with the mean objective per step ("score").
    """
    device = model.device
    positions = tour_positions(len(channels), frames_per_channel)
    segment = positions.floor().long().clamp(max=len(channels) - 2)
    alpha = positions - segment
    keys = torch.tensor(list(channels))
    param = AlignedImages(positions, len(channels), size, generator, device)
    tap = LayerTap(model, [path])
    chunk = chunk_size(size)
    chunks = [slice(start, start + chunk) for start in range(0, len(positions), chunk)]
    objectives = [blend(path, keys[segment[c]].to(device), keys[segment[c] + 1].to(device), alpha[c]) for c in chunks]

    def closure() -> dict[str, torch.Tensor]:
        images = param.image()
        leaf = images.detach().requires_grad_(True)
        scores = []
        for chunk, objective in zip(chunks, objectives):
            with autocast(device):
                score = objective(tap(settings.robustness(leaf[chunk], generator))).float()
            (-score.sum()).backward()
            scores.append(score.detach())
        images.backward(leaf.grad)
        return {"score": torch.cat(scores)}

    loop = StepLoop(settings.steps, lambda step: settings.lr.at(step / max(settings.steps - 1, 1)), "adam",
                    generator, on_step, hint="lower `lr`", curves=curves if curves is not None else {})
    for _ in loop.run(param, closure):
        pass
    with torch.no_grad():
        return param.image().detach().cpu()
