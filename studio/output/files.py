"""Atomic files: written under a temporary name in the same folder, renamed when complete."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

PRESET_CHUNK = "studio-preset"


@contextlib.contextmanager
def atomic_path(path: Path, suffix: str | None = None):
    """Yield a temporary path beside ``path``; on success rename it onto ``path``, else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.partial{suffix or path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(path: Path, data) -> None:
    write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")


def _json_default(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def write_png(path: Path, pixels: np.ndarray, text: dict[str, str] | None = None) -> None:
    """Write (H, W, 3) uint8 pixels as PNG with text chunks (the preset rides along)."""
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_itxt(key, value, zip=True)
    with atomic_path(path) as temporary:
        Image.fromarray(pixels).save(temporary, format="PNG", pnginfo=info, compress_level=6)


def read_png_text(path: Path, key: str = PRESET_CHUNK) -> str | None:
    with Image.open(path) as picture:
        picture.load()
        return picture.text.get(key)
