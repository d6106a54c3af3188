"""Timing helpers: the contenders run interleaved, round after round (``paired`` keeps every
round, for ratios taken within a round; ``interleaved`` each one's best round), so a noisy
2-core machine penalises them alike."""

from __future__ import annotations

import time


def figure(columns: int = 1, size: tuple[float, float] = (7.5, 4.2)):
    """A matplotlib figure and its axes, drawn off-screen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, columns, figsize=size, dpi=110)


def save_figure(drawn, path) -> None:
    from pathlib import Path

    drawn.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    drawn.savefig(path)


def sync(device) -> None:
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def paired(contenders: dict, rounds: int = 5, warmup: int = 1) -> list[dict[str, float]]:
    """Wall-clock seconds of each zero-argument callable, run in turns: one dict per round. A
    ratio taken within each round and then its median stands against a noisy machine better
    than a ratio of two best rounds, which may come from different moments."""
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    timings = []
    for _ in range(rounds):
        row = {}
        for name, fn in contenders.items():
            started = time.perf_counter()
            fn()
            row[name] = time.perf_counter() - started
        timings.append(row)
    return timings


def interleaved(contenders: dict, rounds: int = 4, warmup: int = 1) -> dict[str, float]:
    """Best wall-clock seconds of each zero-argument callable, run in turns."""
    timings = paired(contenders, rounds, warmup)
    return {name: min(row[name] for row in timings) for name in contenders}
