"""Scene registry: ``kind = "..."`` to the module that is its single home.

Every module directly in ``studio/scenes/`` is a kind (one technique, one file); what kinds share
lives in ``studio/scenes/support/`` (the context a scene is built with, the ``Scene`` protocol and
its ``SceneBase``, helpers of the optimising, matching and attributing kinds). A kind's module
holds two things:

- ``Section``: a frozen dataclass of the keys the kind takes (validated by ``studio.preset``),
  each with its meaning written beside it, with its cross-key ``check`` and its
  ``draft_changes`` for ``--draft``;
- ``Scene(context)``, on ``SceneBase``: the renderer. Its constructor checks everything that
  depends on the model (layers, channels, inputs, memory: ``self.step = context.plan_step(...)``)
  so a bad preset fails before anything is written; ``total`` is its progress length;
  ``render(progress)`` yields Stills, Frames and Records.

Modules are imported only when a preset names their kind, and import torch only when they
render (see ``studio/lazy.py``), so validating a preset stays instant. Adding a kind is one file
and one line below.
"""

from __future__ import annotations

import importlib

KINDS = {
    "feature-maps": "studio.scenes.feature_maps",
    "probe": "studio.scenes.probe",
    "maximize": "studio.scenes.maximize",
    "dream": "studio.scenes.dream",
    "progressive": "studio.scenes.progressive",
    "atlas": "studio.scenes.atlas",
    "train": "studio.scenes.train",
    "saliency": "studio.scenes.saliency",
    "guided-backprop": "studio.scenes.guided_backprop",
    "occlusion": "studio.scenes.occlusion",
    "patches": "studio.scenes.patches",
    "neighbours": "studio.scenes.neighbours",
    "embedding": "studio.scenes.embedding",
    "inversion": "studio.scenes.inversion",
    "texture": "studio.scenes.texture",
    "style": "studio.scenes.style",
    "tour": "studio.scenes.tour",
    "filters": "studio.scenes.filters",
    "poster": "studio.scenes.poster",
    "zoom": "studio.scenes.zoom",
}


def section_class(kind: str) -> type:
    """The dataclass of a kind's keys (``kind`` must be in :data:`KINDS`)."""
    return importlib.import_module(KINDS[kind]).Section


def renderer_class(kind: str) -> type:
    """The class that renders a kind: ``Scene(context)``."""
    return importlib.import_module(KINDS[kind]).Scene
