"""MP4 through ffmpeg (imageio-ffmpeg): frames stream to the encoder, memory stays flat."""

from __future__ import annotations

import contextlib
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from studio.errors import RenderError
from studio.output.files import atomic_path

# RGB to Y'CbCr with Rec. 709's matrix, and the stream tagged so: players (browsers included) then
# decode the colours that were encoded (an untagged stream is guessed at, often as Rec. 601)
BT709 = ["-vf", "scale=out_color_matrix=bt709:out_range=tv", "-colorspace", "bt709", "-color_primaries", "bt709",
         "-color_trc", "bt709", "-color_range", "tv", "-x264-params", "colorprim=bt709:transfer=bt709:colormatrix=bt709"]


def even_pad(pixels: np.ndarray) -> np.ndarray:
    """Pad (H, W, 3) by one edge pixel where a side is odd: yuv420p needs even sizes."""
    height, width = pixels.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return pixels
    return np.pad(pixels, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


class FrameChange:
    """How much a film changes from frame to frame: the mean absolute difference of consecutive
    frames' pixels (0..1). A smooth film's largest changes stay near its typical one; a pop is a
    frame far above the median.

    Example:
        >>> change = FrameChange()
        >>> for value in (0, 51, 51):
        ...     change.add(np.full((2, 2, 3), value, dtype=np.uint8))
        >>> change.summary()
        {'per_frame': [0.2, 0.0], 'median': 0.1, 'p99': 0.198}
    """

    def __init__(self):
        self.previous: np.ndarray | None = None
        self.per_frame: list[float] = []

    def add(self, pixels: np.ndarray) -> None:
        current = pixels.astype(np.int16)
        if self.previous is not None and self.previous.shape == current.shape:
            self.per_frame.append(round(float(np.abs(current - self.previous).mean()) / 255, 6))
        self.previous = current

    def summary(self) -> dict:
        values = np.asarray(self.per_frame)
        return {"per_frame": self.per_frame, "median": round(float(np.median(values)), 6),
                "p99": round(float(np.percentile(values, 99)), 6)}


LONGEST_ARGUMENT = 64 * 1024  # bytes of a comment passed to ffmpeg as an argument (Linux allows 128 KiB)


class VideoWriter:
    """Write an H.264 MP4 (yuv420p, Rec. 709 colours and tags, +faststart) frame by frame.

    The first frame fixes the size; later frames must match it. The file appears under its
    real name only after :meth:`close` succeeds.

    Args:
        path: the .mp4 to write.
        fps: frames per second.
        crf: H.264 constant rate factor (0 lossless .. 51 worst; 18 looks lossless).
    """

    def __init__(self, path: Path, fps: int = 24, crf: int = 18, comment: str | None = None):
        self.path, self.fps, self.crf, self.comment = Path(path), fps, crf, comment
        self.frames = 0
        self.size: tuple[int, int] | None = None
        self._stack = contextlib.ExitStack()
        self._encoder = None

    def _open(self, width: int, height: int) -> None:
        self._temporary = temporary = self._stack.enter_context(atomic_path(self.path))
        inline = self.comment and len(self.comment.encode()) <= LONGEST_ARGUMENT
        self._encoder = imageio_ffmpeg.write_frames(
            str(temporary), (width, height), fps=self.fps, codec="libx264", pix_fmt_out="yuv420p",
            quality=None, macro_block_size=1, ffmpeg_log_level="error",
            output_params=["-crf", str(self.crf), "-movflags", "+faststart", "-f", "mp4", *BT709,
                           *(["-metadata", f"comment={self.comment}"] if inline else [])])
        self._encoder.send(None)

    def _tag_from_file(self) -> None:
        """A comment too long for one command-line argument (the kernel's limit is 128 KiB) goes
        in through an ffmetadata file, the video stream copied as it is."""
        import subprocess

        folder = self._temporary.parent
        metadata = folder / f".{self.path.stem}.metadata.txt"
        tagged = folder / f".{self.path.stem}.tagged.mp4"
        escaped = "".join("\\" + char if char in "=;#\\\n" else char for char in self.comment)
        try:
            metadata.write_text(f";FFMETADATA1\ncomment={escaped}\n", encoding="utf-8")
            done = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(self._temporary),
                                   "-f", "ffmetadata", "-i", str(metadata), "-map", "0", "-map_metadata", "1",
                                   "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(tagged)],
                                  capture_output=True, timeout=600)
            if done.returncode != 0:
                raise RenderError(f"{self.path.name}: ffmpeg could not tag the video: "
                                  f"{done.stderr.decode(errors='replace').strip()[-200:]}")
            tagged.replace(self._temporary)
        finally:
            metadata.unlink(missing_ok=True)
            tagged.unlink(missing_ok=True)

    def write(self, pixels: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 frame."""
        pixels = even_pad(np.ascontiguousarray(pixels))
        height, width = pixels.shape[:2]
        if self._encoder is None:
            self.size = (width, height)
            self._open(width, height)
        elif (width, height) != self.size:
            raise RenderError(f"{self.path.name}: frame {self.frames} is {width}×{height}, "
                              f"the video is {self.size[0]}×{self.size[1]}")
        self._encoder.send(pixels)
        self.frames += 1

    def close(self) -> None:
        """Finish the file (rename it into place)."""
        if self._encoder is not None:
            self._encoder.close()
            self._encoder = None
            if self.comment and len(self.comment.encode()) > LONGEST_ARGUMENT:
                try:
                    self._tag_from_file()
                except BaseException:
                    self.abort()
                    raise
        self._stack.close()

    def abort(self) -> None:
        """Stop without leaving a file behind."""
        if self._encoder is not None:
            with contextlib.suppress(Exception):
                self._encoder.close()
            self._encoder = None
        self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.close()
        else:
            self.abort()
        return False


def read_video_preset(path: Path) -> str | None:
    """The comment tag of an MP4 (where studio puts the resolved preset), through ffmpeg's
    metadata export; None when there is none."""
    import subprocess

    found = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
                           capture_output=True, timeout=60)
    if found.returncode != 0:
        raise ValueError(found.stderr.decode(errors="replace").strip().splitlines()[-1][:120])
    text = found.stdout.decode("utf-8", errors="replace")
    comment, value, escaped = None, [], False
    for line in text.splitlines(keepends=True):
        if comment is None:
            if line.startswith("comment="):
                comment, line = "", line[len("comment="):]
            else:
                continue
        for char in line:  # ffmetadata escapes '=', ';', '#', '\\' and newlines with a backslash
            if escaped:
                value.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == "\n":
                return "".join(value)
            else:
                value.append(char)
    return "".join(value) if comment is not None else None
