"""Ceilings that keep one preset from exhausting the machine. Refused at validation, by name;
`--raise-limits N` multiplies them all by N for a render that really means it."""

import os

FACTOR_VARIABLE = "STUDIO_LIMITS_FACTOR"


def factor() -> int:
    """How many times the ceilings below are raised (`--raise-limits`); 1 by default."""
    try:
        return max(1, int(os.environ.get(FACTOR_VARIABLE, "1")))
    except ValueError:
        return 1


MAX_SIDE = 4096          # pixels per side of a working image
MAX_STEPS = 10_000       # optimisation steps per octave
MAX_OCTAVES = 12
MAX_FRAMES = 5_000       # frames in one video
MAX_EPOCHS = 100_000
MAX_CHANNELS = 4_096     # images in one batched grid
MAX_UPSCALE = 16         # nearest-neighbour upscale of written images
