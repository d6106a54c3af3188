"""Names scenes give things in titles and logs."""

from __future__ import annotations


def layer_label(model, path: str) -> str:
    """A layer's module path, with its alias where it has one: ``features.28 (conv5_1)``."""
    from studio.models.layers import aliases_for

    names = [alias for alias, target in aliases_for(model.module).items() if target == path]
    return f"{path} ({names[0]})" if names else path


def as_wh(sizes: list[tuple[int, int]]) -> list[list[int]]:
    """(h, w) sizes as log.json writes them, ``[width, height]`` like the preset.

    Example:
        >>> as_wh([(48, 64)])
        [[64, 48]]
    """
    return [[width, height] for height, width in sizes]
