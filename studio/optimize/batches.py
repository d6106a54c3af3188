"""Many climbs as batches: how many images fit a batch, one climb per batch from the same
start (so an image never depends on its batch-mates), finished batches kept for a resume, and
out-of-memory errors answered by splitting the batch or shrinking the tile."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch

from studio.models import LoadedModel
from studio.optimize.ascent import Ascent
from studio.optimize.loop import PartStore, Settings
from studio.optimize.objectives import Objective

# Pixels per batch. On a GPU big batches fill the device; on the CPU small ones stay in cache:
# EfficientNet-Lite0 forward+backward is fastest per image at about 4 images of 128-224 px,
# and a forward alone at one image (batch 32 costs 1.7-2.5x more per image), measured here.
PIXELS_PER_BATCH = {"cpu": 1 << 18, "cuda": 1 << 24}
PIXELS_PER_FORWARD = {"cpu": 1 << 15, "cuda": 1 << 24}
MIN_TILE = 64  # an out-of-memory error halves a dream's tile down to this


def batch_size(requested: int | None, size: tuple[int, int], device: torch.device,
               backward: bool = True) -> int:
    """The scene's ``batch``, or as many images of ``size`` (h, w) as fit the device's pixel
    budget (for forward+backward passes, or for forward passes alone).

    Example:
        >>> batch_size(None, (128, 128), torch.device("cpu"))
        16
    """
    if requested:
        return requested
    budget = (PIXELS_PER_BATCH if backward else PIXELS_PER_FORWARD).get(device.type, 1 << 18)
    return max(1, budget // (size[0] * size[1]))


def chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _free_cached_memory() -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def split_on_out_of_memory(run: Callable[[list], object], items: list, progress, splits: list[dict],
                           what: str = "batch") -> Iterator[tuple[list, object]]:
    """``run(items)`` → results; on an out-of-memory error, halve ``items`` and retry each half
    (saying so), down to one item. Yields (items, result) for each part that fit.

    Safe for the pictures because every climb replays the same random draws: an image does not
    depend on which others share its batch.
    """
    done_before = progress.n
    try:
        yield items, run(items)
        return
    except torch.OutOfMemoryError:
        if len(items) == 1:
            raise
    _free_cached_memory()
    progress.n = done_before  # the failed attempt's steps are done again
    half = len(items) // 2
    splits.append({"size": len(items), "into": [half, len(items) - half]})
    progress.write(f"out of memory with a {what} of {len(items)}: retrying as {half} + {len(items) - half}")
    yield from split_on_out_of_memory(run, items[:half], progress, splits, what)
    yield from split_on_out_of_memory(run, items[half:], progress, splits, what)


def shrink_tile_on_out_of_memory(climb: Callable[[Settings], object], settings: Settings,
                                 progress) -> tuple[object, Settings]:
    """``climb(settings)``; on an out-of-memory error with tiles, halve the tile (down to
    ``MIN_TILE``) and start again, saying so. Returns the result and the settings that fit."""
    while True:
        try:
            return climb(settings), settings
        except torch.OutOfMemoryError:
            tile = settings.tile
            if not tile or tile <= MIN_TILE:
                raise
            _free_cached_memory()
            settings = dataclasses.replace(settings, tile=tile // 2)
            progress.n = 0
            progress.write(f"out of memory with {tile} px tiles: starting again with {tile // 2} px")


@dataclass
class Climbs:
    """Images from one climb per batch, their final objective values and the mean curve, and
    the batches that had to be split to fit memory."""

    images: list[torch.Tensor] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    curves: list[list[float]] = field(default_factory=list)
    splits: list[dict] = field(default_factory=list)

    @property
    def curve(self) -> list[float]:
        return [round(sum(v) / len(v), 6) for v in zip(*self.curves)]


def climb_batches(model: LoadedModel, objective_for: Callable[[list], Objective], batches: list[list],
                  start: torch.Tensor, sizes: list[tuple[int, int]], settings: Settings, seed: int,
                  progress, parts: PartStore | None = None, climbs: Climbs | None = None,
                  measure_for: Callable[[list], Objective] | None = None):
    """Climb each batch from ``start`` through ``sizes``, every batch drawing from a generator
    seeded with ``seed``, so an image does not depend on which others share its batch. Yields
    (batch, images) as each batch finishes; a batch an interrupted render already climbed comes
    from ``parts``; one that runs out of memory is split in two and climbed again.

    Args:
        start: (K, 3, H, W): K images per batch item (variants of one channel, climbed side by
            side), item-major in the batch.
        measure_for: the objective whose final values are reported (default: the one climbed).
    """
    climbs = climbs if climbs is not None else Climbs()
    measure_for = measure_for or objective_for

    def starts(count: int) -> torch.Tensor:
        return start.expand(count, -1, -1, -1) if start.shape[0] == 1 else start.repeat(count, 1, 1, 1)

    def climb(batch):
        ascent = Ascent(model, objective_for(batch), settings, torch.Generator().manual_seed(seed), progress.update)
        result = ascent.run(starts(len(batch)), sizes)
        measured = ascent if measure_for is objective_for else Ascent(model, measure_for(batch), settings,
                                                                      torch.Generator())
        with torch.no_grad():
            values = [round(v, 6) for v in measured.score(result).tolist()]
        return result, values, ascent.scores

    def finished(batch, index):
        # the objective's name holds its layer: two modules of an atlas climb the same channel numbers
        key = f"climb:{objective_for(batch).name}:{list(batch)}:{sizes}"
        found = parts.load(key) if parts is not None else None
        if found is not None:
            progress.update(settings.steps * len(sizes))
            return found["images"].to(start.device), found["values"], found["curve"]
        if parts is not None and not parts.mine(index):  # another process of the team climbs it
            progress.update(settings.steps * len(sizes))
            count = len(batch) * start.shape[0]
            return (start.new_zeros(count, 3, *sizes[-1]), [0.0] * count,
                    [0.0] * (settings.steps * len(sizes)))
        result, values, curve = climb(batch)
        if parts is not None:
            parts.save(key, {"images": result.cpu(), "values": values, "curve": curve})
        return result, values, curve

    for index, whole in enumerate(batches):
        for batch, (result, values, curve) in split_on_out_of_memory(lambda items: finished(items, index), whole,
                                                                     progress, climbs.splits):
            climbs.values += values
            climbs.images += [image.cpu() for image in result]
            climbs.curves.append(curve)
            yield batch, result
