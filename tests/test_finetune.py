"""Fine-tuning a real network under corruption (`train` with `net = "model"`): the offline
EfficientNet-Lite0 gets a new head, trains, and its watched channels are redrawn per snapshot."""

import json

import pytest
import torch

from studio.models import load_model
from studio.training.datasets import shapes, split_heldout
from studio.training.finetune import Classifier, layer_path

FINETUNE = """
[preset]
name = "ft"
seed = 2
[model]
name = "efficientnet_lite0"
[output]
fps = 4
[[scenes]]
kind = "train"
name = "finetune"
net = "model"
dataset = "shapes"
classes = 2
per_class = 8
image_size = 48
epochs = 2
snapshot_every = 1
lr = 0.002
batch_size = 8
watch = "blocks.3"
channels = [0, 5]
"""


@pytest.fixture(scope="module")
def lite0():
    return load_model("efficientnet_lite0", "DEFAULT", torch.device("cpu"), "test", 0)


def test_the_classifier_is_a_trainable_copy_with_a_new_head(lite0):
    before = [p.clone() for p in lite0.module.parameters()]
    net = Classifier(lite0, 3, torch.Generator().manual_seed(0))
    assert net(torch.rand(2, 3, 48, 48)).shape == (2, 3)
    assert all(p.requires_grad for p in net.parameters())
    net.train()
    assert not any(m.training for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    torch.optim.SGD(net.parameters(), lr=0.1).zero_grad()
    net(torch.rand(2, 3, 48, 48)).sum().backward()
    torch.optim.SGD(net.parameters(), lr=0.1).step()
    # the zoo's model (shared by every scene) is untouched
    assert all(torch.equal(a, b) for a, b in zip(before, lite0.module.parameters()))
    assert not any(p.requires_grad for p in lite0.module.parameters())
    assert dict(net.named_modules())[layer_path("blocks.3")] is net.network.blocks[3]


def test_heldout_is_a_per_class_fraction_never_trained_on():
    data = shapes(3, 12, 10, torch.Generator().manual_seed(0))
    training, heldout = split_heldout(data, 0.2, torch.Generator().manual_seed(1))
    assert len(heldout.labels) == 6 and len(training.labels) == 24
    assert torch.bincount(heldout.labels).tolist() == [2, 2, 2]
    joined = torch.cat([training.images, heldout.images]).flatten(1)
    assert torch.unique(joined, dim=0).shape[0] == 30  # no example in both
    assert split_heldout(data, 0.0, torch.Generator())[1] is None


def test_fine_tuning_moves_the_watched_channels_and_their_pictures(cli, write, tmp_path):
    result = cli("render", write("ft.toml", FINETUNE), "--out", tmp_path / "a", "-q")
    assert result.exit_code == 0, result.output
    log = json.loads((tmp_path / "a/ft/log.json").read_text())["scenes"]["finetune"]
    assert log["video"]["frames"] == 3 and log["snapshots"] == [0, 1, 2]
    assert len(log["heldout_accuracy"]) == 2 and log["dataset"]["heldout"] == 4
    assert log["watched"] == {"layer": "efficientnet_lite0 blocks.3", "units": [0, 5]}
    assert len(log["watched_activation"]) == 3 and all(len(a) == 2 for a in log["watched_activation"])
    assert log["watched_activation"][0] != log["watched_activation"][-1]
    assert 0 < log["watched_weight_change"][1] < log["watched_weight_change"][2]
    dreams = log["dreams"]
    assert [d["epoch"] for d in dreams] == [0, 1, 2]
    assert dreams[0]["change_from_first"] == 0 and dreams[-1]["change_from_first"] > 0.005
    assert all(value > 0 for d in dreams for value in d["activation"])  # each climb excites its channel
    # the same preset gives the same pixels
    assert cli("render", write("ft.toml", FINETUNE), "--out", tmp_path / "b", "-q").exit_code == 0
    assert (tmp_path / "a/ft/finetune.png").read_bytes() == (tmp_path / "b/ft/finetune.png").read_bytes()


def test_without_training_the_pictures_do_not_move(cli, write, tmp_path):
    """What moves the pictures is the network: with lr 0, every snapshot draws the same."""
    text = FINETUNE.replace("lr = 0.002", "lr = 0.0")
    assert cli("render", write("ft.toml", text), "--out", tmp_path, "-q").exit_code == 0
    log = json.loads((tmp_path / "ft/log.json").read_text())["scenes"]["finetune"]
    assert all(d["change_from_first"] == 0 for d in log["dreams"])
    assert log["watched_weight_change"][-1] == 0


def test_channels_are_for_model_nets_only(cli, write, tmp_path):
    text = FINETUNE.replace('net = "model"', 'net = "mlp2"')
    result = cli("render", write("ft.toml", text), "--out", tmp_path, "-q")
    assert result.exit_code == 2 and "scenes.0.channels" in result.output and 'net = "model"' in result.output


def test_an_unknown_watched_layer_is_named(cli, write, tmp_path):
    text = FINETUNE.replace('watch = "blocks.3"', 'watch = "blocks.33"')
    result = cli("render", write("ft.toml", text), "--out", tmp_path, "-q")
    assert result.exit_code == 2 and "scenes.0.watch" in result.output
    assert not (tmp_path / "ft").exists()
