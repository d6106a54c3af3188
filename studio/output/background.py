"""Files written on a background thread while the scene goes on computing: compressing a PNG
releases the GIL (two encodings in two threads take half the time of one after the other), so
the network's next steps, a chart's drawing and the encoding overlap."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

# Writes that may wait at once: each holds its pixels (a 2560x1440 still is 11 MB), so a scene
# that yields frames faster than they compress waits for the oldest instead of filling memory.
MAX_PENDING = 8


class BackgroundWrites:
    """One writer thread and the writes handed to it, in order.

    Each write is a whole-file function (``write_png`` and friends go through a temporary name
    and rename it into place), so a file is either complete or absent at every moment. Errors
    come back from :meth:`wait`, the first one raised as it was.

    Example:
        >>> written = []
        >>> writes = BackgroundWrites()
        >>> for number in range(3):
        ...     writes.submit(written.append, number)
        >>> writes.wait(); written
        [0, 1, 2]
    """

    def __init__(self):
        self._executor: ThreadPoolExecutor | None = None
        self._pending: deque[Future] = deque()

    def submit(self, write: Callable, *args) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-writes")
        while len(self._pending) >= MAX_PENDING:
            self._pending.popleft().result()
        self._pending.append(self._executor.submit(write, *args))

    def wait(self) -> None:
        """Block until every write is done; raise the first error (the others still finish)."""
        first = None
        while self._pending:
            try:
                self._pending.popleft().result()
            except BaseException as error:  # noqa: B036 - re-raised below, after the rest finish
                first = first or error
        if first is not None:
            raise first

    def abandon(self) -> None:
        """Drop the writes not yet begun and wait for the one under way (it removes its own
        temporary file if it fails), so nothing is left half-written."""
        for future in self._pending:
            future.cancel()
        for future in self._pending:
            if not future.cancelled():
                try:
                    future.result()
                except BaseException:  # noqa: B036 - the render is failing already
                    pass
        self._pending.clear()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
