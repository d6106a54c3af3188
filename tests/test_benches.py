"""Every benchmark starts, renders and prints its figures at its smallest setting: a bench that
rots (a preset key validation now refuses, an import that moved) fails here, not months later."""

import subprocess
import sys

import pytest

TINY_DISTRIBUTED = """
[preset]
name = "bench-tiny"
seed = 7
[model]
name = "efficientnet_lite0"
[[scenes]]
kind = "maximize"
layer = "blocks.1"
channels = "0:4"
size = [32, 32]
steps = 2
"""


@pytest.mark.parametrize("script, arguments, printed", [
    ("bench_step.py", ["--workload", "1x32", "--steps", "2", "--layer", "blocks.1"], "x"),
    ("bench_tiled_dream.py", ["--sizes", "256", "--tile", "128", "--steps", "1", "--layer", "blocks.1"], "256"),
    ("bench_seed004.py", ["--size", "64", "--window", "32", "--samples", "2", "--steps", "1"], "x"),
    ("bench_train.py", ["--set", "scenes.0.epochs=10"], "whole render process"),
    ("bench_zoom.py", ["--size", "96x64", "--frames", "2", "--steps", "1", "--coherence-size", "64x48",
                       "--coherence-frames", "3", "--layers", "blocks.1"], "warp"),
    ("bench_guards.py", ["--lows", "-0.1", "--epochs", "2", "--guards", "none"], "-0.1"),
    ("bench_vs_lucent.py", ["--steps", "2", "--channels", "2", "--thresholds", "2", "--plot", "{tmp}/l.png"],
     "studio render"),
    ("bench_startup.py", ["--repeat", "1", "--preset", "{tiny}"], "phases of one render"),
    ("bench_distributed.py", ["--nproc", "2", "--preset", "{tiny}"], "speed-up"),
    ("bench_cost.py", ["--sides", "32", "--batches", "1", "2", "--layer", "blocks.1", "--pairs", "2",
                       "--plot", "{tmp}/cost.png"],
     "worst ratio"),
    ("bench_estimates.py", ["--only", "seed000-faces-clean"], "time estimates within 2x"),
])
def test_a_bench_runs_at_its_smallest_setting(tmp_path, script, arguments, printed, root):
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(TINY_DISTRIBUTED)
    command = [sys.executable, str(root / "bench" / script), *(a.format(tiny=tiny, tmp=tmp_path) for a in arguments)]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert printed in done.stdout, done.stdout[-2000:]
