"""`studio gallery`: render every preset of a folder (skipping those already up to date) and
write the self-contained index.html (``gallery_page.py``)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from studio.errors import ModelError, PresetError, StudioError
from studio.output.files import write_text
from studio.preset import Preset, dumps, load_preset
from studio.version import __version__

FINGERPRINT = ".studio-fingerprint"


def fingerprint(preset: Preset) -> str:
    """What a render depends on, judged as ``render`` judges a scene unchanged: every scene's
    fingerprint (its keys, model and weights, seed, device, output settings, studio's version
    and the contents of every file it reads), so a gallery preset whose input image changed
    renders again."""
    from studio.output.cache import scene_fingerprint
    from studio.rendering import preset_base, resolve_device

    device = str(resolve_device(preset.preset.device, preset.origin("preset.device")))
    base = preset_base(preset)
    scenes = [scene_fingerprint(preset, index, device, base) for index in range(len(preset.scenes))]
    return hashlib.sha256("\n".join([__version__, dumps(preset), *scenes]).encode()).hexdigest()


def is_fresh(preset: Preset, out: Path) -> bool:
    folder = out / preset.name
    stamp = folder / FINGERPRINT
    return (stamp.is_file() and (folder / "log.json").is_file()
            and stamp.read_text().strip() == fingerprint(preset))


@dataclass
class GalleryEntry:
    preset: Preset | None  # None: the file is not a valid preset
    status: str  # rendered | fresh | skipped | failed
    note: str = ""
    source: str = ""

    @property
    def name(self) -> str:
        return self.preset.name if self.preset else self.source


def load_all(paths: list[Path]) -> tuple[list[Preset], list[GalleryEntry]]:
    """Every preset that loads, and an entry for each file that does not (one broken preset does
    not stop the gallery). Two presets with the same name would render into one folder: refused
    before anything renders, naming both files."""
    presets, broken, seen = [], [], {}
    for path in paths:
        try:
            preset = load_preset(path)
        except StudioError as error:
            broken.append(GalleryEntry(None, "failed", str(error), path.name))
            continue
        if preset.name in seen:
            raise PresetError(str(path), "preset.name", f"the same name as {seen[preset.name]}: both would "
                              f"render into {preset.name}/", expected="a name of its own", found=preset.name)
        seen[preset.name] = str(path)
        presets.append(preset)
    return presets, broken


def build(presets_dir: Path, out: Path, quiet: bool = False, force: bool = False,
          web: bool = False) -> list[GalleryEntry]:
    from studio.distributed import render_team, world_size
    from studio.progress import progress_bar
    from studio.rendering import render_preset

    presets, entries = load_all(sorted(presets_dir.glob("*.toml")))
    resume = not force
    if world_size() > 1:  # torchrun: the team renders, then process 0 lists and assembles
        stale = [preset for preset in presets if force or not is_fresh(preset, out)]
        render_team(stale, out, quiet=True, resume=resume, memory_limit_gb=None, assemble=False)
        if int(os.environ.get("RANK", "0")):
            return []
        resume = True
    progress = progress_bar(len(presets), "gallery", quiet, unit="preset")
    for preset in presets:
        progress.update(1)
        if not force and is_fresh(preset, out):
            entries.append(GalleryEntry(preset, "fresh"))
            continue
        try:
            render_preset(preset, out, quiet=True, resume=resume)
        except ModelError:  # weights not on this machine: the rest still renders
            entries.append(GalleryEntry(preset, "skipped", f"needs the {preset.model.name} weights, which are "
                                                           "not on this machine"))
            continue
        except StudioError as error:
            entries.append(GalleryEntry(preset, "failed", str(error)))
            continue
        write_text(out / preset.name / FINGERPRINT, fingerprint(preset) + "\n")
        entries.append(GalleryEntry(preset, "rendered"))
    progress.close()
    from studio.gallery_page import Listed, page

    listed = [Listed(e.preset, e.status in ("rendered", "fresh"), e.note, e.source) for e in entries]
    write_text(out / "index.html", page(listed, out, web))
    return entries
