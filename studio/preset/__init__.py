"""Presets: TOML in, validated frozen dataclasses out. Each kind's keys are declared by its scene
module (``studio.scenes.KINDS``); the tables every preset has are in ``schema.py``."""

from studio.preset.limits import Limits
from studio.preset.loader import deep_merge, dumps, load_preset, loads
from studio.preset.schema import Preset

__all__ = ["Limits", "Preset", "deep_merge", "dumps", "load_preset", "loads"]
