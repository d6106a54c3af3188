"""A user's mistakes, tried with the exact command a user types (a subprocess): each is one clear
message naming where the value came from, exit 2, no traceback, and nothing written."""

import subprocess
import sys

import pytest

from conftest import TINY_FEATURE_MAPS


def studio(*args, cwd):
    return subprocess.run([sys.executable, "-m", "studio", *map(str, args)], cwd=cwd,
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
    # render checks the name through the same code as validate: once is enough for it
    for verb in ("validate", "render") if hint == "efficientnet_lite0" else ("validate",):
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
    refused(studio("validate", preset, "--set", "preset.device=cuda", cwd=tmp_path), "--set", "no CUDA device")
    refused(studio("render", preset, "--device", "cuda", cwd=tmp_path), "--device", "no CUDA device")
    refused(studio("render", preset, "--device", "cuda:99999999999999999999", cwd=tmp_path), "preset.device")
    assert not (tmp_path / "renders").exists()


def test_every_sweep_value_gives_a_valid_name(tmp_path, root):
    base = root / "presets" / "seed002-lite0-progressive.toml"
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


def test_a_pipe_or_device_is_never_read_as_a_preset_or_image(preset, tmp_path):
    import os

    os.mkfifo(tmp_path / "fifo.toml")
    refused(studio("validate", "--quick", tmp_path / "fifo.toml", cwd=tmp_path), "not a regular file")
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    refused(studio("validate", "--quick", tmp_path / "zero.toml", cwd=tmp_path), "not a regular file")
    os.mkfifo(tmp_path / "fifo.png")
    refused(studio("validate", preset, "--set", f"scenes.0.input={tmp_path / 'fifo.png'}", cwd=tmp_path),
            "scenes.0.input", "not a regular image file")
    refused(studio("validate", "--quick", tmp_path / "base.toml" / "x.toml", cwd=tmp_path), "cannot be read")
    (tmp_path / "loop.toml").symlink_to(tmp_path / "loop.toml")
    refused(studio("validate", "--quick", tmp_path / "loop.toml", cwd=tmp_path), "cannot be read")


def test_documents_that_are_too_much_are_one_message(tmp_path):
    (tmp_path / "bom.toml").write_bytes(b"\xef\xbb\xbf" + TINY_FEATURE_MAPS.encode())
    refused(studio("validate", "--quick", tmp_path / "bom.toml", cwd=tmp_path), "byte-order mark")
    (tmp_path / "deep.toml").write_text(TINY_FEATURE_MAPS + "x = " + "[" * 4000 + "]" * 4000 + "\n")
    refused(studio("validate", "--quick", tmp_path / "deep.toml", cwd=tmp_path), "nested too deeply")
    (tmp_path / "tables.toml").write_text(TINY_FEATURE_MAPS + "y = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n")
    refused(studio("validate", "--quick", tmp_path / "tables.toml", cwd=tmp_path), "nested too deeply")
    (tmp_path / "ok.toml").write_text(TINY_FEATURE_MAPS)
    refused(studio("validate", "--quick", tmp_path / "ok.toml", "--set", "scenes.0.size=" + "[" * 3000 + "]" * 3000,
                   cwd=tmp_path), "nests too deeply")
    refused(studio("validate", "--quick", tmp_path / "ok.toml", "--set", "a" + ".a" * 50_000 + "=1", cwd=tmp_path),
            "key path too long")


def test_a_deeply_nested_preset_inside_a_png_is_one_message(tmp_path):
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("studio-preset", TINY_FEATURE_MAPS + "x = " + "[" * 4000 + "]" * 4000 + "\n", zip=True)
    Image.new("RGB", (4, 4)).save(tmp_path / "deep.png", pnginfo=info)
    refused(studio("remix", tmp_path / "deep.png", "-o", tmp_path / "x.toml", cwd=tmp_path), "nested too deeply")


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_memory_limit_must_be_a_finite_number(preset, tmp_path, value):
    result = studio("render", preset, "--memory-limit", value, cwd=tmp_path)
    assert result.returncode == 2 and "not a finite number" in result.stderr
    assert not (tmp_path / "renders").exists()


def test_counts_of_channels_and_dream_weights_are_checked(preset, tmp_path):
    atlas = tmp_path / "atlas.toml"
    atlas.write_text('[preset]\nname = "a"\n[[scenes]]\nkind = "atlas"\nchannels = 0\n')
    refused(studio("validate", "--quick", atlas, cwd=tmp_path), "scenes.0.channels", "at least 1")
    dream = tmp_path / "dream.toml"
    dream.write_text('[preset]\nname = "d"\n[[scenes]]\nkind = "dream"\nlayers = ["blocks.2", "blocks.4"]\n'
                     '[scenes.weights]\n"blocks.2" = 1.0\n"block.4" = 2.0\n')
    refused(studio("validate", "--quick", dream, cwd=tmp_path), "scenes.0.weights.block.4",
            "not one of this dream's layers", "did you mean `blocks.4`")


def test_a_dataset_too_big_to_hold_is_refused_before_it_is_made(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text('[preset]\nname = "big"\n[[scenes]]\nkind = "train"\ndataset = "shapes"\nnet = "small_cnn"\n'
                    'image_size = 256\nclasses = 6\nper_class = 10000\nepochs = 2\nsnapshot_every = 1\n')
    result = studio("validate", path, "--memory-limit", "4", cwd=tmp_path)
    refused(result, "scenes.0.dataset", "GiB")


def test_ctrl_c_while_torch_loads_is_exit_130_with_the_usual_message(preset, tmp_path, root):
    import signal
    import threading
    import time

    process = subprocess.Popen([sys.executable, str(root / "render.py"), str(preset)], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(process.stderr), daemon=True)
    reader.start()
    # Ctrl-C as a person presses it: again while nothing answers. A first signal that lands in the
    # interpreter's start-up is lost now and then; one already being answered is not pressed again.
    for _ in range(8):
        time.sleep(0.4)
        if process.poll() is not None or any("interrupted" in line for line in said):
            break
        process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    reader.join(timeout=10)
    stderr = "".join(said)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr and "Aborted" not in stderr


def test_an_mp4_gives_back_its_preset_to_remix(tmp_path):
    path = tmp_path / "v.toml"
    path.write_text('[preset]\nname = "vid"\n[[scenes]]\nkind = "progressive"\nlayer = "blocks.1"\nneurons = 2\n'
                    'size = [32, 32]\nsteps = 2\n')
    assert studio("render", path, "-q", cwd=tmp_path).returncode == 0
    result = studio("remix", tmp_path / "renders/vid/progressive.mp4", "--set", "progressive.steps=3",
                    "-o", tmp_path / "again.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "again.toml").read_text()
    assert 'name = "vid-remix"' in text and "steps = 3" in text and 'layer = "blocks.1"' in text


def test_a_log_gets_plain_progress_lines_and_an_estimate_first(tmp_path):
    path = tmp_path / "d.toml"
    path.write_text('[preset]\nname = "d"\n[[scenes]]\nkind = "dream"\nlayer = "blocks.2"\ninput = "builtin:chelsea"\n'
                    'size = [64, 48]\noctaves = 2\nsteps = 5\n')
    result = studio("render", path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    lines = result.stderr.splitlines()
    assert "d/dream: 10 units of work" in lines[0] and " s on cpu" in lines[0]  # before the first step
    assert any(line.startswith("d/dream: 100% (10/10)") for line in lines)
    quiet = studio("render", path, "-q", "--force", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""
    checked = studio("validate", path, cwd=tmp_path)
    assert checked.returncode == 0 and "dream: 10 units of work" in checked.stdout and "on cpu" in checked.stdout
