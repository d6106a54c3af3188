"""What a training frame shows: the watched layer for the probe, first-layer weights, the loss."""

from __future__ import annotations

import math

import torch
from torch import nn

from studio.output.images import colormap, enlarge, figure_image, labelled_grid

TILE = 72  # tiles are enlarged to about this many pixels a side


def _diverging(maps: torch.Tensor) -> torch.Tensor:
    """(N, H, W) signed values → (N, 3, H, W) through coolwarm, zero at the middle colour."""
    scale = maps.abs().amax().clamp_min(1e-12)
    centred = torch.cat([maps / scale, torch.tensor([-1.0, 1.0]).view(2, 1, 1).expand(2, *maps.shape[1:])])
    return colormap(centred, "coolwarm", per_map=False)[:-2]


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


def weight_tiles(net: nn.Module, image_channels: int, image_size: int) -> tuple[torch.Tensor, str]:
    """The first layer's weights as pictures: RGB for colour inputs, coolwarm for gray."""
    name, module = first_layer(net)
    weights = module.weight.detach().float().cpu()
    if isinstance(module, nn.Linear):
        weights = weights.view(-1, image_channels, image_size, image_size)
    if weights.shape[1] == 3:
        scale = weights.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
        return (weights / scale + 1) / 2, name
    return _diverging(weights.mean(dim=1)), name


def loss_chart(history, epoch: int, width: int, height: int = 220) -> torch.Tensor:
    """Loss (and the scheduled objective, and accuracy) over all epochs, ``epoch`` marked."""
    from matplotlib.figure import Figure

    dpi = 100
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="#101014")
    axes = figure.add_subplot()
    axes.set_facecolor("#101014")
    epochs = list(range(len(history.loss)))
    axes.plot(epochs, history.loss, color="#ffb000", linewidth=1.2, label="loss")
    if any(abs(m - 1.0) > 1e-9 for m in history.multiplier) or history.objective != history.loss:
        axes.plot(epochs, history.objective, color="#ff6060", linewidth=0.9, linestyle="--", label="objective")
    values = [abs(v) for v in history.loss + history.objective]
    if max(values) > 50 * max(sorted(values)[len(values) // 2], 1e-6):
        # a loss that explodes (gradient ascent) would flatten the rest of the curve
        axes.set_yscale("symlog", linthresh=max(sorted(values)[len(values) // 2], 1e-3))
    accuracy = axes.twinx()
    accuracy.plot(epochs, history.accuracy, color="#60c0ff", linewidth=0.8, alpha=0.8, label="accuracy")
    accuracy.set_ylim(0, 1.02)
    accuracy.tick_params(colors="#8090a0", labelsize=7)
    marker = min(max(epoch - 1, 0), len(history.loss) - 1)
    axes.axvline(marker, color="#ffffff", linewidth=0.8, alpha=0.7)
    axes.plot([marker], [history.loss[marker]], "o", color="#ffffff", markersize=4)
    axes.set_title(f"epoch {epoch}   loss {history.loss[marker]:.4g}   accuracy {history.accuracy[marker]:.0%}",
                   color="#e0e0e6", fontsize=9)
    axes.tick_params(colors="#a0a0a8", labelsize=7)
    for spine in list(axes.spines.values()) + list(accuracy.spines.values()):
        spine.set_color("#505058")
    axes.legend(loc="upper right", fontsize=7, facecolor="#202028", labelcolor="#d0d0d0", edgecolor="#404048")
    figure.subplots_adjust(left=0.08, right=0.93, top=0.86, bottom=0.14)
    return figure_image(figure)


def grid(tiles: torch.Tensor, title: str, labels=None) -> torch.Tensor:
    return labelled_grid(enlarge(tiles, TILE), labels or [], title=title)


def signed_grid(maps: torch.Tensor, title: str) -> torch.Tensor:
    return grid(_diverging(maps), title, [str(i) for i in range(maps.shape[0])])


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
    from studio.optimize import Ascent, AscentSettings, Ramp, Robustness, objectives

    device = next(net.parameters()).device
    wrapper = _freeze(nn.Sequential(_AsChannels(image_channels), copy.deepcopy(net)))
    model = LoadedModel("train-net", wrapper, (image_size, image_size), (0.0,) * 3, (1.0,) * 3, device=device)
    settings = AscentSettings(steps, Ramp(0.05, 0.05), robustness=Robustness(1, 0.0, (1.0, 1.0)), param="fft")
    ascent = Ascent(model, objectives.channel(f"1.{path}", torch.arange(count, device=device)), settings, generator)
    start = (0.5 + 0.05 * torch.randn(1, 3, image_size, image_size, generator=generator)).clamp(0, 1)
    result = ascent.run(start.to(device).expand(count, -1, -1, -1), [(image_size, image_size)])
    return result.cpu() if image_channels == 3 else result.mean(dim=1, keepdim=True).expand(-1, 3, -1, -1).cpu()
