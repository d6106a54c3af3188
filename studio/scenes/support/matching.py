"""What the scenes that descend towards targets (inversion, texture, style) build from their
sections: default layers, the descent, and the frames of its video (kept for a resume)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.errors import PresetError
from studio.frames import Frame
from studio.lazy import lazy
from studio.preset.fields import InputImage, Matching, SceneSection, rate

torch = lazy("torch")
optimize = lazy("studio.optimize")
layers = lazy("studio.models.layers")
colour = lazy("studio.pictures.colour")
film = lazy("studio.pictures.film")

if TYPE_CHECKING:
    from studio.scenes.support.context import SceneContext

VIDEO_FRAMES = 96  # frames of an optimisation video, whatever the step count
CHECKPOINT_FRAMES = 8  # an interrupted descent resumes from at most this many frames back
# Gatys et al.'s choice on VGG; on other networks the first stages (texture lives early)
STYLE_LAYERS_VGG = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER_VGG = "relu4_2"


@dataclass(frozen=True)
class Gram(SceneSection, InputImage, Matching):
    """Keys of the Gram-matrix scenes: the ``style`` image and the ``layers`` its statistics
    are matched at."""

    style: str | None = None
    """The style image (texture: the sample)."""
    layers: tuple[str, ...] | None = None
    """The layers whose Gram matrices are matched (default: VGG's `relu1_1` .. `relu5_1`, else a model's first four blocks)."""
    lr: float | tuple[float, float] = rate(0.03)
    """Adam's step size, or `[start, end]` ramped over the run."""


def style_layers(context: SceneContext, model, names: tuple[str, ...] | None) -> tuple[list[str], list[str]]:
    """``names`` (as written, resolved), or defaults that suit the network."""
    if names:
        return list(names), [context.layer(model, n, f"layers.{i}") for i, n in enumerate(names)]
    if layers.aliases_for(model.module):
        names = list(STYLE_LAYERS_VGG)
    elif hasattr(model.module, "blocks"):
        names = [f"blocks.{i}" for i in range(min(4, len(model.module.blocks)))]
    else:
        raise PresetError(context.source, context.key("layers"), f"no default style layers for {model.name}",
                          expected="`layers = [...]` (see `studio layers MODEL`)")
    return names, [context.layer(model, name, "layers") for name in names]


def content_layer(context: SceneContext, model, name: str | None) -> str:
    if name:
        return context.layer(model, name, "content_layer")
    if layers.aliases_for(model.module):
        return context.layer(model, CONTENT_LAYER_VGG, "content_layer")
    if hasattr(model.module, "blocks"):
        return context.layer(model, f"blocks.{min(3, len(model.module.blocks) - 1)}", "content_layer")
    raise PresetError(context.source, context.key("content_layer"), f"no default content layer for {model.name}",
                      expected="`content_layer = \"...\"`")


def descent(context: SceneContext, section: Matching, model, terms, progress, **kwargs):
    """The optimisation core's descent on ``terms`` with the section's steps and transforms."""
    settings = optimize.Settings(section.steps, optimize.Ramp.of(section.lr), optimize.Ramp(0.0, 0.0),
                                 optimize.Robustness(section.jitter, section.rotate, section.scale), section.param)
    return optimize.Descent(model, terms, settings, context.generator("descent"), on_step=progress.update, **kwargs)


def descend(context: SceneContext, run, start, every: int, frame=None):
    """Run a descent, yielding a Frame of ``frame(step, images)`` every ``every`` steps, and
    return the final images (``images = yield from descend(...)``).

    Resumable: the descent checkpoints itself into the scene's parts every ``CHECKPOINT_FRAMES``
    frames, and each frame is kept there too; after an interruption the kept frames are
    replayed and the descent goes on from its checkpoint, to the same pixels as an
    uninterrupted render.
    """
    parts = context.parts
    state = parts.load("descent") if parts is not None else None
    resume = True
    size = context.section.video_size if frame is not None else None  # a scene that makes a video
    if state is not None and frame is not None:
        steps = list(range(every, state["step"] + 1, every))
        replay = [parts.load(f"frame:{step}") for step in steps]
        resume = all(item is not None for item in replay)  # frames lost: start the descent over
        for step, item in zip(steps, replay) if resume else []:
            yield Frame(film.letterbox(item["frame"].permute(2, 0, 1).float() / 255, size, f"step {step}"))
    images = None
    for step, images in run.run(start, every, parts, every * CHECKPOINT_FRAMES, resume):
        if frame is not None:
            picture = frame(step, images)
            pixels = torch.from_numpy(colour.to_uint8(picture))
            if parts is not None:
                parts.save(f"frame:{step}", {"frame": pixels})
            # composed from the 8-bit picture a resumed render replays, so both give the same frame
            yield Frame(film.letterbox(pixels.permute(2, 0, 1).float() / 255, size, f"step {step}"))
    return images


def frame_every(steps: int) -> int:
    return max(1, steps // VIDEO_FRAMES)
