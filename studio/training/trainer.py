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
from studio.training.datasets import Dataset
from studio.training.schedules import multiplier, scheduled


def snapshot_epochs(epochs: int, every: int) -> list[int]:
    """Epochs after which a frame is taken: 0 (untrained), every ``every``, and the last.

    Example:
        >>> snapshot_epochs(25, 10)
        [0, 10, 20, 25]
    """
    points = list(range(0, epochs + 1, every))
    return points if points[-1] == epochs else points + [epochs]


def snapshot_steps(epochs: int, every: int, steps_per_epoch: int, every_steps: int = 0) -> list[int]:
    """Optimiser steps after which a frame is taken: the snapshot epochs' ends (as step counts)
    and, with ``every_steps``, every that many steps as well.

    Example:
        >>> snapshot_steps(2, 1, 4, every_steps=3)
        [0, 3, 4, 6, 8]
    """
    points = {epoch * steps_per_epoch for epoch in snapshot_epochs(epochs, every)}
    if every_steps:
        points.update(range(0, epochs * steps_per_epoch + 1, every_steps))
    return sorted(points)


class Snapshots:
    """The weights at every snapshot, by optimiser step: in the part store when there is one (a
    fine-tune with hundreds of snapshots would otherwise hold hundreds of networks in memory),
    else in memory.

    Example:
        >>> kept = Snapshots(None)
        >>> kept.put(0, {"w": torch.zeros(1)}); sorted(kept), kept[0]["w"].tolist()
        ([0], [0.0])
    """

    def __init__(self, store: PartStore | None, key: str = "snapshot"):
        self.store, self.key, self.held, self.steps = store, key, {}, []

    def put(self, step: int, state: dict) -> None:
        if self.store is None:
            self.held[step] = copy.deepcopy(state)
        else:
            self.store.save(f"{self.key}-{step}", {"state": state})
        self.steps = sorted({*self.steps, step})

    def __getitem__(self, step: int) -> dict:
        if self.store is None:
            return self.held[step]
        saved = self.store.load(f"{self.key}-{step}")
        if saved is None:
            raise RenderError(f"the weights of the snapshot at step {step} are missing from the render's "
                              "cache: render again with --force")
        return saved["state"]

    def __iter__(self):
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)


@dataclass
class History:
    """Per-epoch series for log.json (index = epoch, 0-based)."""

    loss: list[float] = field(default_factory=list)
    objective: list[float] = field(default_factory=list)
    multiplier: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    clean_accuracy: list[float] = field(default_factory=list)
    heldout_accuracy: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)  # each optimiser step's batch loss
    moments: list[dict] = field(default_factory=list)  # snapshots inside an epoch: step, loss so far, accuracies
    start: dict = field(default_factory=dict)  # the untrained network: loss and accuracies
    steps_per_epoch: int = 1


def accuracy(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch: int) -> float:
    return round(float((predictions(net, images, batch) == labels).float().mean()), 6)


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
        (History, :class:`Snapshots`: the weights after every snapshot's optimiser step: the
        snapshot epochs' ends and, with ``section.snapshot_every_steps``, every that many steps).
    """
    images, labels, truth = data.images.to(device), data.labels.to(device), truth.to(device)
    lr = Ramp.of(section.lr)
    optimiser = (torch.optim.Adam(net.parameters(), lr=lr.start) if section.optimizer == "adam"
                 else torch.optim.SGD(net.parameters(), lr=lr.start, momentum=0.9))
    loss_fn = nn.CrossEntropyLoss()
    count = len(labels)
    per_epoch = -(-count // section.batch_size)
    wanted = set(snapshot_steps(section.epochs, section.snapshot_every, per_epoch,
                                section.snapshot_every_steps))
    snapshots = Snapshots(store)
    history = History(steps_per_epoch=per_epoch)
    first = 0
    resume = store.load(checkpoint_key) if store is not None else None
    if resume is not None:
        net.load_state_dict(resume["net"])
        optimiser.load_state_dict(resume["optimiser"])
        generator.set_state(resume["generator"])
        history = History(**resume["history"])
        first = resume["epoch"]
        snapshots.steps = [step for step in sorted(wanted) if step <= first * per_epoch]
        on_epoch(first)
    else:
        snapshots.put(0, net.state_dict())
        net.eval()
        with torch.no_grad():
            losses = [float(loss_fn(net(images[i:i + section.batch_size]), labels[i:i + section.batch_size]))
                      * len(labels[i:i + section.batch_size]) for i in range(0, len(labels), section.batch_size)]
        history.start = {"loss": round(sum(losses) / len(labels), 6),
                         "accuracy": accuracy(net, images, labels, section.batch_size),
                         "heldout_accuracy": (accuracy(net, heldout.images.to(device), heldout.labels.to(device),
                                                       section.batch_size) if heldout is not None else None)}
    for epoch in range(first, section.epochs):
        for group in optimiser.param_groups:
            group["lr"] = lr.at(epoch / max(section.epochs - 1, 1))
        net.train()
        order = torch.randperm(count, generator=generator).to(device)
        total_loss = total_objective = 0.0
        for number, start in enumerate(range(0, count, section.batch_size), 1):
            batch = order[start:start + section.batch_size]
            loss = loss_fn(net(images[batch]), labels[batch])
            objective = scheduled(section.loss_schedule, loss, epoch)
            optimiser.zero_grad(set_to_none=True)
            objective.backward()
            if section.gradient_clip:  # a guard: no step longer than this, however steep the objective
                nn.utils.clip_grad_norm_(net.parameters(), section.gradient_clip)
            optimiser.step()
            total_loss += float(loss.detach()) * len(batch)
            total_objective += float(objective.detach()) * len(batch)
            history.step_loss.append(round(float(loss.detach()), 6))
            step = epoch * per_epoch + number
            if step in wanted and number < per_epoch:  # a snapshot inside the epoch: how the net does now
                net.eval()
                history.moments.append({
                    "step": step, "loss": round(total_loss / (start + len(batch)), 6),
                    "accuracy": accuracy(net, images, labels, section.batch_size),
                    "heldout_accuracy": (accuracy(net, heldout.images.to(device), heldout.labels.to(device),
                                                  section.batch_size) if heldout is not None else None)})
                snapshots.put(step, net.state_dict())
                net.train()
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
            history.heldout_accuracy.append(accuracy(net, heldout.images.to(device), heldout.labels.to(device),
                                                     section.batch_size))
        if (epoch + 1) * per_epoch in wanted:
            snapshots.put((epoch + 1) * per_epoch, net.state_dict())
            if store is not None and epoch + 1 < section.epochs:
                store.save(checkpoint_key, {"net": net.state_dict(), "optimiser": optimiser.state_dict(),
                            "generator": generator.get_state(), "history": dataclasses.asdict(history),
                            "epoch": epoch + 1})
        on_epoch(1)
    return history, snapshots
