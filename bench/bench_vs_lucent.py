"""A 16-channel, 128 px, 128-step `maximize` grid of blocks.3 on efficientnet_lite0:
`studio render` (one batch) against lucent's `render_vis` one channel at a time (fft +
decorrelation, its standard transforms, the full network per channel), both as whole processes.

Prints wall-clock seconds and the speed-up (target ≥ 2.5), and the mean channel activation each
method reaches, measured the same way for both (target: studio ≥ lucent).

lucent is optional: pip install --no-deps torch-lucent==0.1.8 decorator ipython
Usage: python bench/bench_vs_lucent.py [--device cpu] [--steps 128] [--channels 16]
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
import sys, types, numpy as np, torch, kornia
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

device, steps, channels, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
loaded = load_model("efficientnet_lite0", device=device)

class Normalise(torch.nn.Module):
    def forward(self, x):
        return loaded.normalize(x)

model = torch.nn.Sequential(Normalise(), loaded.module).to(device).eval()
images = []
for channel in range(channels):
    result = render.render_vis(model, f"1_blocks_3:{channel}", thresholds=(steps,), preprocess=False,
                               show_image=False, progress=False)
    images.append(result[-1][0])
np.save(out, np.stack(images))
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
steps = {steps}
param = "fft"
lr = 0.05
"""


def mean_activation(images: torch.Tensor, channels: list[int], device: str, size: int) -> float:
    from studio.models import LayerTap, load_model
    from studio.pictures.layout import resize

    model = load_model("efficientnet_lite0", device=device)
    with torch.no_grad():
        acts = LayerTap(model, ["blocks.3"])(resize(images.to(device), size, size))["blocks.3"]
    return float(acts[torch.arange(len(channels)), torch.tensor(channels)].mean(dim=(1, 2)).mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--channels", type=int, default=16)
    args = parser.parse_args()
    channels = list(range(args.channels))
    work = Path(tempfile.mkdtemp(prefix="bench-lucent-"))
    preset = work / "preset.toml"
    preset.write_text(PRESET.format(device=args.device, channels=args.channels, steps=args.steps))

    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "studio.cli", "render", str(preset), "--out", str(work), "-q"],
                   check=True, cwd=ROOT)
    studio_seconds = time.perf_counter() - started
    from PIL import Image

    ours = torch.stack([torch.from_numpy(np.asarray(Image.open(
        work / "bench-lucent" / "maximize" / f"blocks.3-{c:04d}.png"), dtype=np.float32) / 255).permute(2, 0, 1)
        for c in channels])
    print(f"studio render (one batch of {args.channels}): {studio_seconds:7.1f} s  on {args.device}")

    try:
        import lucent  # noqa: F401
    except ImportError:
        print("lucent is not installed: pip install --no-deps torch-lucent==0.1.8 decorator ipython")
        return
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", LUCENT_SCRIPT, args.device, str(args.steps), str(args.channels),
                    str(work / "lucent.npy")], check=True, cwd=ROOT)
    lucent_seconds = time.perf_counter() - started
    theirs = torch.from_numpy(np.load(work / "lucent.npy")).permute(0, 3, 1, 2).float()
    print(f"lucent render_vis, channel by channel:     {lucent_seconds:7.1f} s")
    print(f"speed-up: {lucent_seconds / studio_seconds:.2f}x   (target >= 2.5)")
    for size in (128, 224):
        a = mean_activation(ours, channels, args.device, size)
        b = mean_activation(theirs, channels, args.device, size)
        print(f"mean channel activation seen at {size} px: studio {a:8.3f}   lucent {b:8.3f}")
    print(json.dumps({"studio_s": studio_seconds, "lucent_s": lucent_seconds}))


if __name__ == "__main__":
    main()
