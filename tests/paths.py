"""The repository's folders, for what is decided before any fixture runs (the shipped presets a
test is parametrised over); a test body takes the ``root`` fixture instead."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ROOT / "presets"
