"""A user's mistakes, tried with the exact command a user types (a subprocess): each is one clear
message naming where the value came from, exit 2, no traceback, and nothing written."""

import subprocess
import sys

import pytest

from conftest import ROOT, TINY_FEATURE_MAPS


def studio(*args, cwd):
    return subprocess.run([sys.executable, "-m", "studio.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def refused(result, *words):
    """Exit 2 with one message (no traceback) holding every word."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for word in words:
        assert word in result.stderr, (word, result.stderr)


@pytest.fixture
def preset(tmp_path):
    path = tmp_path / "base.toml"
    path.write_text(TINY_FEATURE_MAPS)
    return path


@pytest.mark.parametrize("name, hint", [("efficientnet-lite0", "efficientnet_lite0"), ("resnet5", "resnet50"),
                                        ("not_a_model", None)])
def test_an_unknown_model_is_one_message_from_validate_and_render(preset, tmp_path, name, hint):
    for verb in ("validate", "render"):
        result = studio(verb, preset, "--set", f"model.name={name}", cwd=tmp_path)
        refused(result, "--set", "model.name", "unknown model", *([f"did you mean `{hint}`"] if hint else []))
    assert not (tmp_path / "renders").exists()


def test_validate_catches_what_render_would(preset, tmp_path):
    layer = studio("validate", preset, "--set", "scenes.0.layers=[\"blocks.0\", \"blocks.99\"]", cwd=tmp_path)
    refused(layer, "scenes.0.layers.1", "blocks.99")
    image = studio("validate", preset, "--set", "scenes.0.input=missing.png", cwd=tmp_path)
    refused(image, "scenes.0.input", "no such image file")
    channels = studio("validate", preset, "--set", "scenes.0.channels=[0, 9999]", cwd=tmp_path)
    refused(channels, "scenes.0.channels", "channel out of range")
    quick = studio("validate", "--quick", preset, "--set", "scenes.0.input=missing.png", cwd=tmp_path)
    assert quick.returncode == 0 and "ok" in quick.stdout
    ok = studio("validate", preset, cwd=tmp_path)
    assert ok.returncode == 0 and "feature-maps" in ok.stdout


def test_a_set_value_that_is_not_toml_says_so(preset, tmp_path):
    refused(studio("validate", "--quick", preset, "--set", "scenes.0.layers=[blocks.2", cwd=tmp_path),
            "--set", "not valid TOML")


@pytest.mark.skipif(__import__("shutil").which("nvidia-smi") is not None, reason="needs a machine without CUDA")
def test_a_device_error_names_the_flag_or_set_that_asked_for_it(preset, tmp_path):
    refused(studio("render", preset, "--set", "preset.device=cuda", cwd=tmp_path), "--set", "no CUDA device")
    refused(studio("render", preset, "--device", "cuda", cwd=tmp_path), "--device", "no CUDA device")
    refused(studio("render", preset, "--device", "cuda:99999999999999999999", cwd=tmp_path), "preset.device")
    assert not (tmp_path / "renders").exists()


def test_every_sweep_value_gives_a_valid_name(tmp_path):
    base = ROOT / "presets" / "seed002-lite0-progressive.toml"
    result = studio("remix", base, "--sweep", "progressive.lr=0.02,0.05", "-o", tmp_path / "swept.toml",
                    cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in tmp_path.glob("swept-*.toml"))
    assert written == ["swept-lr0-02.toml", "swept-lr0-05.toml"]
    assert studio("validate", "--quick", tmp_path / written[0], cwd=tmp_path).returncode == 0


def test_a_generated_name_that_is_too_long_says_it_was_generated(tmp_path):
    long = tmp_path / "long.toml"
    long.write_text(TINY_FEATURE_MAPS.replace('name = "tiny"', f'name = "{"a" * 95}"'))
    result = studio("remix", long, "--sweep", "scenes.0.channels=2,3", "-o", tmp_path / "x.toml", cwd=tmp_path)
    refused(result, "--sweep", "the name studio made")


def test_names_too_long_for_a_file_system_are_refused(preset, tmp_path):
    refused(studio("validate", "--quick", preset, "--set", f"preset.name={'a' * 300}", cwd=tmp_path),
            "preset.name", "up to 100")
    refused(studio("validate", "--quick", preset, "--set", f"scenes.0.name={'b' * 245}", cwd=tmp_path),
            "scenes.0.name")
