"""Rendering under torchrun (two CPU processes, gloo): a process climbs only its share of a
scene's batches, the team's files are byte-identical to one process's, and a killed process
loses nothing that a re-run does not finish."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.output.cache import PartCache, scene_fingerprint
from studio.preset import load_preset
from studio.progress import progress_bar
from studio.rendering import prepare, render_preset

TORCHRUN = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")

MIX = """
[preset]
name = "mix"
seed = 4
[model]
name = "efficientnet_lite0"
[output]
fps = 6
[[scenes]]
kind = "maximize"
layer = "blocks.2"
channels = "0:6"
size = [48, 48]
steps = 4
batch = 2
[[scenes]]
kind = "progressive"
layer = "blocks.3"
channel = 5
neurons = 5
size = [64, 64]
steps = 3
batch = 2
[[scenes]]
kind = "atlas"
layers = ["blocks.1", "blocks.2"]
channels = 3
size = [48, 48]
steps = 3
[[scenes]]
kind = "train"
dataset = "shapes"
net = "small_cnn"
classes = 2
per_class = 6
image_size = 16
hidden = 4
epochs = 4
snapshot_every = 2
"""

SLOW = """
[preset]
name = "slow"
seed = 5
[model]
name = "efficientnet_lite0"
[[scenes]]
kind = "maximize"
layer = "blocks.2"
channels = "0:12"
size = [64, 64]
steps = 24
batch = 1
"""


def environment():
    # one thread per process on both sides: CPU float reductions depend on the thread count
    return {**os.environ, "OMP_NUM_THREADS": "1", "STUDIO_OFFLINE": "1"}


def run(args, cwd, **kwargs):
    return subprocess.run(args, cwd=cwd, env=environment(), capture_output=True, text=True, timeout=600, **kwargs)


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".studio" not in p.parts and p.name != "log.json"}


def log_without_timings(folder: Path) -> dict:
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "seconds"}
        return [strip(v) for v in value] if isinstance(value, list) else value
    return strip(json.loads((folder / "log.json").read_text()))


def test_a_share_climbs_only_its_batches_and_the_render_reuses_them(write, tmp_path):
    preset = load_preset(write("mix.toml", MIX))
    folder = tmp_path / "out" / "mix"
    fingerprint = scene_fingerprint(preset, 0, "cpu", tmp_path)
    parts = PartCache(folder, "maximize", fingerprint, share=(1, 2))  # process 1 of a team of 2
    (scene,) = [s for s in prepare(preset, __import__("torch").device("cpu"), [parts] + [None] * 3,
                                   skip={1, 2, 3}) if s is not None]
    with progress_bar(scene.total, "share", quiet=True) as bar:
        for _ in scene.render(bar):
            pass
    assert len(list(parts.folder.glob("*.pt"))) == 1  # batches [0, 1] [2, 3] [4, 5]: the middle one is rank 1's
    result = render_preset(preset, tmp_path / "out", quiet=True)
    assert result.resumed == {"maximize": 1}
    alone = render_preset(preset, tmp_path / "alone", quiet=True)
    assert digests(result.folder) == digests(alone.folder)


def test_torchrun_two_processes_give_the_files_of_one(write, tmp_path):
    path = write("mix.toml", MIX)
    one = run([sys.executable, "-m", "studio", "render", path, "--out", "one", "-q"], tmp_path)
    assert one.returncode == 0, one.stderr
    team = run([TORCHRUN, "--nproc-per-node", "2", "-m", "studio", "render", path, "--out", "two", "-q"], tmp_path)
    assert team.returncode == 0, team.stderr[-2000:]
    files = digests(tmp_path / "one" / "mix")
    assert len(files) > 10 and files == digests(tmp_path / "two" / "mix")
    assert log_without_timings(tmp_path / "one" / "mix") == log_without_timings(tmp_path / "two" / "mix")


def worker_pids(parent: int) -> dict[int, int]:
    """torchrun's worker processes: rank -> pid."""
    found = {}
    for child in Path("/proc").glob("[0-9]*"):
        try:
            if int((child / "stat").read_text().split(") ")[1].split()[1]) != parent:
                continue
            environ = dict(item.split("=", 1) for item in (child / "environ").read_text().split("\0") if "=" in item)
        except (OSError, ValueError, IndexError):
            continue
        if "RANK" in environ:
            found[int(environ["RANK"])] = int(child.name)
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds torchrun's workers through /proc")
@pytest.mark.slow  # three torchrun teams: over half a minute; run with -m slow
def test_a_killed_process_loses_nothing_a_rerun_does_not_finish(write, tmp_path):
    path = write("slow.toml", SLOW)
    one = run([sys.executable, "-m", "studio", "render", path, "--out", "one", "-q"], tmp_path)
    assert one.returncode == 0, one.stderr
    command = [TORCHRUN, "--nproc-per-node", "2", "-m", "studio", "render", str(path), "--out", "two", "-q"]
    launcher = subprocess.Popen(command, cwd=tmp_path, env=environment(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    parts = tmp_path / "two" / "slow" / ".studio" / "parts" / "maximize"
    deadline = time.monotonic() + 300
    while len(list(parts.rglob("*.pt"))) < 3 and launcher.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert launcher.poll() is None, "the render finished before a process could be killed"
    os.kill(worker_pids(launcher.pid)[1], signal.SIGKILL)
    assert launcher.wait(timeout=120) != 0
    kept = len(list(parts.rglob("*.pt")))
    assert 3 <= kept < 12 and not (tmp_path / "two" / "slow" / "log.json").exists()
    again = run(command, tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert digests(tmp_path / "one" / "slow") == digests(tmp_path / "two" / "slow")


@pytest.mark.slow  # three torchrun teams: over half a minute; run with -m slow
def test_torchrun_gallery_renders_every_preset_once(write, tmp_path):
    (tmp_path / "p").mkdir()
    write("p/mix.toml", MIX)
    write("p/needs-vgg.toml", """
        [preset]
        name = "needs-vgg"
        [model]
        name = "vgg16"
        [[scenes]]
        kind = "probe"
        layer = "conv5_1"
        input = "builtin:chelsea"
        """)
    environment_without_weights = {**environment(), "TORCH_HOME": str(tmp_path / "no-weights")}
    team = subprocess.run([TORCHRUN, "--nproc-per-node", "2", "-m", "studio", "gallery", "--presets", "p",
                           "--out", "g", "-q"], cwd=tmp_path, env=environment_without_weights,
                          capture_output=True, text=True, timeout=600)
    assert team.returncode == 0, team.stderr[-2000:]
    page = (tmp_path / "g" / "index.html").read_text()
    assert 'id="mix"' in page and "needs the vgg16 weights" in page
    one = run([sys.executable, "-m", "studio", "render", tmp_path / "p" / "mix.toml", "--out", "one", "-q"], tmp_path)
    assert one.returncode == 0, one.stderr
    gallery = digests(tmp_path / "g" / "mix")
    assert gallery.pop(".studio-fingerprint") and digests(tmp_path / "one" / "mix") == gallery


def test_a_scene_failing_in_one_process_ends_every_process_with_one_message(write, tmp_path):
    preset = write("fail.toml", """
[preset]
name = "fail"
[[scenes]]
kind = "train"
name = "diverges"
dataset = "faces"
epochs = 40
snapshot_every = 40
lr = 100.0
optimizer = "sgd"
[scenes.loss_schedule]
kind = "piecewise"
points = [[0, -1000.0]]
[[scenes]]
kind = "train"
name = "fine"
dataset = "faces"
epochs = 2
snapshot_every = 2
""")
    done = subprocess.run([TORCHRUN, "--nproc-per-node", "2", "-m", "studio", "render", str(preset), "--out",
                           str(tmp_path / "out"), "-q"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode != 0
    output = done.stdout + done.stderr
    # torchrun's own launcher reports the failed child with a traceback of its own; studio's
    # processes each print one line
    assert "studio/" not in "".join(line for line in output.splitlines(True) if line.lstrip().startswith("File")), \
        output[-3000:]
    # the other process ends at its next barrier, or earlier when torchrun's agent stops it (SIGTERM)
    assert "training diverged" in output and ("another process stopped" in output or "interrupted:" in output)
