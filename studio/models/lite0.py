"""EfficientNet-Lite0 as TensorFlow built it, defined here so that loading it imports nothing
beyond torch (timm's import pulls in torch._dynamo and torchvision: over a second before the
first step, on a CPU).

The module tree, the class names and the parameter order are those of timm's
``tf_efficientnet_lite0``, so the packaged ImageNet weights load tensor by tensor in order,
layer paths (``blocks.4``, ``blocks.4.2.conv_pwl``, ``conv_head``) are the ones timm users know,
a checkpoint saved from either loads into the other, and random weights are drawn exactly as
timm draws them (the suite checks all three against timm).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# TensorFlow's batch-norm epsilon; PyTorch's default 1e-5 shifts every activation a little.
BN_EPSILON = 1e-3
STEM_CHANNELS, HEAD_CHANNELS = 32, 1280
# (block, repeats, kernel, first stride, expansion, out channels): timm's arch_def for Lite,
# 'ds_r1_k3_s1_e1_c16', 'ir_r2_k3_s2_e6_c24', ... with the stem and head fixed at 32 and 1280.
STAGES = (("ds", 1, 3, 1, 1, 16), ("ir", 2, 3, 2, 6, 24), ("ir", 2, 5, 2, 6, 40),
          ("ir", 3, 3, 2, 6, 80), ("ir", 3, 5, 1, 6, 112), ("ir", 4, 5, 2, 6, 192),
          ("ir", 1, 3, 1, 6, 320))


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "SAME" padding of one side: the output has ``ceil(size / stride)`` positions
    and the odd pixel of padding goes after (right or bottom), unlike PyTorch's symmetric padding.

    Args:
        size: the input's height or width.
        kernel: the kernel's side.
        stride: the convolution's stride.

    Returns:
        (before, after) padding in pixels.

    Example:
        >>> same_padding(224, 3, 2)
        (0, 1)
        >>> same_padding(7, 5, 1)
        (2, 2)
    """
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Conv2dSame(nn.Conv2d):
    """A strided convolution with TensorFlow's "SAME" padding, worked out from each input's size."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 groups: int = 1, bias: bool = False):
        super().__init__(in_channels, out_channels, kernel_size, stride, 0, 1, groups, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = same_padding(x.shape[-2], self.kernel_size[0], self.stride[0])
        left, right = same_padding(x.shape[-1], self.kernel_size[1], self.stride[1])
        return F.conv2d(F.pad(x, (left, right, top, bottom)), self.weight, self.bias, self.stride,
                        0, self.dilation, self.groups)


def convolution(in_channels: int, out_channels: int, kernel: int, stride: int = 1,
                groups: int = 1) -> nn.Conv2d:
    """"SAME" padding: static (and symmetric) at stride 1, worked out per input when strided."""
    if stride == 1:
        return nn.Conv2d(in_channels, out_channels, kernel, 1, kernel // 2, groups=groups, bias=False)
    return Conv2dSame(in_channels, out_channels, kernel, stride, groups=groups)


class BatchNormAct2d(nn.BatchNorm2d):
    """Batch norm then ReLU6 (or nothing), one module: hooking it reads the activated output."""

    def __init__(self, channels: int, activate: bool = True):
        super().__init__(channels, eps=BN_EPSILON)
        self.drop = nn.Identity()
        self.act = nn.ReLU6() if activate else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.drop(super().forward(x)))


class DepthwiseSeparableConv(nn.Module):
    """Depthwise k×k, then pointwise to ``out_channels`` (the first stage)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int):
        super().__init__()
        self.has_skip = stride == 1 and in_channels == out_channels
        self.conv_dw = convolution(in_channels, in_channels, kernel, stride, groups=in_channels)
        self.bn1 = BatchNormAct2d(in_channels)
        self.aa = nn.Identity()
        self.se = nn.Identity()
        self.conv_pw = convolution(in_channels, out_channels, 1)
        self.bn2 = BatchNormAct2d(out_channels, activate=False)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv_pw(self.se(self.aa(self.bn1(self.conv_dw(x))))))
        return self.drop_path(out) + x if self.has_skip else out


class InvertedResidual(nn.Module):
    """MobileNetV2's block: expand 1×1, depthwise k×k, project 1×1, a skip when shapes allow."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, expansion: int):
        super().__init__()
        middle = in_channels * expansion
        self.has_skip = stride == 1 and in_channels == out_channels
        self.conv_pw = convolution(in_channels, middle, 1)
        self.bn1 = BatchNormAct2d(middle)
        self.conv_dw = convolution(middle, middle, kernel, stride, groups=middle)
        self.bn2 = BatchNormAct2d(middle)
        self.aa = nn.Identity()
        self.se = nn.Identity()
        self.conv_pwl = convolution(middle, out_channels, 1)
        self.bn3 = BatchNormAct2d(out_channels, activate=False)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv_dw(self.bn1(self.conv_pw(x))))
        out = self.bn3(self.conv_pwl(self.se(self.aa(out))))
        return self.drop_path(out) + x if self.has_skip else out


class SelectAdaptivePool2d(nn.Module):
    """Global average pooling, flattened."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.flatten(self.pool(x))


class EfficientNet(nn.Module):
    """EfficientNet-Lite0: no squeeze-excitation, ReLU6, 4.7 M parameters, 224 px.

    Example:
        >>> net = efficientnet_lite0().eval()
        >>> net(torch.zeros(1, 3, 224, 224)).shape
        torch.Size([1, 1000])
    """

    def __init__(self, num_classes: int = 1000, initialise_weights: bool = True):
        super().__init__()
        self.conv_stem = convolution(3, STEM_CHANNELS, 3, 2)
        self.bn1 = BatchNormAct2d(STEM_CHANNELS)
        # timm's builder makes and drops a squeeze-excite module (two 1x1 convolutions of 8
        # channels) to probe its arguments; drawing the same numbers keeps random weights timm's.
        nn.Conv2d(8, 8, 1), nn.Conv2d(8, 8, 1)
        stages, channels = [], STEM_CHANNELS
        for block, repeats, kernel, stride, expansion, out_channels in STAGES:
            blocks = []
            for index in range(repeats):
                step = stride if index == 0 else 1
                blocks.append(DepthwiseSeparableConv(channels, out_channels, kernel, step) if block == "ds"
                              else InvertedResidual(channels, out_channels, kernel, step, expansion))
                channels = out_channels
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        self.conv_head = convolution(channels, HEAD_CHANNELS, 1)
        self.bn2 = BatchNormAct2d(HEAD_CHANNELS)
        self.global_pool = SelectAdaptivePool2d()
        self.classifier = nn.Linear(HEAD_CHANNELS, num_classes)
        if initialise_weights:  # skipped where trained weights replace every number at once
            for module in self.modules():
                initialise(module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.bn2(self.conv_head(self.blocks(self.bn1(self.conv_stem(x)))))
        return self.classifier(self.global_pool(features))


def initialise(module: nn.Module) -> None:
    """TensorFlow's initialisation, as timm does it (so ``weights = "none"`` matches timm's)."""
    if isinstance(module, nn.Conv2d):
        fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels // module.groups
        nn.init.normal_(module.weight, 0, math.sqrt(2.0 / fan_out))
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Linear):
        init_range = 1.0 / math.sqrt(module.weight.size(0))
        nn.init.uniform_(module.weight, -init_range, init_range)
        nn.init.zeros_(module.bias)


def efficientnet_lite0(num_classes: int = 1000, initialise_weights: bool = True) -> EfficientNet:
    """EfficientNet-Lite0 with random weights (draw them under a seed for the same ones)."""
    return EfficientNet(num_classes, initialise_weights)
