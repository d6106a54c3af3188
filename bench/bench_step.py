"""One ascent step against the bare forward+backward of the truncated network.

Prints, for each parameterisation, seconds per step of both and their ratio (target ≤ 1.2).
Usage: python bench/bench_step.py [--device cuda] [--batch 16] [--size 128] [--layer blocks.3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interleaved, sync  # noqa: E402

from studio.models import LayerTap, load_model  # noqa: E402
from studio.optimize import Ascent, Ramp, Robustness, Settings, objectives  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--layer", default="blocks.3")
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    device = torch.device(args.device)
    model = load_model("efficientnet_lite0", device=device)
    tap = LayerTap(model, [args.layer])
    channels = LayerTap(model, [args.layer])(torch.zeros(1, 3, 64, 64, device=device))[args.layer].shape[1]
    objective = objectives.channel(args.layer, torch.arange(args.batch, device=device) % channels)
    images = torch.rand(args.batch, 3, args.size, args.size, device=device)

    def bare():
        from studio.optimize.loop import autocast

        for _ in range(args.steps):
            x = images.clone().requires_grad_(True)
            with autocast(device):
                loss = -objective(tap(x)).float().sum()  # normalize() makes it channels_last
            loss.backward()
        sync(device)

    def climb(param):
        settings = Settings(args.steps, Ramp(0.05, 0.05), Ramp(0.0, 0.0),
                            Robustness(8, 5.0, (0.95, 1.05)), param)

        def run():
            Ascent(model, objective, settings, torch.Generator().manual_seed(0)).run(
                images, [(args.size, args.size)])
            sync(device)
        return run

    best = interleaved({"bare": bare, "pixel": climb("pixel"), "fft": climb("fft")})
    per_step = {name: seconds / args.steps for name, seconds in best.items()}
    print(f"device {device}, batch {args.batch}, {args.size} px, efficientnet_lite0 up to {args.layer}")
    print(f"bare forward+backward   {per_step['bare'] * 1000:8.2f} ms/step")
    for param in ("pixel", "fft"):
        ratio = per_step[param] / per_step["bare"]
        print(f"ascent step ({param:5})     {per_step[param] * 1000:8.2f} ms/step   ratio {ratio:5.2f}"
              f"   (target <= 1.20)")


if __name__ == "__main__":
    main()
