"""What the climbing scenes (maximize, dream, progressive, atlas) build from their sections:
the ascent settings, the sizes a climb passes through, and the plan of a one-layer climb."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.lazy import lazy
from studio.preset.fields import Optimisation

optimize = lazy("studio.optimize")

if TYPE_CHECKING:
    from studio.scenes.context import SceneContext


def ascent_settings(section: Optimisation, tile: int | None = None):
    """The optimisation core's settings for a section's steps, schedules and transforms."""
    return optimize.Settings(section.steps, optimize.Ramp.of(section.lr), optimize.Ramp.of(section.blur),
                             optimize.Robustness(section.jitter, section.rotate, section.scale), section.param,
                             tile)


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


def one_layer_plan(context: SceneContext, section, sizes_for=size_plan):
    """Model, resolved layer, size plan, activation shape at the smallest size and start
    image, for scenes that climb one layer from the section's input."""
    model = context.model()
    path = context.layer(model, section.layer)
    sizes = sizes_for(section, model.input_size)
    shapes = optimize.check_smallest_size(model, [path], sizes[0], context.source, context.key("size"))
    start = context.input(section.input, sizes[0], model.input_size)
    return model, path, sizes, shapes[path], start
