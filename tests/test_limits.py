"""Resource limits: memory estimated up front (the CPU refuses what cannot fit, naming the
estimate; `--memory-limit` moves the line), and out-of-memory errors survived by halving."""

import json
import re

import torch

from studio.budget import Workload, estimate_bytes
from studio.models import load_model
from studio.optimize.ascent import Ascent

MAXIMIZE = """
[preset]
name = "limits"
seed = 5
[model]
name = "efficientnet_lite0"
[[scenes]]
kind = "maximize"
layer = "blocks.2"
channels = [0, 1, 2, 3]
size = [{side}, {side}]
steps = 2
"""


def test_estimate_grows_with_pixels_batch_and_depth():
    model = load_model("efficientnet_lite0")
    base = estimate_bytes(model, Workload(("blocks.2",), 1, (128, 128)))
    assert estimate_bytes(model, Workload(("blocks.2",), 4, (128, 128))) > 2 * base
    assert estimate_bytes(model, Workload(("blocks.2",), 1, (256, 256))) > 2 * base
    assert estimate_bytes(model, Workload(("blocks.5",), 1, (128, 128))) > base
    assert estimate_bytes(model, Workload(("blocks.2",), 1, (128, 128), backward=False)) <= base


def test_cpu_refuses_up_front_what_cannot_fit(cli, write, tmp_path):
    path = write("big.toml", MAXIMIZE.format(side=512))
    result = cli("render", path, "--out", tmp_path / "out", "--memory-limit", "0.1")
    assert result.exit_code == 2
    assert "would need about" in result.output and "GiB" in result.output
    assert "--memory-limit" in result.output and "Traceback" not in result.output
    assert not list((tmp_path / "out").rglob("*.png"))
    raised = cli("render", path, "--out", tmp_path / "out", "-q", "--memory-limit", "64",
                 "--set", "scenes.0.size=[64, 64]")
    assert raised.exit_code == 0, raised.output
    log = json.loads((tmp_path / "out" / "limits" / "log.json").read_text())
    assert log["scenes"]["maximize"]["memory_estimate_mib"] > 0


def test_out_of_memory_halves_the_batch_and_gives_the_same_pictures(cli, write, tmp_path, monkeypatch):
    path = write("oom.toml", MAXIMIZE.format(side=48))
    assert cli("render", path, "--out", tmp_path / "whole", "-q").exit_code == 0
    real_run = Ascent.run

    def small_memory(self, start, sizes, keep_detail=False):
        if start.shape[0] > 1:  # a device that fits one image at a time
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_run(self, start, sizes, keep_detail)

    monkeypatch.setattr(Ascent, "run", small_memory)
    result = cli("render", path, "--out", tmp_path / "split")
    assert result.exit_code == 0, result.output
    assert "out of memory with a batch of 4: retrying as 2 + 2" in result.output
    whole, split = tmp_path / "whole" / "limits", tmp_path / "split" / "limits"
    for channel in range(4):
        name = f"maximize/blocks.2-{channel:04d}.png"
        assert (whole / name).read_bytes() == (split / name).read_bytes()
    log = json.loads((split / "log.json").read_text())["scenes"]["maximize"]
    assert log["out_of_memory_splits"][0] == {"size": 4, "into": [2, 2]}


def test_out_of_memory_halves_the_dream_tile(cli, write, tmp_path, monkeypatch):
    path = write("tile.toml", """
[preset]
name = "tiles"
[model]
name = "efficientnet_lite0"
[[scenes]]
kind = "dream"
input = "builtin:coffee"
layer = "blocks.2"
size = [160, 128]
octaves = 1
steps = 2
tile = 128
""")
    real_run = Ascent.run

    def small_memory(self, start, sizes, keep_detail=False):
        if self.settings.tile > 64:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_run(self, start, sizes, keep_detail)

    monkeypatch.setattr(Ascent, "run", small_memory)
    result = cli("render", path, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "out of memory with 128 px tiles: starting again with 64 px" in result.output
    log = json.loads((tmp_path / "out" / "tiles" / "log.json").read_text())["scenes"]["dream"]
    assert log["tile"] == 64


def test_an_out_of_memory_that_cannot_be_split_is_one_message(cli, write, tmp_path, monkeypatch):
    path = write("oom1.toml", MAXIMIZE.format(side=48))

    def no_memory(self, start, sizes, keep_detail=False):
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(Ascent, "run", no_memory)
    result = cli("render", path, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "out of memory" in result.output and "Traceback" not in result.output
    assert not list((tmp_path / "out").rglob("*.png"))


def test_preset_ceilings_are_named_and_can_be_raised_by_flag(cli, write, tmp_path):
    path = write("wide.toml", MAXIMIZE.format(side=64).replace("size = [64, 64]", "size = [6000, 64]"))
    refused = cli("validate", path)
    assert refused.exit_code == 2
    assert "over the limit (4096 px per side; raise it with --raise-limits N)" in refused.output
    assert cli("validate", path, "--raise-limits", "2").exit_code == 0
    assert cli("validate", path).exit_code == 2  # the flag lasts one command
    steps = write("steps.toml", MAXIMIZE.format(side=64).replace("steps = 2", "steps = 25000"))
    assert "at most 20000" in cli("validate", steps, "--raise-limits", "2").output
    assert cli("validate", steps, "--raise-limits", "3").exit_code == 0


def test_a_picture_too_big_to_hold_is_refused_before_it_is_allocated(cli, write):
    preset = write("h.toml", '[preset]\nname = "h"\n[model]\nname = "efficientnet_lite0"\n[[scenes]]\n'
                             'kind = "dream"\nlayer = "blocks.2"\ninput = "noise"\nsize = [16000, 16000]\n')
    result = cli("validate", preset, "--raise-limits", "4", "--memory-limit", "2")
    assert result.exit_code == 2 and "`scenes.0.size`" in result.output and "before the first step" in result.output


def test_training_states_its_memory_and_time_and_is_refused_when_it_cannot_fit(cli, write):
    preset = write("t.toml", '[preset]\nname = "t"\n[model]\nname = "efficientnet_lite0"\n[[scenes]]\n'
                             'kind = "train"\nnet = "model"\ndataset = "shapes"\nclasses = 2\nper_class = 8\n'
                             'image_size = 64\nepochs = 1\nsnapshot_every = 1\nchannels = [0, 1]\nbatch_size = 16\n')
    fits = cli("validate", preset)
    assert fits.exit_code == 0 and "GiB per step" in fits.output and " on cpu" in fits.output, fits.output
    per_step, whole = re.search(r"about ([\d.]+) GiB per step \(([\d.]+) GiB for the process\)", fits.output).groups()
    assert float(whole) > float(per_step)  # what is loaded (torch, the model) comes on top
    refused = cli("validate", preset, "--memory-limit", "0.1")
    assert refused.exit_code == 2 and "`scenes.0.batch_size`" in refused.output and "training would need" in refused.output
