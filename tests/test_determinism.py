"""Same preset + seed + device gives the same pixels, for every scene kind there is."""

import json

from studio.scenes import KINDS

EVERY_KIND = """
[preset]
name = "every-kind"
seed = 11
[model]
name = "efficientnet_lite0"
[output]
fps = 4
[[scenes]]
kind = "feature-maps"
size = [48, 32]
layers = ["blocks.1"]
channels = 4
[[scenes]]
kind = "filters"
channels = 4
filter_size = 12
[[scenes]]
kind = "probe"
size = [48, 32]
layer = "blocks.2"
top = 3
[[scenes]]
kind = "maximize"
layer = "blocks.1"
channels = [0, 3]
size = [32, 32]
steps = 3
[[scenes]]
kind = "dream"
input = "builtin:coffee"
layers = ["blocks.1"]
size = [48, 32]
octaves = 2
steps = 2
[[scenes]]
kind = "poster"
layer = "blocks.1"
channels = [0, 3]
size = [48, 32]
steps = 2
param = "pixel"
decorrelate = true
margin = 8
[[scenes]]
kind = "progressive"
layer = "blocks.2"
channel = 1
neurons = 3
size = [32, 32]
steps = 2
[[scenes]]
kind = "atlas"
layers = ["blocks.0"]
channels = 2
size = [32, 32]
steps = 2
[[scenes]]
kind = "train"
dataset = "faces"
per_class = 10
epochs = 4
snapshot_every = 2
dreams_every = 2
[scenes.corruption]
label_noise = 0.2
[[scenes]]
kind = "saliency"
size = [48, 32]
samples = 3
[[scenes]]
kind = "guided-backprop"
size = [48, 32]
[[scenes]]
kind = "occlusion"
size = [48, 32]
window = 16
stride = 16
fill = "noise"
[[scenes]]
kind = "patches"
layer = "blocks.1"
channels = [0, 1]
images = ["builtin:coffee", "builtin:rocket"]
size = [48, 32]
top = 2
[[scenes]]
kind = "neighbours"
images = "builtin:*"
size = [32, 32]
k = 2
[[scenes]]
kind = "embedding"
images = "builtin:*"
size = [32, 32]
method = "tsne"
[[scenes]]
kind = "inversion"
size = [48, 32]
layer = "blocks.1"
steps = 3
jitter = 2
[[scenes]]
kind = "texture"
style = "builtin:coffee"
size = [32, 32]
steps = 3
[[scenes]]
kind = "style"
style = "builtin:rocket"
size = [48, 32]
steps = 3
[[scenes]]
kind = "tour"
layer = "blocks.1"
channels = [0, 2]
frames_per_channel = 3
size = [32, 32]
steps = 3
[[scenes]]
kind = "zoom"
layers = ["blocks.1", "blocks.2"]
weights = [1, "0:(0), 5:(1)"]
size = [48, 32]
frames = 6
steps = 2
angle = "0:(1 + sin(t))"
cadence = 2
"""


def test_every_kind_renders_the_same_pixels_twice(cli, write, tmp_path):
    path = write("every.toml", EVERY_KIND)
    folders = []
    for run in ("a", "b"):
        result = cli("render", path, "--out", tmp_path / run, "-q", "--no-resume")
        assert result.exit_code == 0, result.output
        folders.append(tmp_path / run / "every-kind")
    first, second = folders
    logs = [json.loads((f / "log.json").read_text())["scenes"] for f in folders]
    assert {entry["kind"] for entry in logs[0].values()} == set(KINDS)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.suffix in (".png", ".mp4"))
    assert len(files) > 30 and sum(p.suffix == ".mp4" for p in files) >= 4
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    for scene, entry in logs[0].items():
        other = logs[1][scene]
        for key in entry.keys() - {"seconds", "estimated_seconds"}:  # times are measured
            assert entry[key] == other[key], (scene, key)
