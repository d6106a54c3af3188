"""maximize, dream, progressive and atlas through the command line, at tiny sizes."""

import json

import imageio_ffmpeg
import numpy as np
from PIL import Image

HEAD = """
[preset]
name = "opt"
seed = 5
[model]
name = "efficientnet_lite0"
[output]
fps = 6
"""

MAXIMIZE = HEAD + """
[[scenes]]
kind = "maximize"
layer = "blocks.2"
channels = [1, 4, 7]
size = [32, 32]
upscale_steps = 2
upscale_factor = 1.25
blur = 0.5
steps = 3
"""

DREAM = HEAD + """
[[scenes]]
kind = "dream"
input = "builtin:astronaut"
size = [64, 48]
layers = ["blocks.1", "blocks.3"]
octaves = 2
octave_scale = 1.3
steps = 4
"""

PROGRESSIVE = HEAD + """
[[scenes]]
kind = "progressive"
layer = "blocks.3"
channel = 2
size = [64, 64]
steps = 3
batch = 7
"""

ATLAS = HEAD + """
[[scenes]]
kind = "atlas"
layers = ["blocks.0", "blocks.2"]
channels = 3
size = [32, 32]
steps = 2
"""


def render(cli, write, tmp_path, text, out="out", *extra):
    result = cli("render", write("p.toml", text), "--out", tmp_path / out, "-q", *extra)
    assert result.exit_code == 0, result.output
    folder = tmp_path / out / "opt"
    return folder, json.loads((folder / "log.json").read_text())


def size_of(path):
    with Image.open(path) as picture:
        return picture.size


def test_maximize_writes_one_still_per_channel_at_the_upscaled_size(cli, write, tmp_path):
    folder, log = render(cli, write, tmp_path, MAXIMIZE)
    entry = log["scenes"]["maximize"]
    assert entry["sizes"] == [[32, 32], [40, 40], [50, 50]]
    for channel in (1, 4, 7):
        assert size_of(folder / "maximize" / f"blocks.2-{channel:04d}.png") == (50, 50)
    assert (folder / "maximize.png").is_file()
    assert len(entry["objective"]) == 9 and set(entry["activation"]) == {"1", "4", "7"}


def test_every_optimisation_kind_is_deterministic(cli, write, tmp_path):
    for text in (MAXIMIZE, DREAM, PROGRESSIVE, ATLAS):
        a, _ = render(cli, write, tmp_path, text, "a")
        b, _ = render(cli, write, tmp_path, text, "b")
        pngs = sorted(p.relative_to(a) for p in a.rglob("*.png"))
        assert pngs
        for name in pngs:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_dream_raises_its_layers_activation_and_keeps_octave_sizes(cli, write, tmp_path):
    folder, log = render(cli, write, tmp_path, DREAM)
    entry = log["scenes"]["dream"]
    assert entry["sizes"] == [[49, 37], [64, 48]]
    for layer in ("blocks.1", "blocks.3"):
        assert entry["activation"][layer]["after"] > entry["activation"][layer]["before"]
        assert size_of(folder / "dream" / f"{layer}.png") == (64, 48)


def test_mixed_dream_with_weights_is_one_image(cli, write, tmp_path):
    text = DREAM.replace("octaves = 2", "octaves = 1\nweights = [1.0, 0.5]")
    folder, log = render(cli, write, tmp_path, text)
    assert size_of(folder / "dream.png") == (64, 48) and not (folder / "dream").exists()
    assert log["scenes"]["dream"]["activation"]["mixed"]["after"] > log["scenes"]["dream"]["activation"]["mixed"]["before"]


def test_progressive_has_one_frame_per_neuron_and_frames_differ(cli, write, tmp_path):
    folder, log = render(cli, write, tmp_path, PROGRESSIVE, "out", "--set", "output.frames=true")
    entry = log["scenes"]["progressive"]
    height, width = entry["feature_map"]
    assert entry["frames"] == height * width == entry["video"]["frames"] == 16
    reader = imageio_ffmpeg.read_frames(str(folder / "progressive.mp4"))
    next(reader)
    assert len(list(reader)) == 16
    first = np.asarray(Image.open(folder / "progressive" / "frame-00000.png"), dtype=float)
    last = np.asarray(Image.open(folder / "progressive" / "frame-00015.png"), dtype=float)
    assert np.abs(first - last).mean() > 1.0


def test_progressive_neuron_limit(cli, write, tmp_path):
    _, log = render(cli, write, tmp_path, PROGRESSIVE.replace("batch = 7", "neurons = 5"))
    assert log["scenes"]["progressive"]["video"]["frames"] == 5


def test_atlas_makes_one_grid_per_module(cli, write, tmp_path):
    folder, log = render(cli, write, tmp_path, ATLAS)
    assert (folder / "atlas" / "blocks.0.png").is_file() and (folder / "atlas" / "blocks.2.png").is_file()
    activation = log["scenes"]["atlas"]["activation"]
    assert len(activation) == 6
    # the same channel numbers in two modules are two climbs, never one reused for the other
    assert [activation[f"blocks.0:{c}"] for c in range(3)] != [activation[f"blocks.2:{c}"] for c in range(3)]
    with Image.open(folder / "atlas" / "blocks.0.png") as first, Image.open(folder / "atlas" / "blocks.2.png") as last:
        assert first.tobytes() != last.tobytes()


def test_too_small_an_octave_is_refused_with_the_size(cli, write, tmp_path):
    text = DREAM.replace("octaves = 2", "octaves = 8").replace("octave_scale = 1.3", "octave_scale = 2.0")
    result = cli("render", write("p.toml", text), "--out", tmp_path / "out")
    assert result.exit_code == 2 and "smallest image" in result.output and "px" in result.output
    assert not (tmp_path / "out").exists()
