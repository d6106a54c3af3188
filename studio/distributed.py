"""Rendering under torchrun: the same command spread over processes, GPUs and nodes.

``torchrun --nproc-per-node N -m studio render PRESET...`` starts N processes (a team; any number
of nodes with a c10d rendezvous and a shared output folder). They share the work in two phases:

1. Every process walks the same presets and scenes. Scenes made of independent climbs (those
   whose ``Scene.shared`` is set: ``maximize``, ``progressive``, ``atlas``, batches of channels,
   frames, modules) are shared batch by batch through their part store (``output/cache.py``,
   exact tensors on the shared folder): batch i is climbed by process i mod N, which keeps it
   there. Every other scene goes whole to one process, the most work first to the least loaded
   (``Scene.work()``: the pixels its steps push), which writes its files and its resume record.
2. After a barrier, process 0 renders every preset as one process would, with resume: it finds
   every climb in the part store and every other scene finished, and assembles the sheets,
   videos and log.json.

The pictures therefore come from the same code on the same inputs as a one-process render
(a climb never depends on its batch-mates), so every file is byte-identical to it on the same
device kind. Finished parts and scenes are on disk: a process that dies loses only its current
batch, and re-running the command (or torchrun's ``--max-restarts``) finishes the render.
torch.distributed is used for the barrier only (gloo on CPU, NCCL on GPU); there is no scheduler.
"""

from __future__ import annotations

import os
from pathlib import Path


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


class Team:
    """This process's place in a torchrun team, and the barrier."""

    def __init__(self):
        import datetime

        import torch
        import torch.distributed as dist

        self.dist = dist
        self.cuda = torch.cuda.is_available()
        if not dist.is_initialized():
            # renders take hours: a process waits at the barrier as long as the others render
            dist.init_process_group("nccl" if self.cuda else "gloo", timeout=datetime.timedelta(days=7))
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))

    def barrier(self) -> None:
        """Wait for the others; a process that stopped (its own error, Ctrl-C) ends this one
        with one message instead of the backend's traceback."""
        from studio.errors import RenderError

        try:
            if self.cuda:
                self.dist.barrier(device_ids=[self.local_rank % max(1, _cuda_count())])
            else:
                self.dist.barrier()
        except RuntimeError:  # gloo and nccl report a peer that left as a RuntimeError of their own
            raise RenderError(f"process {self.rank} of the team stops: another process stopped (its own "
                              "message says why); run the same command again to resume") from None

    def close(self) -> None:
        if self.dist.is_initialized():
            self.dist.destroy_process_group()


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count()


def assign(costs: list[float], world: int) -> list[int]:
    """The process each whole scene goes to: the most expensive first, to the least loaded
    (ties to the lowest rank, so every process computes the same answer).

    Example:
        >>> assign([5.0, 1.0, 4.0, 2.0], 2)
        [0, 0, 1, 1]
    """
    load = [0.0] * world
    owners = [0] * len(costs)
    for index in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        owner = min(range(world), key=lambda r: (load[r], r))
        owners[index] = owner
        load[owner] += costs[index]
    return owners


def render_team(presets: list, out: Path | None, quiet: bool, resume: bool,
                memory_limit_gb: float | None, announce=None, assemble: bool = True) -> list:
    """Render ``presets`` as one process of a torchrun team (see the module's docstring).
    Returns the render results on process 0, an empty list on the others. Without
    ``assemble`` (the gallery's case) phase 2 is the caller's, and a preset that cannot render
    (its weights are missing) is passed over, for the caller to report."""
    from studio.errors import StudioError
    from studio.rendering import render_preset

    team = Team()
    try:
        for preset in presets:
            try:
                climb_share(preset, out, resume, memory_limit_gb, team, quiet)
            except StudioError:
                if assemble:
                    raise
        team.barrier()
    finally:
        team.close()
    if team.rank or not assemble:
        return []
    return [render_preset(preset, out, quiet, resume=True, memory_limit_gb=memory_limit_gb, announce=announce)
            for preset in presets]


def climb_share(preset, out: Path | None, resume: bool, memory_limit_gb: float | None, team: Team,
                quiet: bool) -> None:
    """Phase 1 for one preset: this process's share of its climbs, and the whole scenes it owns."""
    from studio.progress import progress_bar
    from studio.rendering import RenderSetup, render_preset

    setup = RenderSetup.of(preset, out, memory_limit_gb)
    if not resume and team.rank == 0:
        for index in range(len(preset.scenes)):
            setup.forget(index)
    team.barrier()  # nobody reads a store that process 0 is still clearing
    todo = {index for index in range(len(preset.scenes)) if setup.finished(index) is None}
    share = (team.rank, team.world)
    parts = [setup.parts(index, share=share) for index in range(len(preset.scenes))]
    scenes = setup.scenes(parts, set(range(len(preset.scenes))) - todo)
    whole = [index for index in sorted(todo) if not scenes[index].shared]
    owners = dict(zip(whole, assign([scenes[i].work() for i in whole], team.world)))
    for index in sorted(todo):
        section, scene = preset.scenes[index], scenes[index]
        if index in owners:
            if owners[index] == team.rank:
                render_preset(preset, out, quiet=True, resume=True, memory_limit_gb=memory_limit_gb, only={index})
            continue
        label = f"{preset.name}/{section.name} [{team.rank + 1}/{team.world}]"
        with progress_bar(scene.total, label, quiet or team.rank > 0) as bar:
            for _ in scene.render(bar):
                pass  # the pictures are assembled by process 0 from the part store
