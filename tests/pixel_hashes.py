"""Hashes of what a render shows: PNG pixels and decoded MP4 frames (not file bytes, so
metadata such as the embedded preset may change without changing the pictures).

`python tests/pixel_hashes.py --update` re-renders every shipped preset as a draft and rewrites
``tests/draft_hashes.json``; do that only for a change that is meant to alter pictures.
`--update NAME...` re-renders just those presets and keeps the other entries.

Pixels are the same for the same preset, seed and device, and "device" includes the CPU's
vector instructions: PyTorch's kernels round differently with AVX2 and AVX-512, so the record is
kept per instruction set (``torch.backends.cpu.get_cpu_capability()``). An update writes the
current machine's table; a preset whose pictures it changed is dropped from the other tables (it
is then skipped there, named, until recorded on such a machine).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
HASHES = HERE / "draft_hashes.json"


def picture_hash(path: Path) -> str:
    """sha256 of a PNG's RGB pixels and shape, or of an MP4's decoded frames."""
    digest = hashlib.sha256()
    if path.suffix == ".png":
        from PIL import Image

        with Image.open(path) as picture:
            pixels = np.asarray(picture.convert("RGB"))
        digest.update(repr(pixels.shape).encode())
        digest.update(pixels.tobytes())
    else:
        import imageio_ffmpeg

        frames = imageio_ffmpeg.read_frames(str(path))
        meta = next(frames)
        digest.update(repr(meta["size"]).encode())
        for frame in frames:
            digest.update(bytes(frame))
    return digest.hexdigest()


def folder_hashes(folder: Path) -> dict[str, str]:
    """Every picture and video under a render folder, by relative path."""
    return {str(p.relative_to(folder)): picture_hash(p)
            for p in sorted(folder.rglob("*")) if p.suffix in (".png", ".mp4") and ".studio" not in p.parts}


def capability() -> str:
    import torch

    return torch.backends.cpu.get_cpu_capability()


def load_all() -> dict[str, dict[str, dict[str, str]]]:
    """{instruction set: {preset: {file: hash}}}."""
    return json.loads(HASHES.read_text()) if HASHES.is_file() else {}


def load() -> dict[str, dict[str, str]]:
    """This machine's table: {preset: {file: hash}}."""
    return load_all().get(capability(), {})


def recorded_elsewhere(name: str) -> list[str]:
    """The instruction sets whose tables hold ``name``."""
    return sorted(isa for isa, table in load_all().items() if name in table)


def update(out: Path, names: list[str] | None = None) -> None:
    """Render every shipped preset (or those ``names``) as a draft into ``out`` and record the hashes."""
    from click.testing import CliRunner

    from studio.cli import main
    from studio.models import availability
    from studio.preset import load_preset

    tables = load_all()
    before = tables.get(capability(), {})
    table = dict(before) if names else {}
    for path in sorted((HERE.parent / "presets").glob("*.toml")):
        if names and path.stem not in names:
            continue
        preset = load_preset(path)
        extra = [] if availability(preset.model.name).startswith("offline") else ["--set", "model.weights=none"]
        result = CliRunner().invoke(main, ["render", str(path), "--draft", "--out", str(out), "-q", *extra])
        assert result.exit_code == 0, result.output
        table[preset.name] = folder_hashes(out / f"{preset.name}-draft")
        print(preset.name, len(table[preset.name]), flush=True)
    for isa, other in tables.items():
        if isa != capability():
            for name in [n for n in other if n in before and before[n] != table.get(n)]:
                del other[name]  # its pictures changed here: what the other machines showed is stale
    tables[capability()] = table
    HASHES.write_text(json.dumps(tables, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] != ["--update"]:
        sys.exit(__doc__)
    import tempfile

    update(Path(tempfile.mkdtemp()), sys.argv[2:] or None)
