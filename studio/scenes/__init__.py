"""Scene registry: ``kind = "..."`` to the module that renders it. One technique, one file.

Each module defines ``Scene(context)``: the constructor checks everything that depends on the
model (layers, channels, inputs) so a bad preset fails before anything is written; ``total`` is
its progress length; ``render(progress)`` yields Stills, Frames and Records.
"""

from __future__ import annotations

import importlib

from studio.errors import PresetError

RENDERERS = {
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
}


def scene_class(kind: str, source: str = "<preset>", key: str = "kind"):
    module = RENDERERS.get(kind)
    if module is None:
        raise PresetError(source, key, f"scene kind `{kind}` is valid but this version of studio "
                          "cannot render it yet", expected="one of " + ", ".join(RENDERERS))
    return importlib.import_module(module).Scene
