"""Presets: TOML in, validated frozen dataclasses out."""

from studio.preset.loader import deep_merge, dumps, load_preset, loads
from studio.preset.scenes import SCENE_KINDS
from studio.preset.schema import Preset

__all__ = ["Preset", "SCENE_KINDS", "deep_merge", "dumps", "load_preset", "loads"]
