"""One ascent step against the bare forward+backward of the truncated network.

Prints, for each workload and parameterisation, milliseconds per step of both and their ratio
against the targets (pixel <= 1.15, fft <= 1.25). The workloads are 16 x 128² and, on a GPU,
64 x 224² (on the CPU that one takes minutes: ask for it with --workload 64x224).
Usage: python bench/bench_step.py [--device cuda] [--workload 16x128 ...] [--layer blocks.3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from studio.models import LayerTap, load_model  # noqa: E402
from studio.optimize import Ascent, Ramp, Robustness, Settings, objectives  # noqa: E402

from common import interleaved, sync  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--workload", action="append", metavar="BATCHxSIZE",
                        help="batch x side in pixels, repeatable (default 16x128, and 64x224 on a GPU)")
    parser.add_argument("--layer", default="blocks.3")
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    device = torch.device(args.device)
    workloads = args.workload or (["16x128", "64x224"] if device.type == "cuda" else ["16x128"])
    model = load_model("efficientnet_lite0", device=device)
    print(f"device {device}, efficientnet_lite0 up to {args.layer}, {args.steps} steps per round")
    for workload in workloads:
        batch, size = (int(part) for part in workload.lower().split("x"))
        measure(model, device, args.layer, batch, size, args.steps)


def measure(model, device, layer: str, batch: int, size: int, steps: int) -> None:
    tap = LayerTap(model, [layer])
    channels = LayerTap(model, [layer])(torch.zeros(1, 3, 64, 64, device=device))[layer].shape[1]
    objective = objectives.channel(layer, torch.arange(batch, device=device) % channels)
    images = torch.rand(batch, 3, size, size, device=device)

    def bare():
        from studio.optimize.loop import autocast

        for _ in range(steps):
            x = images.clone().requires_grad_(True)
            with autocast(device):
                loss = -objective(tap(x)).float().sum()  # normalize() makes it channels_last
            loss.backward()
        sync(device)

    def climb(param):
        settings = Settings(steps, Ramp(0.05, 0.05), Ramp(0.0, 0.0),
                            Robustness(8, 5.0, (0.95, 1.05)), param)

        def run():
            Ascent(model, objective, settings, torch.Generator().manual_seed(0)).run(images, [(size, size)])
            sync(device)
        return run

    best = interleaved({"bare": bare, "pixel": climb("pixel"), "fft": climb("fft")})
    per_step = {name: seconds / steps for name, seconds in best.items()}
    print(f"\n{batch} x {size}²: bare forward+backward   {per_step['bare'] * 1000:8.2f} ms/step")
    for param, target in (("pixel", 1.15), ("fft", 1.25)):
        ratio = per_step[param] / per_step["bare"]
        print(f"  ascent step ({param:5})          {per_step[param] * 1000:8.2f} ms/step   ratio {ratio:5.2f}"
              f"   (target <= {target:.2f})")


if __name__ == "__main__":
    main()
