"""`--draft`: a quick look, like manim's -ql. Sizes, steps, octaves, channel and frame counts
are scaled down; the output folder is `<name>-draft`, so drafts never overwrite finals."""

from __future__ import annotations

import copy
import dataclasses

from studio.preset.schema import Preset

MIN_DRAFT_SIDE = 80  # inception_v3 needs 75 px
DRAFT_CHANNELS = 4
DRAFT_FRAMES = 6


def _fewer_channels(channels):
    if channels == "all":
        return f"0:{DRAFT_CHANNELS}"
    if isinstance(channels, str):
        start, stop = map(int, channels.split(":"))
        return f"{start}:{min(stop, start + DRAFT_CHANNELS)}"
    if isinstance(channels, tuple):
        return list(channels[:DRAFT_CHANNELS])
    return channels


def draft_changes(scene) -> dict:
    """The keys of one scene that a draft changes, with their draft values (TOML-ready)."""
    changes = {}
    values = {f.name: getattr(scene, f.name) for f in dataclasses.fields(scene)}
    if values.get("size"):
        width, height = values["size"]
        changes["size"] = [max(MIN_DRAFT_SIDE, width // 4), max(MIN_DRAFT_SIDE, height // 4)]
    if "steps" in values:
        changes["steps"] = max(2, values["steps"] // 8)
    if values.get("octaves", 1) > 2:
        changes["octaves"] = 2
    if values.get("upscale_steps", 0) > 2:
        changes["upscale_steps"] = 2
    if "channels" in values and values["channels"] is not None and scene.kind != "feature-maps":
        channels = values["channels"]
        if isinstance(channels, int) and scene.kind == "atlas":
            changes["channels"] = min(channels, DRAFT_CHANNELS)
        elif not isinstance(channels, int):
            changes["channels"] = _fewer_channels(channels)
    if "neurons" in values:
        neurons = values["neurons"]
        changes["neurons"] = DRAFT_FRAMES if neurons == "all" else min(neurons, DRAFT_FRAMES)
    if values.get("samples", 0) > 4:
        changes["samples"] = 4
    if scene.kind == "occlusion":
        changes["stride"] = max(values["stride"], values["window"])
    if scene.kind in ("neighbours", "embedding", "patches") and not values.get("size"):
        changes["size"] = [MIN_DRAFT_SIDE, MIN_DRAFT_SIDE]
    if "epochs" in values:
        changes["epochs"] = max(1, values["epochs"] // 10)
        changes["snapshot_every"] = max(1, values["snapshot_every"] // 10)
    return {k: v for k, v in changes.items() if v != values[k]}


def make_draft(preset: Preset) -> Preset:
    """The same preset, scaled down for a quick look, named ``<name>-draft``."""
    from studio.preset.loader import validate, Document

    data = copy.deepcopy(preset.resolved)
    data["preset"]["name"] = f"{preset.name}-draft"
    for table, scene in zip(data["scenes"], preset.scenes):
        table.update(draft_changes(scene))
    return validate(Document(data, preset.source, {(): preset.source}))
