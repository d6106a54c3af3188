"""What a training scene watches in its network: the first layer, the watched layer's maps for
the probe, and activation maximisation of its units (through the shared optimisation core)."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


def first_layer(net: nn.Module) -> tuple[str, nn.Module]:
    for name, module in net.named_modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            return name, module
    raise ValueError("the network has no linear or convolutional layer")


def watched_maps(net: nn.Module, path: str, probe: torch.Tensor) -> tuple[torch.Tensor, str]:
    """Signed maps of the watched layer for ``probe`` (1, C, S, S) and a caption.

    For a linear layer that reads the image itself, unit j's map is w_j * x, x the probe as
    the net sees it (less its ``centre`` where it has one): where in the probe the unit's
    activation comes from (the maps sum to the activations, less the bias). Otherwise the
    layer's activation maps (or its vector, folded into a square).
    """
    module = dict(net.named_modules())[path]
    with torch.no_grad():
        if isinstance(module, nn.Linear) and module.in_features == probe[0].numel():
            weights = module.weight.view(module.out_features, *probe.shape[1:])
            seen = probe - net.centre if hasattr(net, "centre") else probe
            return (weights * seen).sum(dim=1).cpu(), "weights x probe, per unit"
        captured = {}
        handle = module.register_forward_hook(lambda _m, _i, out: captured.setdefault("out", out))
        try:
            net(probe)
        finally:
            handle.remove()
    out = captured["out"][0].float().cpu()
    if out.dim() == 3:
        return out, "activation maps"
    side = math.ceil(math.sqrt(out.numel()))
    return torch.cat([out, out.new_zeros(side * side - out.numel())]).view(1, side, side), "activations"


def _per_batch(net: nn.Module, path: str, images: torch.Tensor, batch: int, summary) -> torch.Tensor:
    """``summary(output)`` of ``path``'s output for each batch of ``images``, stacked."""
    module = dict(net.named_modules())[path]
    found = []
    handle = module.register_forward_hook(lambda _m, _i, out: found.append(summary(out.float())))
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch):
                net(images[start:start + batch])
    finally:
        handle.remove()
    return torch.stack(found)


def living_units(net: nn.Module, path: str, images: torch.Tensor, batch: int, share: float = 0.01) -> int:
    """How many units (channels) of ``path`` respond (output > 0 somewhere) to at least
    ``share`` of ``images``: the rest are dead or silent and draw blank frames."""
    counts = _per_batch(net, path, images, batch, lambda out: (out.flatten(2).amax(dim=2) if out.dim() > 2
                                                                else out).gt(0).sum(dim=0))
    return int((counts.sum(dim=0) >= share * len(images)).sum())


def channel_means(net: nn.Module, path: str, images: torch.Tensor, batch: int) -> torch.Tensor:
    """(C,): each channel (or unit) of ``path``'s output averaged over ``images`` and space."""
    sums = _per_batch(net, path, images, batch, lambda out: out.flatten(2).mean(dim=2).sum(dim=0) if out.dim() > 2
                      else out.sum(dim=0))
    return (sums.sum(dim=0) / len(images)).cpu()


def weight_vector(module: nn.Module) -> torch.Tensor:
    """Every weight of ``module`` (and its children) as one vector, for measuring change."""
    return torch.cat([p.detach().float().flatten().cpu() for p in module.parameters()])


class _AsChannels(nn.Module):
    """Lets the optimisation core's RGB images feed a network trained on gray ones."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels

    def forward(self, images):
        return images.mean(dim=1, keepdim=True) if self.channels == 1 else images


def dream_start(image_size: int, generator: torch.Generator) -> torch.Tensor:
    """The seeded start every snapshot's dreams climb from (1, 3, S, S): grey with a little
    noise, the same at every epoch so the frames compare."""
    return (0.5 + 0.05 * torch.randn(1, 3, image_size, image_size, generator=generator)).clamp(0, 1)


def climb_model(net: nn.Module, image_channels: int, size: tuple[int, int]):
    """A frozen copy of ``net`` as a model the optimisation core climbs in (images in [0, 1] of
    ``size``; a network trained on gray images sees their mean). Its module paths are the net's
    with a ``1.`` in front."""
    from studio.models.zoo import LoadedModel, _freeze

    wrapper = _freeze(nn.Sequential(_AsChannels(image_channels), copy.deepcopy(net)))
    return LoadedModel("train-net", wrapper, size, (0.0,) * 3, (1.0,) * 3, device=next(net.parameters()).device)


def dream_tiles(net: nn.Module, path: str, channels: list[int], image_channels: int, start: torch.Tensor,
                seed: int, steps: int = 32, jitter: int = 1, lr: float = 0.05) -> tuple[torch.Tensor, list[float]]:
    """Activation maximisation of ``channels`` of ``path`` in a snapshot of ``net``, through
    the same optimisation core as the `maximize` scene, all channels in one batch.

    Args:
        net: the network being trained (copied, not changed).
        path: the watched module's path in ``net``.
        channels: the units or feature maps to draw.
        image_channels: 1 for a network trained on gray images (it sees the images' mean).
        start: (1, 3, S, S) in [0, 1], where every channel starts; or one start per channel
            (a snapshot's climb going on from the last snapshot's pictures).
        seed: seeds the robustness transforms, so every snapshot draws the same ones.
        lr: Adam's step (its first steps move every coefficient by about this much, whatever the
            gradient: a climb that goes on from a finished picture takes smaller ones).

    Returns:
        (len(channels), 3, S, S) images on the CPU, and each channel's activation for its image.
    """
    from studio.optimize import Ascent, Ramp, Robustness, Settings, objectives

    device = next(net.parameters()).device
    size = start.shape[-2:]
    model = climb_model(net, image_channels, tuple(size))
    settings = Settings(steps, Ramp(lr, lr), robustness=Robustness(jitter, 0.0, (1.0, 1.0)), param="fft")
    objective = objectives.channel(f"1.{path}", torch.tensor(channels, device=device))
    ascent = Ascent(model, objective, settings, torch.Generator().manual_seed(seed))
    starts = start.to(device)
    result = ascent.run(starts if len(starts) == len(channels) else starts.expand(len(channels), -1, -1, -1),
                        [tuple(size)])
    with torch.no_grad():
        reached = ascent.score(result).cpu().tolist()
    images = result.cpu() if image_channels == 3 else result.mean(dim=1, keepdim=True).expand(-1, 3, -1, -1).cpu()
    return images, [round(value, 6) for value in reached]
