"""Small networks the training scenes train from scratch."""

from __future__ import annotations

import torch
from torch import nn


def build_small_net(arch: str, in_channels: int = 3, image_size: int = 25, hidden: int = 16,
                    classes: int = 2, centre: torch.Tensor | None = None) -> nn.Module:
    """``mlp2``: flatten → linear(hidden) → ReLU → linear(classes) (seed 000 §1);
    ``small_cnn``: three conv blocks of ``hidden`` channels, then a linear head.
    Module paths: ``fc1``/``relu``/``fc2`` and ``conv1``..``conv3``/``head``.

    ``centre`` (1, C, S, S), the mean training image, is subtracted from every input (a buffer,
    saved with the weights). Faces are all-positive pixels: uncentred, a unit whose bias Adam
    pushes below zero is silent on every image and never recovers, and 7-10 of 16 units of
    the seed's net died that way; centred, all 16 live (measured over three seeds).
    """
    if arch == "mlp2":
        net = _Mlp2(in_channels * image_size * image_size, hidden, classes)
    elif arch == "small_cnn":
        net = _SmallCnn(in_channels, hidden, classes)
    else:
        raise ValueError(f"unknown small net {arch!r}")
    net.register_buffer("centre", centre if centre is not None else torch.zeros(1, in_channels, image_size, image_size))
    return net


class _Mlp2(nn.Module):
    def __init__(self, inputs: int, hidden: int, classes: int):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(inputs, hidden)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(self.flatten(x - self.centre))))


class _SmallCnn(nn.Module):
    def __init__(self, in_channels: int, hidden: int, classes: int):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))

        self.conv1 = block(in_channels, hidden)
        self.conv2 = block(hidden, hidden * 2)
        self.conv3 = block(hidden * 2, hidden * 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(hidden * 2, classes)

    def forward(self, x):
        return self.head(self.pool(self.conv3(self.conv2(self.conv1(x - self.centre)))).flatten(1))


def is_small_net(module: nn.Module) -> bool:
    """Whether ``module`` is one of the small nets (fixed input size and channels)."""
    return isinstance(module, (_Mlp2, _SmallCnn))
