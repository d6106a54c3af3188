"""One process against a torchrun team of N on the same preset: wall-clock time of each whole
command, the speed-up, and whether every picture and video came out byte-identical.

Both sides run with the same threads per process (torchrun's default, OMP_NUM_THREADS=1 on the
CPU; pass --threads to change it), because CPU float reductions depend on the thread count. On a
GPU machine each process takes its own GPU (LOCAL_RANK).

Usage: python bench/bench_distributed.py [--nproc 2] [--preset PRESET] [--threads 1]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULT = """
[preset]
name = "bench-distributed"
seed = 7
[model]
name = "efficientnet_lite0"
[[scenes]]
kind = "maximize"
layer = "blocks.3"
channels = "0:16"
size = [96, 96]
steps = 48
[[scenes]]
kind = "atlas"
layers = ["blocks.1", "blocks.2", "blocks.4"]
channels = 4
size = [64, 64]
steps = 32
"""


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".studio" not in p.parts and p.name != "log.json"}


def timed(command: list[str], cwd: Path, threads: int) -> float:
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=environment, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--preset", help="a preset file (default: 16 channels and a 3-module atlas)")
    parser.add_argument("--threads", type=int, default=1, help="threads per process, both sides")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-distributed-"))
    preset = Path(args.preset).resolve() if args.preset else work / "bench.toml"
    if not args.preset:
        preset.write_text(DEFAULT)
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")
    render = ["-m", "studio", "render", str(preset), "-q", "--no-resume"]
    one = timed([sys.executable, *render, "--out", "one"], work, args.threads)
    team = timed([torchrun, "--nproc-per-node", str(args.nproc), *render, "--out", "team"], work, args.threads)
    (name,) = [p.name for p in (work / "one").iterdir()]
    same = digests(work / "one" / name) == digests(work / "team" / name)
    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {os.cpu_count()} cores"
    print(f"{preset.name} on {device}, {args.threads} thread(s) per process")
    print(f"one process:          {one:7.1f} s")
    print(f"torchrun, {args.nproc} processes: {team:7.1f} s   speed-up {one / team:.2f}x")
    print(f"files byte-identical: {same}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
