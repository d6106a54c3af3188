"""Resume: a finished scene leaves a record of what produced it and what it wrote. Rendering
again skips a scene whose record matches (same scene keys, model and weights, seed, device,
output settings, studio version, and the contents of every file the scene reads) and whose
files are all still there, unchanged."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from studio.output.files import write_json
from studio.version import __version__

CACHE_FOLDER = ".studio"


HASHED_FILE_BYTES = 1 << 28  # larger files (and folders' files) are known by size and time
FOLDER_FILES = 10_000


def file_digest(path: Path) -> str:
    """sha256 of a file's contents (or of its size and modification time past 256 MiB)."""
    status = path.stat()
    if status.st_size > HASHED_FILE_BYTES:
        return f"{status.st_size}:{status.st_mtime_ns}"
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _path_digest(path: Path) -> str:
    if path.is_file():
        return file_digest(path)
    listing = sorted(p for p in path.rglob("*") if p.is_file())[:FOLDER_FILES]
    return hashlib.sha256("\n".join(f"{p.relative_to(path)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                                     for p in listing).encode()).hexdigest()


def read_files(values, base: Path) -> dict[str, str]:
    """Digests of the files and folders named by the strings in ``values`` (a section's
    fields, nested): what a scene reads besides the network, so replacing an input image or a
    checkpoint at the same path renders the scene again."""
    found: dict[str, str] = {}

    def visit(value):
        if isinstance(value, Mapping):
            for item in value.values():
                visit(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, str) and value and ":" not in value.split("/")[0]:
            for candidate in (base / value, Path(value)):
                try:
                    if candidate.exists():
                        found[value] = _path_digest(candidate)
                        return
                except OSError:
                    return

    visit(values)
    return found


def scene_identity(section) -> str:
    """A validated section as its dataclass repr, defaults included (a changed default renders
    again), except keys added since (metadata ``since``) while they hold their default: those
    render what studio rendered before they existed, so adding one leaves earlier renders fresh.

    Example:
        >>> from studio.scenes.filters import Section
        >>> scene_identity(Section(kind="filters", name="f")) == repr(Section(kind="filters", name="f"))
        False
        >>> "columns" in scene_identity(Section(kind="filters", name="f", columns=4))
        True
    """
    shown = [f for f in dataclasses.fields(section) if f.repr]
    parts = [f"{f.name}={getattr(section, f.name)!r}" for f in shown
             if not ("since" in f.metadata and getattr(section, f.name) == f.default)]
    return f"{type(section).__qualname__}({', '.join(parts)})"


def scene_fingerprint(preset, index: int, device: str, base: Path | None = None) -> str:
    """What one scene's files depend on; any change to it renders the scene again."""
    scene = preset.scenes[index]
    base = base or Path.cwd()
    identity = {
        "scene": scene_identity(scene),
        "model": [preset.model.name, preset.model.weights],
        "seed": preset.preset.seed,
        "device": device,
        "output": repr(dataclasses.replace(preset.output, dir="")),
        "studio": __version__,
        "reads": read_files([{f.name: getattr(scene, f.name) for f in dataclasses.fields(scene)},
                             preset.model.name, preset.model.weights], base),
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
    files = record.get("files", {})
    if not isinstance(files, dict):  # a record from before files were hashed
        return None
    for name, digest in files.items():
        path = folder / name
        try:
            if path.is_symlink() or not path.is_file() or file_digest(path) != digest:
                return None
        except OSError:
            return None
    return record.get("entry")


def forget(folder: Path, scene_name: str) -> None:
    """Remove the scene's finished record: it renders again from its start."""
    _record_path(folder, scene_name).unlink(missing_ok=True)


def remember(folder: Path, scene_name: str, fingerprint: str, entry: dict, files: list[Path]) -> None:
    write_json(_record_path(folder, scene_name), {
        "fingerprint": fingerprint, "entry": entry,
        "files": {str(f.relative_to(folder)): file_digest(f) for f in files}})


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

    def __init__(self, folder: Path, scene_name: str, fingerprint: str, enabled: bool = True,
                 share: tuple[int, int] | None = None):
        self.root = folder / CACHE_FOLDER / "parts" / scene_name
        self.folder = self.root / fingerprint[:16]
        self.enabled = enabled
        self.share = share  # (rank, world): this process of a torchrun team climbs part i when i % world == rank
        self.reused = 0  # parts an earlier, interrupted render left (not those this one saved and reads back)
        self.saved: set[str] = set()

    def mine(self, index: int) -> bool:
        """Whether this process climbs part ``index`` (a team's other processes climb the rest,
        into the same store; alone, every part is its own).

        Example:
            >>> team = PartCache(Path("out"), "grid", "f" * 64, share=(1, 3))
            >>> [team.mine(i) for i in range(6)], PartCache(Path("out"), "grid", "f" * 64).mine(4)
            ([False, True, False, False, True, False], True)
        """
        return self.share is None or index % self.share[1] == self.share[0]

    def _path(self, key: str) -> Path:
        return self.folder / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.pt"

    def load(self, key: str) -> dict | None:
        if not self.enabled and key not in self.saved:  # --force: only what this render saved itself
            return None
        import torch

        try:
            payload = torch.load(self._path(key), map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError, ValueError):
            return None
        self.reused += key not in self.saved
        return payload

    def has(self, key: str) -> bool:
        return (self.enabled or key in self.saved) and self._path(key).is_file()

    def save(self, key: str, payload: dict) -> None:
        import torch

        from studio.output.files import atomic_path, make_folder

        make_folder(self.folder)
        with atomic_path(self._path(key)) as temporary:
            torch.save(payload, temporary)
        self.saved.add(key)

    def clear(self) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)
