"""`--draft`: a quick look, like manim's -ql. Each scene's section says what it scales down
(``draft_changes``: sizes, steps, octaves, channel and frame counts); the output folder is
`<name>-draft`, so drafts never overwrite finals."""

from __future__ import annotations

import copy

from studio.preset.limits import DEFAULT, Limits
from studio.preset.schema import Preset


def make_draft(preset: Preset, limits: Limits = DEFAULT) -> Preset:
    """The same preset, scaled down for a quick look, named ``<name>-draft``."""
    from studio.preset.loader import Document, validate

    data = copy.deepcopy(preset.resolved)
    data["preset"]["name"] = f"{preset.name}-draft"
    for table, scene in zip(data["scenes"], preset.scenes):
        table.update(scene.draft())
    return validate(Document(data, preset.source, dict(preset.origins) or {(): preset.source}), limits)
