"""Frames composed for video: every video scene's frame is `video_size` (landscape 16:9 by
default), its text stays inside the frame at every size from 640 x 360 up whatever the caption
says, and `layout = "film"` fills the frame with the watched units."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from studio.pictures import film
from studio.pictures.layout import BACKGROUND

LONGEST = ("epoch 99999.75 of 100000 (step 99999999 of 100000000) · loss -1.234e+05 · accuracy 100% · "
           "held-out 25% (chance) · ascent x 0.5 · label noise 99% · conflicting 99% · missing 99% · occluded 99% · "
           "pixel noise 10")


def margins_are_empty(frame: torch.Tensor, gap: int = film.GAP - 2) -> bool:
    """Nothing drawn in the outer margin: no text ran past the frame's edge."""
    pixels = (frame.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    background = np.array(BACKGROUND, dtype=np.uint8)
    edges = [pixels[:, :gap], pixels[:, -gap:], pixels[:gap], pixels[-gap:]]
    return all((edge == background).all() for edge in edges)


@pytest.mark.parametrize("size", [(360, 640), (540, 960), (720, 1280), (1080, 1920), (480, 640)])
def test_the_longest_caption_stays_inside_the_frame(size):
    tiles = torch.rand(8, 3, 64, 64)
    frame = film.film_frame(tiles, LONGEST, size, series=[3.0, 1.0, 50.0, 1e5], marker=2,
                            labels=[str(1000 + i) for i in range(8)])
    assert tuple(frame.shape) == (3, *size) and margins_are_empty(frame)
    lab = film.lab_frame(torch.rand(3, 900, 300), lambda w, h: torch.rand(3, h, w), size, LONGEST)
    assert tuple(lab.shape) == (3, *size) and margins_are_empty(lab)
    box = film.letterbox(torch.rand(3, 50, 400), size, LONGEST)
    assert tuple(box.shape) == (3, *size) and margins_are_empty(box)


def test_a_caption_is_shortened_not_clipped_and_legible_at_720p():
    bar = max(24, round(720 / 15))  # a 720p frame's caption line
    line, size = film.fitted_text(LONGEST, 1280 - 3 * film.GAP, *film.caption_sizes(bar))
    assert size >= 16 and film.font(size).getlength(line) <= 1280 - 3 * film.GAP  # legible, and inside
    assert line.startswith("epoch 99999.75") and line.endswith("pixel noise 10") and "…" in line
    short, small = film.fitted_text(LONGEST, 300, 26)
    assert small == film.MIN_TEXT and "…" in short and short.startswith("epoch") and short.endswith("10")


TRAIN = """
[preset]
name = "t"
seed = 1
[output]
fps = 4
[[scenes]]
kind = "train"
dataset = "shapes"
net = "small_cnn"
classes = 2
per_class = 8
image_size = 16
hidden = 6
epochs = 6
snapshot_every = 3
[scenes.corruption]
label_noise = 0.4
pixel_noise = 0.2
conflicting = 0.2
occlude = 0.2
[scenes.loss_schedule]
kind = "piecewise"
points = [[0, 1.0], [3, -0.5], [6, 1.0]]
"""


@pytest.mark.parametrize("layout, size", [("lab", None), ("film", None), ("film", [640, 360]), ("lab", [960, 720])])
def test_training_frames_are_the_video_size_with_text_inside(cli, write, tmp_path, layout, size):
    extra = f'layout = "{layout}"\n' + (f"video_size = {size}\n" if size else "")
    text = TRAIN.replace("[scenes.corruption]", extra + "[scenes.corruption]")
    result = cli("render", write("t.toml", text), "--out", tmp_path, "-q", "--set", "output.frames=true")
    assert result.exit_code == 0, result.output
    log = json.loads((tmp_path / "t" / "log.json").read_text())["scenes"]["train"]
    width, height = size or [1280, 720]
    assert log["video"]["size"] == [width, height] and width > height
    for path in sorted((tmp_path / "t" / "train").glob("frame-*.png")):
        frame = torch.from_numpy(np.asarray(Image.open(path)).copy()).permute(2, 0, 1).float() / 255
        assert frame.shape[-2:] == (height, width) and margins_are_empty(frame), path.name
    assert log["frame_change"]["median"] > 0 and len(log["frame_change"]["per_frame"]) == log["video"]["frames"] - 1


def test_film_layout_fills_the_frame_with_the_watched_units(cli, write, tmp_path):
    text = TRAIN.replace("[scenes.corruption]", 'layout = "film"\n[scenes.corruption]')
    assert cli("render", write("t.toml", text), "--out", tmp_path, "-q").exit_code == 0
    still = np.asarray(Image.open(tmp_path / "t" / "train.png")).astype(int)
    drawn = (np.abs(still - np.array(BACKGROUND)).sum(axis=2) > 12).mean()
    assert still.shape == (720, 1280, 3) and drawn > 0.4  # the units' pictures, not a small panel in the dark


@pytest.mark.parametrize("kind, keys", [
    ("progressive", 'layer = "blocks.1"\nchannel = 1\nneurons = 3\nsize = [32, 32]\nsteps = 2\n'),
    ("tour", 'layer = "blocks.1"\nchannels = [0, 2]\nframes_per_channel = 2\nsize = [32, 32]\nsteps = 2\n'),
])
def test_every_video_scene_takes_a_video_size(cli, write, tmp_path, kind, keys):
    preset = f'[preset]\nname = "v"\n[model]\nname = "efficientnet_lite0"\n[[scenes]]\nkind = "{kind}"\n' + keys
    assert cli("render", write("v.toml", preset), "--out", tmp_path / "a", "-q").exit_code == 0
    assert cli("render", write("w.toml", preset + "video_size = [640, 360]\n"), "--out", tmp_path / "b",
               "-q").exit_code == 0
    default = json.loads((tmp_path / "a" / "v" / "log.json").read_text())["scenes"][kind]["video"]
    chosen = json.loads((tmp_path / "b" / "v" / "log.json").read_text())["scenes"][kind]["video"]
    assert default["size"] == [1280, 720] and chosen["size"] == [640, 360]


DREAMY = TRAIN.replace("epochs = 6\nsnapshot_every = 3", "epochs = 8\nsnapshot_every = 2\ndreams_every = 2")


def test_tween_adds_frames_between_snapshots_in_the_spectra(cli, write, tmp_path):
    text = DREAMY.replace("[scenes.corruption]", 'layout = "film"\ntween = 2\n[scenes.corruption]')
    result = cli("render", write("t.toml", text), "--out", tmp_path, "-q", "--set", "output.frames=true")
    assert result.exit_code == 0, result.output
    log = json.loads((tmp_path / "t" / "log.json").read_text())["scenes"]["train"]
    assert log["snapshots"] == [0, 2, 4, 6, 8] and log["video"]["frames"] == 5 + 4 * 2
    frames = [np.asarray(Image.open(tmp_path / "t" / "train" / f"frame-{i:05d}.png")).astype(float) for i in range(4)]
    # a tween sits between its snapshots: nearer each than they are to each other
    apart = np.abs(frames[0] - frames[3]).mean()
    assert np.abs(frames[1] - frames[0]).mean() < apart and np.abs(frames[2] - frames[3]).mean() < apart


def test_snapshots_every_few_optimiser_steps_give_frames_inside_epochs(cli, write, tmp_path):
    text = DREAMY.replace("[scenes.corruption]", 'layout = "film"\nbatch_size = 4\nsnapshot_every_steps = 3\n'
                                                 'tween = 1\ndream_start = "warm"\n[scenes.corruption]')
    result = cli("render", write("t.toml", text), "--out", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    log = json.loads((tmp_path / "t" / "log.json").read_text())["scenes"]["train"]
    per_epoch = log["steps_per_epoch"]  # 13 training examples in batches of 4
    assert per_epoch == 4 and len(log["step_loss"]) == 8 * per_epoch
    ends = {epoch * per_epoch for epoch in (0, 2, 4, 6, 8)}
    assert log["snapshot_steps"] == sorted(ends | set(range(0, 33, 3)))
    assert log["snapshots"][:4] == [0, 0.75, 1.5, 2]  # epochs, fractional inside one
    assert log["video"]["frames"] == 14 + 13 * 1 and len(log["dreams"]) == 14
    inside = [moment["step"] for moment in log["moments"]]
    assert inside == [step for step in log["snapshot_steps"] if step % per_epoch]
    assert all(0 <= moment["heldout_accuracy"] <= 1 and moment["loss"] > 0 for moment in log["moments"])


def test_frames_between_snapshots_carry_their_snapshots_caption_then_dissolve_into_the_next(cli, write, tmp_path):
    text = DREAMY.replace("[scenes.corruption]", 'layout = "film"\nbatch_size = 4\nsnapshot_every_steps = 2\n'
                                                 'epochs = 2\ntween = 5\nvideo_size = [640, 360]\n'
                                                 '[scenes.corruption]').replace("epochs = 8\n", "")
    assert cli("render", write("t.toml", text), "--out", tmp_path, "-q", "--set", "output.frames=true").exit_code == 0
    frames = [np.asarray(Image.open(path)) for path in sorted((tmp_path / "t" / "train").glob("frame-*.png"))]
    captions = [frame[-30:, :420].astype(float) for frame in frames]  # the caption line, left of the sparkline
    assert len(frames) == 5 + 4 * 5
    for snapshot in range(0, 24, 6):  # snapshot, 2 frames with its caption, 3 dissolving, the next snapshot
        now, after = captions[snapshot], captions[snapshot + 6]
        assert np.array_equal(now, captions[snapshot + 1]) and np.array_equal(now, captions[snapshot + 2])
        apart = np.abs(after - now).mean()
        distances = [np.abs(captions[snapshot + k] - now).mean() for k in (3, 4, 5)]
        assert 0 < distances[0] < distances[1] < distances[2] < apart


def test_snapshots_inside_epochs_are_refused_past_the_frame_limit(cli, write):
    text = DREAMY.replace("[scenes.corruption]", 'layout = "film"\nbatch_size = 1\nsnapshot_every_steps = 1\n'
                                                 'epochs = 1000\n[scenes.corruption]').replace("epochs = 8\n", "")
    result = cli("validate", "--quick", write("t.toml", text))
    assert result.exit_code == 2 and "scenes.0.snapshot_every" in result.output and "frames" in result.output


def test_tween_needs_the_film_layout_and_pictures(cli, write):
    result = cli("validate", "--quick", write("t.toml", DREAMY.replace("[scenes.corruption]", "tween = 2\n[scenes.corruption]")))
    assert result.exit_code == 2 and "scenes.0.tween" in result.output and 'layout = "film"' in result.output


def test_warm_dreams_change_less_per_snapshot_than_fixed_ones(cli, write, tmp_path):
    changes = {}
    for start in ("fixed", "warm"):
        text = DREAMY.replace("[scenes.corruption]", f'dream_start = "{start}"\ndream_steps_warm = 8\n[scenes.corruption]')
        assert cli("render", write(f"{start}.toml", text), "--out", tmp_path / start, "-q").exit_code == 0
        dreams = json.loads((tmp_path / start / "t" / "log.json").read_text())["scenes"]["train"]["dreams"]
        changes[start] = float(np.mean([d["change_from_previous"] for d in dreams[1:]]))
    assert changes["warm"] < changes["fixed"], changes


def test_progressive_tweens_between_its_frames(cli, write, tmp_path):
    preset = ('[preset]\nname = "v"\n[model]\nname = "efficientnet_lite0"\n[[scenes]]\nkind = "progressive"\n'
              'layer = "blocks.1"\nchannel = 1\nneurons = 3\nsize = [32, 32]\nsteps = 2\ntween = 3\n'
              'video_size = [320, 180]\n')
    assert cli("render", write("v.toml", preset), "--out", tmp_path, "-q").exit_code == 0
    log = json.loads((tmp_path / "v" / "log.json").read_text())["scenes"]["progressive"]
    assert log["video"]["frames"] == 3 + 2 * 3 and log["frames"] == 3


def test_warm_progressive_frames_grow_from_the_one_before(cli, write, tmp_path):
    change = {}
    for start in ("fixed", "warm"):
        preset = ('[preset]\nname = "v"\n[model]\nname = "efficientnet_lite0"\n[[scenes]]\nkind = "progressive"\n'
                  'layer = "blocks.2"\nchannel = 1\nneurons = 4\nsize = [48, 48]\nsteps = 12\nparam = "fft"\n'
                  f'frame_start = "{start}"\nsteps_warm = 3\nvideo_size = [320, 180]\n')
        result = cli("render", write(f"{start}.toml", preset), "--out", tmp_path / start)
        assert result.exit_code == 0, result.output
        log = json.loads((tmp_path / start / "v" / "log.json").read_text())["scenes"]["progressive"]
        assert log["video"]["frames"] == 4 and len(log["final_objective_per_frame"]) == 4
        change[start] = log["frame_change"]["median"]
        if start == "warm":  # 12 steps for the first frame, 3 for each of the others
            assert "21 units of work" in result.output
    assert change["warm"] < change["fixed"], change


def test_a_tour_tweens_between_its_optimised_frames(cli, write, tmp_path):
    preset = ('[preset]\nname = "v"\n[model]\nname = "efficientnet_lite0"\n[[scenes]]\nkind = "tour"\n'
              'layer = "blocks.1"\nchannels = [0, 2]\nframes_per_channel = 2\nsize = [32, 32]\nsteps = 2\n'
              'tween = 3\nvideo_size = [320, 180]\n')
    assert cli("render", write("v.toml", preset), "--out", tmp_path, "-q", "--set", "output.frames=true").exit_code == 0
    log = json.loads((tmp_path / "v" / "log.json").read_text())["scenes"]["tour"]
    assert log["video"]["frames"] == 3 + 2 * 3
    frames = [np.asarray(Image.open(path)).astype(float) for path in sorted((tmp_path / "v" / "tour").glob("frame-*.png"))]
    apart = np.abs(frames[0] - frames[4]).mean()  # optimised frames 0 and 1, three tweens between
    assert 0 < np.abs(frames[1] - frames[0]).mean() < apart and np.abs(frames[3] - frames[4]).mean() < apart


def test_frame_change_is_the_mean_change_between_the_written_frames(cli, write, tmp_path):
    text = DREAMY.replace("[scenes.corruption]", 'layout = "film"\ntween = 1\nvideo_size = [320, 180]\n[scenes.corruption]')
    assert cli("render", write("t.toml", text), "--out", tmp_path, "-q", "--set", "output.frames=true").exit_code == 0
    change = json.loads((tmp_path / "t" / "log.json").read_text())["scenes"]["train"]["frame_change"]
    frames = [np.asarray(Image.open(path)).astype(float) for path in sorted((tmp_path / "t" / "train").glob("frame-*.png"))]
    measured = [np.abs(b - a).mean() / 255 for a, b in zip(frames, frames[1:])]
    assert len(change["per_frame"]) == len(measured) == 8
    assert np.allclose(change["per_frame"], measured, atol=1e-6) and abs(change["median"] - np.median(measured)) < 2e-6


def test_a_films_caption_keeps_each_field_in_its_place_as_numbers_change():
    texts = ["epoch 1 of 12 · loss 1.4 · accuracy 7% · label noise 40%",
             "epoch 10 of 12 · loss 0.03125 · accuracy 100% · label noise 40%"]
    template = film.caption_template(texts)
    drawn = []
    for text in texts:
        frame = film.blank((48, 1280))
        film.caption(frame, text, 0, 0, (48, 1280), template=template)
        drawn.append(frame)
    where = (drawn[0] - drawn[1]).abs().sum(dim=(0, 1)).nonzero().flatten()
    last = film.font(26).getlength(template.rsplit(film.SEPARATOR, 1)[0])  # where the last field starts, at most
    assert len(where) and where.max() < last  # "label noise 40%" has not moved


def test_a_loss_chart_frees_its_callers_pictures_without_the_cyclic_collector():
    """A lab film draws a chart per frame; matplotlib's mathtext tick labels left cycles that held
    every caller's frame pixels until a full collection (250 MB in a 46-frame film)."""
    import gc
    import weakref
    from types import SimpleNamespace

    from studio.pictures import charts

    exploding = [0.5, 2.0, 40.0, 900.0, 20000.0, 4e5]  # a symlog axis with decades beyond 10³
    history = SimpleNamespace(loss=exploding, objective=exploding, multiplier=[1.0] * 6, accuracy=[0.5] * 6,
                              heldout_accuracy=[0.5] * 6, clean_accuracy=None)

    def frame_with_chart():
        pixels = torch.zeros(3, 720, 1280)
        chart = charts.loss_chart(history, 3, 600, 400, titled=False)
        return weakref.ref(pixels), chart

    frame_with_chart()  # matplotlib's first figure in a process loads fonts and caches, once
    gc.collect()
    gc.disable()
    try:
        pixels, chart = frame_with_chart()
        assert pixels() is None
    finally:
        gc.enable()
    assert chart.shape == (3, 400, 600)
