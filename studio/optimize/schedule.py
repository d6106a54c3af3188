"""Values that change over a render (lr, blur) and the image sizes a render passes through."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ramp:
    """A value moving linearly from ``start`` to ``end`` as progress ``t`` goes from 0 to 1."""

    start: float
    end: float

    @classmethod
    def of(cls, value: float | tuple[float, float]) -> Ramp:
        return cls(*value) if isinstance(value, tuple) else cls(value, value)

    def at(self, t: float) -> float:
        return self.start + (self.end - self.start) * min(max(t, 0.0), 1.0)

    def during(self, stage: int, stages: int, step: int, steps: int) -> float:
        """The value at ``step`` of ``steps`` in ``stage`` of ``stages``: one ramp over the whole run.

        Example:
            >>> Ramp(1.0, 0.0).during(1, 2, 0, 3)
            0.4
        """
        return self.at((stage * steps + step) / max(stages * steps - 1, 1))

    def between(self, stage: int, stages: int) -> float:
        """The value as ``stage`` begins (the blur applied where a climb changes size)."""
        return self.at(stage / stages)


@dataclass(frozen=True)
class Sawtooth:
    """One :class:`Ramp` per stage (octave or upscale), each over its own stage's steps: seed
    002's schedules, ``[[0.4, 0.3], [0.3, 0.2], [0.2, 0.1]]``.

    Example:
        >>> Sawtooth.of([(0.4, 0.3), (0.3, 0.2)]).during(1, 2, 0, 100)
        0.3
    """

    ramps: tuple[Ramp, ...]

    @classmethod
    def of(cls, pairs) -> Sawtooth:
        return cls(tuple(Ramp(*pair) for pair in pairs))

    def at(self, t: float) -> float:
        """Where no stages are known (a single climb), the first stage's ramp."""
        return self.ramps[0].at(t)

    def during(self, stage: int, stages: int, step: int, steps: int) -> float:
        return self.ramps[min(stage, len(self.ramps) - 1)].at(step / max(steps - 1, 1))

    def between(self, stage: int, stages: int) -> float:
        return self.ramps[min(stage, len(self.ramps) - 1)].start


Schedule = Ramp | Sawtooth


def schedule(value: float | tuple) -> Schedule:
    """A preset's ``lr`` or ``blur``: a number, a ``[start, end]`` pair, or one pair per stage."""
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return Sawtooth.of(value)
    return Ramp.of(value)


def octave_sizes(height: int, width: int, octaves: int, octave_scale: float) -> list[tuple[int, int]]:
    """DeepDream octaves, smallest first, ending at (height, width).

    Example:
        >>> octave_sizes(380, 380, 3, 1.127)
        [(299, 299), (337, 337), (380, 380)]
    """
    return [(max(1, round(height / octave_scale ** (octaves - 1 - i))),
             max(1, round(width / octave_scale ** (octaves - 1 - i)))) for i in range(octaves)]


def upscale_sizes(height: int, width: int, upscales: int, factor: float) -> list[tuple[int, int]]:
    """Seed 003's schedule: start at (height, width), then ``upscales`` times ×``factor``.

    Example:
        >>> upscale_sizes(56, 56, 12, 1.2)[-1]
        (499, 499)
    """
    return [(round(height * factor ** i), round(width * factor ** i)) for i in range(upscales + 1)]
