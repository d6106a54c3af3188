"""Render validated presets: prepare every scene (so bad presets fail before a file is written),
then stream each scene's frames to the writer with a progress bar."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from studio.allocator import release_freed_memory
from studio.errors import PresetError, RenderError, StudioError, interrupted
from studio.output.cache import PartCache, cached_entry, forget, remember, scene_fingerprint
from studio.output.writer import RenderWriter
from studio.preset import Preset
from studio.progress import duration, progress_bar
from studio.scenes import renderer_class
from studio.scenes.support.context import SceneContext
from studio.scenes.support.scene import Scene

GIB = 1024 ** 3


def resolve_device(spec: str, source: str = "<preset>") -> torch.device:
    """``auto`` is CUDA when there is one, else the CPU; a missing CUDA device is a clear error."""
    if spec == "auto":
        if torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            # torchrun: one process per GPU
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except (RuntimeError, ValueError, OverflowError):
        raise PresetError(source, "preset.device", "not a device this machine has",
                          expected='"auto", "cpu" or "cuda:N"', found=repr(spec)) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise PresetError(source, "preset.device", "no CUDA device on this machine",
                              expected='"auto" or "cpu"', found=repr(spec))
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise PresetError(source, "preset.device", "no such CUDA device",
                              expected=f"cuda:0..cuda:{torch.cuda.device_count() - 1}", found=repr(spec))
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise PresetError(source, "preset.device", "no MPS device on this machine", found=repr(spec))
    return device


@dataclass
class RenderResult:
    preset: str
    folder: Path
    device: str
    written: list[tuple[str, Path]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    cached: list[str] = field(default_factory=list)
    resumed: dict[str, int] = field(default_factory=dict)  # scene -> parts reused


def preset_base(preset: Preset) -> Path:
    """The folder a preset's relative paths are read from: its file's, else the working folder."""
    return Path(preset.source).parent if preset.source and Path(preset.source).exists() else Path.cwd()


def prepare(preset: Preset, device: torch.device, parts: list[PartCache | None],
            skip: set[int] = frozenset(), memory_limit: int | None = None, models=None):
    """Every scene's renderer, built (and so checked) before any file is written, each with the
    store of its finished parts; None for the scenes in ``skip`` (resumed from an earlier render).
    ``models``: the model's provider where it is not loaded by name (see ``SceneContext``)."""
    base = preset_base(preset)
    scenes = []
    for index, scene in enumerate(preset.scenes):
        if index in skip:
            scenes.append(None)
            continue
        context = SceneContext.of(preset, index, device, base=base, parts=parts[index],
                                  memory_limit=memory_limit, models=models)
        try:
            scenes.append(renderer_class(scene.kind)(context))
        except PresetError as error:
            if error.source == preset.source and error.key:  # name the flag or file that set the key
                error.source = preset.origin(error.key)
                error.args = (str(error),)
            raise
    return scenes


def check_preset(preset: Preset, memory_limit_gb: float | None = None) -> list:
    """Every check a render makes before its first step (device, model and weights, layers,
    channels, inputs, memory), without rendering or writing anything. Returns the built scenes
    (their ``total`` progress length and ``memory`` estimate, where they make one)."""
    device = resolve_device(preset.preset.device, preset.origin("preset.device"))
    limit = None if memory_limit_gb is None else int(memory_limit_gb * GIB)
    return prepare(preset, device, [None] * len(preset.scenes), memory_limit=limit)


def estimate(scene: Scene, seconds: float | None = None) -> str:
    """What a built scene will cost, in words: its work, memory per step and time (``seconds``:
    its ``seconds()``, when already measured)."""
    words = f"{scene.total} {scene.unit}{'' if scene.total == 1 else 's'} of work"
    if scene.memory:
        words += f", about {scene.memory / GIB:.2f} GiB per step"
        if scene.context.device.type == "cpu":  # on a GPU the process's own memory is not what runs out
            from studio.budget import resident_bytes

            words += f" ({(resident_bytes() + scene.memory) / GIB:.1f} GiB for the process)"
    seconds = scene.seconds() if seconds is None else seconds
    if seconds is not None:
        words += f", about {duration(seconds)} on {scene.context.device}"
    return words


def check_inside_working_folder(preset: Preset) -> None:
    """A preset's own ``output.dir`` (and its ``<name>`` folder) must stay inside the working
    folder once symbolic links are followed, as its text must (``..`` is refused at validation):
    a link would let a stranger's preset write anywhere. ``--out`` is the user's own choice."""
    working = Path.cwd().resolve()
    for folder in (Path(preset.output.dir), Path(preset.output.dir) / preset.name):
        target = folder.resolve()
        if target != working and working not in target.parents:
            raise PresetError(preset.origin("output.dir"), "output.dir", "a symbolic link out of the working folder",
                              expected="a folder inside the working folder (use --out for other places)",
                              found=f"{folder} -> {target}")


@dataclass
class RenderSetup:
    """Where a preset renders and what is already done there, the same for a one-process render
    and for each process of a torchrun team: the device, the output folder, each scene's
    fingerprint, finished record and part store, the memory limit."""

    preset: Preset
    device: torch.device
    folder: Path
    base: Path
    fingerprints: list[str]
    memory_limit: int | None = None

    @classmethod
    def of(cls, preset: Preset, out: Path | None = None, memory_limit_gb: float | None = None) -> RenderSetup:
        """``out`` defaults to the preset's ``output.dir``; ``memory_limit_gb``: what one step may
        plan to use (default: what the machine has free)."""
        device = resolve_device(preset.preset.device, preset.origin("preset.device"))
        base = preset_base(preset)
        root = Path(out) if out is not None else Path(preset.output.dir)
        return cls(preset, device, root / preset.name, base,
                   [scene_fingerprint(preset, i, str(device), base) for i in range(len(preset.scenes))],
                   None if memory_limit_gb is None else int(memory_limit_gb * GIB))

    def finished(self, index: int) -> dict | None:
        """The log entry of scene ``index`` if an earlier render finished it and it still matches."""
        return cached_entry(self.folder, self.preset.scenes[index].name, self.fingerprints[index])

    def parts(self, index: int, enabled: bool = True, share: tuple[int, int] | None = None) -> PartCache:
        """Scene ``index``'s store of finished parts (``enabled``: parts of an earlier render are
        read; ``share``: (rank, world), the climbs this process of a team does)."""
        return PartCache(self.folder, self.preset.scenes[index].name, self.fingerprints[index], enabled, share)

    def forget(self, index: int) -> None:
        """Scene ``index`` renders from its start: its parts and its finished record go."""
        self.parts(index).clear()
        forget(self.folder, self.preset.scenes[index].name)

    def scenes(self, parts: list, skip: set[int] = frozenset(), models=None) -> list:
        """Every scene's renderer, built and checked (see :func:`prepare`)."""
        return prepare(self.preset, self.device, parts, skip, self.memory_limit, models)


def render_preset(preset: Preset, out: Path | None = None, quiet: bool = False,
                  resume: bool = True, memory_limit_gb: float | None = None,
                  announce=None, only: set[int] | None = None) -> RenderResult:
    """Render every scene of one preset into ``out/<name>/`` (``out`` defaults to ``output.dir``).

    With ``resume``, a scene whose earlier render is complete and still matches is not rendered
    again, and an interrupted scene goes on from its finished parts (see ``output/cache.py``).
    ``memory_limit_gb`` is what one step may plan to use (default: what the machine has free).
    ``announce`` receives a line per scene to render, with its estimate, before the first step.
    ``only``: render just these scenes (their files and records, for a process of a torchrun team,
    see ``distributed.py``); log.json is then left to the process that renders the whole preset.
    """
    setup = RenderSetup.of(preset, out, memory_limit_gb)
    device = setup.device
    torch.manual_seed(preset.preset.seed)  # for any library code that draws from the global RNG
    if out is None:
        check_inside_working_folder(preset)
    writer = RenderWriter(setup.folder.parent, preset, str(device), shared=only is not None)
    reused = {}
    if only is not None:  # the scenes another process renders are none of this one's business
        reused = {index: {} for index in range(len(preset.scenes)) if index not in only}
    if resume:
        for index in range(len(preset.scenes)):
            entry = None if index in reused else setup.finished(index)
            if entry is not None:
                reused[index] = entry
    parts = [setup.parts(index, enabled=resume) for index in range(len(preset.scenes))]
    scenes = setup.scenes(parts, set(reused))
    estimates = {}  # measured by timed probe steps: only when a line announces them
    if announce is not None:
        for index, (section, scene) in enumerate(zip(preset.scenes, scenes)):
            if scene is not None:
                estimates[index] = scene.seconds()
                announce(f"{preset.name}/{section.name}: {estimate(scene, estimates[index])}")
    writer.start()
    result = RenderResult(preset.name, writer.folder, str(device), writer.written)
    for index, (scene, section) in enumerate(zip(scenes, preset.scenes)):
        if index in reused:
            writer.log["scenes"][section.name] = reused[index]
            result.cached.append(section.name)
            result.seconds[section.name] = 0.0
            continue
        started = time.perf_counter()
        if not resume:
            parts[index].clear()
        scene_writer = writer.scene(section)
        if scene.memory:
            scene_writer.entry["memory_estimate_mib"] = round(scene.memory / 2 ** 20)
        if estimates.get(index) is not None:
            scene_writer.entry["estimated_seconds"] = round(estimates[index], 3)
        with progress_bar(scene.total, f"{preset.name}/{section.name}", quiet) as progress:
            try:
                for item in scene.render(progress):
                    interrupted()
                    scene_writer.add(item)
                scene_writer.close()  # waits for the scene's files: a failed write fails the scene
            except BaseException as error:
                scene_writer.abort()
                writer.finish()
                if isinstance(error, (StudioError, KeyboardInterrupt)):
                    raise
                if isinstance(error, torch.OutOfMemoryError):
                    raise RenderError(f"{preset.name}/{section.name}: out of memory on {device}; "
                                      "use a smaller `size`, fewer channels or a smaller batch") from error
                raise RenderError(f"{preset.name}/{section.name} failed: "
                                  f"{type(error).__name__}: {error}") from error
        result.seconds[section.name] = time.perf_counter() - started
        release_freed_memory()
        remember(writer.folder, section.name, setup.fingerprints[index], scene_writer.entry,
                 [path for name, path in writer.written if name == section.name])
        if parts[index].reused:
            result.resumed[section.name] = parts[index].reused
        parts[index].clear()
    writer.finish()
    return result
