"""Progress of a scene: tqdm's bar on a terminal; plain lines every 10 % (or 30 s) in a log,
where a bar's carriage returns would pile up; nothing with ``--quiet``."""

from __future__ import annotations

import sys
import time


class PlainProgress:
    """The part of tqdm's interface scenes use (``update``, ``n``, ``write``), as log lines."""

    def __init__(self, total: int, desc: str, stream=None, every_seconds: float = 30.0):
        self.total, self.desc, self.n = max(total, 1), desc, 0
        self.stream = stream or sys.stderr
        self.every_seconds = every_seconds
        self.started = self.last_time = time.monotonic()
        self.last_tenth = 0

    def update(self, count: int = 1) -> None:
        self.n += count
        now = time.monotonic()
        tenth = min(10, self.n * 10 // self.total)
        if tenth > self.last_tenth or now - self.last_time >= self.every_seconds:
            self.last_tenth, self.last_time = tenth, now
            elapsed = now - self.started
            left = elapsed * (self.total - self.n) / self.n if 0 < self.n < self.total else 0.0
            self.write(f"{self.desc}: {100 * self.n // self.total:3d}% ({self.n}/{self.total}), "
                       f"{elapsed:.0f} s" + (f", about {left:.0f} s left" if left else ""))

    def write(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False


def progress_bar(total: int, desc: str, quiet: bool = False, unit: str = "it"):
    """A tqdm bar where stderr is a terminal, plain periodic lines elsewhere, silence if ``quiet``."""
    from tqdm import tqdm

    if quiet or sys.stderr.isatty():
        return tqdm(total=total, desc=desc, disable=quiet, leave=True, dynamic_ncols=True, unit=unit)
    return PlainProgress(total, desc)


def duration(seconds: float) -> str:
    """``75`` → ``1 min 15 s``; ``5400`` → ``1 h 30 min``.

    Example:
        >>> duration(75), duration(5400), duration(4.2)
        ('1 min 15 s', '1 h 30 min', '4 s')
    """
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds} s"
