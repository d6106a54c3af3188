"""What one step of a scene's work holds and takes: planned by ``SceneContext.plan_step``, kept
by the scene, read by the estimates and by a torchrun team (no torch here: a kind's module
imports it while a preset is only validated)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.budget import Workload
    from studio.models import LoadedModel


@dataclass(frozen=True)
class Step:
    """One step of a scene's work: ``workload`` through ``model`` (what is timed for the
    estimate), the progress ``units`` it completes, and the ``memory`` it holds (bytes). A scene
    that measures its own time (training) states its memory alone."""

    memory: int
    model: LoadedModel | None = None
    workload: Workload | None = None
    units: float = 1
