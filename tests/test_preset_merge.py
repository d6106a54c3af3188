"""extends, deep merge and --set overrides."""

from studio.preset import deep_merge, dumps, load_preset, loads

BASE = """
[preset]
name = "base"
seed = 7
[model]
name = "vgg16"
weights = "none"
[output]
fps = 30
[[scenes]]
kind = "feature-maps"
layers = ["features.3"]
channels = 8
"""


def test_deep_merge_tables_merge_and_arrays_replace():
    merged = deep_merge({"a": {"x": 1, "y": 2}, "l": [1, 2]}, {"a": {"y": 3}, "l": [9]})
    assert merged == {"a": {"x": 1, "y": 3}, "l": [9]}


def test_extends_is_relative_to_the_file_and_child_wins(write, tmp_path):
    (tmp_path / "sub").mkdir()
    write("sub/base.toml", BASE)
    child = write("child.toml", 'extends = "sub/base.toml"\n[preset]\nname = "child"\n[output]\ncrf = 20\n')
    preset = load_preset(child)
    assert preset.name == "child" and preset.preset.seed == 7
    assert preset.output.fps == 30 and preset.output.crf == 20
    assert preset.scenes[0].channels == 8 and preset.extends


def test_chain_of_three(write):
    write("a.toml", BASE)
    write("b.toml", 'extends = "a.toml"\n[preset]\nname = "b"\nseed = 8\n')
    preset = load_preset(write("c.toml", 'extends = "b.toml"\n[preset]\nname = "c"\n'))
    assert (preset.name, preset.preset.seed, preset.model.name) == ("c", 8, "vgg16")


def test_set_with_list_index_toml_values_and_bare_words(write):
    path = write("p.toml", BASE)
    preset = load_preset(path, ["scenes.0.channels=3", "model.name=resnet18",
                                'scenes.0.layers=["layer1", "layer2"]', "output.video=false"])
    scene = preset.scenes[0]
    assert scene.channels == 3 and scene.layers == ("layer1", "layer2")
    assert preset.model.name == "resnet18" and preset.output.video is False


def test_set_addresses_scenes_by_name_or_kind(write):
    path = write("p.toml", BASE)
    assert load_preset(path, ["feature-maps.channels=5"]).scenes[0].channels == 5
    assert load_preset(path, ["scenes.feature-maps.channels=6"]).scenes[0].channels == 6


def test_set_by_name_finds_the_right_scene_among_several(write):
    text = BASE + '[[scenes]]\nkind = "probe"\nname = "second"\nlayer = "x"\n'
    preset = load_preset(write("p.toml", text), ["second.top=3", "probe.layer=y"])
    assert preset.scenes[1].top == 3 and preset.scenes[1].layer == "y"


def test_error_in_a_base_file_names_the_base(write):
    write("base.toml", BASE.replace("fps = 30", "fsp = 30"))
    child = write("child.toml", 'extends = "base.toml"\n[preset]\nname = "child"\n')
    try:
        load_preset(child)
    except Exception as error:
        assert error.source.endswith("base.toml") and error.key == "output.fsp"
    else:
        raise AssertionError("expected a PresetError")


def test_dump_and_reload_round_trip(write):
    preset = load_preset(write("p.toml", BASE), ["scenes.0.channels=2"])
    again = loads(dumps(preset))
    assert again.scenes == preset.scenes and again.preset == preset.preset and again.output == preset.output


def test_scene_names_default_to_kind_with_counters(write):
    text = BASE + '[[scenes]]\nkind = "feature-maps"\nlayers = ["features.1"]\n'
    preset = load_preset(write("p.toml", text))
    assert [s.name for s in preset.scenes] == ["feature-maps", "feature-maps-2"]
