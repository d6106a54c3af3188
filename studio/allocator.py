"""The C allocator, told to keep what it frees.

A step of a climb allocates the network's activations and their gradients afresh and frees them
at its end. glibc's malloc hands blocks past a threshold back to the system at once, so every
step faulted its memory back in page by page, zeroed by the kernel: on a 2-core CPU that was
most of a big image's step (a 2048² forward+backward of EfficientNet-Lite0 to ``blocks.3``
took 9.6 s, two thirds of its CPU time in the kernel's page faults; kept, 1.7-2.6 s; 1024²:
1.6 s, kept 0.44-0.58 s). Kept, the freed blocks are reused by the next step; peak memory grows
by about a tenth (fragmentation).
Between scenes what is free goes back to the system (:func:`release_freed_memory`).

Set ``STUDIO_MALLOC=system`` to leave the allocator as it is. Other C libraries than glibc are
left alone.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # free memory at the heap's top past this is returned to the system
M_MMAP_MAX = -4        # at most this many blocks mapped on their own (freed blocks always return)
_KEPT: list = []  # glibc, once it keeps freed memory, or None


def _glibc() -> ctypes.CDLL | None:
    if sys.platform != "linux" or os.environ.get("STUDIO_MALLOC") == "system":
        return None
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        return ctypes.CDLL("libc.so.6")
    except (OSError, ValueError, AttributeError):
        return None


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to serve every block from its heap and keep freed memory for reuse;
    whether it was (once per process; later calls answer the first's result)."""
    if not _KEPT:
        libc = _glibc()
        kept = libc and libc.mallopt(M_MMAP_MAX, 0) and libc.mallopt(M_TRIM_THRESHOLD, 2 ** 31 - 1)
        _KEPT.append(libc if kept else None)
    return _KEPT[0] is not None


def release_freed_memory() -> None:
    """Return the kept free memory to the system (after a scene: the next may be smaller)."""
    if keep_freed_memory():
        _KEPT[0].malloc_trim(0)
