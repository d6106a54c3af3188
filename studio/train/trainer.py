"""The training loop: minibatches, a loss schedule, per-epoch statistics, weight snapshots."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from studio.errors import RenderError
from studio.optimize.loop import PartStore
from studio.optimize.schedule import Ramp
from studio.train.datasets import Dataset
from studio.train.schedules import multiplier, scheduled


def snapshot_epochs(epochs: int, every: int) -> list[int]:
    """Epochs after which a frame is taken: 0 (untrained), every ``every``, and the last.

    Example:
        >>> snapshot_epochs(25, 10)
        [0, 10, 20, 25]
    """
    points = list(range(0, epochs + 1, every))
    return points if points[-1] == epochs else points + [epochs]


@dataclass
class History:
    """Per-epoch series for log.json (index = epoch, 0-based)."""

    loss: list[float] = field(default_factory=list)
    objective: list[float] = field(default_factory=list)
    multiplier: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    clean_accuracy: list[float] = field(default_factory=list)
    heldout_accuracy: list[float] = field(default_factory=list)


def predictions(net: nn.Module, images: torch.Tensor, batch: int) -> torch.Tensor:
    """The class ``net`` picks for each image, ``batch`` images at a time."""
    with torch.no_grad():
        return torch.cat([net(images[start:start + batch]).argmax(dim=1) for start in range(0, len(images), batch)])


def train(net: nn.Module, data: Dataset, truth: torch.Tensor, section, generator: torch.Generator,
          device: torch.device, on_epoch: Callable[[int], None] = lambda e: None,
          store: PartStore | None = None, checkpoint_key: str = "training", heldout: Dataset | None = None):
    """Train ``net`` on ``data`` as a `train` section says (epochs, lr, batches, loss schedule).

    Args:
        store: where a checkpoint goes at every snapshot epoch (weights, optimiser, generator
            state, history, snapshots); training that finds one goes on from its epoch, exactly
            as if never stopped.
        heldout: clean examples never trained on; their accuracy is logged every epoch.

    Returns:
        (History, {epoch: state_dict} at the snapshot epochs).
    """
    images, labels, truth = data.images.to(device), data.labels.to(device), truth.to(device)
    lr = Ramp.of(section.lr)
    optimiser = (torch.optim.Adam(net.parameters(), lr=lr.start) if section.optimizer == "adam"
                 else torch.optim.SGD(net.parameters(), lr=lr.start, momentum=0.9))
    loss_fn = nn.CrossEntropyLoss()
    wanted = set(snapshot_epochs(section.epochs, section.snapshot_every))
    snapshots = {0: copy.deepcopy(net.state_dict())}
    history = History()
    first = 0
    resume = store.load(checkpoint_key) if store is not None else None
    if resume is not None:
        net.load_state_dict(resume["net"])
        optimiser.load_state_dict(resume["optimiser"])
        generator.set_state(resume["generator"])
        history = History(**resume["history"])
        snapshots, first = resume["snapshots"], resume["epoch"]
        on_epoch(first)
    count = len(labels)
    for epoch in range(first, section.epochs):
        for group in optimiser.param_groups:
            group["lr"] = lr.at(epoch / max(section.epochs - 1, 1))
        net.train()
        order = torch.randperm(count, generator=generator).to(device)
        total_loss = total_objective = 0.0
        for start in range(0, count, section.batch_size):
            batch = order[start:start + section.batch_size]
            loss = loss_fn(net(images[batch]), labels[batch])
            objective = scheduled(section.loss_schedule, loss, epoch)
            optimiser.zero_grad(set_to_none=True)
            objective.backward()
            optimiser.step()
            total_loss += float(loss.detach()) * len(batch)
            total_objective += float(objective.detach()) * len(batch)
        if not (torch.isfinite(torch.tensor(total_loss)) and torch.isfinite(torch.tensor(total_objective))):
            raise RenderError(f"training diverged (NaN or Inf loss) in epoch {epoch}: "
                              "lower `lr` or soften the loss schedule's negative phase")
        net.eval()
        predicted = predictions(net, images, section.batch_size)
        history.loss.append(round(total_loss / count, 6))
        history.objective.append(round(total_objective / count, 6))
        history.multiplier.append(round(multiplier(section.loss_schedule, epoch), 6))
        history.accuracy.append(round(float((predicted == labels).float().mean()), 6))
        history.clean_accuracy.append(round(float((predicted == truth).float().mean()), 6))
        if heldout is not None:
            guessed = predictions(net, heldout.images.to(device), section.batch_size)
            history.heldout_accuracy.append(round(float((guessed == heldout.labels.to(device)).float().mean()), 6))
        if epoch + 1 in wanted:
            snapshots[epoch + 1] = copy.deepcopy(net.state_dict())
            if store is not None and epoch + 1 < section.epochs:
                store.save(checkpoint_key, {"net": net.state_dict(), "optimiser": optimiser.state_dict(),
                            "generator": generator.get_state(), "history": dataclasses.asdict(history),
                            "snapshots": snapshots, "epoch": epoch + 1})
        on_epoch(1)
    return history, snapshots
