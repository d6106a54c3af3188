"""The `zoom` kind: keyframe schedules, the camera, cadence, colour coherence, the film's own
measures, frames on disk and a resume that ends byte-identical, on the offline model."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from studio.preset import keyframes
from studio.preset.coerce import Problem

FILM = """
[preset]
name = "film"
seed = 4
[model]
name = "efficientnet_lite0"
[output]
fps = 8
[[scenes]]
kind = "zoom"
name = "zoom"
input = "builtin:coffee"
size = [96, 64]
frames = 8
layers = ["blocks.1"]
steps = 2
lr = 0.01
zoom = 1.05
"""


def film(write, extra: str = "", name: str = "f.toml"):
    """FILM with the scene keys of ``extra`` replacing its own (and any tables after them)."""
    keys = {line.split("=")[0].strip() for line in extra.split("\n[")[0].splitlines() if "=" in line}
    kept = [line for line in FILM.splitlines() if line.split("=")[0].strip() not in keys or line.startswith("name")]
    return write(name, "\n".join(kept) + "\n" + extra)


def render(cli, path, out, *args):
    result = cli("render", path, "--out", out, "-q", *args)
    assert result.exit_code == 0, result.output
    return out / "film", json.loads((out / "film" / "log.json").read_text())["scenes"]["zoom"]


# --- schedules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, frames, expected", [
    ("0:(1.04)", 3, [1.04, 1.04, 1.04]),                          # Deforum's default zoom
    ("0: (0)", 2, [0.0, 0.0]),                                    # its default angle, spaced
    ("0:(0), 4:(1)", 6, [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]),        # a ramp, held after the last
    ("2:(3), 4:(1)", 5, [3.0, 3.0, 3.0, 2.0, 1.0]),               # held before the first
    ("0:(t*2), 2:(10)", 4, [0.0, 2.0, 10.0, 10.0]),               # an expression holds to the next key
    ("0:(1 + 0.5*sin(pi*t/2))", 3, [1.0, 1.5, 1.0]),
    ("max(1, t) % 2", 3, [1.0, 1.0, 0.0]),                        # one expression for every frame
    (2.5, 2, [2.5, 2.5]),                                         # a plain number
])
def test_schedules_read_as_deforum_writes_them(text, frames, expected):
    assert keyframes.series(text, frames) == pytest.approx(expected)


@pytest.mark.parametrize("text, found", [
    ("0:(__import__('os').system('touch hacked'))", "__import__"),
    ("0:(t.__class__)", "__class__"),
    ("0:(open('x'))", "open"),
    ("0:('a' * 9)", "'a'"),
    ("0:((lambda: 1)())", "lambda"),
    ("0:([1][0])", "[1]"),
    ("0:(x)", "`x`"),
    ("0:(1), 0:(2)", "increasing"),
    ("0:(1", "unclosed"),
    ("0:(1) 5:(2)", "comma"),
    ("0:(sin(t, t, t) if t else 1)", "if"),
])
def test_hostile_schedule_text_is_refused_and_nothing_runs(cli, write, tmp_path, text, found):
    path = film(write, f"angle = {json.dumps(text)}\n")
    result = cli("render", path, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "scenes.0.angle" in result.output and found in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "hacked").exists()


def test_a_value_out_of_bounds_at_any_frame_names_the_frame(cli, write, tmp_path):
    result = cli("validate", film(write, 'zoom = "0:(1.0), 7:(1 + t)"\n'))
    assert result.exit_code == 2 and "scenes.0.zoom" in result.output and "frame 2" in result.output
    result = cli("validate", film(write, 'steps = "0:(2), 3:(log(t - 3))"\n'))
    assert result.exit_code == 2 and "frame 3" in result.output  # log(0)


def test_huge_powers_overflow_instead_of_hanging():
    with pytest.raises(Problem, match="cannot be computed at frame 0"):
        keyframes.evaluate("0:(9**9**9**9)", 2, "zoom")


# --- the camera --------------------------------------------------------------------------------

def test_the_warp_is_kornias_own():
    from kornia.geometry.transform import get_rotation_matrix2d, warp_affine

    from studio.pictures.motion import Move, move_matrix, warp

    images = torch.rand(2, 3, 40, 64)
    matrix = move_matrix(Move(zoom=1.07, angle=3.0, dx=2.5, dy=-1.0), 40, 64)
    kornia = get_rotation_matrix2d(torch.tensor([[31.5, 19.5]]), torch.tensor([3.0]), torch.tensor([[1.07, 1.07]]))
    kornia[:, :, 2] += torch.tensor([2.5, -1.0])
    for border, mode in (("reflect", "reflection"), ("zeros", "zeros")):
        expected = warp_affine(images, kornia.expand(2, -1, -1), (40, 64), mode="bicubic", padding_mode=mode)
        assert torch.allclose(warp(images, matrix, border), expected, atol=1e-5)
    shifted = warp(images, move_matrix(Move(dx=5, dy=-3), 40, 64), "wrap")
    assert torch.allclose(shifted, torch.roll(images, (-3, 5), dims=(2, 3)), atol=1e-5)


def test_the_zoom_really_zooms(cli, write, tmp_path):
    folder, log = render(cli, film(write, "steps = 0\ncadence = 1\n"), tmp_path,
                         "--set", "output.frames=true")
    first, second = (np.asarray(Image.open(folder / "zoom" / f"{i:06d}.png"), dtype=float) for i in (0, 1))
    height, width = first.shape[:2]

    def centre_scaled(image, factor):  # the middle of the picture enlarged by `factor`, by PIL
        crop_h, crop_w = height / factor, width / factor
        box = ((width - crop_w) / 2, (height - crop_h) / 2, (width + crop_w) / 2, (height + crop_h) / 2)
        picture = Image.fromarray(image.astype(np.uint8)).resize((width, height), Image.BICUBIC, box=box)
        return np.asarray(picture, dtype=float)[8:-8, 8:-8]

    inner = second[8:-8, 8:-8]
    zoomed_in = np.abs(centre_scaled(first, 1.05) - inner).mean()
    assert zoomed_in < 2.0  # grey levels out of 255: the same picture, 5 % larger
    assert zoomed_in < 0.3 * np.abs(centre_scaled(first, 1.1) - inner).mean()
    assert zoomed_in < 0.2 * np.abs(first[8:-8, 8:-8] - inner).mean()
    # the camera alone: only rounding and resampling (the feedback is bilinear, the measure
    # bicubic) depart from it; a wrong direction or centre would be ten times this
    assert log["warp_error"]["mean"] < 0.01


def test_cadence_divides_the_dreamed_steps(cli, write, tmp_path, monkeypatch):
    import studio.optimize.ascent as ascent

    steps = []
    original = ascent.Ascent.run

    def counting(self, *args, **kwargs):
        steps.append(self.settings.steps)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ascent.Ascent, "run", counting)
    _, every = render(cli, film(write, "cadence = 1\n", "a.toml"), tmp_path / "a")
    taken = sum(steps)
    steps.clear()
    _, third = render(cli, film(write, "cadence = 3\n", "b.toml"), tmp_path / "b")
    assert (every["dreamed"], third["dreamed"]) == (8, 3)  # frames 0, 3, 6
    assert (taken, sum(steps)) == (16, 6)
    assert every["frames"] == third["frames"] == 8 and third["video"]["frames"] == 8


def test_the_films_schedules_are_logged_per_frame(cli, write, tmp_path):
    _, log = render(cli, film(write, 'layers = ["blocks.1", "blocks.2"]\n'
                                     'weights = { "blocks.2" = "0:(0), 7:(1)" }\nsteps = "0:(3), 1:(1)"\n'),
                    tmp_path)
    schedule = log["schedule"]
    assert schedule["steps"] == [3, 1, 1, 1, 1, 1, 1, 1]
    assert schedule["weights"]["blocks.1"] == [1.0] * 8
    assert schedule["weights"]["blocks.2"][0] == 0.0 and schedule["weights"]["blocks.2"][-1] == 1.0
    assert schedule["zoom"] == [1.05] * 8
    assert len(log["warp_error"]["per_frame"]) == 7 and len(log["frame_change"]["per_frame"]) == 7


def test_a_cadence_film_does_not_shimmer(cli, write, tmp_path):
    """The frames between dreamt ones are resampled and cross-faded; they keep the dreamt
    frames' fine detail, so sharpness does not pulse at the cadence."""
    from studio.pictures.coherence import detail

    folder, log = render(cli, film(write, 'cadence = 3\nframes = 10\nlayers = ["blocks.2"]\nlr = 0.03\n'),
                         tmp_path, "--set", "output.frames=true")
    sharpness = [float(detail(torch.from_numpy(np.asarray(Image.open(folder / "zoom" / f"{i:06d}.png")).copy())
                              .permute(2, 0, 1).float().div(255)[None])) for i in range(10)]
    steps = [later / earlier for earlier, later in zip(sharpness, sharpness[1:])]
    assert max(steps) < 1.1 and min(steps) > 0.9, [round(s, 3) for s in sharpness]
    assert log["frame_change"]["p99"] <= 3 * log["frame_change"]["median"]


# --- colour ------------------------------------------------------------------------------------

def test_colour_coherence_keeps_drift_inside_five_percent(cli, write, tmp_path):
    strong = 'frames = 30\nsteps = 4\nlr = 0.03\nlayers = ["blocks.2"]\n'
    _, held = render(cli, film(write, strong, "a.toml"), tmp_path / "a")
    _, loose = render(cli, film(write, strong + 'colour_coherence = "none"\n', "b.toml"), tmp_path / "b")
    assert all(abs(value) <= 0.05 for value in held["drift"].values()), held["drift"]
    assert max(map(abs, loose["drift"].values())) > max(map(abs, held["drift"].values()))


# --- files, resume, memory ---------------------------------------------------------------------

def test_frames_are_written_as_a_numbered_sequence(cli, write, tmp_path):
    folder, log = render(cli, film(write), tmp_path, "--set", "output.frames=true")
    assert sorted(p.name for p in (folder / "zoom").iterdir()) == [f"{i:06d}.png" for i in range(8)]
    assert (folder / "zoom" / "000007.png").read_bytes() != (folder / "zoom" / "000006.png").read_bytes()
    last = np.asarray(Image.open(folder / "zoom.png"))
    assert np.array_equal(last, np.asarray(Image.open(folder / "zoom" / "000007.png")))


def test_an_interrupted_film_resumes_byte_identical(cli, write, tmp_path, monkeypatch):
    import studio.scenes.zoom as zoom

    path = film(write, "cadence = 2\nframes = 9\n")
    _, whole = render(cli, path, tmp_path / "whole")
    calls = []
    original = zoom.Film._dream

    def interrupted(self, image, index):
        calls.append(index)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, image, index)

    monkeypatch.setattr(zoom.Film, "_dream", interrupted)
    assert cli("render", path, "--out", tmp_path / "resumed", "-q").exit_code == 130
    assert not (tmp_path / "resumed" / "film" / "zoom.mp4").exists()
    monkeypatch.setattr(zoom.Film, "_dream", original)
    calls.clear()
    folder, resumed = render(cli, path, tmp_path / "resumed")
    for name in ("zoom.mp4", "zoom.png"):
        assert (folder / name).read_bytes() == (tmp_path / "whole" / "film" / name).read_bytes()
    assert resumed["warp_error"] == whole["warp_error"] and resumed["drift"] == whole["drift"]
    assert resumed["objective"] == whole["objective"]


def test_memory_is_bounded_by_the_tile_at_hd_and_4k(write):
    from studio.preset import load_preset
    from studio.rendering import check_preset

    for width, height in ((1920, 1080), (3840, 2160)):
        path = write(f"{width}.toml", FILM.replace("size = [96, 64]", f"size = [{width}, {height}]")
                     .replace('["blocks.1"]', '["blocks.4"]'))
        scene, = check_preset(load_preset(path))
        assert scene.settings.tile == 512 and scene.memory < 2 * 1024 ** 3, (width, scene.memory)
        assert scene.total == 8  # progress counts frames


def test_a_draft_previews_the_whole_motion_at_a_quarter_size(write):
    from studio.preset import load_preset
    from studio.preset.draft import make_draft

    preset = load_preset(film(write, 'size = [1280, 720]\nframes = 240\ntranslation_x = "0:(8), 100:(-4)"\n'))
    draft = make_draft(preset).scenes[0]
    assert draft.frames == 240 and draft.size == (180, 320) and draft.cadence == 4 and draft.steps == 1
    assert keyframes.series(draft.translation_x, 101)[100] == pytest.approx(-1.0)


def test_the_film_is_h264_yuv420p_rec709_faststart_with_its_preset(cli, write, tmp_path):
    import subprocess

    import imageio_ffmpeg

    from studio.output.video import read_video_preset

    folder, log = render(cli, film(write), tmp_path)
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(folder / "zoom.mp4")],
                           capture_output=True, text=True).stderr
    stream = next(line for line in probe.splitlines() if "Video:" in line)
    assert "h264" in stream and "yuv420p(tv, bt709" in stream and "96x64" in stream and "8 fps" in stream
    data = (folder / "zoom.mp4").read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart: a browser plays it while loading
    assert 'kind = "zoom"' in read_video_preset(folder / "zoom.mp4")
    assert log["video"] == {"file": "zoom.mp4", "frames": 8, "size": [96, 64], "fps": 8}


def test_validate_states_the_film_in_frames(cli, write):
    result = cli("validate", film(write))
    assert result.exit_code == 0 and "zoom: 8 frames of work" in result.output and "GiB per step" in result.output


def test_raised_limits_reach_the_film_as_they_reach_validation(cli, write):
    """A schedule past a ceiling that `--raise-limits` lifts is checked once, at validation; the
    film itself takes the validated values."""
    path = film(write, 'steps = "0:(12000), 1:(0)"\nframes = 2\n')
    refused = cli("validate", path)
    assert refused.exit_code == 2 and "scenes.0.steps" in refused.output and "frame 0" in refused.output
    raised = cli("validate", path, "--raise-limits", "2")
    assert raised.exit_code == 0 and "zoom: 2 frames of work" in raised.output
