"""A pretrained network made trainable for fine-tuning: a copy of the zoo model with a new
classifier head for the dataset's classes, reading images in [0, 1].

Batch-norm statistics and dropout stay in evaluation mode while it trains: a few hundred
images would drag ImageNet's statistics around and dropout would draw from the global random
state, so the same preset would no longer give the same pixels. The weights themselves (and the
batch-norm scales and shifts) all learn.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from studio.models.features import last_linear
from studio.models.zoo import LoadedModel

FROZEN_IN_TRAINING = (nn.modules.batchnorm._BatchNorm, nn.Dropout)


class Classifier(nn.Module):
    """``network(normalise(images))`` with a trainable copy of ``model``'s network.

    Args:
        model: a loaded zoo model (left untouched: the copy is what trains).
        classes: outputs of the new head.
        generator: seeds the head's initial weights.

    The wrapped network sits at ``self.network``, so a layer ``blocks.4`` of the model is
    ``network.blocks.4`` here.
    """

    def __init__(self, model: LoadedModel, classes: int, generator: torch.Generator):
        super().__init__()
        self.network = copy.deepcopy(model.module).requires_grad_(True)
        self.register_buffer("mean", torch.tensor(model.mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(model.std).view(1, -1, 1, 1))
        head = last_linear(self.network)
        if head is not None:
            old = self.network.get_submodule(head)
            new = nn.Linear(old.in_features, classes)
            with torch.no_grad():  # default init, drawn from the scene's seed
                bound = 1 / old.in_features ** 0.5
                new.weight.copy_(torch.rand(new.weight.shape, generator=generator) * 2 * bound - bound)
                new.bias.zero_()
            parent, _, name = head.rpartition(".")
            setattr(self.network.get_submodule(parent) if parent else self.network, name, new)
        self.head = head

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.network((images - self.mean) / self.std)

    def train(self, mode: bool = True) -> Classifier:
        super().train(mode)
        for module in self.modules():
            if isinstance(module, FROZEN_IN_TRAINING) or type(module).__name__ == "DropPath":
                module.eval()
        return self


def layer_path(path: str) -> str:
    """A model's module path as it is inside a :class:`Classifier`."""
    return f"network.{path}"
