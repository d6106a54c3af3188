"""What makes a big still clean: steps in natural colours (no green or magenta cast), a margin of
context (no frame; a wrapped one tiles seamlessly), the poster kind (one canvas, a channel per
cell), and an estimate that counts a tiled step's tiles. Measured on the offline model."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

CANVAS = """
[preset]
name = "canvas"
seed = 6
[[scenes]]
kind = "dream"
input = "black"
size = [96, 96]
layers = ["blocks.3"]
octaves = 2
steps = 8
lr = 0.02
"""


@pytest.fixture
def canvas(cli, write, tmp_path):
    def render(*sets):
        path = write("c.toml", CANVAS)
        result = cli("render", path, "--out", tmp_path, "-q", "--no-resume", *[a for s in sets for a in ("--set", s)])
        assert result.exit_code == 0, result.output
        return np.asarray(Image.open(tmp_path / "canvas" / "dream.png").convert("RGB"), dtype=float) / 255
    return render


def green_excess(picture) -> float:
    red, green, blue = picture.reshape(-1, 3).mean(axis=0)
    return 2 * green / (red + blue)


def test_decorrelated_steps_leave_no_green_cast_on_black(canvas):
    plain, natural = canvas(), canvas("scenes.0.decorrelate=true")
    assert green_excess(plain) > 1.5  # the cast the issue reported: green dreams on black
    assert green_excess(natural) < 1.15
    assert natural.mean() > 0.05  # it still dreams


def test_with_a_wrapped_margin_no_place_is_a_border():
    """Climbed with the picture wrapped around it, shifting the start shifts the result: the
    network's padding, which marks the border, no longer reaches the picture."""
    from studio import optimize
    from studio.models import load_model

    model = load_model("efficientnet_lite0")

    def climb(start, margin):
        settings = optimize.Settings(6, optimize.schedule(0.05), param="pixel", margin=margin)
        ascent = optimize.Ascent(model, optimize.objectives.layer_l2("blocks.2"), settings, torch.Generator())
        return ascent.run(start, [tuple(start.shape[-2:])])

    start = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    moved = torch.roll(start, 32, dims=-1)
    differences = {}
    for margin in (0, 63):
        result = climb(start, margin)
        change = (result - start).abs().mean()
        differences[margin] = float((torch.roll(result, 32, dims=-1) - climb(moved, margin)).abs().mean() / change)
    assert differences[63] < 0.05 and differences[0] > 0.5, differences  # without it the border shows


def test_the_margin_is_context_only():
    from studio.optimize.transform import with_margin

    for fill in ("wrap", "mirror"):
        image = torch.rand(1, 3, 8, 8, requires_grad=True)
        framed = with_margin(image, 3, fill)
        assert framed.shape[-2:] == (14, 14)
        framed.sum().backward()
        assert torch.equal(image.grad, torch.ones_like(image))  # no pixel is pushed twice


POSTER = """
[preset]
name = "poster"
seed = 2
[[scenes]]
kind = "poster"
layer = "blocks.2"
channels = [3, 10]
size = [128, 64]
steps = 24
param = "pixel"
lr = 0.03
decorrelate = true
margin = 16
"""


def test_each_cell_of_a_poster_shows_its_own_channel(cli, write, tmp_path):
    from studio.models import LayerTap, load_model
    from studio.optimize.objectives import mosaic_cells

    result = cli("render", write("p.toml", POSTER), "--out", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "poster"
    log = json.loads((folder / "log.json").read_text())["scenes"]["poster"]
    assert log["grid"] == [2, 1] and [c["channel"] for c in log["cells"]] == [3, 10]
    assert Image.open(folder / "poster.png").size == (128, 64)
    assert (folder / "poster" / "key.png").is_file()
    picture = torch.from_numpy(np.asarray(Image.open(folder / "poster.png").convert("RGB"), dtype=np.float32) / 255)
    model = load_model("efficientnet_lite0")
    path = log["layer"]
    with torch.no_grad():
        acts = LayerTap(model, [path])(picture.permute(2, 0, 1)[None])
    own = mosaic_cells(path, [3, 10], 1, 2, 0.3)(acts)[0]
    swapped = mosaic_cells(path, [10, 3], 1, 2, 0.3)(acts)[0]
    assert own[0] > swapped[0] and own[1] > swapped[1], (own, swapped)  # left is 3's, right is 10's


def test_a_poster_with_more_cells_than_positions_is_refused(cli, write):
    text = POSTER.replace("channels = [3, 10]", "channels = [3, 10]\ngrid = [40, 1]")
    result = cli("render", write("p.toml", text), "--out", "out")
    assert result.exit_code == 2
    assert "scenes.0.grid" in result.output and "more cells than the layer has positions" in result.output


def test_a_tiled_dream_is_estimated_by_its_tiles(write):
    from studio.optimize import Settings
    from studio.preset import load_preset
    from studio.rendering import prepare
    from studio.scenes.support.optimizing import tiled_work, units_per_step

    # 4 x 4 tiles of 128 px: one workload step (a tile) is a sixteenth of a step, and the first
    # octave's steps cost half of the last's
    assert units_per_step([(362, 362), (512, 512)], tiles=16) == pytest.approx(1 / (16 * 0.75), rel=0.01)
    preset = load_preset(write("t.toml", CANVAS.replace("size = [96, 96]", "size = [512, 512]\ntile = 128")))
    scene = prepare(preset, torch.device("cpu"), [None])[0]
    workload, units = scene.step.workload, scene.step.units
    # its time: every piece of the moving grid, with a halo on both sides of each seam and the
    # margin, at each octave's share; its memory and its time probe: one tile with its halo
    halo, margin = Settings.halo, scene.context.section.margin
    assert workload.size == tiled_work(512, 512, 128, halo, margin) == (512 + 2 * margin + 2 * halo * 4,) * 2
    assert units == pytest.approx(units_per_step(scene.sizes))
    assert workload.probe_pixels == (128 + 2 * halo) ** 2


UPSCALE = """
[preset]
name = "grown"
seed = 3
[[scenes]]
kind = "maximize"
layer = "blocks.2"
channels = [5]
input = "uniform-noise"
size = [32, 32]
upscale_steps = 3
upscale_factor = 1.4
blur = 0.5
steps = 6
param = "pixel"
lr = 0.03
"""


def test_levels_stretch_gives_an_upscale_climb_its_full_range(cli, write, tmp_path):
    def tones(*sets):
        result = cli("render", write("u.toml", UPSCALE), "--out", tmp_path, "-q", "--no-resume",
                     *[a for s in sets for a in ("--set", s)])
        assert result.exit_code == 0, result.output
        picture = np.asarray(Image.open(tmp_path / "grown" / "maximize.png").convert("RGB"), dtype=float) / 255
        assert picture.shape == (88, 88, 3)  # one channel: the still is the picture itself, full size
        return np.percentile(picture, [0.5, 99.5])

    low, high = tones()
    assert high - low < 0.8  # what the issue saw: upscales and blur wash the tones out
    low, high = tones("scenes.0.levels=stretch")
    assert low < 0.02 and high > 0.98


def test_decorrelate_belongs_to_pixels(cli, write):
    result = cli("validate", write("d.toml", CANVAS.replace("lr = 0.02", 'lr = 0.02\nparam = "fft"\ndecorrelate = true')))
    assert result.exit_code == 2
    assert "scenes.0.decorrelate" in result.output and "already colour-decorrelated" in result.output


def test_a_posters_key_wraps_its_title_instead_of_clipping_it():
    import torch

    from studio.pictures.layout import BACKGROUND, cell_labels

    title = "efficientnet_lite0 blocks.4: 12 channels on one canvas, a long title for a narrow poster"
    key = cell_labels(torch.full((3, 200, 120), 0.5), 3, 2, [str(n) for n in range(6)], title)
    header = (key[:, : key.shape[1] - 200] * 255).round().permute(1, 2, 0).numpy()
    assert header.shape[0] > 40  # several lines
    edge = header[:, -4:]  # nothing drawn at the right edge: every word fits its line
    assert (abs(edge - torch.tensor(BACKGROUND).numpy()).sum(axis=2) < 12).all()


def test_a_poster_draft_previews_its_whole_composition(cli, write, tmp_path):
    preset = write("p.toml", '[preset]\nname = "p"\n[model]\nname = "efficientnet_lite0"\n[[scenes]]\n'
                             'kind = "poster"\nlayer = "blocks.2"\nchannels = [1, 2, 3, 4, 5, 6]\ngrid = [3, 2]\n'
                             'size = [256, 128]\nsteps = 16\n')
    assert cli("render", preset, "--draft", "--out", tmp_path, "-q").exit_code == 0
    log = json.loads((tmp_path / "p-draft" / "log.json").read_text())["scenes"]["poster"]
    assert log["grid"] == [3, 2] and [cell["channel"] for cell in log["cells"]] == [1, 2, 3, 4, 5, 6]
