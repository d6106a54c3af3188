"""Timing helpers: the contenders run interleaved, round after round, and each keeps its best
round, so a noisy 2-core machine penalises them alike."""

from __future__ import annotations

import time


def sync(device) -> None:
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def interleaved(contenders: dict, rounds: int = 4, warmup: int = 1) -> dict[str, float]:
    """Best wall-clock seconds of each zero-argument callable, run in turns."""
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    best = {name: float("inf") for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            started = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - started)
    return best
