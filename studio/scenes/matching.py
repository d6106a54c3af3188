"""What the scenes that descend towards targets (inversion, texture, style) share: default
layers, the descent from a scene's settings, and the frames of its video."""

from __future__ import annotations

import torch

from studio.errors import PresetError
from studio.models.layers import aliases_for
from studio.optimize import AscentSettings
from studio.optimize.match import Descent
from studio.scenes.optimizing import contact_sheet

VIDEO_FRAMES = 96  # frames of an optimisation video, whatever the step count
CHECKPOINT_FRAMES = 8  # an interrupted descent resumes from at most this many frames back
# Gatys et al.'s choice on VGG; on other networks the first stages (texture lives early)
STYLE_LAYERS_VGG = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER_VGG = "relu4_2"


def style_layers(context, model) -> tuple[list[str], list[str]]:
    """The scene's ``layers`` (as written, resolved), or defaults that suit the network."""
    scene = context.scene
    if scene.layers:
        return list(scene.layers), [context.layer(model, n, f"layers.{i}") for i, n in enumerate(scene.layers)]
    if aliases_for(model.module):
        names = list(STYLE_LAYERS_VGG)
    elif hasattr(model.module, "blocks"):
        names = [f"blocks.{i}" for i in range(min(4, len(model.module.blocks)))]
    else:
        raise PresetError(context.source, context.key("layers"), f"no default style layers for {model.name}",
                          expected="`layers = [...]` (see `studio layers MODEL`)")
    return names, [context.layer(model, name, "layers") for name in names]


def content_layer(context, model) -> str:
    scene = context.scene
    if scene.content_layer:
        return context.layer(model, scene.content_layer, "content_layer")
    if aliases_for(model.module):
        return context.layer(model, CONTENT_LAYER_VGG, "content_layer")
    if hasattr(model.module, "blocks"):
        return context.layer(model, f"blocks.{min(3, len(model.module.blocks) - 1)}", "content_layer")
    raise PresetError(context.source, context.key("content_layer"), f"no default content layer for {model.name}",
                      expected="`content_layer = \"...\"`")


def descent(context, model, terms, progress, **kwargs) -> Descent:
    settings = AscentSettings.from_scene(context.scene)
    return Descent(model, terms, settings, context.generator("descent"), on_step=progress.update, **kwargs)


def descend(context, run: Descent, start: torch.Tensor, every: int, frame=None):
    """Run a descent, yielding a Frame of ``frame(step, images)`` every ``every`` steps, and
    return the final images (``images = yield from descend(...)``).

    Resumable: every ``CHECKPOINT_FRAMES`` frames the descent's state goes into the scene's
    parts, and each frame too; after an interruption the frames are replayed and the descent
    goes on from its checkpoint, to the same pixels as an uninterrupted render.
    """
    from studio.frames import Frame
    from studio.output.images import to_uint8

    parts = context.parts
    state = parts.load("descent") if parts is not None else None
    replay = []
    if state is not None and frame is not None:
        replay = [parts.load(f"frame:{step}") for step in range(every, state["step"] + 1, every)]
        if any(item is None for item in replay):
            state, replay = None, []
    for item in replay:
        yield Frame(item["frame"].permute(2, 0, 1).float() / 255)

    def checkpoint(snapshot):
        if snapshot["step"] % (every * CHECKPOINT_FRAMES) == 0:
            parts.save("descent", snapshot)

    images = None
    for step, images in run.run(start, every, checkpoint if parts is not None else None, state):
        if frame is not None:
            picture = frame(step, images)
            if parts is not None:
                parts.save(f"frame:{step}", {"frame": torch.from_numpy(to_uint8(picture))})
            yield Frame(picture)
    return images


def frame_every(steps: int) -> int:
    return max(1, steps // VIDEO_FRAMES)


def sheet(references: list[torch.Tensor], images: torch.Tensor, labels: list[str], title: str) -> torch.Tensor:
    """References (each (1, 3, h, w), brought to the result's size) then results, labelled."""
    height, width = images.shape[-2:]
    from studio.optimize.param import resize

    tiles = [resize(r, height, width)[0].cpu() for r in references] + [i.cpu() for i in images]
    return contact_sheet(tiles, labels, title)
