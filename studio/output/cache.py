"""Resume: a finished scene leaves a record of what produced it and what it wrote. Rendering
again skips a scene whose record matches (same scene keys, model and weights, seed, device,
output settings and studio version) and whose files are all still there."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from studio import __version__
from studio.output.files import write_json

CACHE_FOLDER = ".studio"


def scene_fingerprint(preset, index: int, device: str) -> str:
    """What one scene's files depend on; any change to it renders the scene again."""
    scene = preset.scenes[index]
    identity = {
        "scene": repr(scene),  # validated dataclass: defaults included
        "model": [preset.model.name, preset.model.weights],
        "seed": preset.preset.seed,
        "device": device,
        "output": repr(dataclasses.replace(preset.output, dir="")),
        "studio": __version__,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def _record_path(folder: Path, scene_name: str) -> Path:
    return folder / CACHE_FOLDER / f"{scene_name}.json"


def cached_entry(folder: Path, scene_name: str, fingerprint: str) -> dict | None:
    """The scene's log entry if its record matches and every file it wrote is still there."""
    path = _record_path(folder, scene_name)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if record.get("fingerprint") != fingerprint:
        return None
    if not all((folder / name).is_file() for name in record.get("files", [])):
        return None
    return record.get("entry")


def remember(folder: Path, scene_name: str, fingerprint: str, entry: dict, files: list[Path]) -> None:
    write_json(_record_path(folder, scene_name), {
        "fingerprint": fingerprint, "entry": entry,
        "files": [str(f.relative_to(folder)) for f in files]})


class PartCache:
    """Finished parts of a scene (a batch of channels, a run of frames), so an interrupted scene
    resumes from its last finished part instead of its start.

    Parts are kept as exact tensors (not 8-bit pictures), under ``.studio/parts/<scene>/``, in a
    folder named by the scene's fingerprint: a changed scene never reads another's parts. They
    are removed when the scene completes (its record then stands for all of it).

    Example:
        >>> import tempfile, torch
        >>> parts = PartCache(Path(tempfile.mkdtemp()), "grid", "f" * 64)
        >>> parts.save("batch-0", {"images": torch.ones(1)})
        >>> parts.load("batch-0")["images"]
        tensor([1.])
    """

    def __init__(self, folder: Path, scene_name: str, fingerprint: str, enabled: bool = True):
        self.root = folder / CACHE_FOLDER / "parts" / scene_name
        self.folder = self.root / fingerprint[:16]
        self.enabled = enabled
        self.reused = 0

    def _path(self, key: str) -> Path:
        return self.folder / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.pt"

    def load(self, key: str) -> dict | None:
        if not self.enabled:
            return None
        import torch

        try:
            payload = torch.load(self._path(key), map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError, ValueError):
            return None
        self.reused += 1
        return payload

    def save(self, key: str, payload: dict) -> None:
        import torch

        from studio.output.files import atomic_path

        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(self._path(key)) as temporary:
            torch.save(payload, temporary)

    def clear(self) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)
