"""Where a render's time goes before (and around) its first step, on this machine.

Three tables, all measured in this one run:
  processes  whole commands, best of --repeat, as a user types them: the interpreter alone,
             `import torch` alone (the floor no studio change can go under), `studio --help`,
             `studio validate`, and the render itself (--force, so nothing comes from the cache);
  phases     one render, in a fresh process, split at studio's own seams: importing torch, the
             rest of studio's imports, reading the preset, building the scenes (model, weights,
             inputs, memory probes), the time estimates, each scene, and writing the log;
  imports    the packages whose import cost most in that render (``python -X importtime``,
             which inflates every figure a little), each module's own time under its package.

Usage: python bench/bench_startup.py [--preset presets/quickstart.toml] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PHASES = r"""
import json, sys, time
marks = [("start", time.perf_counter())]
def mark(name):
    marks.append((name, time.perf_counter()))
import torch
mark("import torch")
import studio.rendering, studio.cli, studio.scenes.support.context, studio.budget, studio.optimize
from studio.preset import load_preset
mark("import studio")
preset = load_preset(sys.argv[1])
mark("read the preset")
spent = {"model": 0.0, "probes": 0.0, "estimates": 0.0, "build": 0.0}
def timed(owner, name, what):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        begun = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[what] += time.perf_counter() - begun
    setattr(owner, name, wrapper)
import studio.scenes.support.context as context
timed(context, "load_model", "model")
timed(studio.budget, "check_memory", "probes")
timed(studio.optimize, "check_smallest_size", "probes")
timed(studio.rendering, "estimate", "estimates")
timed(studio.rendering, "prepare", "build")
result = studio.rendering.render_preset(preset, sys.argv[2], quiet=True, resume=False, announce=lambda line: None)
mark("end")
print(json.dumps({"marks": marks, "spent": spent, "scenes": result.seconds}))
"""


def best_of(command: list[str], repeat: int, env: dict) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - started)
    return best


def phases(preset: str, out: str, env: dict) -> list[tuple[str, float]]:
    found = subprocess.run([sys.executable, "-c", PHASES, preset, out], cwd=ROOT, env=env,
                           check=True, capture_output=True, text=True)
    data = json.loads(found.stdout.strip().splitlines()[-1])
    marks, spent = dict(data["marks"]), data["spent"]
    rows = [("import torch", marks["import torch"] - marks["start"]),
            ("import the rest of studio (click, kornia, ...)", marks["import studio"] - marks["import torch"]),
            ("read and check the preset", marks["read the preset"] - marks["import studio"]),
            ("model: build it, load the weights", spent["model"]),
            ("memory and size probes (a forward per scene)", spent["probes"]),
            ("build the rest of the scenes (inputs, ...)", spent["build"] - spent["model"] - spent["probes"]),
            ("time estimates (a timed step per scene)", spent["estimates"])]
    rows += [(f"scene {name} (its imports, steps and files)", seconds) for name, seconds in data["scenes"].items()]
    accounted = sum(seconds for _, seconds in rows)
    rows.append(("the rest (writer, log, fingerprints)", marks["end"] - marks["start"] - accounted))
    return rows


def heaviest_imports(preset: str, out: str, env: dict, count: int = 8) -> list[tuple[str, float]]:
    """Import time per top-level package, each module's own time added to its package's (so
    torch's cost is not also counted under studio, which imports it)."""
    found = subprocess.run([sys.executable, "-X", "importtime", "render.py", preset, "--out", out,
                            "--force", "-q"], cwd=ROOT, env=env, capture_output=True, text=True)
    totals: dict[str, float] = {}
    for line in found.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        if own.strip().isdigit():
            package = name.strip().split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(own) / 1e6
    return sorted(totals.items(), key=lambda item: -item[1])[:count]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="presets/quickstart.toml")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    python = sys.executable
    with tempfile.TemporaryDirectory() as out:
        render = best_of([python, "render.py", args.preset, "--out", out, "--force", "-q"], args.repeat, env)
        floor = best_of([python, "-c", "import torch"], args.repeat, env)
        processes = [("python -c pass", best_of([python, "-c", "pass"], args.repeat, env)),
                     ("python -c 'import torch'", floor),
                     ("studio --help", best_of([python, "-m", "studio", "--help"], args.repeat, env)),
                     (f"studio validate {args.preset}",
                      best_of([python, "-m", "studio", "validate", args.preset], args.repeat, env)),
                     (f"python render.py {args.preset} --force", render)]
        print(f"processes (best of {args.repeat})")
        for name, seconds in processes:
            print(f"  {name:<52} {seconds:6.2f} s")
        print(f"  render / import torch: {render / floor:.2f}x; render minus import torch: {render - floor:.2f} s")
        rows = phases(args.preset, out, env)
        print(f"\nphases of one render ({sum(s for _, s in rows):.2f} s in all)")
        for name, seconds in rows:
            print(f"  {name:<52} {seconds:6.2f} s")
        print("\nheaviest imports during the render (-X importtime, own time per package)")
        for name, seconds in heaviest_imports(args.preset, out, env):
            print(f"  {name:<52} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
