"""Training under corruption: recipes touch exactly what they say, schedules shape the loss,
frames come as promised."""

import json

import pytest
import torch

from studio.models.small import build_small_net
from studio.scenes.train import Corruption, LossSchedule
from studio.scenes.train import Section as TrainScene
from studio.training.corruption import corrupt
from studio.training.datasets import faces, shapes
from studio.training.schedules import multiplier
from studio.training.trainer import snapshot_epochs, train


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_label_noise_changes_exactly_the_fraction():
    data = faces()
    noisy, truth, report = corrupt(data, Corruption(label_noise=0.3), gen())
    assert int((noisy.labels != truth).sum()) == 60 == report["label_noise"]["examples"]
    assert torch.equal(truth, data.labels)


def test_conflicting_duplicates_carry_different_labels():
    data = faces()
    mixed, truth, report = corrupt(data, Corruption(conflicting=0.2), gen())
    assert len(mixed.labels) == 240 and report["conflicting"]["examples"] == 40
    originals = torch.tensor(report["conflicting"]["duplicates_of"])
    assert torch.equal(mixed.images[200:], data.images[originals])
    assert (mixed.labels[200:] != data.labels[originals]).all()


def test_missing_drops_the_fraction():
    kept, truth, report = corrupt(faces(), Corruption(missing=0.25), gen())
    assert len(kept.labels) == 150 == len(truth) and report["missing"]["examples"] == 50


def test_occlusion_blanks_a_patch_of_the_stated_area():
    data = shapes(2, 20, 3, gen())
    blanked, _, report = corrupt(data, Corruption(occlude=0.25), gen())
    assert report["occlude"]["patch"] == 10
    assert ((blanked.images == 0).all(dim=1).sum(dim=(1, 2)) >= 100).all()


def test_corruption_is_deterministic_from_the_seed():
    a = corrupt(faces(), Corruption(label_noise=0.2, pixel_noise=0.1), gen(3))[0]
    b = corrupt(faces(), Corruption(label_noise=0.2, pixel_noise=0.1), gen(3))[0]
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)


def test_schedules():
    piecewise = LossSchedule(kind="piecewise", points=((0, 1.0), (10, -1.0)))
    assert multiplier(piecewise, 0) == 1.0 and multiplier(piecewise, 5) == 0.0 and multiplier(piecewise, 20) == -1.0
    cyclic = LossSchedule(kind="cyclic", period=10, low=-0.5, high=1.0)
    assert multiplier(cyclic, 0) == 1.0 and abs(multiplier(cyclic, 5) + 0.5) < 1e-9


def run(scene, seed=0, data=None):
    data = data or faces()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = build_small_net(scene.net, data.channels, 25, scene.hidden, len(data.classes))
    return train(net, data, data.labels, scene, gen(seed), torch.device("cpu"))


def test_clean_mlp2_learns_faces():
    history, snapshots = run(TrainScene(kind="train", epochs=150, snapshot_every=50))
    assert history.accuracy[-1] > 0.95 and history.loss[-1] < history.loss[0] / 5
    assert list(snapshots) == [0, 200, 400, 600]  # by optimiser step: 200 faces in batches of 64, 4 an epoch


def test_negative_phase_makes_the_loss_rise():
    schedule = LossSchedule(kind="piecewise", points=((0, 1.0), (39, 1.0), (40, -1.0), (80, -1.0)))
    history, _ = run(TrainScene(kind="train", epochs=80, snapshot_every=80, loss_schedule=schedule))
    assert history.loss[39] < history.loss[0]
    assert history.loss[79] > history.loss[41] > history.loss[39]


def test_flooding_keeps_the_loss_near_its_level():
    schedule = LossSchedule(kind="flooding", level=0.3)
    history, _ = run(TrainScene(kind="train", epochs=200, snapshot_every=200, loss_schedule=schedule))
    late = history.loss[-60:]
    assert abs(sum(late) / len(late) - 0.3) < 0.08 and min(late) > 0.15


def test_snapshot_epochs():
    assert snapshot_epochs(450, 10) == list(range(0, 451, 10))
    assert snapshot_epochs(25, 10) == [0, 10, 20, 25]


TRAIN = """
[preset]
name = "t"
seed = 4
[output]
fps = 5
[[scenes]]
kind = "train"
dataset = "shapes"
net = "small_cnn"
classes = 3
per_class = 6
image_size = 16
hidden = 4
epochs = 25
snapshot_every = 10
[scenes.corruption]
label_noise = 0.2
"""


def test_train_scene_frames_and_log(cli, write, tmp_path):
    result = cli("render", write("t.toml", TRAIN), "--out", tmp_path / "a", "-q")
    assert result.exit_code == 0, result.output
    log = json.loads((tmp_path / "a/t/log.json").read_text())["scenes"]["train"]
    assert log["video"]["frames"] == 4 and log["snapshots"] == [0, 10, 20, 25]
    assert len(log["loss"]) == len(log["accuracy"]) == len(log["objective"]) == 25
    assert log["dataset"]["heldout"] == 3 and log["dataset"]["trained_on"] == 15  # 0.2 of each class aside
    assert log["corruption"]["label_noise"]["examples"] == round(0.2 * 15)
    assert len(log["heldout_accuracy"]) == 25 and all(0 <= a <= 1 for a in log["heldout_accuracy"])
    assert cli("render", write("t.toml", TRAIN), "--out", tmp_path / "b", "-q").exit_code == 0
    assert (tmp_path / "a/t/train.png").read_bytes() == (tmp_path / "b/t/train.png").read_bytes()


def test_folder_dataset(cli, write, tmp_path):
    from PIL import Image

    for name, colour in (("red", (255, 0, 0)), ("blue", (0, 0, 255))):
        (tmp_path / "set" / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (20, 20), colour).save(tmp_path / "set" / name / f"{i}.png")
    text = TRAIN.replace('dataset = "shapes"', 'dataset = "set"').replace("classes = 3\n", "")
    result = cli("render", write("t.toml", text), "--out", tmp_path / "o", "-q")
    assert result.exit_code == 0, result.output
    log = json.loads((tmp_path / "o/t/log.json").read_text())["scenes"]["train"]
    assert log["dataset"]["classes"] == ["blue", "red"] and log["dataset"]["examples"] == 6


@pytest.mark.parametrize("change, key", [
    ('dataset = "nowhere"', "scenes.0.dataset"),
    ("[scenes.corruption]\nlabel_noise = 1.0", "scenes.0.corruption.label_noise"),
    ('[scenes.loss_schedule]\nkind = "cyclic"\nperiod = 0', "scenes.0.loss_schedule.period"),
    ('[scenes.loss_schedule]\nkind = "piecewise"\npoints = []', "scenes.0.loss_schedule.points"),
    ('probe = "dataset:999"', "scenes.0.probe"),
])
def test_bad_training_input_exits_2_naming_the_key(cli, write, tmp_path, change, key):
    text = TRAIN.replace("[scenes.corruption]\nlabel_noise = 0.2\n", "")
    if change.startswith("["):
        text += change + "\n"
    else:
        text = text.replace('dataset = "shapes"', change) if change.startswith("dataset") else text.replace(
            "epochs = 25", "epochs = 25\n" + change)
    (tmp_path / "empty").mkdir()
    result = cli("render", write("t.toml", text), "--out", tmp_path / "o")
    assert result.exit_code == 2 and key in result.output, result.output
    assert not (tmp_path / "o").exists()


def test_folder_without_class_folders_exits_2(cli, write, tmp_path):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "x.png").write_bytes(b"")
    text = TRAIN.replace('dataset = "shapes"', 'dataset = "flat"')
    result = cli("render", write("t.toml", text), "--out", tmp_path / "o")
    assert result.exit_code == 2 and "class sub-folders" in result.output


def test_dreams_every_adds_activation_maximisation_to_every_frame(cli, write, tmp_path):
    text = TRAIN.replace("snapshot_every = 10", "snapshot_every = 5\ndreams_every = 10")
    plain = cli("render", write("t.toml", TRAIN.replace("snapshot_every = 10", "snapshot_every = 5")),
                "--out", tmp_path / "plain", "-q")
    dreamy = cli("render", write("d.toml", text), "--out", tmp_path / "dreamy", "-q")
    assert plain.exit_code == 0 and dreamy.exit_code == 0, dreamy.output
    a = json.loads((tmp_path / "plain/t/log.json").read_text())["scenes"]["train"]
    b = json.loads((tmp_path / "dreamy/t/log.json").read_text())["scenes"]["train"]
    assert a["video"]["frames"] == b["video"]["frames"] == 6
    assert a["video"]["size"] == b["video"]["size"] == [1280, 720]  # the same landscape frame, one more row in it
    assert "dreams" not in a and [d["epoch"] for d in b["dreams"]] == [0, 10, 20, 25]


def chart(history, epoch=None, chance=0.5):
    from studio.pictures.charts import loss_figure

    return loss_figure(history, len(history.loss) if epoch is None else epoch, 600, chance=chance)


def test_a_collapsed_run_says_so_on_its_frame():
    from studio.training.trainer import History

    collapsed = History(loss=[0.7, 5.0, 60.0], objective=[0.7, -5.0, -60.0], multiplier=[1, -1, -1],
                        accuracy=[0.9, 0.5, 0.5], clean_accuracy=[0.9, 0.5, 0.5], heldout_accuracy=[0.9, 0.5, 0.49])
    title = chart(collapsed).axes[0].get_title()
    assert "held-out 49%" in title and "at chance: the network has collapsed" in title
    assert "collapsed" not in chart(collapsed, epoch=1).axes[0].get_title()  # 90 % after epoch 1
    learning = History(loss=[0.7, 0.3, 0.1], objective=[0.7, 0.3, 0.1], multiplier=[1, 1, 1],
                       accuracy=[0.6, 0.9, 1.0], clean_accuracy=[0.6, 0.9, 1.0], heldout_accuracy=[0.6, 0.85, 0.95])
    assert "collapsed" not in chart(learning).axes[0].get_title()


def test_the_chart_legend_names_every_curve_and_symlog_ticks_do_not_crowd():
    from studio.training.trainer import History

    exploding = History(loss=[0.7 * 3 ** k for k in range(12)], objective=[-0.7 * 3 ** k for k in range(12)],
                        multiplier=[-1.0] * 12, accuracy=[0.5] * 12, clean_accuracy=[0.55] * 12,
                        heldout_accuracy=[0.5] * 12)
    figure = chart(exploding)
    axes = figure.axes[0]
    assert axes.get_yscale() == "symlog"
    ticks = [t for t in axes.get_yticks() if axes.get_ylim()[0] <= t <= axes.get_ylim()[1]]
    assert 2 <= len(ticks) <= 6
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert labels == ["loss", "objective (scheduled)", "training accuracy (labels as given)",
                      "clean accuracy (true labels)", "held-out accuracy"]
