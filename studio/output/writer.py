"""One class owns the output folder: stills, videos, preset.toml and log.json."""

from __future__ import annotations

import time
from pathlib import Path

from studio.frames import Frame, Record, Still
from studio.output.background import BackgroundWrites
from studio.output.files import PRESET_CHUNK, make_folder, write_json, write_png, write_text
from studio.output.lock import FolderLock
from studio.output.video import FrameChange, VideoWriter
from studio.pictures.colour import to_uint8, upscale
from studio.preset import Preset, dumps
from studio.version import __version__


def pixels_of(image, upscale_by: int = 1):
    """What a file shows of a (3, H, W) picture in [0, 1]: (H, W, 3) uint8, upscaled. One
    conversion for files and for results kept in memory, so both hold the same pixels."""
    return to_uint8(upscale(image, upscale_by))


class RenderWriter:
    """Writes one preset's render into ``root/<preset name>/``.

    Nothing is created until :meth:`start`; every file goes through a temporary name. PNGs are
    compressed and written on a background thread; a scene's are all on disk when it closes.
    ``shared``: one of several processes writing scenes of this preset (torchrun): no folder
    lock, no log.json (the process that renders the whole preset writes it).
    """

    def __init__(self, root: Path, preset: Preset, device: str, shared: bool = False):
        self.shared = shared
        self.preset = preset
        self.folder = Path(root) / preset.name
        self.preset_text = dumps(preset)
        self.log: dict = {"preset": preset.name, "studio": __version__, "device": device,
                          "seed": preset.preset.seed, "model": preset.model.name, "scenes": {}}
        self.written: list[tuple[str, Path]] = []
        self.lock = FolderLock(self.folder)
        self.writes = BackgroundWrites()

    def start(self) -> None:
        """Create and lock the folder (a second render into it is refused), write preset.toml."""
        make_folder(self.folder)
        if not self.shared:
            self.lock.acquire()
        write_text(self.folder / "preset.toml", self.preset_text)

    def scene(self, scene) -> SceneWriter:
        return SceneWriter(self, scene)

    def finish(self) -> None:
        try:
            self.writes.wait()
            if not self.shared:
                write_json(self.folder / "log.json", self.log)
        finally:
            self.writes.abandon()
            self.writes.close()
            self.lock.release()


class SceneWriter:
    """Routes a scene's Stills, Frames and Records to files and to the log."""

    def __init__(self, parent: RenderWriter, scene):
        self.parent, self.scene = parent, scene
        self.output = parent.preset.output
        self.started = time.perf_counter()
        self.video: VideoWriter | None = None
        self.changes = FrameChange()
        self.entry: dict = {"kind": scene.kind, "device": parent.log["device"], "stills": [],
                            "video": None}
        parent.log["scenes"][scene.name] = self.entry

    def add(self, item) -> None:
        if isinstance(item, Still):
            self.still(item)
        elif isinstance(item, Frame):
            self.frame(item)
        elif isinstance(item, Record):
            self.entry[item.key] = item.value
        else:  # pragma: no cover - a scene bug
            raise TypeError(f"a scene yielded {type(item).__name__}")

    def still(self, item: Still) -> None:
        self.still_pixels(item.name, pixels_of(item.image, self.output.upscale))

    def still_pixels(self, name: str | None, pixels) -> None:
        """A still already converted (:func:`pixels_of`): the main one (``name`` None) or one of several."""
        if not self.output.stills:
            return
        folder = self.parent.folder
        path = (folder / f"{self.scene.name}.png" if name is None
                else folder / self.scene.name / f"{name}.png")
        self.parent.writes.submit(write_png, path, pixels, {PRESET_CHUNK: self.parent.preset_text,
                                                            "Software": f"studio {__version__}"})
        self.entry["stills"].append({"file": str(path.relative_to(folder)),
                                     "size": [pixels.shape[1], pixels.shape[0]]})
        self.parent.written.append((self.scene.name, path))

    def frame(self, item: Frame) -> None:
        self.frame_pixels(pixels_of(item.image, self.output.upscale))

    def frame_pixels(self, pixels) -> None:
        """The video's next frame, already converted (:func:`pixels_of`)."""
        self.changes.add(pixels)
        if self.output.frames:
            index = self.video.frames if self.video else self.entry.get("frames", 0)
            pattern = getattr(self.scene, "FRAME_NAME", "frame-{:05d}.png")
            self.parent.writes.submit(write_png, self.parent.folder / self.scene.name / pattern.format(index),
                                      pixels)
            self.entry["frames"] = index + 1
        if not self.output.video:
            return
        if self.video is None:
            self.video = VideoWriter(self.parent.folder / f"{self.scene.name}.mp4",
                                     self.output.fps, self.output.crf, comment=self.parent.preset_text)
        self.video.write(pixels)

    def close(self) -> None:
        self.parent.writes.wait()
        if self.video is not None:
            self.video.close()
            path = self.video.path
            self.entry["video"] = {"file": path.name, "frames": self.video.frames,
                                   "size": list(self.video.size), "fps": self.output.fps}
            self.parent.written.append((self.scene.name, path))
        if self.changes.per_frame:
            self.entry["frame_change"] = self.changes.summary()
        self.entry["seconds"] = round(time.perf_counter() - self.started, 3)

    def abort(self) -> None:
        self.parent.writes.abandon()
        if self.video is not None:
            self.video.abort()
