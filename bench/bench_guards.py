"""How far a cyclic loss schedule may dip into gradient ascent before it destroys a network, with
and without the guards (``loss_schedule.ceiling``, ``gradient_clip``): the README's table.

shapes-small-cnn (small CNN, Adam at lr 0.01) under a cyclic schedule of period 30 for 90
epochs; prints the held-out accuracy at the end (chance: 25 %) and the highest loss reached.

Usage: python bench/bench_guards.py [--lows 0 -0.05 -0.1 -0.3 -1] [--epochs 90] [--guards none ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUARDS = {"none": "", "ceiling = 1.5": "ceiling = 1.5\n", "gradient_clip = 1.0": ""}


def preset(low: float, guard: str, epochs: int) -> str:
    text = (ROOT / "presets" / "shapes-small-cnn.toml").read_text()
    text = text.replace("dreams_every = 15\n", "dreams_every = 0\n" + ("gradient_clip = 1.0\n" if "clip" in guard else ""))
    text = text.replace("epochs = 150", f"epochs = {epochs}").replace("snapshot_every = 3", f"snapshot_every = {epochs}")
    return text + f'\n[scenes.loss_schedule]\nkind = "cyclic"\nperiod = 30\nlow = {low}\nhigh = 1.0\n' + GUARDS[guard]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lows", type=float, nargs="+", default=[0.0, -0.05, -0.1, -0.3, -1.0])
    parser.add_argument("--epochs", type=int, default=90)
    parser.add_argument("--guards", nargs="+", choices=list(GUARDS), default=list(GUARDS))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-guards-"))
    print(f"{'low':>6}  " + "  ".join(f"{guard:>22}" for guard in args.guards))
    for low in args.lows:
        cells = []
        for guard in args.guards:
            path = work / "p.toml"
            path.write_text(preset(low, guard, args.epochs))
            subprocess.run([sys.executable, str(ROOT / "render.py"), str(path), "--out", str(work), "-q", "--force"],
                           check=True)
            log = json.loads((work / "shapes-small-cnn" / "log.json").read_text())["scenes"]["train"]
            cells.append(f"{log['heldout_accuracy'][-1]:4.0%} (loss max {max(log['loss']):8.3g})")
        print(f"{low:>6}  " + "  ".join(f"{cell:>22}" for cell in cells), flush=True)


if __name__ == "__main__":
    main()
