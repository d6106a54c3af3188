"""Memory: estimated before a scene renders, so a preset that cannot fit on the CPU is refused
up front with the estimate named; on a GPU an out-of-memory error halves the batch instead.

The estimate is measured, not guessed: one forward pass of a probe image (at most 256² pixels) records the bytes
of every module's output up to the layers a scene needs, then scales with pixels and batch. A
forward + backward pass peaks at about that sum (PyTorch frees what the backward no longer
needs): on this CPU the measured peak RSS of fwd+bwd was 58-80% of the estimate for
EfficientNet-Lite0 (8×224², 4×512²) and VGG16 (4×224², 2×512²), so it errs on the safe side.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import torch

from studio.errors import PresetError
from studio.models.layers import LayerTap

PROBE_SIDE = 256
TIME_PROBE_PIXELS = 1 << 20  # a time probe's pixels in all: up to a megapixel runs as it will
CLIMB_OVERHEAD = 1.3  # an optimisation step (transforms, parameterisation, optimiser) against the bare
                      # forward and backward of its network: 1.13-1.41 on a 2-core CPU (bench/bench_step.py)
FIRST_CHART_SECONDS = 1.0  # matplotlib's first figure in a process (imports, fonts)
FRAME_SECONDS_PER_MEGAPIXEL = 0.16  # composing, compressing and encoding a film's frame on a 2-core CPU
BACKWARD_FACTOR = 1.0
GIB = 1024 ** 3


@dataclass(frozen=True)
class Workload:
    """What one step of a scene holds: ``batch`` images of ``size`` (h, w) through the network
    up to ``paths``, with a backward pass or not."""

    paths: tuple[str, ...]
    batch: int
    size: tuple[int, int]
    backward: bool = True
    what: str = "one step"
    probe_pixels: int = TIME_PROBE_PIXELS  # the most a time probe may hold (a tiled step: one tile)


_MEASURED: dict[tuple, float] = {}


def probe_size(size: tuple[int, int]) -> tuple[int, int]:
    """The workload's own size, or one of ``PROBE_SIDE``² pixels with its aspect when larger
    (small enough to measure in an instant, large enough for any network's smallest input)."""
    height, width = size
    ratio = min(1.0, (PROBE_SIDE * PROBE_SIDE / (height * width)) ** 0.5)
    return max(1, round(height * ratio)), max(1, round(width * ratio))


def _bytes_per_pixel(model, paths: tuple[str, ...], size: tuple[int, int]) -> float:
    """Bytes of every module output, per input pixel, for one image of about ``size``."""
    probe = probe_size(size)
    key = (id(model.module), paths, probe)
    if key not in _MEASURED:
        _MEASURED[key] = _measure(model, paths, probe)
    return _MEASURED[key]


def leaf_output_bytes(module: torch.nn.Module, forward) -> int:
    """Bytes of every leaf module's output while ``forward()`` runs (without gradients): what a
    backward pass through ``module`` keeps."""
    total = 0

    def hook(_module, _inputs, output):
        nonlocal total
        if isinstance(output, torch.Tensor):
            total += output.numel() * output.element_size()

    handles = [m.register_forward_hook(hook) for m in module.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            forward()
    finally:
        for handle in handles:
            handle.remove()
    return total


def _measure(model, paths: tuple[str, ...], probe: tuple[int, int]) -> float:
    try:
        total = leaf_output_bytes(model.module, lambda: LayerTap(model, list(paths))(
            torch.zeros(1, 3, *probe, device=model.device)))
    except RuntimeError:  # too small for this network: the scene's own size check says so
        return 0.0
    return total / (probe[0] * probe[1])


def estimate_bytes(model, workload: Workload) -> int:
    """Peak bytes of one step of ``workload`` on ``model`` (activations, their gradients, the
    images and the weights)."""
    height, width = workload.size
    pixels = height * width * workload.batch
    activations = _bytes_per_pixel(model, tuple(workload.paths), workload.size) * pixels
    factor = BACKWARD_FACTOR if workload.backward else 1.0
    weights = sum(p.numel() * p.element_size() for p in model.module.parameters())
    return int(activations * factor + pixels * 3 * 4 * (4 if workload.backward else 1) + weights)


def available_bytes(device: torch.device, limit: int | None = None) -> int:
    """Memory the render may use: ``limit`` (bytes, from ``--memory-limit``) if given, else what
    the device has free."""
    if limit is not None:
        return limit
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def resident_bytes() -> int:
    """This process's resident memory now (the interpreter, torch, the loaded models): what a
    scene's own estimate comes on top of, on the CPU. 0 where /proc is not there."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def check_memory(model, workload: Workload, device: torch.device, source: str, key: str,
                 limit: int | None = None) -> int:
    """Refuse, on the CPU, a workload whose estimate exceeds the memory available.

    On CUDA nothing is refused (an out-of-memory error halves the batch and retries); the
    estimate is returned either way for log.json.
    """
    needed = estimate_bytes(model, workload)
    if device.type == "cpu":
        have = available_bytes(device, limit)
        if needed > have:
            raise PresetError(source, key, f"{workload.what} would need about {needed / GIB:.1f} GiB "
                              f"({workload.batch} × {workload.size[1]}x{workload.size[0]} px through "
                              f"{model.name}), and {have / GIB:.1f} GiB is available",
                              expected="a smaller `size`, `batch` or `tile`; or raise the limit with "
                              "`--memory-limit GB`")
    return needed


def frame_seconds(frames: int, size: tuple[int, int], per_megapixel: float = FRAME_SECONDS_PER_MEGAPIXEL) -> float:
    """Time to compose and encode ``frames`` frames of ``size`` (h, w), beside the network's work
    (``per_megapixel``: a scene whose frames cost more to make, measured by profiling it)."""
    return frames * per_megapixel * size[0] * size[1] / 1e6


def time_probe(workload: Workload) -> tuple[int, tuple[int, int]]:
    """(batch, size) a time probe runs: the workload itself up to ``TIME_PROBE_PIXELS`` in all
    (on a CPU a step's cost is not linear in pixels: caches; measured on EfficientNet-Lite0, a
    256² probe scaled up put 1024² at half its cost and a batch of 16 × 128² at twice it); past
    that fewer images, then a smaller copy of the same aspect.

    Example:
        >>> time_probe(Workload(("a",), 16, (128, 128))), time_probe(Workload(("a",), 4, (2048, 2048)))
        ((16, (128, 128)), (1, (1024, 1024)))
    """
    height, width = workload.size
    batch = max(1, min(workload.batch, workload.probe_pixels // (height * width)))
    ratio = min(1.0, (workload.probe_pixels / (batch * height * width)) ** 0.5)
    return batch, (max(1, round(height * ratio)), max(1, round(width * ratio)))


def seconds_per_step(model, workload: Workload) -> float:
    """Time of one step of ``workload`` (see :func:`step_timing`), warm."""
    return step_timing(model, workload)[0]


_TIMED: dict[tuple, tuple[float, float]] = {}


def step_timing(model, workload: Workload) -> tuple[float, float]:
    """(warm, cold) seconds of one step of ``workload``, measured once per process: a forward
    (and backward) pass of the workload itself (or of a ``time_probe`` of it, scaled by pixels).
    Warm: the fastest of a few runs after a first; cold: what that first run cost more
    (allocations, kernel choice), paid once by a render. An atlas's batches of one size, or a
    scene estimated again, share the measurement."""
    key = (model.identity, id(model.module), str(model.device), dataclasses.replace(workload, what=""))
    if key not in _TIMED:
        _TIMED[key] = _time_step(model, workload)
    return _TIMED[key]


def _time_step(model, workload: Workload) -> tuple[float, float]:
    import time

    batch, probe = time_probe(workload)
    images = torch.rand(batch, 3, *probe, device=model.device, requires_grad=workload.backward)
    tap = LayerTap(model, list(workload.paths)) if workload.paths else None

    def step():
        with torch.set_grad_enabled(workload.backward):
            found = tap(images) if tap else {"out": model.module(model.normalize(images))}
            total = sum(getattr(value, "logits", value).float().sum() for value in found.values())
            if workload.backward:
                total.backward()
        if model.device.type == "cuda":
            torch.cuda.synchronize(model.device)

    try:
        started = time.perf_counter()
        step()  # cold: allocations, kernel selection; never counted
        cold = time.perf_counter() - started
        timings = []
        for _ in range(3 if cold < 1 else 1):  # a busy moment makes one run look slow; a slow step is its own average
            started = time.perf_counter()
            step()
            timings.append(time.perf_counter() - started)
        measured = min(timings)
    except RuntimeError:
        return 0.0, 0.0
    scale = workload.batch * (workload.size[0] * workload.size[1]) / (batch * probe[0] * probe[1])
    return measured * scale, max(0.0, cold - measured)
