"""What a training scene will cost before it starts: memory (weights, gradients, the optimiser's
moments, a minibatch's activations) and time (measured warm on a copy, so the real run's
weights and random draws are untouched)."""

from __future__ import annotations

import copy
import time

import torch
from torch import nn


def activation_bytes(net: nn.Module, images: torch.Tensor) -> int:
    """Bytes of every leaf module's output for ``images`` (what a backward pass keeps)."""
    from studio.budget import leaf_output_bytes

    return leaf_output_bytes(net, lambda: net(images))


def training_bytes(net: nn.Module, batch: torch.Tensor) -> int:
    """Weights, gradients and Adam's two moments (4 copies of the parameters), and a minibatch's
    activations kept for the backward pass (twice: the outputs and their gradients).

    Example:
        >>> training_bytes(nn.Linear(10, 2), torch.zeros(4, 10))
        416
    """
    parameters = sum(p.numel() * p.element_size() for p in net.parameters())
    return 4 * parameters + 2 * activation_bytes(net, batch)


def step_seconds(net: nn.Module, images: torch.Tensor, labels: torch.Tensor | None = None, repeats: int = 3) -> float:
    """One optimiser step of a copy of ``net`` on ``images`` (cross-entropy against ``labels``,
    or the outputs' sum), warm: the fastest of ``repeats`` after a first."""
    trial = copy.deepcopy(net)
    trial.train()
    optimiser = torch.optim.SGD(trial.parameters(), lr=0.0)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        out = trial(images)
        loss = loss_fn(out, labels) if labels is not None else out.float().sum()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if images.device.type == "cuda":
            torch.cuda.synchronize(images.device)

    step()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        timings.append(time.perf_counter() - started)
    return min(timings)
