"""Small networks the training scenes train from scratch."""

from __future__ import annotations

from torch import nn


def build_small_net(arch: str, in_channels: int = 3, image_size: int = 25, hidden: int = 16,
                    classes: int = 2) -> nn.Module:
    """``mlp2``: flatten → linear(hidden) → ReLU → linear(classes) (seed 000 §1);
    ``small_cnn``: three conv blocks of ``hidden`` channels, then a linear head.
    Module paths: ``fc1``/``relu``/``fc2`` and ``conv1``..``conv3``/``head``."""
    if arch == "mlp2":
        return _Mlp2(in_channels * image_size * image_size, hidden, classes)
    if arch == "small_cnn":
        return _SmallCnn(in_channels, hidden, classes)
    raise ValueError(f"unknown small net {arch!r}")


class _Mlp2(nn.Module):
    def __init__(self, inputs: int, hidden: int, classes: int):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(inputs, hidden)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(self.flatten(x))))


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
        return self.head(self.pool(self.conv3(self.conv2(self.conv1(x)))).flatten(1))
