"""What the climbing scenes (maximize, dream, progressive, atlas) build from their sections:
the ascent settings, the sizes a climb passes through, and the plan of a one-layer climb."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.lazy import lazy
from studio.preset.fields import Optimisation, Variants

optimize = lazy("studio.optimize")
torch = lazy("torch")
models = lazy("studio.models")

VARIANT_NOISE = 0.05  # variants 2.. start from the scene's start plus this much seeded noise

if TYPE_CHECKING:
    from studio.scenes.support.context import SceneContext


def ascent_settings(section: Optimisation, tile: int | None = None):
    """The optimisation core's settings for a section's steps, schedules and transforms."""
    return optimize.Settings(section.steps, optimize.schedule(section.lr), optimize.schedule(section.blur),
                             optimize.Robustness(section.jitter, section.rotate, section.scale), section.param,
                             tile, blur_kernel=section.blur_kernel, decorrelate=section.decorrelate,
                             margin=section.margin, margin_fill=section.margin_fill,
                             levels=section.levels == "stretch")


def size_plan(section: Optimisation, model_size: tuple[int, int], upscale_steps: int = 0,
              upscale_factor: float = 1.2) -> list[tuple[int, int]]:
    """The sizes (h, w) a climb passes through, smallest first.

    With ``upscale_steps`` (seed 003) the section's ``size`` is where it starts; with octaves
    it is where it ends.
    """
    height, width = section.size or model_size
    if upscale_steps:
        return optimize.upscale_sizes(height, width, upscale_steps, upscale_factor)
    return optimize.octave_sizes(height, width, section.octaves, section.octave_scale)


def units_per_step(sizes: list[tuple[int, int]], tiles: int = 1) -> float:
    """Progress units (steps, each at its own size) that one workload step at the final size
    stands for: earlier sizes cost less by their area; a tiled step is ``tiles`` workload steps.
    For the time estimate and a torchrun team's balance.

    Example:
        >>> units_per_step([(50, 50), (100, 100)]), units_per_step([(100, 100)], tiles=4)
        (1.6, 0.25)
    """
    final = sizes[-1][0] * sizes[-1][1]
    mean_cost = sum(height * width for height, width in sizes) / len(sizes) / final
    return 1 / (mean_cost * tiles)


def one_layer_plan(context: SceneContext, section, sizes_for=size_plan):
    """Model, resolved layer, size plan, activation shape at the smallest size and start
    image, for scenes that climb one layer from the section's input."""
    model = context.model()
    path = context.layer(model, section.layer)
    sizes = sizes_for(section, model.input_size)
    shapes = optimize.check_smallest_size(model, [path], sizes[0], context.source, context.key("size"))
    start = context.input(section.input, sizes[0], model.input_size)
    return model, path, sizes, shapes[path], start


def dream_plan(context: SceneContext, section):
    """What a dream (and a zoom) climbs: the model, the layers as written and resolved, the
    start image, the octave sizes and each layer's DeepDream objective (of the chosen channels)."""
    model = context.model()
    names, paths = context.layers(model, section.layer, section.layers)
    start = context.input(section.input, section.size, model.input_size)
    height, width = start.shape[-2:]
    sizes = optimize.octave_sizes(height, width, section.octaves, section.octave_scale)
    shapes = optimize.check_smallest_size(model, paths, sizes[0], context.source, context.key("octaves"))
    channels = None
    if section.channels is not None:
        channels = context.channels(section.channels, min(s[0] for s in shapes.values()))
    terms = [optimize.objectives.layer_l2(p, channels) for p in paths]
    return model, names, paths, start, sizes, terms


AUTO_TILE_PIXELS = 1024 * 1024
AUTO_TILE = 512


def tile_plan(tile: int | None, height: int, width: int, halo: int) -> tuple[int | None, tuple[int, int], int]:
    """(tile side, the size one step works on, tiles per step): ``tile``, or automatic past a
    megapixel.

    Example:
        >>> tile_plan(None, 1080, 1920, 64)
        (512, (640, 640), 12)
    """
    if tile is None and height * width > AUTO_TILE_PIXELS:
        tile = AUTO_TILE
    if not tile:
        return None, (height, width), 1
    return tile, (min(height, tile + 2 * halo), min(width, tile + 2 * halo)), -(-height // tile) * -(-width // tile)


def tiled_work(height: int, width: int, tile: int, halo: int, margin: int = 0) -> tuple[int, int]:
    """The size (h, w) of one untiled step that costs what a tiled step does: the image with its
    margin, and a halo on both sides of every seam between tiles; the grid moves every step, so
    a side of n tiles is usually cut into n + 1 pieces.

    Example:
        >>> tiled_work(1024, 1024, 512, 64)
        (1280, 1280)
    """
    framed_height, framed_width = height + 2 * margin, width + 2 * margin
    seams_down, seams_across = -(-framed_height // tile), -(-framed_width // tile)
    return framed_height + 2 * halo * seams_down, framed_width + 2 * halo * seams_across


def variant_starts(context: SceneContext, start, count: int):
    """(count, 3, H, W): the start, then ``count - 1`` seeded variations of it (identical starts
    would stay identical: their diversity gradients are the same)."""
    if count == 1:
        return start
    others = [(start + VARIANT_NOISE * torch.randn(start.shape, generator=context.generator(f"variant-{v}"))
               .to(start.device)).clamp(0, 1) for v in range(1, count)]
    return torch.cat([start, *others])


def channel_objectives(path: str, section: Optimisation | Variants):
    """What a batch of channels climbs (each channel ``variants`` times, negated with
    ``negative``, minus ``diversity`` × the variants' likeness) and what is reported of it (the
    channels' own activation)."""
    count = getattr(section, "variants", 1)

    def measure(batch):
        return optimize.objectives.channel(path, torch.tensor(batch).repeat_interleave(count))

    def climb(batch):
        objective = -measure(batch) if section.negative else measure(batch)
        if count > 1 and section.diversity:
            objective = objective - section.diversity * optimize.objectives.similarity(path, count)
        return objective

    plain = count == 1 and not section.negative
    return (measure, None) if plain else (climb, measure)


def variant_labels(channels: list[int], count: int) -> list[str]:
    """``7`` for one picture a channel, ``7·1``, ``7·2`` ... for several."""
    return [str(c) if count == 1 else f"{c}·{v + 1}" for c in channels for v in range(count)]


def sheet_columns(section) -> int | None:
    """A climbed sheet's columns: the section's ``columns``, else one row per channel when it has
    variants, else about square (None)."""
    return section.columns or (section.variants if section.variants > 1 else None)


def variant_distance(model, path: str, images, count: int) -> float:
    """1 − the mean Gram-matrix cosine similarity between the variants of each channel: how far
    apart they are in the layer's style (0: alike)."""
    likeness = optimize.objectives.similarity(path, count)
    found = []
    with torch.no_grad():
        for first in range(0, len(images), 4 * count):
            batch = torch.stack(images[first:first + 4 * count]).to(model.device)
            found.append(likeness(models.LayerTap(model, [path])(batch)).cpu())
    return round(1 - float(torch.cat(found).mean()), 6)
