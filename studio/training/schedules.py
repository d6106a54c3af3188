"""Loss schedules: what the optimiser minimises at each epoch, given the raw loss.

``constant``: L. ``piecewise``: m(e)·L with m linear between (epoch, multiplier) points (a
negative m is gradient ascent). ``cyclic``: m(e) swings between ``low`` and ``high`` with
``period`` (cosine, starting at ``high``). ``flooding``: |L − b| + b (Ishida et al. 2020):
below the level b the gradient turns round, so the loss hovers near b.
"""

from __future__ import annotations

import math

import torch


def multiplier(schedule, epoch: float) -> float:
    """m(epoch) for constant, piecewise and cyclic schedules (1 for flooding)."""
    if schedule.kind == "piecewise":
        points = schedule.points
        if epoch <= points[0][0]:
            return points[0][1]
        for (e0, m0), (e1, m1) in zip(points, points[1:]):
            if epoch <= e1:
                return m0 + (m1 - m0) * (epoch - e0) / (e1 - e0)
        return points[-1][1]
    if schedule.kind == "cyclic":
        phase = (1 + math.cos(2 * math.pi * epoch / schedule.period)) / 2
        return schedule.low + (schedule.high - schedule.low) * phase
    return 1.0


def scheduled(schedule, loss: torch.Tensor, epoch: int) -> torch.Tensor:
    """The objective to minimise at ``epoch`` for raw ``loss``. Under ascent (a negative
    multiplier) with a ``ceiling``, a loss past the ceiling gives no gradient: the network is
    pushed to be wrong up to that loss, not until its logits explode (which it never recovers
    from).

    Example:
        >>> from types import SimpleNamespace
        >>> ascent = SimpleNamespace(kind="piecewise", points=((0, -1.0),), ceiling=2.0)
        >>> float(scheduled(ascent, torch.tensor(1.5), 0)), float(scheduled(ascent, torch.tensor(5.0), 0))
        (-1.5, -2.0)
    """
    if schedule.kind == "flooding":
        return (loss - schedule.level).abs() + schedule.level
    factor = multiplier(schedule, epoch)
    if factor < 0 and getattr(schedule, "ceiling", None):
        loss = loss.clamp(max=schedule.ceiling)
    return factor * loss
