"""The seed presets do what the seeds did: their method, their numbers, their questions
(seed 001's plain-pixel climb of every map, seed 002's per-octave schedules, seed 003's
building and leaves test, seed 000's filters and living units)."""

import json
import tomllib

import pytest
import torch
from paths import PRESETS

from studio.models import LayerTap, load_model
from studio.models.layers import resolve_layer
from studio.preset import load_preset


def scenes(name):
    return {scene.name: scene for scene in load_preset(PRESETS / f"{name}.toml").scenes}


def plain_pixels_from_uniform_noise(scene):
    return (scene.param == "pixel" and scene.input == "uniform-noise" and scene.jitter == 0
            and scene.rotate == 0 and scene.scale == (1.0, 1.0) and scene.blur == 0)


def test_seed001_climbs_every_map_of_five_vgg16_layers_as_the_seed_did():
    found = scenes("seed001-vgg16-maximize")
    layers = ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]
    assert all(plain_pixels_from_uniform_noise(scene) for scene in found.values())
    assert [found[name].layer for name in layers] == layers
    assert all(found[name].channels == "all" for name in layers)
    vgg = load_model("vgg16", "none")
    paths = [resolve_layer(vgg, name) for name in layers]
    with torch.no_grad():
        shapes = LayerTap(vgg, paths)(torch.zeros(1, 3, 32, 32))
    assert [shapes[path].shape[1] for path in paths] == [64, 128, 256, 512, 512]
    discussed = found["conv5_1-discussed"]
    assert discussed.channels == (25, 104, 116) and min(discussed.size) >= 448


def test_seed001_keeps_the_prettier_recipe_as_a_named_variant():
    pretty = scenes("seed001-vgg16-maximize-pretty")
    assert all(scene.param == "fft" and scene.jitter > 0 for scene in pretty.values())
    assert pretty["conv5_1-discussed"].channels == (25, 104, 116)
    assert min(pretty["conv5_1-discussed"].size) >= 448


@pytest.mark.parametrize("name", ["seed002-inception-octaves", "seed002-lite0-octaves"])
def test_seed002_has_the_seeds_per_octave_schedules_and_the_raw_comparison(name):
    found = scenes(name)
    octaves, raw = found["octaves"], found["raw"]
    assert octaves.octaves == 3 and octaves.steps == 100 and octaves.blur_kernel == 3
    assert octaves.size == (380, 380) and octaves.jitter == 0 and octaves.input == "uniform-noise"
    assert octaves.blur == ((2.4, 0.8), (1.5, 0.4), (1.1, 0.3))
    # the seed's step sizes (0.4 → 0.3, 0.3 → 0.2, 0.2 → 0.1) in mean-pixel units: ×0.1
    seed_lr = ((0.4, 0.3), (0.3, 0.2), (0.2, 0.1))
    assert [value for pair in octaves.lr for value in pair] == \
        pytest.approx([0.1 * value for pair in seed_lr for value in pair])
    assert raw.channels == octaves.channels and raw.octaves == 1 and raw.blur == 0
    assert raw.steps == 3 * octaves.steps


def test_seed002_renders_channel_415_and_the_conv2d_3b_layer():
    """The seed's code maximises Conv2d_3b_1x1 map 200; the layer has 80, so every one is drawn."""
    found = scenes("seed002-inception-octaves")
    assert found["mixed_6b-415"].channels == (415,) and found["mixed_6b-415"].layer == "Mixed_6b"
    assert found["conv2d_3b"].channels == "all" and found["conv2d_3b"].layer == "Conv2d_3b_1x1"
    inception = load_model("inception_v3", "none")
    assert inception.module.Conv2d_3b_1x1.conv.out_channels == 80
    progressive = {scene.channel for scene in load_preset(PRESETS / "seed002-inception-progressive.toml").scenes}
    assert progressive == {654, 415}


def test_seed003_asks_the_seeds_question_of_a_building_and_of_leaves():
    found = scenes("seed003-vgg16-upscale")
    assert (found["building-probe"].layer, found["building-probe"].expect, found["building-probe"].top) == \
        ("conv5_1", (271,), 15)
    assert (found["leaves-probe"].expect, found["leaves-probe"].top) == ((15,), 15)
    for scene in (found["building-probe"], found["leaves-probe"]):
        assert (PRESETS / scene.input).is_file()


def test_seed003_twin_tests_channels_of_a_layer_it_maximised(cli, tmp_path):
    """The offline twin's probes rank the channels it drew, and say so in log.json."""
    preset = load_preset(PRESETS / "seed003-lite0-upscale.toml")
    maximised = {scene.layer for scene in preset.scenes if scene.kind == "maximize"}
    probes = [scene for scene in preset.scenes if scene.kind == "probe"]
    assert probes and all(scene.layer in maximised and scene.expect for scene in probes)
    result = cli("render", PRESETS / "seed003-lite0-upscale.toml", "--out", tmp_path, "-q", "--draft")
    assert result.exit_code == 0, result.output
    log = json.loads((tmp_path / "seed003-lite0-upscale-draft" / "log.json").read_text())
    for scene in probes:
        (entry,) = log["scenes"][scene.name]["expect"]
        assert entry["channel"] == scene.expect[0] and entry["in_top"] == (entry["rank"] <= scene.top)
        means = log["scenes"][scene.name]["means"]
        assert entry["rank"] == 1 + sum(m > means[entry["channel"]] for m in means)


def test_every_preset_that_extends_another_describes_itself():
    for path in sorted(PRESETS.glob("*.toml")):
        raw = tomllib.loads(path.read_text())
        if "extends" in raw:
            assert raw.get("preset", {}).get("description"), f"{path.name} inherits its parent's description"


def test_seed000_has_first_layer_filters_and_a_resnet_beside_vgg():
    kinds = {(scene.kind, load_preset(path).model.name) for path in PRESETS.glob("seed000-*.toml")
             for scene in load_preset(path).scenes}
    assert ("filters", "efficientnet_lite0") in kinds and ("filters", "resnet50") in kinds
    assert ("feature-maps", "resnet50") in kinds and ("feature-maps", "vgg16") in kinds


def test_filters_draws_the_first_convolution_of_the_trained_network(cli, write, tmp_path):
    def render(weights):
        path = write(f"f-{weights}.toml", f"""
            [preset]
            name = "f-{weights.lower()}"
            [model]
            name = "efficientnet_lite0"
            weights = "{weights}"
            [[scenes]]
            kind = "filters"
            """)
        assert cli("render", path, "--out", tmp_path, "-q").exit_code == 0
        return json.loads((tmp_path / f"f-{weights.lower()}" / "log.json").read_text())["scenes"]["filters"]
    trained, untrained = render("DEFAULT"), render("none")
    assert trained["layer"] == "conv_stem" and trained["shape"] == [32, 3, 3, 3]
    assert len(trained["norms"]) == 32 and trained["norms"] != untrained["norms"]
    assert (tmp_path / "f-default" / "filters.png").is_file()


def test_filters_of_a_layer_without_a_convolution_exits_2(cli, write, tmp_path):
    path = write("f.toml", """
        [preset]
        name = "f"
        [model]
        name = "efficientnet_lite0"
        [[scenes]]
        kind = "filters"
        layer = "classifier"
        """)
    result = cli("render", path, "--out", tmp_path, "-q")
    assert result.exit_code == 2 and "scenes.0.layer" in result.output and "no convolution" in result.output
    assert not (tmp_path / "f").exists()


def test_the_seeds_two_layer_net_keeps_every_hidden_unit_alive(cli, write, tmp_path):
    """Uncentred, 7-10 of the 16 units died within 30 epochs (Adam drove their biases below every
    all-positive face); centred inputs keep all 16 responding."""
    path = write("living.toml", """
        [preset]
        name = "living"
        [[scenes]]
        kind = "train"
        dataset = "faces"
        net = "mlp2"
        hidden = 16
        epochs = 30
        snapshot_every = 15
        lr = 0.01
        """)
    assert cli("render", path, "--out", tmp_path, "-q").exit_code == 0
    log = json.loads((tmp_path / "living" / "log.json").read_text())["scenes"]["train"]
    assert log["living_units"] == [16, 16, 16]
    assert log["heldout_accuracy"][-1] >= 0.9


def test_per_octave_schedules_are_checked_against_the_octaves(cli, write, tmp_path):
    path = write("o.toml", """
        [preset]
        name = "o"
        [model]
        name = "efficientnet_lite0"
        [[scenes]]
        kind = "maximize"
        layer = "blocks.2"
        octaves = 3
        lr = [[0.04, 0.03], [0.03, 0.02]]
        """)
    result = cli("validate", path)
    assert result.exit_code == 2 and "scenes.0.lr" in result.output and "3 pairs" in result.output
    result = cli("validate", path, "--set", "scenes.0.lr=0.02", "--set", "scenes.0.blur_kernel=4")
    assert result.exit_code == 2 and "scenes.0.blur_kernel" in result.output and "did you mean 5" in result.output
