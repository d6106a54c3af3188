"""studio from Python: the same keys, validation and pixels as the command line, networks by
name or in memory, results in memory and saved as the CLI saves them."""

import json

import numpy as np
import pytest
import tomli_w
import torch
from PIL import Image
from torch import nn

import studio

# Every optimising kind at a tiny size: the API's pictures must be the CLI's, pixel for pixel.
OPTIMISING = {
    "maximize": {"layer": "blocks.1", "channels": [1, 2], "size": [32, 32], "steps": 3},
    "atlas": {"layers": ["blocks.1"], "channels": 2, "size": [32, 32], "steps": 2},
    "dream": {"input": "builtin:coffee", "layers": ["blocks.1"], "size": [48, 32], "steps": 2, "octaves": 2},
    "progressive": {"layer": "blocks.1", "channel": 2, "neurons": 3, "size": [32, 32], "steps": 2,
                    "video_size": [96, 64]},
    "tour": {"layer": "blocks.1", "channels": [1, 2], "frames_per_channel": 2, "size": [32, 32], "steps": 2,
             "video_size": [96, 64]},
    "zoom": {"input": "builtin:coffee", "size": [64, 48], "frames": 3, "layers": ["blocks.1"], "steps": 1},
    "poster": {"layer": "blocks.1", "channels": [1, 2], "size": [64, 32], "steps": 2},
    "inversion": {"input": "builtin:chelsea", "layers": ["blocks.1"], "size": [32, 32], "steps": 4,
                  "video_size": [96, 64]},
    "texture": {"style": "builtin:coffee", "size": [32, 32], "steps": 3},
    "style": {"input": "builtin:chelsea", "style": "builtin:coffee", "size": [32, 32], "steps": 3,
              "video_size": [96, 64]},
    "train": {"net": "small_cnn", "dataset": "shapes", "classes": 2, "per_class": 8, "image_size": 16, "epochs": 2,
              "snapshot_every": 1, "video_size": [256, 144]},
}


def cli_pixels(cli, write, tmp_path, kind, keys):
    """Stills and frames of the same scene rendered by `studio render` (frames as PNGs)."""
    data = {"preset": {"name": "same", "seed": 0, "device": "cpu"}, "model": {"name": "efficientnet_lite0"},
            "output": {"frames": True}, "scenes": [{"kind": kind, **keys}]}
    result = cli("render", write("same.toml", tomli_w.dumps(data)), "--out", tmp_path / "cli", "-q")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "cli" / "same"
    entry = json.loads((folder / "log.json").read_text())["scenes"][kind]
    named = {folder / still["file"] for still in entry["stills"]}
    stills = {str(p.relative_to(folder).with_suffix("")): np.asarray(Image.open(p).convert("RGB")) for p in named}
    frames = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(set(folder.rglob("*.png")) - named)]
    return stills, frames


@pytest.mark.parametrize("kind", OPTIMISING)
def test_the_api_gives_the_cli_pixels(cli, write, tmp_path, kind):
    stills, frames = cli_pixels(cli, write, tmp_path, kind, OPTIMISING[kind])
    result = studio.render_scene("efficientnet_lite0", kind, seed=0, device="cpu", **OPTIMISING[kind])
    assert set(result.stills) == set(stills)
    for name, picture in result.stills.items():
        assert np.array_equal(np.asarray(picture), stills[name]), name
    assert len(result.frames) == len(frames)
    for ours, theirs in zip(result.frames, frames):
        assert np.array_equal(np.asarray(ours), theirs)


def test_visualize_returns_the_picture_of_one_channel():
    image = studio.visualize("efficientnet_lite0", "blocks.1:3", size=32, steps=2)
    assert isinstance(image, Image.Image) and image.size == (32, 32)
    again = studio.visualize("efficientnet_lite0", "blocks.1:3", size=32, steps=2)
    assert np.array_equal(np.asarray(image), np.asarray(again))  # same keys and seed: same pixels


def test_a_bad_key_is_the_cli_message_naming_the_keyword():
    with pytest.raises(studio.PresetError) as raised:
        studio.render_scene("efficientnet_lite0", "maximize", layer="blocks.1", octave_scal=2)
    text = str(raised.value)
    assert "`octave_scal`" in text and "did you mean `octave_scale`" in text and "scenes.0" not in text
    with pytest.raises(studio.PresetError, match="steps"):
        studio.render_scene("efficientnet_lite0", "maximize", layer="blocks.1", steps=0)
    with pytest.raises(studio.PresetError, match="layer:channel"):
        studio.visualize("efficientnet_lite0", "blocks.1")


def test_a_network_in_memory_is_visualised_and_left_trainable():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(8, 8, 3, padding=1))
    before = [p.detach().clone() for p in net.parameters()]
    result = studio.render_scene(studio.wrap(net, input_size=32, mean=(0.5,) * 3, std=(0.5,) * 3, name="tiny"),
                                 "maximize", layer="2", channels="0:4", steps=3)
    assert len([name for name in result.stills if name.startswith("maximize/")]) == 4
    assert result.image.size[0] > 32 and "tiny" in result.preset.model.name
    assert all(p.requires_grad for p in net.parameters()) and net[1].inplace  # the caller's module untouched
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    with pytest.raises(studio.PresetError, match="layer"):
        studio.render_scene(net, "maximize", layer="no.such", steps=1)


def test_a_result_saves_the_files_the_cli_writes(cli, write, tmp_path):
    keys = OPTIMISING["zoom"]
    result = studio.render_scene("efficientnet_lite0", "zoom", seed=0, device="cpu", **keys)
    folder = result.save(tmp_path / "api")
    assert {p.name for p in folder.iterdir()} >= {"zoom.png", "zoom.mp4", "log.json", "preset.toml"}
    entry = json.loads((folder / "log.json").read_text())["scenes"]["zoom"]
    assert entry["seconds"] == round(result.seconds, 3) and entry["video"]["frames"] == len(result.frames)
    stills, _ = cli_pixels(cli, write, tmp_path, "zoom", keys)
    assert np.array_equal(np.asarray(Image.open(folder / "zoom.png").convert("RGB")), stills["zoom"])
    html = result._repr_html_()
    assert "data:video/mp4;base64," in html and "data:image/png;base64," in html


def test_render_takes_a_path_a_toml_string_or_a_dict(tmp_path):
    data = {"preset": {"name": "from-dict", "seed": 2}, "model": {"name": "efficientnet_lite0"},
            "scenes": [{"kind": "feature-maps", "layer": "blocks.1", "channels": 4, "size": [32, 32]}]}
    from_dict = studio.render(data, out=tmp_path)
    text = tomli_w.dumps({**data, "preset": {"name": "from-text", "seed": 2}})
    from_text = studio.render(text, out=tmp_path)
    path = tmp_path / "p.toml"
    path.write_text(tomli_w.dumps({**data, "preset": {"name": "from-path", "seed": 2}}))
    from_path = studio.render(path, out=tmp_path)
    pictures = [np.asarray(Image.open(r.folder / "feature-maps.png")) for r in (from_dict, from_text, from_path)]
    assert all(np.array_equal(pictures[0], p) for p in pictures[1:])
    with pytest.raises(studio.PresetError, match="scenes"):
        studio.render({"preset": {"name": "x"}}, out=tmp_path)
