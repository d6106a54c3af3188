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
