"""A 16-channel, 128 px `maximize` grid of blocks.3 on efficientnet_lite0 with studio's
defaults (`studio render`, whole process) against lucent's `render_vis` one channel at a time
(fft + decorrelation, its standard transforms, the full network per channel), whole process.

Prints seconds and the speed-up (issue target: 6x), and the mean channel activation each reaches,
measured the same way for both by an independent EfficientNet-Lite0 forward pass on the saved
8-bit pictures, averaged over jittered crops (target: studio >= lucent). Prints activation
against time for both (studio from its step log, lucent at its thresholds) and, with --plot,
saves it as a PNG.

lucent is optional: pip install --no-deps torch-lucent==0.1.8 decorator ipython
Usage: python bench/bench_vs_lucent.py [--device cpu] [--steps N] [--thresholds 32 64 128]
       [--channels 16] [--plot docs/vs-lucent.png]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent

LUCENT_SCRIPT = r"""
import json, sys, time, types
started = time.perf_counter()
import numpy as np, torch, kornia
try:
    import IPython.display  # lucent imports it for notebooks; a stub does where it is missing
except ImportError:
    sys.modules["IPython"] = types.ModuleType("IPython")
    sys.modules["IPython.display"] = sys.modules["IPython"].display = types.ModuleType("IPython.display")
from kornia.geometry import transform as geometry
# lucent 0.1.8 predates kornia's move of these two into kornia.geometry.transform
kornia.get_rotation_matrix2d = geometry.get_rotation_matrix2d
kornia.warp_affine = geometry.warp_affine
from lucent.optvis import render
from studio.models import load_model

device, thresholds, channels, out = sys.argv[1], tuple(map(int, sys.argv[2].split(","))), int(sys.argv[3]), sys.argv[4]
loaded = load_model("efficientnet_lite0", device=device)

class Normalise(torch.nn.Module):
    def forward(self, x):
        return loaded.normalize(x)

model = torch.nn.Sequential(Normalise(), loaded.module).to(device).eval()
images, looping = [], 0.0
ready = time.perf_counter() - started
for channel in range(channels):
    begun = time.perf_counter()
    result = render.render_vis(model, f"1_blocks_3:{channel}", thresholds=thresholds, preprocess=False,
                               show_image=False, progress=False)
    looping += time.perf_counter() - begun
    images.append(np.stack([r[0] for r in result]))
np.save(out, np.stack(images, axis=1))  # (thresholds, channels, H, W, 3)
print(json.dumps({"ready": ready, "looping": looping}))
"""

PRESET = """
[preset]
name = "bench-lucent"
device = "{device}"
[model]
name = "efficientnet_lite0"
[output]
video = false
[[scenes]]
kind = "maximize"
layer = "blocks.3"
channels = "0:{channels}"
size = [128, 128]
{steps}
"""


def independent_activation(pictures: torch.Tensor, channels: list[int], device: str, crops: int = 8) -> float:
    """Mean activation of each picture's own channel at blocks.3, seen by a separate forward pass
    of the 8-bit pictures over ``crops`` jittered crops (7/8 of the side, resized back): what the
    picture shows, not what its optimiser saw."""
    from studio.models import LayerTap, load_model
    from studio.pictures.layout import resize

    model = load_model("efficientnet_lite0", device=device)
    tap = LayerTap(model, ["blocks.3"])
    generator = torch.Generator().manual_seed(0)
    side = pictures.shape[-1]
    crop = side * 7 // 8
    values = []
    with torch.no_grad():
        for _ in range(crops):
            top, left = (int(v) for v in torch.randint(0, side - crop + 1, (2,), generator=generator))
            seen = resize(pictures[..., top:top + crop, left:left + crop].to(device), side, side)
            acts = tap(seen)["blocks.3"]
            values.append(acts[torch.arange(len(channels)), torch.tensor(channels)].mean(dim=(1, 2)).mean())
    return float(torch.stack(values).mean())


def read_pngs(folder: Path, channels: list[int]) -> torch.Tensor:
    from PIL import Image

    return torch.stack([torch.from_numpy(np.asarray(Image.open(folder / f"blocks.3-{c:04d}.png"),
                                                    dtype=np.float32) / 255).permute(2, 0, 1) for c in channels])


def plot(studio_curve, studio_final, lucent_points, path: Path, title: str) -> None:
    from common import figure, save_figure

    drawn, axes = figure()
    axes.plot(*zip(*studio_curve), "-", label="studio, its step log (mean objective over the batch)")
    axes.plot(*studio_final, "o", color="C0", label="studio, saved pictures (independent)")
    axes.plot(*zip(*lucent_points), "s--", color="C1", label="lucent at its thresholds, saved pictures")
    axes.set_xlabel("seconds, whole process")
    axes.set_ylabel("mean channel activation (blocks.3)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title(title, fontsize=10)
    save_figure(drawn, path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, help="studio's steps (default: its own default)")
    parser.add_argument("--thresholds", type=int, nargs="+", default=[32, 64, 128], help="lucent's steps")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    channels = list(range(args.channels))
    work = Path(tempfile.mkdtemp(prefix="bench-lucent-"))
    preset = work / "preset.toml"
    preset.write_text(PRESET.format(device=args.device, channels=args.channels,
                                    steps=f"steps = {args.steps}" if args.steps else ""))

    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "studio", "render", str(preset), "--out", str(work), "-q"],
                   check=True, cwd=ROOT)
    studio_seconds = time.perf_counter() - started
    log = json.loads((work / "bench-lucent" / "log.json").read_text())["scenes"]["maximize"]
    curve = log["objective"]
    startup = studio_seconds - log["seconds"]
    per_step = log["seconds"] / len(curve)
    ours = independent_activation(read_pngs(work / "bench-lucent" / "maximize", channels), channels, args.device)
    print(f"studio render, defaults ({len(curve)} steps, one batch of {args.channels}): {studio_seconds:7.1f} s"
          f"  (start-up {startup:.1f} s) on {args.device}; activation {ours:.3f}")
    print("studio step log:  " + "  ".join(f"step {k}: {startup + per_step * k:5.1f} s {curve[k - 1]:.3f}"
                                           for k in sorted({1, *range(8, len(curve) + 1, 8)})))

    try:
        import lucent  # noqa: F401
    except ImportError:
        print("lucent is not installed: pip install --no-deps torch-lucent==0.1.8 decorator ipython")
        return
    thresholds = sorted(args.thresholds)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", LUCENT_SCRIPT, args.device, ",".join(map(str, thresholds)),
                           str(args.channels), str(work / "lucent.npy")], check=True, cwd=ROOT,
                          capture_output=True, text=True)
    lucent_seconds = time.perf_counter() - started
    timing = json.loads(done.stdout.strip().splitlines()[-1])
    theirs = torch.from_numpy(np.load(work / "lucent.npy")).permute(0, 1, 4, 2, 3).float()
    points = []
    for index, threshold in enumerate(thresholds):
        # lucent's steps cost the same each: its time at a threshold is its start-up and that share of its loop
        at = lucent_seconds - timing["looping"] * (1 - threshold / thresholds[-1])
        points.append((at, independent_activation(theirs[index], channels, args.device)))
        print(f"lucent render_vis, channel by channel, {threshold:4d} steps: {at:7.1f} s; activation {points[-1][1]:.3f}")
    best = points[-1]
    print(f"\nspeed-up against lucent at {thresholds[-1]} steps: {lucent_seconds / studio_seconds:.2f}x (target >= 6)"
          f"; activation studio {ours:.3f} vs lucent {best[1]:.3f} ({ours / best[1]:.2f}x, target >= 1)")
    if args.plot:
        plot([(startup + per_step * (k + 1), v) for k, v in enumerate(curve)], (studio_seconds, ours), points,
             args.plot, f"16 channels of blocks.3, 128 px, on {args.device} ({torch.get_num_threads()} threads)")
        print(f"plot: {args.plot}")
    print(json.dumps({"studio_s": studio_seconds, "lucent_s": lucent_seconds, "studio_activation": ours,
                      "lucent_activation": best[1]}))


if __name__ == "__main__":
    main()
