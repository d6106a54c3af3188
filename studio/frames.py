"""What scenes yield and writers consume. Scenes never touch files; they yield these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # scene modules import this while validating: no torch at import time
    import torch


@dataclass
class Still:
    """A picture: the scene's main still (``name`` None) or one of several (``<scene>/<name>.png``)."""

    image: torch.Tensor  # (3, H, W) in [0, 1]
    name: str | None = None


@dataclass
class Frame:
    """The next frame of the scene's video (``<scene>.mp4``)."""

    image: torch.Tensor  # (3, H, W) in [0, 1]


@dataclass
class Record:
    """A value for log.json under this scene (a series, a table, a number)."""

    key: str
    value: Any
