"""studio: a batch renderer for what neural networks see.

From Python (see ``studio.api``)::

    import studio
    image = studio.visualize("efficientnet_lite0", "blocks.4:17", size=256)
    result = studio.render_scene(model, "maximize", layer="blocks.3", channels=[1, 2])
    studio.render("presets/quickstart.toml", out="renders")

The command line imports this package too, so the API loads (with torch) on first use only.
"""

from studio.allocator import keep_freed_memory
from studio.version import __version__

keep_freed_memory()  # before torch allocates anything: see studio/allocator.py

_API = ("visualize", "render_scene", "render", "wrap", "SceneResult", "Wrapped")
__all__ = ["PresetError", "StudioError", "__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from studio import api

        return getattr(api, name)
    if name in ("PresetError", "StudioError"):
        from studio import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'studio' has no attribute {name!r}")
