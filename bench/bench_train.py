"""450 epochs of mlp2 on faces with a frame every 10 epochs, as a whole `studio render` process
(target: under 60 s on a 2-core CPU). Prints the wall-clock time and the frame count.

Usage: python bench/bench_train.py [--preset presets/seed000-faces-clean.toml] [--set KEY=VALUE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default=str(ROOT / "presets" / "seed000-faces-clean.toml"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="passed to studio render (e.g. scenes.0.epochs=20 for a quick run)")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench-train-"))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "studio", "render", args.preset, "--out", str(out), "-q",
                    "--device", "cpu", *(f"--set={o}" for o in args.overrides)], check=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    log = json.loads(next(out.glob("*/log.json")).read_text())
    for name, scene in log["scenes"].items():
        print(f"{name}: {len(scene['loss'])} epochs, {scene['video']['frames']} frames, "
              f"loss {scene['loss'][0]:.3f} -> {scene['loss'][-1]:.4f}, accuracy {scene['accuracy'][-1]:.0%}, "
              f"scene {scene['seconds']:.1f} s")
    print(f"whole render process: {seconds:.1f} s   (target < 60 s)")


if __name__ == "__main__":
    main()
