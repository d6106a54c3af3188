"""One render at a time per output folder: two renders of one preset into one folder would
overwrite each other's files and records."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from studio.errors import RenderError

LOCK_NAME = ".studio/lock"


class FolderLock:
    """An exclusive ``flock`` on ``<folder>/.studio/lock``, held while a render writes there.
    The operating system drops it when the process ends, however it ends."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_NAME
        self.handle: int | None = None

    def acquire(self) -> None:
        from studio.output.files import make_folder

        make_folder(self.path.parent)
        try:
            handle = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as error:
            raise RenderError(f"cannot lock {self.path.parent.parent}: {error.strerror}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            raise RenderError(f"another studio render is writing into {self.path.parent.parent}; wait for it "
                              "to finish (then this command finds its work done), or render elsewhere with "
                              "--out") from None
        self.handle = handle
        sweep_partials(self.path.parent.parent)

    def release(self) -> None:
        if self.handle is not None:
            os.close(self.handle)
            self.handle = None


def sweep_partials(folder: Path) -> list[Path]:
    """Remove what a render killed outright (SIGKILL, a power cut) left half-written in
    ``folder``: the ``.<name>.<random>.partial.<ext>`` files of ``atomic_path``, which no
    process owns once the lock is ours. Returns what was removed."""
    removed = []
    for path in Path(folder).rglob(".*.partial*"):
        if path.is_file() and not path.is_symlink():
            try:
                path.unlink()
            except OSError:
                continue
            removed.append(path)
    return removed
