"""Each kind of preset mistake gets one clear PresetError naming file, key, expectation and hint."""

import pytest

from studio.errors import PresetError
from studio.preset import load_preset

GOOD = """
[preset]
name = "ok"
[[scenes]]
kind = "dream"
layer = "blocks.3"
"""


def error_for(write, text, overrides=()):
    path = write("p.toml", text)
    with pytest.raises(PresetError) as caught:
        load_preset(path, list(overrides))
    return caught.value, str(path)


def test_good_preset_loads(write):
    preset = load_preset(write("p.toml", GOOD))
    assert preset.name == "ok" and preset.scenes[0].layer == "blocks.3"
    assert preset.scenes[0].name == "dream"


def test_unknown_key_suggests_the_closest(write):
    error, path = error_for(write, GOOD + "octave_scal = 1.3\n")
    assert error.source == path and error.key == "scenes.0.octave_scal"
    assert "did you mean `octave_scale`" in str(error)


def test_unknown_kind_suggests_the_closest(write):
    error, _ = error_for(write, GOOD.replace('"dream"', '"dreem"'))
    assert error.key == "scenes.0.kind" and "`dream`" in str(error) and "'dreem'" in str(error)


def test_unknown_top_level_table(write):
    error, _ = error_for(write, GOOD + "[modell]\nname='x'\n")
    assert error.key == "modell" and "`model`" in str(error)


def test_wrong_type_names_expected_and_found(write):
    error, _ = error_for(write, GOOD + 'steps = "many"\n')
    assert error.key == "scenes.0.steps"
    assert error.expected == "an integer" and "string 'many'" in error.found


def test_out_of_range_value(write):
    error, _ = error_for(write, GOOD + "steps = 0\n")
    assert "at least 1" in str(error)


@pytest.mark.parametrize("line, limit", [("size = [8192, 64]", "4096"), ("steps = 100000", "10000")])
def test_limits_are_refused_with_the_limit_named(write, line, limit):
    error, _ = error_for(write, GOOD + line + "\n")
    assert "limit" in str(error) and limit in str(error)


def test_frame_count_limit(write):
    text = '[preset]\nname = "t"\n[[scenes]]\nkind = "train"\nepochs = 100000\nsnapshot_every = 1\n'
    error, _ = error_for(write, text)
    assert error.key == "scenes.0.snapshot_every" and "frames" in str(error)


def test_missing_required_name(write):
    error, _ = error_for(write, "[preset]\ntitle='x'\n[[scenes]]\nkind='probe'\nlayer='blocks.1'\n")
    assert error.key == "preset.name" and "required" in str(error)


def test_toml_syntax_error_gives_line_and_column(write):
    error, _ = error_for(write, GOOD + "steps = = 3\n")
    assert "TOML syntax error" in str(error) and "line 7" in str(error) and "column" in str(error)


def test_missing_scenes(write):
    error, _ = error_for(write, '[preset]\nname = "x"\n')
    assert error.key == "scenes"


def test_join_rule_layer_and_layers(write):
    error, _ = error_for(write, GOOD + 'layers = ["blocks.1"]\n')
    assert error.key == "scenes.0.layers" and "not both" in str(error)


def test_bad_channel_range(write):
    error, _ = error_for(write, GOOD + 'channels = "9:3"\n')
    assert error.key == "scenes.0.channels" and "empty range" in str(error)


def test_unsorted_schedule_points(write):
    text = ('[preset]\nname = "t"\n[[scenes]]\nkind = "train"\n[scenes.loss_schedule]\n'
            'kind = "piecewise"\npoints = [[10, 1.0], [5, -1.0]]\n')
    error, _ = error_for(write, text)
    assert error.key == "scenes.0.loss_schedule.points"


def test_fraction_out_of_range(write):
    text = '[preset]\nname = "t"\n[[scenes]]\nkind = "train"\n[scenes.corruption]\nlabel_noise = 1.5\n'
    error, _ = error_for(write, text)
    assert error.key == "scenes.0.corruption.label_noise" and "[0, 1)" in str(error)


def test_output_dir_cannot_escape(write):
    error, _ = error_for(write, GOOD + '[output]\ndir = "../../elsewhere"\n')
    assert error.key == "output.dir"


def test_bad_device_string(write):
    error, _ = error_for(write, GOOD.replace('name = "ok"', 'name = "ok"\ndevice = "gpu"'))
    assert error.key == "preset.device"


def test_duplicate_scene_names(write):
    text = GOOD.replace('kind = "dream"', 'kind = "dream"\nname = "a"') * 1
    text += '[[scenes]]\nkind = "probe"\nname = "a"\nlayer = "x"\n'
    error, _ = error_for(write, text)
    assert error.key == "scenes.1.name"


def test_bad_name_pattern(write):
    error, _ = error_for(write, GOOD.replace('"ok"', '"Has Spaces"'))
    assert error.key == "preset.name"


def test_extends_cycle_detected(write):
    write("a.toml", 'extends = "b.toml"\n[preset]\nname = "a"\n')
    path = write("b.toml", 'extends = "a.toml"\n[preset]\nname = "b"\n')
    with pytest.raises(PresetError) as caught:
        load_preset(path)
    assert "cycle" in str(caught.value) and caught.value.key == "extends"


def test_extends_missing_file(write):
    error, _ = error_for(write, 'extends = "nope.toml"\n' + GOOD)
    assert error.key == "extends" and "nope.toml" in str(error)


def test_set_without_equals(write):
    error, _ = error_for(write, GOOD, ["scenes.0.steps"])
    assert error.source == "--set" and "KEY=VALUE" in str(error)


def test_set_index_out_of_range(write):
    error, _ = error_for(write, GOOD, ["scenes.4.steps=3"])
    assert error.source == "--set" and "below 1" in str(error)


def test_set_value_is_validated_and_blamed_on_set(write):
    error, _ = error_for(write, GOOD, ["scenes.0.steps=-3"])
    assert error.source == "--set" and error.key == "scenes.0.steps"


def test_missing_file():
    with pytest.raises(PresetError) as caught:
        load_preset("/nonexistent/preset.toml")
    assert "no such file" in str(caught.value)


LITE = '[preset]\nname = "gap"\n[model]\nname = "efficientnet_lite0"\n[[scenes]]\n'


@pytest.mark.parametrize("scene, key, words", [
    ('kind = "maximize"\nlayer = "blocks.2"\nchannels = 2\nlr = []\n', "scenes.0.lr", "empty"),
    ('kind = "dream"\nlayers = ["blocks.2"]\nblur = []\n', "scenes.0.blur", "empty"),
    ('kind = "train"\nnet = "model"\nhidden = 32\n', "scenes.0.hidden", 'no effect with net = "model"'),
    ('kind = "poster"\nlayer = "blocks.2"\nchannels = "0:8"\ngrid = [2, 2]\nsize = [64, 64]\n', "scenes.0.grid",
     "fewer cells than channels"),
    ('kind = "train"\ndataset = "shapes"\nnet = "small_cnn"\nclasses = 2\nper_class = 2\nimage_size = 16\n'
     'epochs = 2\nsnapshot_every = 1\n[scenes.corruption]\nmissing = 0.9\n', "scenes.0.corruption.missing",
     "no training examples left"),
])
def test_values_that_reached_the_render_are_one_message_before_anything_is_written(cli, write, tmp_path, scene,
                                                                                   key, words):
    result = cli("render", write("gap.toml", LITE + scene), "--out", tmp_path / "out")
    assert result.exit_code == 2 and f"`{key}`" in result.output and words in result.output, result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_a_small_nets_checkpoint_is_not_fine_tuned(cli, write, tmp_path):
    import torch

    from studio.models.small import build_small_net

    net = build_small_net("mlp2", 1, 25, 16, 2)
    torch.save({"arch": "mlp2", "state_dict": net.state_dict(), "input_size": [25, 25],
                "config": {"in_channels": 1, "image_size": 25, "hidden": 16, "classes": 2}}, tmp_path / "small.pt")
    preset = write("small.toml", '[preset]\nname = "s"\n[model]\nname = "small.pt"\n[[scenes]]\nkind = "train"\n'
                                 'net = "model"\ndataset = "faces"\nepochs = 2\nsnapshot_every = 1\n')
    result = cli("render", preset, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "`model.name`" in result.output and "cannot be fine-tuned" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, overrides, words", [
    (LITE + 'kind = "maximize"\nname = "grid"\nlayer = "blocks.2"\nchannels = "0-8"\n', (),
     'did you mean "0:8"'),
    (LITE + 'kind = "maximize"\nname = "grid"\nlayer = "blocks.2"\n', ("gird.steps=3",),
     "grid (maximize)"),
    (LITE + 'kind = "maximize"\nname = "grid"\nlayer = "blocks.2"\n', ("gird.steps=3",), "did you mean `grid`"),
    ('[preset]\nname = "x\n', (), "the string on line 2 is never closed"),
    ('[preset]\nname = "x"\ndescription = """a story\n', (), "opened on line 3 is never closed"),
    (LITE + 'kind = "maximize"\nlayer = "blocks.2"\nparam = "fft"\ndecorrelate = true\n', (),
     'has no effect: param = "fft" is already colour-decorrelated'),
])
def test_messages_say_what_the_mistake_is(write, text, overrides, words):
    error, _ = error_for(write, text, list(overrides))
    assert words in str(error), str(error)


def test_a_missing_image_names_the_folders_searched_and_the_nearest_file(cli, write, tmp_path):
    (tmp_path / "photo.jpeg").write_bytes(b"")
    preset = write("m.toml", '[preset]\nname = "m"\n[[scenes]]\nkind = "dream"\nlayer = "blocks.2"\ninput = "photo.jpg"\n')
    result = cli("validate", preset)
    assert result.exit_code == 2 and "searched" in result.output and str(tmp_path) in result.output
    assert "did you mean `photo.jpeg`" in result.output


def test_a_dotted_key_of_fifty_thousand_parts_is_refused_before_parsing(write):
    error, _ = error_for(write, '[preset]\nname = "x"\n' + ".".join(["a"] * 50_000) + " = 1\n")
    assert "nests tables too deeply" in str(error) and "on line 3" in str(error)
    error, _ = error_for(write, '[preset]\nname = "x"\n[' + ".".join(['"a"'] * 40) + "]\nb = 1\n")
    assert "nests tables too deeply" in str(error)
