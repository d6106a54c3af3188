"""Errors a user can fix. The CLI prints them as one paragraph, never a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The closest few of ``choices`` to ``word`` (for "did you mean")."""
    choices = list(choices)
    found = difflib.get_close_matches(word, choices, n=n, cutoff=0.5)
    if not found:
        lowered = word.lower()
        found = [c for c in choices if lowered and (lowered in c.lower() or c.lower() in lowered)][:n]
    return found


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    found = closest(word, choices)
    if not found:
        return None
    return "did you mean " + " or ".join(f"`{f}`" for f in found) + "?"


INTERRUPTED = ("\ninterrupted: finished files are kept and no partial file was left; run the same "
               "command again to render the rest.\n")

PRESSED: list[int] = []  # Ctrl-C (or SIGTERM) seen, even where a library swallowed its KeyboardInterrupt


def interrupted() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed: checked at each thing a scene yields, so a
    press whose exception was lost (in the seconds of imports, inside a library) still stops the
    render at its next frame, still or record."""
    if PRESSED:
        raise KeyboardInterrupt


class StudioError(Exception):
    """Base for errors with a message meant for the person at the terminal."""

    exit_code = 1


class PresetError(StudioError):
    """The preset (or a command-line argument) is invalid: exit status 2, nothing written.

    Args:
        source: the file (or ``--set``) the offending value came from.
        key: the dotted key path (``scenes.0.octave_scale``); empty for the whole document.
        problem: what is wrong, in a few words.
        expected: what would have been accepted.
        found: what was there.
        hint: a suggestion, usually "did you mean ...?".
    """

    exit_code = 2

    def __init__(self, source: str, key: str, problem: str, *, expected: str | None = None,
                 found: str | None = None, hint: str | None = None):
        self.source, self.key, self.problem = source, key, problem
        self.expected, self.found, self.hint = expected, found, hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}: " + (f"`{self.key}`: " if self.key else "")
        text = where + self.problem
        if self.expected is not None:
            text += f"; expected {self.expected}"
        if self.found is not None:
            text += f", found {self.found}" if self.expected is not None else f"; found {self.found}"
        if self.hint:
            text += f"; {self.hint}"
        return text + ("" if text.endswith(("?", ".")) else ".")


class UsageError(StudioError):
    """Bad command-line arguments outside a preset (exit 2)."""

    exit_code = 2


class ModelError(StudioError):
    """A model or its weights cannot be had (missing file, no network)."""

    exit_code = 1


class RenderError(StudioError):
    """A render started but could not finish (divergence, out of memory, ...)."""

    exit_code = 1
