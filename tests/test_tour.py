"""`tour`: frames morph smoothly from one channel's picture to the next, and each key frame is
that channel's own picture."""

import json

import pytest
import torch

from studio.optimize.aligned import AlignedImages, key_weights
from studio.optimize.morph import tour_positions

TOUR = """
[preset]
name = "tour"
seed = 1
[model]
name = "efficientnet_lite0"
[output]
fps = 8
[[scenes]]
kind = "tour"
name = "tour"
layer = "blocks.3"
channels = [3, 17, 42]
frames_per_channel = 6
size = [48, 48]
steps = 48
"""


def test_positions_and_weights_put_each_key_at_its_own_frame():
    positions = tour_positions(3, 4)
    assert len(positions) == 9 and positions[4] == 1 and positions[-1] == 2
    weights = key_weights(positions, 3)
    assert torch.allclose(weights.sum(dim=1), torch.ones(9))
    assert torch.equal(weights[[0, 4, 8]], torch.eye(3))


def test_aligned_frames_share_their_keys_parameters():
    param = AlignedImages(tour_positions(2, 4), 2, (16, 16), torch.Generator().manual_seed(0), torch.device("cpu"))
    images = param.image()
    assert images.shape == (5, 3, 16, 16) and 0 < images.min() and images.max() < 1
    images[0].sum().backward()
    # the first frame is key 0 plus its own and the common parts: key 1 gets no gradient from it
    assert param.keyed.grad[0].abs().sum() > 0 and param.keyed.grad[1].abs().sum() == 0


def test_a_tour_changes_little_between_frames_and_its_keys_are_their_channels(cli, write, tmp_path):
    result = cli("render", write("t.toml", TOUR), "--out", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    log = json.loads((tmp_path / "tour/log.json").read_text())["scenes"]["tour"]
    assert log["video"]["frames"] == 13
    assert [f.name for f in sorted((tmp_path / "tour/tour").iterdir())] == [
        "blocks.3-00-0003.png", "blocks.3-01-0017.png", "blocks.3-02-0042.png"]
    # consecutive frames differ far less than jumping from one key picture to the next
    assert log["picture_change"]["mean"] < 0.35 * min(log["key_change"])
    assert log["objective"][-1] > log["objective"][0]
    # each key frame is its channel's picture: it excites the channel nearly as much as the
    # channel's own maximisation with the same steps
    maximise = TOUR.replace('kind = "tour"', 'kind = "maximize"').replace("frames_per_channel = 6\n", "")
    maximise = maximise.replace('name = "tour"\nlayer', 'name = "own"\nlayer')
    maximise = maximise.replace('name = "tour"\nseed', 'name = "own"\nseed')
    assert cli("render", write("m.toml", maximise), "--out", tmp_path, "-q").exit_code == 0
    own = json.loads((tmp_path / "own/log.json").read_text())["scenes"]["own"]["activation"]
    for channel, reached in zip([3, 17, 42], log["key_activation"]):
        assert reached > 0.6 * own[str(channel)], (channel, reached, own)


def test_a_tour_needs_two_channels(cli, write, tmp_path):
    result = cli("render", write("t.toml", TOUR.replace("[3, 17, 42]", "[3]")), "--out", tmp_path, "-q")
    assert result.exit_code == 2 and "scenes.0.channels" in result.output and "two channels" in result.output
    result = cli("render", write("t.toml", TOUR.replace("[3, 17, 42]", "[3, 9999]")), "--out", tmp_path, "-q")
    assert result.exit_code == 2 and "out of range" in result.output


def test_a_tours_time_estimate_counts_every_chunk_of_a_step(write):
    import torch

    from studio.preset import load_preset
    from studio.rendering import prepare

    preset = load_preset(write("t.toml", '[preset]\nname = "t"\n[model]\nname = "efficientnet_lite0"\n[[scenes]]\n'
                                         'kind = "tour"\nlayer = "blocks.2"\nchannels = [1, 2, 3]\n'
                                         'frames_per_channel = 8\nsize = [256, 256]\nsteps = 4\n'))
    scene = prepare(preset, torch.device("cpu"), [None])[0]
    workload, units = scene.step.workload, scene.step.units
    # 17 frames, 4 a chunk at 256 px: a step is 5 chunk passes, each a fifth of a progress unit
    assert workload.batch == 4 and units == pytest.approx(1 / 5)
