"""What the optimisation scenes (maximize, dream, progressive, atlas) share: size plans,
batches that fit memory, and contact sheets."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from studio.optimize import Ascent, AscentSettings, check_smallest_size, octave_sizes, upscale_sizes
from studio.output.images import labelled_grid
from studio.optimize.param import resize

# Pixels per batch. On a GPU big batches fill the device; on the CPU small ones stay in cache:
# EfficientNet-Lite0 forward+backward is fastest per image at about 4 images of 128-224 px,
# and a forward alone at one image (batch 32 costs 1.7-2.5x more per image), measured here.
PIXELS_PER_BATCH = {"cpu": 1 << 18, "cuda": 1 << 24}
PIXELS_PER_FORWARD = {"cpu": 1 << 15, "cuda": 1 << 24}
SHEET_TILE = 192  # contact-sheet tiles are at most this many pixels a side (full size: one PNG each)


def working_size(scene, model_size: tuple[int, int]) -> tuple[int, int]:
    """(height, width) of the final image: the scene's ``size`` or the model's input size."""
    return (scene.size[1], scene.size[0]) if scene.size else model_size


def size_plan(scene, model_size: tuple[int, int]) -> list[tuple[int, int]]:
    """The sizes an optimisation passes through, smallest first.

    With ``upscale_steps`` (seed 003) ``size`` is where it starts; with octaves it is where
    it ends.
    """
    height, width = working_size(scene, model_size)
    if getattr(scene, "upscale_steps", 0):
        return upscale_sizes(height, width, scene.upscale_steps, scene.upscale_factor)
    return octave_sizes(height, width, scene.octaves, scene.octave_scale)


def batch_size(requested: int | None, size: tuple[int, int], device: torch.device,
               backward: bool = True) -> int:
    """The scene's ``batch``, or as many images as fit the device's pixel budget (for
    forward+backward passes, or for forward passes alone)."""
    if requested:
        return requested
    budget = (PIXELS_PER_BATCH if backward else PIXELS_PER_FORWARD).get(device.type, 1 << 18)
    return max(1, budget // (size[0] * size[1]))


def chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def contact_sheet(images: list[torch.Tensor], labels: list[str], title: str) -> torch.Tensor:
    """A labelled grid of (3, H, W) images, tiles shrunk to at most ``SHEET_TILE`` px."""
    height, width = images[0].shape[-2:]
    ratio = min(1.0, SHEET_TILE / max(height, width))
    tiles = torch.stack([img.float() for img in images])
    if ratio < 1:
        tiles = resize(tiles, max(1, round(height * ratio)), max(1, round(width * ratio)))
    return labelled_grid(tiles, labels, title=title)


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


def out_of_memory_retry(run, items: list, progress, splits: list[dict], what: str = "batch"):
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
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    progress.n = done_before  # the failed attempt's steps are done again
    half = len(items) // 2
    message = f"out of memory with a {what} of {len(items)}: retrying as {half} + {len(items) - half}"
    splits.append({"size": len(items), "into": [half, len(items) - half]})
    progress.write(message)
    yield from out_of_memory_retry(run, items[:half], progress, splits, what)
    yield from out_of_memory_retry(run, items[half:], progress, splits, what)


def climb_batches(context, model, objective_for, batches: list[list], start: torch.Tensor,
                  sizes: list[tuple[int, int]], progress, climbs: Climbs | None = None):
    """Climb each batch from the same start, replaying the same random draws, so an image does
    not depend on which others share its batch. Yields (batch, images) as each batch finishes;
    a batch that runs out of memory is split in two and climbed again."""
    climbs = climbs if climbs is not None else Climbs()
    settings = AscentSettings.from_scene(context.scene)

    def climb(batch):
        ascent = Ascent(model, objective_for(batch), settings, context.generator("ascent"), progress.update)
        result = ascent.run(start.expand(len(batch), -1, -1, -1), sizes)
        with torch.no_grad():
            values = [round(v, 6) for v in ascent.score(result).tolist()]
        return result, values, ascent.scores

    def finished(batch):  # a batch an interrupted render already climbed
        parts = context.parts
        found = parts.load(f"climb:{list(batch)}:{sizes}") if parts is not None else None
        if found is not None:
            progress.update(settings.steps * len(sizes))
            return found["images"].to(start.device), found["values"], found["curve"]
        result, values, curve = climb(batch)
        if parts is not None:
            parts.save(f"climb:{list(batch)}:{sizes}", {"images": result.cpu(), "values": values, "curve": curve})
        return result, values, curve

    for whole in batches:
        for batch, (result, values, curve) in out_of_memory_retry(finished, whole, progress, climbs.splits):
            climbs.values += values
            climbs.images += [image.cpu() for image in result]
            climbs.curves.append(curve)
            yield batch, result


def one_layer_plan(context):
    """model, resolved layer, size plan and activation shapes at the smallest size, for scenes
    that climb one layer from the scene's input."""
    model = context.model()
    path = context.layer(model, context.scene.layer)
    sizes = size_plan(context.scene, model.input_size)
    shapes = check_smallest_size(model, [path], sizes[0], context.source, context.key("size"))
    start = context.input(model.input_size, size=(sizes[0][1], sizes[0][0]))
    return model, path, sizes, shapes[path], start
