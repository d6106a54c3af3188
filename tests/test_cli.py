"""The command line end to end: exit codes, files written, PNG round trip, feature-map scenes."""

import json
import subprocess
import sys

import pytest

from studio.output.files import read_png_text
from studio.preset import loads

from conftest import TINY_FEATURE_MAPS

PROBE = """
[[scenes]]
kind = "probe"
input = "builtin:coffee"
size = [64, 64]
layer = "blocks.3"
top = 5
"""


def test_render_writes_the_contract_layout(cli, write, tmp_path):
    preset = write("tiny.toml", TINY_FEATURE_MAPS + PROBE)
    result = cli("render", preset, "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "tiny"
    assert (folder / "feature-maps.png").is_file()
    assert (folder / "feature-maps" / "blocks.0.png").is_file()
    assert (folder / "feature-maps" / "blocks.2.png").is_file()
    assert (folder / "probe.png").is_file() and (folder / "preset.toml").is_file()
    log = json.loads((folder / "log.json").read_text())
    probe = log["scenes"]["probe"]
    import torch

    expected_device = "cuda" if torch.cuda.is_available() else "cpu"  # device = "auto"
    assert probe["kind"] == "probe" and probe["device"] == expected_device and probe["seconds"] >= 0
    assert len(probe["top"]) == 5
    means = [t["mean"] for t in probe["top"]]
    assert means == sorted(means, reverse=True) and max(probe["means"]) == means[0]
    assert not list(folder.rglob(".*partial*"))


def test_png_round_trips_the_resolved_preset(cli, write, tmp_path):
    preset = write("tiny.toml", TINY_FEATURE_MAPS)
    assert cli("render", preset, "--out", tmp_path, "-q", "--set", "scenes.0.channels=2").exit_code == 0
    text = read_png_text(tmp_path / "tiny" / "feature-maps.png")
    again = loads(text)
    assert again.scenes[0].channels == 2 and again.scenes[0].layers == ("blocks.0", "blocks.2")
    assert text == (tmp_path / "tiny" / "preset.toml").read_text()


def test_invalid_preset_exits_2_writes_nothing(cli, write, tmp_path):
    preset = write("bad.toml", TINY_FEATURE_MAPS.replace("channels = 4", "chanels = 4"))
    result = cli("render", preset, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "chanels" in result.output and "did you mean `channels`" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_unknown_layer_exits_2_before_writing(cli, write, tmp_path):
    preset = write("bad.toml", TINY_FEATURE_MAPS.replace("blocks.2", "blocks.20"))
    result = cli("render", preset, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "blocks.2" in result.output and not (tmp_path / "out").exists()


def test_channel_out_of_range_exits_2(cli, write, tmp_path):
    text = TINY_FEATURE_MAPS.replace("channels = 4", "channels = [5000]")
    result = cli("render", write("bad.toml", text), "--out", tmp_path / "out")
    assert result.exit_code == 2 and "out of range" in result.output


def test_missing_weights_exit_1_with_a_plain_message(cli, write, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")
    preset = write("vgg.toml", TINY_FEATURE_MAPS.replace('name = "efficientnet_lite0"', 'name = "alexnet"')
                   .replace('"blocks.0", "blocks.2"', '"features.0"'))
    result = cli("render", preset, "--out", tmp_path / "out")
    assert result.exit_code == 1 and "not cached" in result.output and "Traceback" not in result.output


def test_cuda_without_gpu_is_refused(cli, write, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = cli("render", write("t.toml", TINY_FEATURE_MAPS), "--device", "cuda", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "no CUDA device" in result.output


def test_validate_and_models_and_layers(cli, write):
    ok = cli("validate", write("t.toml", TINY_FEATURE_MAPS))
    assert ok.exit_code == 0 and "ok" in ok.output
    models = cli("models")
    assert models.exit_code == 0 and "efficientnet_lite0" in models.output and "offline" in models.output
    layers = cli("layers", "vgg16")
    assert layers.exit_code == 0 and "conv5_1" in layers.output and "512×14×14" in layers.output
    unknown = cli("layers", "vgg17")
    assert unknown.exit_code == 2 and "vgg16" in unknown.output


def test_feature_maps_change_with_the_input(cli, write, tmp_path):
    for image in ("chelsea", "coffee"):
        preset = write(f"{image}.toml", TINY_FEATURE_MAPS.replace("tiny", image).replace("chelsea", image))
        assert cli("render", preset, "--out", tmp_path, "-q").exit_code == 0
    a = json.loads((tmp_path / "chelsea" / "log.json").read_text())["scenes"]["feature-maps"]["layers"]
    b = json.loads((tmp_path / "coffee" / "log.json").read_text())["scenes"]["feature-maps"]["layers"]
    assert a["blocks.2"]["mean"] != b["blocks.2"]["mean"]
    first = (tmp_path / "chelsea" / "feature-maps" / "blocks.2.png").read_bytes()
    assert first != (tmp_path / "coffee" / "feature-maps" / "blocks.2.png").read_bytes()


def test_same_seed_same_pixels(cli, write, tmp_path):
    preset = write("t.toml", TINY_FEATURE_MAPS.replace("builtin:chelsea", "noise"))
    for out in ("a", "b"):
        assert cli("render", preset, "--out", tmp_path / out, "-q").exit_code == 0
    assert (tmp_path / "a/tiny/feature-maps.png").read_bytes() == (tmp_path / "b/tiny/feature-maps.png").read_bytes()


def test_render_py_shim_is_studio_render(tmp_path, write, root):
    preset = write("t.toml", TINY_FEATURE_MAPS)
    done = subprocess.run([sys.executable, str(root / "render.py"), str(preset), "--out", str(tmp_path / "o"),
                           "--quiet"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o" / "tiny" / "feature-maps.png").is_file()
    bad = subprocess.run([sys.executable, str(root / "render.py"), str(tmp_path / "missing.toml")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "no such file" in bad.stderr and "Traceback" not in bad.stderr


def test_sigterm_mid_render_exits_130_leaving_no_partial_file(tmp_path, write, root):
    import signal
    import time

    text = TINY_FEATURE_MAPS.replace('kind = "feature-maps"', 'kind = "maximize"\nsteps = 400').replace(
        'layers = ["blocks.0", "blocks.2"]\nchannels = 4', 'layer = "blocks.2"\nchannels = "0:4"')
    preset = write("slow.toml", text)
    process = subprocess.Popen([sys.executable, str(root / "render.py"), str(preset), "--out", str(tmp_path / "o")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.time() + 60
    while not (tmp_path / "o" / "tiny" / "preset.toml").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    assert not list((tmp_path / "o").rglob("*partial*")) and not (tmp_path / "o" / "tiny" / "maximize.png").exists()
