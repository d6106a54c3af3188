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


def frame_every(steps: int) -> int:
    return max(1, steps // VIDEO_FRAMES)


def sheet(references: list[torch.Tensor], images: torch.Tensor, labels: list[str], title: str) -> torch.Tensor:
    """References (each (1, 3, h, w), brought to the result's size) then results, labelled."""
    height, width = images.shape[-2:]
    from studio.optimize.param import resize

    tiles = [resize(r, height, width)[0].cpu() for r in references] + [i.cpu() for i in images]
    return contact_sheet(tiles, labels, title)
