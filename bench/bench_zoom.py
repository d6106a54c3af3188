"""The feedback zoom's cost and its temporal coherence, in one run.

1. Seconds per dreamt 1280×720 frame (the difference of two films' scene times over the frames
   between them, every frame dreamt: warps, colour coherence, measures, parts and the MP4
   included; the first frame's kernel compilation and the encoder's start left out) against ``steps`` ×
   the bare forward+backward of EfficientNet-Lite0 to the deepest layer at that size. Target:
   per dreamt frame ≤ 1.3 × steps × bare.
2. The warping error of a feedback film against the same film dreamt frame by frame from
   independent starts (each frame is the photo moved by the camera so far, dreamt alone).

Usage: python bench/bench_zoom.py [--size 1280x720] [--frames 6] [--steps 3]
       [--layers blocks.2 blocks.3] [--coherence-size 320x180] [--coherence-frames 24]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.models import LayerTap, load_model  # noqa: E402
from studio.optimize import objectives  # noqa: E402
from studio.preset import loads  # noqa: E402
from studio.rendering import render_preset  # noqa: E402

PRESET = """
[preset]
name = "bench-zoom"
device = "cpu"
seed = 3
[model]
name = "efficientnet_lite0"
[output]
stills = false
[[scenes]]
kind = "zoom"
name = "film"
input = "builtin:coffee"
size = [{width}, {height}]
frames = {frames}
layers = {layers}
steps = {steps}
lr = 0.014
zoom = 1.015
angle = "0:(0.25*sin(2*pi*t/48))"
cadence = 1
"""


def film(width: int, height: int, frames: int, steps: int, layers: list[str], folder: Path) -> dict:
    preset = loads(PRESET.format(width=width, height=height, frames=frames, steps=steps,
                                 layers=json.dumps(layers)), "bench_zoom.py")
    render_preset(preset, folder, quiet=True, resume=False)
    return json.loads((folder / "bench-zoom" / "log.json").read_text())["scenes"]["film"]


def bare_seconds(model, layers: list[str], height: int, width: int, rounds: int = 4) -> list[float]:
    """Forward+backward of the network to its deepest layer, one image, ``rounds`` times."""
    tap = LayerTap(model, layers)
    objective = objectives.weighted([objectives.layer_l2(layer) for layer in layers], [1.0] * len(layers))
    image = torch.rand(1, 3, height, width)
    times = []
    for round_ in range(rounds + 1):
        started = time.perf_counter()
        pixels = image.clone().requires_grad_(True)
        (-objective(tap(pixels)).sum()).backward()
        if round_:  # the first pays for oneDNN's kernels at this shape
            times.append(time.perf_counter() - started)
    return times


def independent_warp_error(width: int, height: int, frames: int, steps: int, layers: list[str]) -> float:
    """The same camera and dream, each frame dreamt alone from the moved photo (no feedback)."""
    from studio.inputs import load_input
    from studio.optimize import Ascent, Ramp, Robustness, Settings
    from studio.pictures import coherence, motion

    model = load_model("efficientnet_lite0", device=torch.device("cpu"))
    start = load_input("builtin:coffee", (height, width), model.input_size, torch.Generator(), Path.cwd(),
                       "bench", "input")
    objective = objectives.weighted([objectives.layer_l2(layer) for layer in layers], [1.0] * len(layers))
    settings = Settings(steps, Ramp(0.014, 0.014), robustness=Robustness(4), param="pixel")
    moves = [motion.move_matrix(motion.Move(1.015, 0.25 * math.sin(2 * math.pi * t / 48)),
                                height, width) for t in range(frames)]
    reference, previous, errors = None, None, []
    for index in range(frames):
        moved = motion.warp(start, motion.compose(moves[1:index + 1]))
        dreamt = Ascent(model, objective, settings, torch.Generator().manual_seed(index)).run(moved, [(height, width)])
        reference = coherence.lab_statistics(dreamt) if reference is None else reference
        frame = (coherence.match_colours(dreamt, reference)[0] * 255).round() / 255
        if previous is not None:
            errors.append(motion.warp_error(previous, frame, moves[index]))
        previous = frame
    return statistics.fmean(errors)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--layers", nargs="+", default=["blocks.2", "blocks.3"])
    parser.add_argument("--coherence-size", default="320x180")
    parser.add_argument("--coherence-frames", type=int, default=24)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    torch.set_num_threads(torch.get_num_threads())
    model = load_model("efficientnet_lite0", device=torch.device("cpu"))
    # the machine's speed drifts by a fifth from minute to minute: the bare pass is timed before,
    # between and after the films, and the median of all its rounds is the one compared
    bare_rounds = bare_seconds(model, args.layers, height, width)
    with tempfile.TemporaryDirectory() as folder:  # the difference of two films: a frame's own cost,
        short = film(width, height, 2, args.steps, args.layers, Path(folder) / "short")  # without start-up
        bare_rounds += bare_seconds(model, args.layers, height, width)
        long = film(width, height, 2 + args.frames, args.steps, args.layers, Path(folder) / "long")
    bare_rounds += bare_seconds(model, args.layers, height, width)
    per_frame = (long["seconds"] - short["seconds"]) / args.frames
    bare = statistics.median(bare_rounds)
    ratio = per_frame / (args.steps * bare)
    print(f"zoom {width}x{height}, {args.steps} steps to {args.layers[-1]}, every frame dreamt ({args.frames} frames)")
    print(f"  seconds per dreamt frame      {per_frame:8.3f}")
    print(f"  bare forward+backward         {bare:8.3f}")
    print(f"  per frame / (steps x bare)    {ratio:8.2f}   target <= 1.30  {'ok' if ratio <= 1.3 else 'OVER'}")
    small_w, small_h = (int(v) for v in args.coherence_size.lower().split("x"))
    with tempfile.TemporaryDirectory() as folder:
        feedback = film(small_w, small_h, args.coherence_frames, args.steps, args.layers, Path(folder))
    independent = independent_warp_error(small_w, small_h, args.coherence_frames, args.steps, args.layers)
    print(f"warping error, {small_w}x{small_h}, {args.coherence_frames} frames (mean |warp(k) - (k+1)|, 0..1)")
    print(f"  feedback film                 {feedback['warp_error']['mean']:8.4f}")
    print(f"  independent starts            {independent:8.4f}   ({independent / feedback['warp_error']['mean']:.1f}x)")
    print(f"  feedback drift                {feedback['drift']}")


if __name__ == "__main__":
    main()
