"""The structure a contributor relies on: a kind is one file plus one registry line; a section
takes exactly the keys its kind reads; validating imports no torch."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from studio.scenes import KINDS, section_class

SWATCH = """
[preset]
name = "swatch"
[[scenes]]
kind = "swatch"
colour = [0.0, 0.5, 1.0]
size = [40, 20]
"""


@pytest.fixture
def swatch_kind(monkeypatch):
    monkeypatch.setitem(KINDS, "swatch", "example_kind")  # the one registry line


def test_a_new_kind_is_one_file_and_one_registry_line(swatch_kind, cli, write, tmp_path):
    path = write("s.toml", SWATCH)
    assert cli("validate", path).exit_code == 0
    result = cli("render", path, "--out", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    pixels = np.asarray(Image.open(tmp_path / "swatch" / "swatch.png"))
    assert pixels.shape == (20, 40, 3)  # [width, height] in the preset
    assert pixels[0, 0].tolist() == [0, 128, 255]
    assert json.loads((tmp_path / "swatch" / "log.json").read_text())["scenes"]["swatch"]["colour"] == [0.0, 0.5, 1.0]
    drafted = cli("render", path, "--out", tmp_path, "-q", "--draft")
    assert drafted.exit_code == 0, drafted.output
    assert Image.open(tmp_path / "swatch-draft" / "swatch.png").size == (20, 10)  # its own draft rule


def test_a_new_kind_validates_like_every_other(swatch_kind, cli, write):
    unknown = cli("validate", write("u.toml", SWATCH + "colur = [1, 1, 1]\n"))
    assert unknown.exit_code == 2 and "unknown key in a `swatch` scene" in unknown.output
    assert "did you mean `colour`" in unknown.output
    black = cli("validate", write("b.toml", SWATCH.replace("[0.0, 0.5, 1.0]", "[0, 0, 0]")))
    assert black.exit_code == 2 and "scenes.0.colour" in black.output and "black swatches" in black.output


@pytest.mark.parametrize("kind, key", [
    ("saliency", "window"), ("saliency", "fill"), ("guided-backprop", "samples"), ("occlusion", "noise"),
    ("inversion", "octaves"), ("inversion", "blur"), ("texture", "style_weight"), ("texture", "content_layer"),
    ("style", "octave_scale"), ("neighbours", "method"), ("embedding", "k"), ("embedding", "queries"),
])
def test_a_section_refuses_keys_its_kind_does_not_read(cli, write, kind, key):
    text = f'[preset]\nname = "x"\n[[scenes]]\nkind = "{kind}"\nlayer = "blocks.1"\nstyle = "builtin:coffee"\n'
    text = text.replace('layer = "blocks.1"\n', "") if kind in ("saliency", "guided-backprop", "occlusion",
                                                                "texture", "style", "neighbours",
                                                                "embedding") else text
    text = text.replace('style = "builtin:coffee"\n', "") if kind not in ("texture", "style") else text
    assert cli("validate", "--quick", write("ok.toml", text)).exit_code == 0
    result = cli("validate", "--quick", write("bad.toml", text + f"{key} = 1\n"))
    assert result.exit_code == 2 and f"scenes.0.{key}" in result.output and "unknown key" in result.output


def test_every_kind_declares_its_own_section():
    for kind in KINDS:
        section = section_class(kind)
        assert section.__module__ == KINDS[kind], kind
        assert f"`{kind}`" in section.WHAT, kind


def test_validating_every_shipped_preset_imports_no_torch(root):
    code = ("import glob, sys\nfrom studio.preset import load_preset\n"
            "for path in sorted(glob.glob('presets/*.toml')):\n    load_preset(path)\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'kornia', 'timm'))\n"
            "print(len(heavy))")
    found = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "0"


def test_sizes_are_height_width_inside_and_width_height_in_the_preset(write):
    from studio.preset import dumps, load_preset

    preset = load_preset(write("s.toml", """
        [preset]
        name = "s"
        [[scenes]]
        kind = "maximize"
        layer = "blocks.1"
        size = [64, 48]
    """))
    assert preset.scenes[0].size == (48, 64)
    assert "size = [64, 48]" in dumps(preset)


def test_the_format_reference_is_what_the_validator_accepts(root):
    from studio.preset.reference import reference

    written = (root / "docs" / "presets.md").read_text()
    assert written == reference(), "docs/presets.md is stale: python -m studio.preset.reference > docs/presets.md"
    for kind in KINDS:
        assert f"### `{kind}`" in written
        for name in (f.name for f in dataclasses.fields(section_class(kind))):
            assert f"| `{name}` |" in written or name == "kind", (kind, name)


def test_every_key_of_every_kind_says_what_it_means_there():
    """Meanings sit beside their fields; a kind that gives a shared key another sense says so."""
    import typing

    from studio.preset.meanings import field_meanings
    from studio.preset.schema import ModelSpec, OutputSpec, PresetInfo

    tables = [PresetInfo, ModelSpec, OutputSpec]
    for kind in KINDS:
        section = section_class(kind)
        tables.append(section)
        tables += [hint for hint in typing.get_type_hints(section).values() if dataclasses.is_dataclass(hint)]
    for table in tables:
        meanings = field_meanings(table)
        names = {field.name for field in dataclasses.fields(table)}
        for field in dataclasses.fields(table):
            assert meanings.get(field.name), (table.__module__, table.__name__, field.name)
            if "octaves" not in names:  # no kind's key speaks of octaves it does not have
                assert "octave" not in meanings[field.name], (table.__name__, field.name)
    assert "layer" in field_meanings(section_class("dream"))["weights"]  # not the model's weights
    assert "octave" not in field_meanings(section_class("train"))["lr"]
    assert '"all"' not in field_meanings(section_class("tour"))["channels"]  # a tour visits a list, in order
    assert "spectrum" in field_meanings(section_class("maximize"))["lr"]


def test_presets_are_found_from_any_folder(cli, tmp_path):
    result = cli("presets")
    assert result.exit_code == 0 and "quickstart.toml" in result.output
    assert "seed004-style.toml" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    none = cli("presets", "--dir", empty)
    assert none.exit_code == 2 and "no presets" in none.output
