"""What a scene is to the renderer: the :class:`Scene` protocol every kind's ``Scene`` class
meets, and :class:`SceneBase`, which gives the parts most kinds share (their step's memory and
time, the film's frames) so a kind states facts, not arithmetic.

A kind's ``Scene(context)`` checks everything that depends on the model in its constructor (so a
bad preset fails before a file is written), and states what one step of its work holds with
``self.step = context.plan_step(...)``; ``render(progress)`` then yields Stills, Frames and Records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:  # a kind's module imports this while a preset is validated: no torch yet
    from studio.frames import Frame, Record, Still
    from studio.scenes.support.context import SceneContext
    from studio.scenes.support.step import Step


class Scene(Protocol):
    """What the renderer, the estimates and a torchrun team read of a built scene."""

    context: SceneContext
    total: int        # progress length, in ``unit``s
    unit: str         # what progress counts: steps, epochs, frames ...
    shared: bool      # its climbs go batch by batch across a torchrun team (see ``distributed.py``)

    @property
    def memory(self) -> int | None: ...

    def seconds(self) -> float | None: ...

    def work(self) -> float: ...

    def render(self, progress) -> Iterator[Still | Frame | Record]: ...


class SceneBase:
    """The shared part of every kind's ``Scene``.

    Attributes a kind sets: ``total``; ``step`` (from ``context.plan_step``); ``film``, the
    (frames, (h, w)[, seconds per megapixel]) of a scene that makes a video; ``fixed_seconds``,
    work beside the network's (a chart, a t-SNE).
    """

    unit: ClassVar[str] = "unit"
    shared: ClassVar[bool] = False
    step: Step | None = None
    film: tuple | None = None
    fixed_seconds: float = 0.0
    context: SceneContext
    total: int

    @property
    def memory(self) -> int | None:
        """Bytes one step holds, where the scene states it."""
        return self.step.memory if self.step is not None else None

    def seconds(self) -> float | None:
        """The render's time on its device: a timed probe of the step's workload times the steps
        (an optimisation's step costs ``CLIMB_OVERHEAD`` more than the network's passes, and the
        first step's warm-up once), plus the film's frames and fixed work; None where no workload
        is stated. A kind that knows better (training, an atlas's modules) overrides it."""
        from studio.budget import CLIMB_OVERHEAD, frame_seconds, step_timing

        if self.step is None or self.step.workload is None:
            return None
        overhead = CLIMB_OVERHEAD if hasattr(self.context.section, "param") else 1.0
        warm, cold = step_timing(self.step.model, self.step.workload)
        seconds = warm / self.step.units * self.total * overhead + cold
        return seconds + (frame_seconds(*self.film) if self.film else 0.0) + self.fixed_seconds

    def work(self) -> float:
        """The scene's work for sharing it out (not a timing: every process of a team must get the
        same answer): the pixels its steps push, a forward and backward counted as three forwards;
        else its units of work."""
        if self.step is None or self.step.workload is None:
            return float(self.total)
        workload = self.step.workload
        pixels = workload.batch * workload.size[0] * workload.size[1] * (3 if workload.backward else 1)
        return pixels * self.total / (self.step.units or 1)
