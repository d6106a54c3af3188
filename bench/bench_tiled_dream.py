"""Peak memory of a tiled DeepDream on the CPU: 1024², 2048² and 4096² images with 512-px tiles,
and an untiled 1024² run for contrast. Each render is its own `studio render` process; peak
resident memory comes from the kernel (ru_maxrss of the child).

Usage: python bench/bench_tiled_dream.py [--steps 2] [--layer blocks.4] [--sizes 1024 2048 4096]
       [--tile 512]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRESET = """
[preset]
name = "bench-tiles"
device = "cpu"
[model]
name = "efficientnet_lite0"
[output]
video = false
[[scenes]]
kind = "dream"
input = "builtin:astronaut"
layer = "{layer}"
size = [{size}, {size}]
octaves = 1
steps = {steps}
{tile}
"""


def render(size: int, steps: int, layer: str, tile: int | None, work: Path) -> tuple[float, float]:
    preset = work / f"dream-{size}-{tile}.toml"
    preset.write_text(PRESET.format(size=size, steps=steps, layer=layer,
                                    tile=f"tile = {tile}" if tile else "tile = 4096"))
    code = ("import resource, sys; from studio.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "render", str(preset), "--out", str(work), "-q"],
                          capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    peaks = [line for line in done.stdout.splitlines() if line.startswith("PEAK")]
    if done.returncode or not peaks:
        raise SystemExit(done.stderr[-2000:])
    return int(peaks[-1].split()[1]) / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--layer", default="blocks.4")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    parser.add_argument("--tile", type=int, default=512, help="tile side in pixels")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-tiles-"))
    print(f"DeepDream on efficientnet_lite0 up to {args.layer}, {args.steps} steps, CPU")
    for size in args.sizes:
        peak, seconds = render(size, args.steps, args.layer, args.tile, work)
        image_mb = size * size * 3 * 4 / 2**20
        print(f"{size:5}² tiled ({args.tile} px tiles): peak {peak:8.0f} MiB   ({image_mb:6.0f} MiB per float image copy)"
              f"   {seconds:6.1f} s")
    peak, seconds = render(args.sizes[0], args.steps, args.layer, None, work)
    print(f"{args.sizes[0]:5}² untiled:               peak {peak:8.0f} MiB   {seconds:6.1f} s")


if __name__ == "__main__":
    main()
