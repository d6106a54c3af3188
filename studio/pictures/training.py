"""What a training frame shows of the network: tiles of weights and signed maps, enlarged."""

from __future__ import annotations

import torch
from torch import nn

from studio.pictures.colour import diverging
from studio.pictures.layout import enlarge, labelled_grid

TILE = 72  # tiles are enlarged to about this many pixels a side


def weight_tiles(module: nn.Module, image_channels: int, image_size: int) -> torch.Tensor:
    """A first layer's weights (linear or convolutional) as pictures: RGB for colour inputs,
    coolwarm for gray."""
    weights = module.weight.detach().float().cpu()
    if isinstance(module, nn.Linear):
        weights = weights.view(-1, image_channels, image_size, image_size)
    if weights.shape[1] == 3:
        scale = weights.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
        return (weights / scale + 1) / 2
    return diverging(weights.mean(dim=1))


def grid(tiles: torch.Tensor, title: str, labels=None) -> torch.Tensor:
    return labelled_grid(enlarge(tiles, TILE), labels or [], title=title)


def diverging_tiles(maps: torch.Tensor) -> torch.Tensor:
    """Signed (N, h, w) maps as enlarged coolwarm tiles (N, 3, H, W)."""
    return enlarge(diverging(maps), TILE)


def signed_grid(maps: torch.Tensor, title: str) -> torch.Tensor:
    return grid(diverging(maps), title, [str(i) for i in range(maps.shape[0])])
