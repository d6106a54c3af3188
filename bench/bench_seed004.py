"""Seed 004's techniques against their naive loops and the bare network, measured in one run.

- occlusion: windows in the batches studio picks for the device vs one forward pass per window
  (the naive loop);
- SmoothGrad: noisy copies in studio's batches vs one backward pass per copy;
- inversion: one Descent step (relative loss, TV, Adam, parameterisation) vs the bare
  forward+backward of the truncated network on the same batch.

Usage: python bench/bench_seed004.py [--device cuda] [--size 224]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from studio.attribute import occlusion_map, smooth_saliency  # noqa: E402
from studio.inputs import load_input  # noqa: E402
from studio.models import LayerTap, load_model  # noqa: E402
from studio.optimize import (  # noqa: E402
    Ramp,
    Settings,
    batch_size,  # noqa: E402
)
from studio.optimize.match import Descent, feature_distance  # noqa: E402

from common import interleaved, sync  # noqa: E402

CAT = 285


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--window", type=int, default=48)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    device = torch.device(args.device)
    model = load_model("efficientnet_lite0", device=device)
    photo = load_input("builtin:chelsea", (args.size, args.size), model.input_size,
                       torch.Generator()).to(device)
    stride = args.window // 2

    def occlusion(batch):
        def run():
            occlusion_map(model, photo, CAT, args.window, stride, batch=batch)
            sync(device)
        return run

    def smoothgrad(batch):
        def run():
            smooth_saliency(model, photo, CAT, args.samples, 0.15, torch.Generator().manual_seed(0), batch)
            sync(device)
        return run

    layers = ["blocks.1", "blocks.3", "blocks.5"]
    tap = LayerTap(model, layers)
    with torch.no_grad():
        targets = tap(photo)
    start = torch.rand(len(layers), 3, args.size, args.size, device=device)

    def bare():
        for _ in range(args.steps):
            x = start.clone().requires_grad_(True)
            found = tap(x)
            sum(found[p][i].float().pow(2).mean() for i, p in enumerate(layers)).backward()
        sync(device)

    def descent():
        from studio.optimize.objectives import stacked

        terms = {"features": stacked([feature_distance(p, targets[p].float()) for p in layers])}
        run = Descent(model, terms, Settings(args.steps, Ramp(0.05, 0.05), param="fft"),
                      torch.Generator().manual_seed(0), tv_weight=0.05)
        for _ in run.run(start):
            pass
        sync(device)

    windows = len(range(0, args.size - args.window + 1, stride)) ** 2
    size = (args.size, args.size)
    forward_batch = batch_size(None, size, device, backward=False)
    backward_batch = batch_size(None, size, device)
    best = interleaved({"occlusion batched": occlusion(forward_batch), "occlusion naive": occlusion(1)}, rounds=2)
    print(f"device {device}, chelsea at {args.size}², efficientnet_lite0")
    print(f"occlusion, {windows} windows of {args.window} px: batches of {forward_batch} "
          f"{best['occlusion batched']:.2f} s, "
          f"one at a time {best['occlusion naive']:.2f} s -> "
          f"{best['occlusion naive'] / best['occlusion batched']:.2f}x faster")
    best = interleaved({"batched": smoothgrad(backward_batch), "naive": smoothgrad(1)}, rounds=2)
    print(f"SmoothGrad, {args.samples} samples: batches of {backward_batch} {best['batched']:.2f} s, one at a time "
          f"{best['naive']:.2f} s -> {best['naive'] / best['batched']:.2f}x faster")
    best = interleaved({"bare": bare, "descent": descent}, rounds=3)
    print(f"inversion step, {len(layers)} layers batched: {best['descent'] / args.steps * 1000:.1f} ms vs bare "
          f"forward+backward {best['bare'] / args.steps * 1000:.1f} ms -> ratio "
          f"{best['descent'] / best['bare']:.2f}")


if __name__ == "__main__":
    main()
