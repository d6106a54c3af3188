"""`studio remix` from TOML and PNG, merge order, sweeps; `studio gallery` and its freshness."""

import tomllib

import pytest

from studio.preset import load_preset

from conftest import TINY_FEATURE_MAPS

OTHER = """
[preset]
name = "other"
seed = 9
[output]
fps = 7
"""


def test_remix_from_toml_merges_later_over_earlier_and_renames(cli, write, tmp_path):
    base = write("tiny.toml", "# a tiny look at a cat\n" + TINY_FEATURE_MAPS)
    other = write("other.toml", OTHER)
    result = cli("remix", base, other, "--set", "preset.seed=11", "-o", tmp_path / "new.toml")
    assert result.exit_code == 0, result.output
    preset = load_preset(tmp_path / "new.toml")
    assert preset.preset.seed == 11 and preset.output.fps == 7  # --set last, then later files
    assert preset.scenes[0].layers == ("blocks.0", "blocks.2")
    assert preset.name not in ("tiny", "other")
    assert (tmp_path / "new.toml").read_text().startswith("# a tiny look at a cat\n")


def test_remix_from_a_png_this_tool_wrote(cli, write, tmp_path):
    assert cli("render", write("tiny.toml", TINY_FEATURE_MAPS), "--out", tmp_path, "-q").exit_code == 0
    result = cli("remix", tmp_path / "tiny" / "feature-maps.png", "--set", "scenes.0.channels=2",
                 "-o", tmp_path / "again.toml")
    assert result.exit_code == 0, result.output
    preset = load_preset(tmp_path / "again.toml")
    assert preset.scenes[0].channels == 2 and preset.name == "tiny-remix"


def test_sweep_writes_the_cross_product_with_readable_names(cli, write, tmp_path):
    base = write("tiny.toml", TINY_FEATURE_MAPS)
    result = cli("remix", base, "--sweep", "scenes.0.channels=2,3", "--sweep", "preset.seed=1,2,3",
                 "-o", tmp_path / "s.toml")
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("s-*.toml"))
    assert len(files) == 6
    names = {tomllib.loads(f.read_text())["preset"]["name"] for f in files}
    assert "tiny-channels2-seed1" in names and len(names) == 6
    titles = {tomllib.loads(f.read_text())["preset"]["title"] for f in files}
    assert any(title.endswith("(scenes.0.channels=2, preset.seed=1)") for title in titles) and len(titles) == 6
    render = cli("render", *files[:2], "--out", tmp_path / "out", "-q")
    assert render.exit_code == 0 and len(list((tmp_path / "out").iterdir())) == 2


def test_invalid_remix_writes_nothing(cli, write, tmp_path):
    result = cli("remix", write("tiny.toml", TINY_FEATURE_MAPS), "--set", "scenes.0.chanels=2",
                 "-o", tmp_path / "bad.toml")
    assert result.exit_code == 2 and "did you mean `channels`" in result.output
    assert not (tmp_path / "bad.toml").exists()


def test_png_without_a_preset_is_refused(cli, tmp_path):
    from PIL import Image

    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    result = cli("remix", tmp_path / "plain.png", "-o", tmp_path / "x.toml")
    assert result.exit_code == 2 and "no studio preset" in result.output


def test_gallery_renders_writes_a_page_and_skips_fresh_presets(cli, write, tmp_path):
    (tmp_path / "p").mkdir()
    write("p/tiny.toml", TINY_FEATURE_MAPS)
    first = cli("gallery", "--presets", tmp_path / "p", "--out", tmp_path / "g")
    assert first.exit_code == 0 and "rendered" in first.output
    page = (tmp_path / "g" / "index.html").read_text()
    assert 'src="tiny/feature-maps.png"' in page and "copyPreset" in page and "http" not in page
    second = cli("gallery", "--presets", tmp_path / "p", "--out", tmp_path / "g")
    assert "fresh" in second.output
    write("p/tiny.toml", TINY_FEATURE_MAPS.replace("channels = 4", "channels = 3"))
    third = cli("gallery", "--presets", tmp_path / "p", "--out", tmp_path / "g")
    assert "rendered" in third.output


def test_gallery_renders_again_when_an_input_file_changes(cli, write, tmp_path):
    """Fresh means what `render` means by unchanged: the contents of the files a scene reads too."""
    from PIL import Image

    (tmp_path / "p").mkdir()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(tmp_path / "p" / "photo.png")
    write("p/tiny.toml", TINY_FEATURE_MAPS.replace('input = "builtin:chelsea"', 'input = "photo.png"'))
    assert "rendered" in cli("gallery", "--presets", tmp_path / "p", "--out", tmp_path / "g").output
    assert "fresh" in cli("gallery", "--presets", tmp_path / "p", "--out", tmp_path / "g").output
    Image.new("RGB", (40, 30), (40, 40, 200)).save(tmp_path / "p" / "photo.png")  # same name, new picture
    again = cli("gallery", "--presets", tmp_path / "p", "--out", tmp_path / "g")
    assert "rendered" in again.output and "fresh" not in again.output


COMMENTED = """# A base that explains itself.

[preset]
name = "commented"
seed = 3  # the seed we like
[model]
# offline weights
name = "efficientnet_lite0"

# the maps first
[[scenes]]
kind = "feature-maps"
size = [64, 48]  # small
layers = ["blocks.1"]
[[scenes]]
kind = "saliency"
# explain the cat
target = 285
"""


def test_remix_keeps_the_comments_beside_their_keys(cli, write, tmp_path):
    base = write("base.toml", COMMENTED)
    result = cli("remix", base, "--set", "scenes.1.samples=4", "-o", tmp_path / "new.toml")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "new.toml").read_text()
    assert text.startswith("# A base that explains itself.\n")
    assert 'seed = 3  # the seed we like' in text
    assert '# offline weights\nname = "efficientnet_lite0"' in text
    assert '# the maps first\n[[scenes]]\nkind = "feature-maps"' in text
    assert 'size = [64, 48]  # small' in text  # short arrays on one line, as people write them
    assert '# explain the cat\ntarget = 285\nsamples = 4' in text
    remixed = load_preset(tmp_path / "new.toml")
    assert remixed.name == "commented-remix" and remixed.scenes[1].samples == 4


def test_a_web_gallery_opens_big_stills_as_full_size_jpegs_and_keeps_working_without_the_pngs(tmp_path):
    import numpy as np
    from PIL import Image

    from studio.gallery_page import full_size, preview

    big = np.random.default_rng(0).integers(0, 255, (900, 2000, 3), dtype=np.uint8)
    Image.fromarray(big).save(tmp_path / "big.png")
    assert full_size(tmp_path, "big.png") == "big.png"  # a local gallery links the PNG itself
    shown, opened = preview(tmp_path, "big.png"), full_size(tmp_path, "big.png", web=True)
    assert opened == "previews/big.png.full.jpg"
    with Image.open(tmp_path / opened) as full, Image.open(tmp_path / shown) as small:
        assert full.size == (2000, 900) and max(small.size) <= 1600
    assert (tmp_path / opened).stat().st_size < (tmp_path / "big.png").stat().st_size / 2
    (tmp_path / "big.png").unlink()  # published without its PNG: the page can still be written
    assert (preview(tmp_path, "big.png"), full_size(tmp_path, "big.png", web=True)) == (shown, opened)


def test_a_broken_preset_is_listed_with_its_message_and_the_page_is_still_written(cli, write, tmp_path):
    (tmp_path / "p").mkdir()
    write("p/tiny.toml", TINY_FEATURE_MAPS)
    write("p/broken.toml", '[preset]\nname = "broken"\n[[scenes]]\nkind = "maximise"\n')
    result = cli("gallery", "--presets", tmp_path / "p", "--out", tmp_path / "g")
    assert result.exit_code == 1 and "Traceback" not in result.output
    page = (tmp_path / "g" / "index.html").read_text()
    assert 'src="tiny/feature-maps.png"' in page
    listed = page[page.index('id="not-rendered"'):]
    assert "broken.toml" in listed and "maximize" in listed  # the file, and the message's "did you mean"


def test_two_presets_with_one_name_are_refused_before_anything_renders(cli, write, tmp_path):
    (tmp_path / "p").mkdir()
    write("p/a.toml", TINY_FEATURE_MAPS)
    write("p/b.toml", TINY_FEATURE_MAPS)
    result = cli("gallery", "--presets", tmp_path / "p", "--out", tmp_path / "g")
    assert result.exit_code == 2 and "a.toml" in result.output and "b.toml" in result.output
    assert not (tmp_path / "g").exists()


@pytest.mark.parametrize("field, value", [
    ("device", "<script>alert(1)</script>"),
    ("frames", "<img src=x onerror=alert(1)>"),
    ("size", ["<b>", 3]),
    ("file", "../../../etc/passwd"),
])
def test_a_hostile_log_json_never_reaches_the_page_as_markup(cli, write, tmp_path, field, value):
    import json as jsonlib

    from studio.gallery_page import Listed, page
    from studio.preset import load_preset

    (tmp_path / "p").mkdir()
    assert cli("gallery", "--presets", tmp_path / "p", "--out", tmp_path / "g").exit_code == 0
    preset = load_preset(write("p/tiny.toml", TINY_FEATURE_MAPS))
    folder = tmp_path / "g" / preset.name
    folder.mkdir(parents=True)
    video = {"file": "a.mp4", "frames": 3, "size": [640, 360], "fps": 24}
    scene = {"kind": "feature-maps", "seconds": 1.0, "stills": [], "video": video}
    log = {"device": "cpu", "scenes": {"maps": scene}}
    if field == "device":
        log["device"] = value
    else:
        video[field] = value
    (folder / "log.json").write_text(jsonlib.dumps(log))
    text = page([Listed(preset, True)], tmp_path / "g")
    assert "<script>alert" not in text and "<img src=x" not in text and '"tiny/..' not in text
    if field != "device":  # wrong types: listed as not rendered, with the key
        listed = text[text.index('id="not-rendered"'):]
        assert f"scenes.maps.video.{field}" in listed


def test_a_remix_in_another_folder_reads_the_same_image_files(cli, write, tmp_path):
    from PIL import Image

    Image.new("RGB", (40, 30), (200, 40, 40)).save(tmp_path / "photo.png")
    base = write("tiny.toml", TINY_FEATURE_MAPS.replace('input = "builtin:chelsea"', 'input = "photo.png"'))
    (tmp_path / "elsewhere" / "deeper").mkdir(parents=True)
    target = tmp_path / "elsewhere" / "deeper" / "new.toml"
    assert cli("remix", base, "--set", "preset.seed=4", "-o", target).exit_code == 0
    assert tomllib.loads(target.read_text())["scenes"][0]["input"] == "../../photo.png"
    assert cli("validate", target).exit_code == 0


def test_remixes_of_remixes_are_numbered_not_piled_up(cli, write, tmp_path):
    names = []
    source = write("tiny.toml", TINY_FEATURE_MAPS)
    for generation in range(3):
        target = tmp_path / f"g{generation}.toml"
        assert cli("remix", source, "--set", f"preset.seed={generation}", "-o", target).exit_code == 0
        names.append(tomllib.loads(target.read_text())["preset"]["name"])
        source = target
    assert names == ["tiny-remix", "tiny-remix-2", "tiny-remix-3"]


def test_a_sweep_past_a_thousand_presets_is_refused_before_writing(cli, write, tmp_path):
    values = ",".join(str(v) for v in range(1, 41))
    result = cli("remix", write("tiny.toml", TINY_FEATURE_MAPS), "--sweep", f"preset.seed={values}",
                 "--sweep", f"scenes.0.channels={values}", "-o", tmp_path / "s.toml")
    assert result.exit_code == 2 and "40 × 40 = 1600" in result.output
    assert list(tmp_path.glob("s*.toml")) == []


def test_a_remix_too_large_to_read_back_is_refused(cli, write, tmp_path):
    result = cli("remix", write("tiny.toml", TINY_FEATURE_MAPS), "--set",
                 'preset.description="' + "x" * 1_100_000 + '"', "-o", tmp_path / "big.toml")
    assert result.exit_code == 2 and "too large" in result.output and not (tmp_path / "big.toml").exists()
