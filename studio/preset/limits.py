"""Ceilings that keep one preset from exhausting the machine. Refused at validation, by name;
`--raise-limits N` multiplies them all by N for a render that really means it."""

from __future__ import annotations

from dataclasses import dataclass

MAX_SIDE = 4096          # pixels per side of a working image
MAX_STEPS = 10_000       # optimisation steps per octave
MAX_OCTAVES = 12
MAX_FRAMES = 5_000       # frames in one video
MAX_EPOCHS = 100_000
MAX_CHANNELS = 4_096     # images in one batched grid
MAX_UPSCALE = 16         # nearest-neighbour upscale of written images


@dataclass(frozen=True)
class Limits:
    """The ceilings in force for one command: the defaults above times ``factor``.

    Example:
        >>> Limits(factor=2).channels
        8192
    """

    factor: int = 1

    def raised(self, ceiling: float) -> float:
        return ceiling * self.factor

    @property
    def channels(self) -> int:
        return MAX_CHANNELS * self.factor

    @property
    def frames(self) -> int:
        return MAX_FRAMES * self.factor


DEFAULT = Limits()
