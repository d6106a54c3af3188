"""What `studio render` says a scene will cost before its first step, against what it cost: for
every shipped preset that renders offline, as a draft (and any presets given in full with
--full). Prints per scene the estimated and measured seconds and their ratio, and per preset the
largest estimate of the process's memory (what is loaded when the scene starts, plus the scene's
own per-step estimate) against the process's peak resident memory.

Targets (issue 25): time within 2x, memory within 1.5x. A scene measured in under a second is
listed but not judged (start-up noise is most of it).

Usage: python bench/bench_estimates.py [--full PRESET ...] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ESTIMATE = re.compile(r"^(?P<preset>[^/\s]+)/(?P<scene>\S+): .*?(?:about [\d.]+ GiB per step"
                      r"(?: \((?P<gib>[\d.]+) GiB for the process\))?)?(?:, about [^,]+? on \w+)?$")


def measure(path: Path, draft: bool) -> tuple[list, float, float]:
    """[(scene, estimated s, measured s)] from the render's log.json, the largest estimate of the
    process's memory (GiB, from the announced lines), the process's peak resident memory (GiB)."""
    import json
    import threading

    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "studio", "render", str(path), "--out", out, "--force"] + (["--draft"] if draft else [])
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        texts = {}
        readers = [threading.Thread(target=lambda name, pipe: texts.__setitem__(name, pipe.read()), args=(name, pipe))
                   for name, pipe in (("out", process.stdout), ("err", process.stderr))]
        for reader in readers:
            reader.start()
        _, status, usage = os.wait4(process.pid, 0)  # this process's own peak, not the largest child's so far
        for reader in readers:
            reader.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            lines = texts["err"].strip().splitlines()
            raise RuntimeError(f"{path.name}: {lines[-1] if lines else 'failed'}")
        log = json.loads(next(Path(out).glob("*/log.json")).read_text())
    memory = max((float(found["gib"]) for found in map(ESTIMATE.match, texts["err"].splitlines())
                  if found and found["gib"]), default=0.0)
    rows = [(name, entry.get("estimated_seconds"), entry["seconds"]) for name, entry in log["scenes"].items()]
    return rows, memory, usage.ru_maxrss / 1024 ** 2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", nargs="*", default=[], help="presets rendered whole, not as drafts")
    parser.add_argument("--only", nargs="*", help="shipped preset names to draft (default: every offline one)")
    args = parser.parse_args()
    shipped = sorted((ROOT / "presets").glob("*.toml"))
    offline = [p for p in shipped if "efficientnet_lite0" in p.read_text() or "net = " in p.read_text()]
    runs = [(p, True) for p in offline if not args.only or p.stem in args.only]
    runs += [(Path(p).resolve(), False) for p in args.full]
    print(f"{'preset':<34} {'scene':<18} {'estimated':>10} {'measured':>9} {'ratio':>6}   memory est / peak")
    judged = within = memory_judged = memory_within = 0
    for path, draft in runs:
        rows, memory, peak = measure(path, draft)
        label = path.stem + ("" if draft else " (full)")
        for index, (scene, estimated, seconds) in enumerate(rows):
            ratio = estimated / seconds if estimated and seconds else None
            if ratio and seconds >= 1:
                judged += 1
                within += 0.5 <= ratio <= 2
            memory_words = f"{memory:5.2f} / {peak:5.2f} GiB" if index == 0 and memory else ""
            print(f"{label if index == 0 else '':<34} {scene:<18} {estimated or 0:9.1f}s {seconds:8.1f}s "
                  f"{(f'{ratio:.2f}' if ratio else '-'):>6}   {memory_words}", flush=True)
        if memory:
            memory_judged += 1
            memory_within += 1 / 1.5 <= memory / peak <= 1.5
    print(f"\ntime estimates within 2x: {within} of {judged} scenes measured at 1 s or more")
    print(f"memory estimates within 1.5x: {memory_within} of {memory_judged} presets that state one")


if __name__ == "__main__":
    main()
