"""Resume: unchanged scenes are not rendered again; a changed one is; an interrupted render
picks up where it stopped and ends as an uninterrupted one would."""

import json
import signal
import subprocess
import sys
import time

from conftest import TINY_FEATURE_MAPS

TWO_SCENES = TINY_FEATURE_MAPS + """
[[scenes]]
kind = "maximize"
name = "grid"
layer = "blocks.1"
channels = [0, 1]
size = [32, 32]
steps = 3
"""


def test_second_render_reuses_unchanged_scenes(cli, write, tmp_path):
    preset = write("t.toml", TWO_SCENES)
    first = cli("render", preset, "--out", tmp_path)
    assert first.exit_code == 0 and "cached" not in first.output
    still = tmp_path / "tiny" / "grid.png"
    stamp = still.stat().st_mtime_ns
    second = cli("render", preset, "--out", tmp_path)
    assert second.exit_code == 0 and second.output.count("cached") == 2
    assert still.stat().st_mtime_ns == stamp
    log = json.loads((tmp_path / "tiny" / "log.json").read_text())
    assert set(log["scenes"]) == {"feature-maps", "grid"} and log["scenes"]["grid"]["objective"]


def test_a_change_renders_only_what_it_changes(cli, write, tmp_path):
    preset = write("t.toml", TWO_SCENES)
    assert cli("render", preset, "--out", tmp_path, "-q").exit_code == 0
    changed = cli("render", preset, "--out", tmp_path, "--set", "grid.steps=4")
    assert changed.exit_code == 0 and changed.output.count("cached") == 1
    assert "feature-maps" in changed.output.split("cached")[0]


def test_no_resume_and_deleted_files_render_again(cli, write, tmp_path):
    preset = write("t.toml", TWO_SCENES)
    assert cli("render", preset, "--out", tmp_path, "-q").exit_code == 0
    assert "cached" not in cli("render", preset, "--out", tmp_path, "--no-resume").output
    (tmp_path / "tiny" / "grid" / "blocks.1-0001.png").unlink()
    again = cli("render", preset, "--out", tmp_path)
    assert again.output.count("cached") == 1 and (tmp_path / "tiny" / "grid" / "blocks.1-0001.png").is_file()


def test_interrupted_render_resumes_to_the_same_result(write, tmp_path, root):
    slow = TWO_SCENES.replace("steps = 3", "steps = 120")
    preset = write("t.toml", slow)
    command = [sys.executable, str(root / "render.py"), str(preset), "-q"]
    process = subprocess.Popen(command + ["--out", str(tmp_path / "a")], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 90
    while not (tmp_path / "a/tiny/.studio/feature-maps.json").exists() and time.time() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "run the same command again" in stderr
    assert not (tmp_path / "a/tiny/grid.png").exists()
    resumed = subprocess.run(command + ["--out", str(tmp_path / "a")], capture_output=True, text=True)
    whole = subprocess.run(command + ["--out", str(tmp_path / "b")], capture_output=True, text=True)
    assert resumed.returncode == whole.returncode == 0
    for name in ("feature-maps.png", "grid.png", "grid/blocks.1-0000.png"):
        assert (tmp_path / "a/tiny" / name).read_bytes() == (tmp_path / "b/tiny" / name).read_bytes()


PROGRESSIVE = """
[preset]
name = "frames"
seed = 3
[model]
name = "efficientnet_lite0"
[[scenes]]
kind = "progressive"
layer = "blocks.2"
channel = 2
neurons = 6
batch = 2
size = [32, 32]
steps = 3
"""


def test_an_interrupted_scene_resumes_from_its_last_finished_batch(cli, write, tmp_path, monkeypatch):
    from studio.optimize.ascent import Ascent

    preset = write("p.toml", PROGRESSIVE)
    assert cli("render", preset, "--out", tmp_path / "whole", "-q").exit_code == 0
    real_run, calls = Ascent.run, []

    def interrupted_on_the_second_batch(self, start, sizes, keep_detail=False):
        calls.append(start.shape[0])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_run(self, start, sizes, keep_detail)

    monkeypatch.setattr(Ascent, "run", interrupted_on_the_second_batch)
    stopped = cli("render", preset, "--out", tmp_path / "resumed")
    assert stopped.exit_code == 130 and "run the same command again" in stopped.output
    folder = tmp_path / "resumed" / "frames"
    assert not (folder / "progressive.mp4").exists()
    assert len(list((folder / ".studio" / "parts").rglob("*.pt"))) == 1

    again = cli("render", preset, "--out", tmp_path / "resumed")
    assert again.exit_code == 0 and "resumed: 1 parts reused" in again.output
    assert calls == [2, 2, 2, 2]  # the first batch was not climbed again
    for name in ("progressive.mp4", "progressive.png"):
        assert (folder / name).read_bytes() == (tmp_path / "whole" / "frames" / name).read_bytes()
    assert not list((folder / ".studio" / "parts").rglob("*.pt"))  # done: parts are cleared


def test_a_changed_scene_never_reads_another_scenes_parts(cli, write, tmp_path, monkeypatch):
    from studio.optimize.ascent import Ascent

    preset = write("p.toml", PROGRESSIVE)
    real_run, calls = Ascent.run, []

    def interrupted(self, start, sizes, keep_detail=False):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_run(self, start, sizes, keep_detail)

    monkeypatch.setattr(Ascent, "run", interrupted)
    assert cli("render", preset, "--out", tmp_path).exit_code == 130
    monkeypatch.setattr(Ascent, "run", real_run)
    changed = cli("render", preset, "--out", tmp_path, "--set", "scenes.0.steps=2")
    assert changed.exit_code == 0 and "resumed" not in changed.output


TRAINING = """
[preset]
name = "training"
seed = 4
[output]
fps = 4
[[scenes]]
kind = "train"
dataset = "faces"
per_class = 20
epochs = 20
snapshot_every = 5
[scenes.corruption]
label_noise = 0.2
"""


def test_an_interrupted_training_goes_on_from_its_last_snapshot(cli, write, tmp_path, monkeypatch):
    import studio.training.trainer as train_scene

    preset = write("t.toml", TRAINING)
    assert cli("render", preset, "--out", tmp_path / "whole", "-q").exit_code == 0
    real_train, epochs_run = train_scene.train, []

    def stopped_in_epoch_13(net, data, truth, scene, generator, device, on_epoch, **kwargs):
        def counting(n):
            epochs_run.append(n)
            if sum(epochs_run) == 13:
                raise KeyboardInterrupt
            on_epoch(n)
        return real_train(net, data, truth, scene, generator, device, counting, **kwargs)

    monkeypatch.setattr(train_scene, "train", stopped_in_epoch_13)
    assert cli("render", preset, "--out", tmp_path / "resumed").exit_code == 130
    monkeypatch.setattr(train_scene, "train", real_train)
    again = cli("render", preset, "--out", tmp_path / "resumed")
    # the checkpoint after epoch 10 and the weights of snapshots 0, 5 and 10
    assert again.exit_code == 0 and "resumed: 4 parts reused" in again.output
    whole, resumed = tmp_path / "whole" / "training", tmp_path / "resumed" / "training"
    for name in ("train.mp4", "train.png"):
        assert (whole / name).read_bytes() == (resumed / name).read_bytes()
    logs = [json.loads((folder / "log.json").read_text())["scenes"]["train"] for folder in (whole, resumed)]
    for key in ("loss", "accuracy", "clean_accuracy"):
        assert logs[0][key] == logs[1][key]


INVERSION = """
[preset]
name = "inverting"
seed = 6
[model]
name = "efficientnet_lite0"
[[scenes]]
kind = "inversion"
input = "builtin:coffee"
size = [48, 32]
layers = ["blocks.1", "blocks.2"]
steps = 40
jitter = 2
"""


def test_an_interrupted_descent_goes_on_from_its_checkpoint(cli, write, tmp_path, monkeypatch):
    from studio.optimize.match import Descent

    preset = write("i.toml", INVERSION)
    assert cli("render", preset, "--out", tmp_path / "whole", "-q").exit_code == 0
    real_losses, calls = Descent.losses, []

    def stopped_at_step_30(self, images):
        calls.append(1)
        if len(calls) == 31:  # the initial losses, then steps 1..30
            raise KeyboardInterrupt
        return real_losses(self, images)

    monkeypatch.setattr(Descent, "losses", stopped_at_step_30)
    assert cli("render", preset, "--out", tmp_path / "resumed").exit_code == 130
    monkeypatch.setattr(Descent, "losses", real_losses)
    again = cli("render", preset, "--out", tmp_path / "resumed")
    assert again.exit_code == 0 and "resumed:" in again.output
    whole, resumed = tmp_path / "whole" / "inverting", tmp_path / "resumed" / "inverting"
    for name in ("inversion.mp4", "inversion.png", "inversion/blocks.2.png"):
        assert (whole / name).read_bytes() == (resumed / name).read_bytes(), name
    logs = [json.loads((folder / "log.json").read_text())["scenes"]["inversion"] for folder in (whole, resumed)]
    assert logs[0]["loss"] == logs[1]["loss"]
