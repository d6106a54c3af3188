"""Atomic files: written under a temporary name in the same folder, renamed when complete.

Temporary names are unpredictable and created exclusively, so a link planted in the output
folder is never followed; the rename replaces a link at the final name, not what it points to.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from studio.errors import RenderError

PRESET_CHUNK = "studio-preset"


def make_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents), or say in one message why it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RenderError(cannot_write(folder, error)) from None
    if not folder.is_dir():
        raise RenderError(f"cannot write into {folder}: it is a file, not a folder")


def cannot_write(path: Path, error: OSError) -> str:
    """One sentence: which file or folder could not be written, why, and what to do."""
    why = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only",
           errno.EACCES: "permission denied", errno.EPERM: "permission denied",
           errno.ENAMETOOLONG: "the name is too long", errno.EEXIST: "it is a file, not a folder",
           errno.ENOTDIR: "a part of the path is a file, not a folder"}.get(error.errno,
                                                                            error.strerror or str(error))
    advice = ("finished files were kept and no partial file was left; free some space and run the same "
              "command again" if error.errno == errno.ENOSPC else "choose another --out")
    return f"cannot write {path}: {why}; {advice}"


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once, at import: setting the umask to read it is process-wide, and files are written from
# a background thread too.
UMASK = _read_umask()


@contextlib.contextmanager
def atomic_path(path: Path, suffix: str | None = None):
    """Yield a new, exclusively created temporary path beside ``path``; on success rename it
    onto ``path``, else delete it. An OSError (a full disk, a read-only folder) becomes one
    RenderError naming the file."""
    path = Path(path)
    make_folder(path.parent)
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:40]}.", suffix=".partial"
                                        + (suffix or path.suffix))
    except OSError as error:
        raise RenderError(cannot_write(path, error)) from None
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        # mkstemp makes the file private (0600); a render is for sharing, so it gets the
        # permissions any new file would (0644 under the usual umask), as ffmpeg's and PIL's own.
        os.chmod(temporary, 0o666 & ~UMASK)
        os.replace(temporary, path)
    except OSError as error:
        raise RenderError(cannot_write(path, error)) from None
    finally:
        with contextlib.suppress(OSError):
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
