"""What a training scene watches in its network: the first layer, the watched layer's maps for
the probe, and activation maximisation of its units (through the shared optimisation core)."""

from __future__ import annotations

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

    For a linear layer that reads the image itself, unit j's map is w_j * x: where in the
    probe the unit's activation comes from (the maps sum to the activations). Otherwise the
    layer's activation maps (or its vector, folded into a square).
    """
    module = dict(net.named_modules())[path]
    with torch.no_grad():
        if isinstance(module, nn.Linear) and module.in_features == probe[0].numel():
            weights = module.weight.view(module.out_features, *probe.shape[1:])
            return (weights * probe).sum(dim=1).cpu(), "weights x probe, per unit"
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


class _AsChannels(nn.Module):
    """Lets the optimisation core's RGB images feed a network trained on gray ones."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels

    def forward(self, images):
        return images.mean(dim=1, keepdim=True) if self.channels == 1 else images


def dream_tiles(net: nn.Module, path: str, image_channels: int, image_size: int, count: int,
                generator: torch.Generator, steps: int = 32) -> torch.Tensor:
    """Activation maximisation of the first ``count`` units of ``path`` of a snapshot of ``net``,
    through the same optimisation core as the `maximize` scene. Returns (count, 3, S, S)."""
    import copy

    from studio.models.zoo import LoadedModel, _freeze
    from studio.optimize import Ascent, Ramp, Robustness, Settings, objectives

    device = next(net.parameters()).device
    wrapper = _freeze(nn.Sequential(_AsChannels(image_channels), copy.deepcopy(net)))
    model = LoadedModel("train-net", wrapper, (image_size, image_size), (0.0,) * 3, (1.0,) * 3, device=device)
    settings = Settings(steps, Ramp(0.05, 0.05), robustness=Robustness(1, 0.0, (1.0, 1.0)), param="fft")
    ascent = Ascent(model, objectives.channel(f"1.{path}", torch.arange(count, device=device)), settings, generator)
    start = (0.5 + 0.05 * torch.randn(1, 3, image_size, image_size, generator=generator)).clamp(0, 1)
    result = ascent.run(start.to(device).expand(count, -1, -1, -1), [(image_size, image_size)])
    return result.cpu() if image_channels == 3 else result.mean(dim=1, keepdim=True).expand(-1, 3, -1, -1).cpu()
