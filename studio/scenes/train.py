"""`train`: a network trained on deliberately corrupted data, watched epoch by epoch.

Seed 000 §1: a two-layer MLP on faces, its first layer's activations for a face per epoch as
the loss falls (39.25 → 0.29 over 450 epochs in the seed). Corruption recipes and loss
schedules make the training imperfect on purpose. With ``net = "model"`` the preset's
pretrained model is fine-tuned instead, and each snapshot redraws what its watched channels
want to see from the same seeded start, so the frames show the features drifting. Frames: the
probe (clean and as trained on), the watched layer's maps for it, the first layer's weights or
the watched channels' pictures, the loss and accuracy curves with the epoch marked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from studio.errors import PresetError
from studio.frames import Frame, Record, Still
from studio.lazy import lazy
from studio.preset.coerce import Problem
from studio.preset.fields import Channels, SceneSection, Video, check_channels, meta
from studio.preset.limits import MAX_EPOCHS, MAX_SIDE, MAX_STEPS, Limits
from studio.scenes.support.scene import SceneBase
from studio.scenes.support.step import Step

torch = lazy("torch")
budget = lazy("studio.budget")
inputs = lazy("studio.inputs")
layers = lazy("studio.models.layers")
small = lazy("studio.models.small")
charts = lazy("studio.pictures.charts")
film = lazy("studio.pictures.film")
optimize = lazy("studio.optimize")
layout = lazy("studio.pictures.layout")
training = lazy("studio.pictures.training")
corrupting = lazy("studio.training.corruption")
cost = lazy("studio.training.cost")
datasets = lazy("studio.training.datasets")
finetune = lazy("studio.training.finetune")
trainer = lazy("studio.training.trainer")
watch = lazy("studio.training.watch")

FRAME_WIDTH = 640
MODEL_FRAME_WIDTH = 800
DREAM_UNITS = 8
DREAM_STEPS = {"small": 32, "model": 48}
DREAM_JITTER = {"small": 1, "model": 4}
LAB_CHART_SECONDS = 0.2  # a lab frame's loss chart, drawn by matplotlib whatever the frame's size (profiled: 0.17 s)
CAPTION_FADE = 3  # frames before a snapshot over which the caption dissolves into its numbers
WARM_LR = 0.01  # a warm climb nudges a finished picture; Adam's first steps are lr-sized everywhere


@dataclass(frozen=True)
class Corruption:
    WHAT = "`corruption`"
    label_noise: float = field(default=0.0, **meta(min=0.0, below=1.0, expect="a fraction in [0, 1)"))
    """Fraction of labels replaced at random."""
    pixel_noise: float = field(default=0.0, **meta(min=0.0, max=10.0))
    """Std of Gaussian noise on inputs."""
    conflicting: float = field(default=0.0, **meta(min=0.0, below=1.0, expect="a fraction in [0, 1)"))
    """Fraction duplicated with a different label."""
    missing: float = field(default=0.0, **meta(min=0.0, below=1.0, expect="a fraction in [0, 1)"))
    """Fraction of examples dropped."""
    occlude: float = field(default=0.0, **meta(min=0.0, below=1.0, expect="a fraction in [0, 1)"))
    """Fraction of each image blanked."""


@dataclass(frozen=True)
class LossSchedule:
    WHAT = "`loss_schedule`"
    kind: Literal["constant", "cyclic", "flooding", "piecewise"] = "constant"
    """`constant`, `cyclic`, `flooding` or `piecewise` (negative multipliers ascend)."""
    points: tuple[tuple[float, float], ...] = ()
    """`[[epoch, multiplier], ...]` (piecewise)."""
    period: float = 100.0
    """Epochs per cycle (cyclic)."""
    low: float = -0.5
    """Lowest multiplier (cyclic)."""
    high: float = 1.0
    """Highest multiplier (cyclic)."""
    level: float = field(default=0.1, **meta(min=0.0))
    """The flood level (flooding)."""
    ceiling: float | None = field(default=None, **meta(min=0.0, max=1e6))
    """A guard for ascent: while the multiplier is negative, a loss above this gives no gradient, so the network is
    pushed to be wrong up to this loss and no further (unset: no guard; see the README for the measured safe range of
    `low`)."""

    def check(self, limits: Limits):
        if self.kind == "piecewise":
            if not self.points:
                raise Problem("points", "empty", "[[epoch, multiplier], ...] with at least one point", [])
            epochs = [p[0] for p in self.points]
            if any(b <= a for a, b in zip(epochs, epochs[1:])):
                raise Problem("points", "epochs not in increasing order",
                              "points sorted by epoch", [list(p) for p in self.points])
        if self.kind == "cyclic" and self.period <= 0:
            raise Problem("period", "not positive", "a period above 0", self.period)


@dataclass(frozen=True)
class Section(SceneSection, Video):
    WHAT = "a `train` scene"
    layout: Literal["lab", "film"] = "lab"
    """`lab`: the pictures and the charts side by side; `film`: the watched units' pictures fill the frame, with one
    caption line and a loss sparkline."""
    dataset: str = "faces"
    """`faces`, `shapes` or a folder of class folders."""
    net: Literal["mlp2", "small_cnn", "model"] = "mlp2"
    """`mlp2`, `small_cnn`, or `model`: fine-tune the preset's `[model]` with a new head."""
    hidden: int = field(default=16, **meta(min=1, max=4096, needs=("net", ("mlp2", "small_cnn"))))
    """Hidden units (mlp2) or channels (small_cnn)."""
    epochs: int = field(default=450, **meta(min=1, max=MAX_EPOCHS, limit="epochs"))
    """Training epochs."""
    snapshot_every: int = field(default=10, **meta(min=1))
    """Epochs between frames."""
    snapshot_every_steps: int = field(default=0, **meta(min=0, max=1_000_000))
    """Also a snapshot every N optimiser steps (film layout): a 12-epoch fine-tune of 4 steps an epoch gives 48; 0:
    per epoch only."""
    lr: float | tuple[float, float] = field(default=0.01, **meta(min=0.0, max=100.0))
    """The optimiser's learning rate, or `[start, end]` ramped over the epochs."""
    batch_size: int = field(default=64, **meta(min=1, max=65536))
    """Examples per minibatch."""
    watch: str | None = None
    """Layer shown (default: the first; a model's middle stage)."""
    probe: str = "dataset:0"
    """`dataset:N` or an image shown each snapshot."""
    image_size: int | None = field(default=None, **meta(min=8, max=256))
    """Side of the training images (default 25; 128 for `model`)."""
    classes: int = field(default=4, **meta(min=2, max=64))
    """Classes (shapes)."""
    per_class: int = field(default=100, **meta(min=1, max=10_000))
    """Examples per class (shapes)."""
    optimizer: Literal["adam", "sgd"] = "adam"
    """`adam` or `sgd`."""
    gradient_clip: float | None = field(default=None, **meta(min=0.0, max=1e6))
    """A guard: the gradient's total norm is clipped to this before every step (unset: no clipping)."""
    dreams_every: int | None = field(default=None, **meta(min=0))
    """Redraw the watched units' maximisation every N epochs from the same start (0: never; default: every snapshot
    for `model`)."""
    channels: Channels | None = None
    """The watched layer's channels drawn (net = "model" only): `"all"`, `"a:b"`, a list of indices, or one index
    (default: the first six)."""
    heldout: float = field(default=0.2, **meta(min=0.0, max=0.9, expect="a fraction in [0, 0.9]"))
    """Fraction of each class held out, clean, for `heldout_accuracy`."""
    dream_start: Literal["fixed", "warm"] = "fixed"
    """`fixed`: every snapshot's pictures from the same seeded start; `warm`: each goes on from the last snapshot's,
    so a unit's picture changes as its weights do."""
    dream_steps_warm: int = field(default=12, **meta(min=1, max=MAX_STEPS, limit="steps"))
    """Steps per snapshot when `dream_start = "warm"`."""
    dream_size: int | None = field(default=None, **meta(min=16, max=MAX_SIDE, limit=f"{MAX_SIDE} px per side"))
    """Pixels a side of the units' pictures (net = "model"); default: as large as the film layout shows them, else
    `image_size`."""
    tween: int = field(default=0, **meta(min=0, max=120))
    """Frames between consecutive snapshots (frames), interpolated in the pictures' parameterisation (spectra), not
    cross-faded."""
    corruption: Corruption = field(default_factory=Corruption)
    """Table: see below."""
    loss_schedule: LossSchedule = field(default_factory=LossSchedule)
    """Table: see below."""

    @property
    def size(self) -> int:
        """Images are brought to this many pixels a side: 25 for the small nets (the faces'
        own size), 128 for a fine-tuned model."""
        return self.image_size or (128 if self.net == "model" else 25)

    @property
    def dream_interval(self) -> int:
        """Epochs between redrawn dreams (0: none); a fine-tuned model draws them by default."""
        if self.dreams_every is not None:
            return self.dreams_every
        return self.snapshot_every if self.net == "model" else 0

    def network(self, model_name: str) -> str:
        """A small net is built and trained here; ``net = "model"`` fine-tunes the preset's."""
        return model_name if self.net == "model" else self.net

    def check(self, limits: Limits):
        if self.channels is not None and self.net != "model":
            raise Problem("channels", 'only for net = "model"', "no `channels` (a small net shows every unit)",
                          self.channels)
        if self.channels is not None:
            check_channels(self.channels, limits)
        if self.dream_size is not None and self.net != "model":
            raise Problem("dream_size", "a small net reads images of one size only",
                          'no `dream_size` (its pictures are `image_size`), or net = "model"', self.dream_size)
        if self.snapshot_every > self.epochs:
            raise Problem("snapshot_every", "longer than the training", f"at most `epochs` ({self.epochs})",
                          self.snapshot_every)
        if self.dream_start == "warm" and not self.dream_interval:
            raise Problem("dream_start", "no pictures to continue", '`dreams_every` above 0 (or net = "model")',
                          self.dream_start)
        if self.snapshot_every_steps and self.layout != "film":
            raise Problem("snapshot_every_steps", "snapshots inside an epoch are film frames",
                          'layout = "film" (the lab\'s charts are per epoch)', self.snapshot_every_steps)
        if self.tween and (self.layout != "film" or not self.dream_interval):
            raise Problem("tween", "tweens interpolate the units' pictures",
                          'layout = "film" with dreams (`dreams_every` above 0, or net = "model")', self.tween)
        snapshots = self.epochs // self.snapshot_every + 1
        if self.snapshot_every_steps:  # at most: the dataset may hold fewer than classes × per_class
            per_epoch = -(-round(self.classes * self.per_class * (1 - self.heldout)) // self.batch_size)
            snapshots += self.epochs * per_epoch // self.snapshot_every_steps
        frames = snapshots * (self.tween + 1)
        if frames > limits.frames:
            raise Problem("snapshot_every", f"over the limit of {limits.frames} frames",
                          f"snapshots × (tween + 1) at most {limits.frames}", f"{frames} frames")

    def draft_changes(self) -> dict:
        # a tenth of the epochs and about a tenth of the frames: a quick look, not a slow video
        changes = {**super().draft_changes(), "epochs": max(1, self.epochs // 10),
                   "snapshot_every": max(1, self.snapshot_every // 2)}
        if self.net == "model":  # a real network trains for real: fewer, smaller images
            changes.update(per_class=min(self.per_class, 8), image_size=min(self.size, 64))
        if self.tween:
            changes["tween"] = 1
        if self.dream_size:
            changes["dream_size"] = min(self.dream_size, 128)
        return changes



class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        section = context.section
        self.kind = "model" if section.net == "model" else "small"
        available = budget.available_bytes(torch.device("cpu"), context.memory_limit)
        clean = datasets.load_dataset(section.dataset, section.size, section.classes, section.per_class,
                                      context.generator("dataset"), context.base, context.source,
                                      context.key("dataset"), available)
        if self.kind == "model":
            clean = datasets.as_colour(clean)
        training_set, self.heldout = datasets.split_heldout(clean, section.heldout, context.generator("heldout"))
        self.data, self.truth, self.report = corrupting.corrupt(training_set, section.corruption,
                                                                context.generator("corruption"))
        if len(self.data.labels) == 0:
            missing = round(section.corruption.missing * len(training_set.labels))
            raise PresetError(context.source, context.key("corruption.missing" if missing else "heldout"),
                              "no training examples left", expected="fewer held out or missing, or more `per_class`",
                              found=f"{len(clean.labels)} examples: {len(clean.labels) - len(training_set.labels)} "
                                    f"held out, {missing} of the other {len(training_set.labels)} missing")
        self.clean_count = len(clean.labels)
        self.build_net(len(self.data.classes))
        self.probe = self.probe_image(clean).to(context.device)
        self.units = self.watched_units()
        self.seen = corrupting.as_seen(self.probe.cpu(), section.corruption,
                                       context.generator("probe-corruption")).to(context.device)
        self.per_epoch = -(-len(self.data.labels) // section.batch_size)  # optimiser steps an epoch
        self.snapshots = trainer.snapshot_steps(section.epochs, section.snapshot_every, self.per_epoch,
                                                section.snapshot_every_steps)
        self.frames = len(self.snapshots) + (len(self.snapshots) - 1) * section.tween
        self.dream_start = watch.dream_start(self.dream_side(), context.generator("dream"))
        self.first_dreams = self.newest_dreams = self.last_dreams = None
        self.total = section.epochs + self.frames
        self.step = Step(self.check_memory(available))

    def check_memory(self, available: int) -> int:
        """Training's peak (weights, gradients, Adam's moments, a minibatch's activations) or a
        snapshot's pictures, whichever is more: refused up front when it cannot fit."""
        section, context = self.context.section, self.context
        batch = self.data.images[:section.batch_size].to(context.device)
        needed = cost.training_bytes(self.net, batch)
        if section.dream_interval:
            side = self.dream_side()
            pictures = torch.zeros(len(self.units), self.data.channels, side, side, device=context.device)
            needed = max(needed, cost.training_bytes(self.net, pictures))
        if context.device.type == "cpu" and needed > available:
            raise PresetError(context.source, context.key("batch_size"), f"training would need about "
                              f"{needed / budget.GIB:.1f} GiB, and {available / budget.GIB:.1f} GiB is available",
                              expected="a smaller `batch_size`, `image_size` or `dream_size`, or fewer `channels`",
                              found=section.batch_size)
        return needed

    def seconds(self) -> float:
        """The render's time, measured warm on copies: the optimiser steps, each snapshot's
        climbs, and the frames."""
        section, context = self.context.section, self.context
        images = self.data.images[:section.batch_size].to(context.device)
        labels = self.data.labels[:section.batch_size].to(context.device)
        training = cost.step_seconds(self.net, images, labels) * self.per_epoch * section.epochs
        climbs = 0.0
        if section.dream_interval:
            side = self.dream_side()
            drawn = sum(map(self.redraws, self.snapshots))
            later = section.dream_steps_warm if section.dream_start == "warm" else DREAM_STEPS[self.kind]
            # a climb's step: the frozen net's forward to the watched layer and backward to the
            # pictures, plus its transforms and parameterisation (not a training step's weight gradients)
            climb_steps = DREAM_STEPS[self.kind] + (drawn - 1) * later
            model = watch.climb_model(self.net, self.data.channels, (side, side))
            workload = budget.Workload((f"1.{self.watch}",), len(self.units), (side, side))
            climbs = budget.CLIMB_OVERHEAD * budget.seconds_per_step(model, workload) * climb_steps
        charts = LAB_CHART_SECONDS * self.frames if section.layout == "lab" else 0.0
        charts_start = budget.FIRST_CHART_SECONDS if section.layout == "lab" else 0.0
        return training + climbs + charts_start + charts + budget.frame_seconds(self.frames, section.video_size)

    def dream_side(self) -> int:
        """Pixels a side of the units' pictures: a small net reads its image size only; a model's
        are drawn as large as the film layout shows them (else at the training images' size)."""
        section = self.context.section
        if self.kind == "small":
            return section.size
        if section.dream_size:
            return section.dream_size
        if section.layout == "film":
            return film.film_tile(len(self.units), section.video_size)
        return section.size

    def build_net(self, classes: int) -> None:
        """The network that trains, the watched layer's path in it and the watched units."""
        section, context = self.context.section, self.context
        if self.kind == "small":
            with torch.random.fork_rng(devices=[]):  # seeded weight init, global RNG left alone
                torch.manual_seed(context.generator("init").initial_seed())
                self.net = small.build_small_net(section.net, self.data.channels, section.size, section.hidden,
                                                 classes, centre=self.data.images.mean(dim=0, keepdim=True)
                                                 ).to(context.device)
            self.watch = (layers.resolve_layer(self.net, section.watch, context.source, context.key("watch"))
                          if section.watch else watch.first_layer(self.net)[0])
            self.label = self.watch
            return
        model = context.model()
        if small.is_small_net(model.module):  # they read one image size and channel count only
            raise PresetError(context.source, "model.name", "a small net's checkpoint cannot be fine-tuned: it "
                              f"reads {model.input_size[0]} x {model.input_size[1]} images only",
                              expected='a pretrained classifier (efficientnet_lite0, resnet18 ...), or net = '
                                       '"mlp2" / "small_cnn" to train a small net from the start', found=model.name)
        path = context.layer(model, section.watch or model_default_watch(model), "watch")
        self.net = finetune.Classifier(model, classes, context.generator("head")).to(context.device)
        if self.net.head is None:
            raise PresetError(context.source, "model.name", "the model has no fully connected classifier to "
                              "replace", expected="a classifier network (efficientnet_lite0, resnet18, vgg16 ...)",
                              found=model.name)
        self.watch, self.label = finetune.layer_path(path), f"{model.name} {path}"
        maps, _ = watch.watched_maps(self.net, self.watch, torch.zeros(1, 3, section.size, section.size,
                                                                       device=context.device))
        self.channels = context.channels(section.channels if section.channels is not None else
                                         f"0:{min(DREAM_UNITS, maps.shape[0])}", maps.shape[0])

    def watched_units(self) -> list[int]:
        """The units drawn and logged: the chosen channels of a model, the first few of a small net
        (how many a layer has does not change while it trains, so this is asked once)."""
        if self.kind == "model":
            return self.channels
        maps, _ = watch.watched_maps(self.net, self.watch, self.probe)
        return list(range(min(DREAM_UNITS, maps.shape[0])))

    def probe_image(self, clean) -> torch.Tensor:
        """``dataset:N`` is example N of the clean set; anything else is an input image."""
        section, context = self.context.section, self.context
        if section.probe.startswith("dataset:"):
            index = section.probe.removeprefix("dataset:")
            if not index.isdigit() or int(index) >= len(clean.labels):
                raise PresetError(context.source, context.key("probe"), "no such dataset example",
                                  expected=f"dataset:0 .. dataset:{len(clean.labels) - 1}", found=section.probe)
            return clean.images[int(index)].unsqueeze(0)
        size = (section.size, section.size)
        image = inputs.load_input(section.probe, size, size, context.generator("probe"), context.base,
                                  context.source, context.key("probe"))
        return image.mean(dim=1, keepdim=True) if self.data.channels == 1 else image

    def epoch(self, step: int) -> int | float:
        """The epoch a snapshot's step falls at: whole at an epoch's end, else to two decimals."""
        whole, inside = divmod(step, self.per_epoch)
        return whole if not inside else round(step / self.per_epoch, 2)

    def redraws(self, step: int) -> bool:
        """Whether the units' pictures are drawn again at this snapshot: every ``dreams_every``
        epochs, at the last snapshot, and at every snapshot when they come inside epochs."""
        section = self.context.section
        return bool(section.snapshot_every_steps or step == self.snapshots[-1]
                    or self.epoch(step) % section.dream_interval == 0)

    def dreams(self, step: int) -> torch.Tensor | None:
        """What the watched units want to see, redrawn every ``dreams_every`` epochs (and at
        every snapshot inside an epoch) from the same start with the same transforms (kept for
        the frames in between, so every frame has the same layout)."""
        interval = self.context.section.dream_interval
        if not interval:
            return None
        if self.redraws(step) or self.last_dreams is None:
            epoch = self.epoch(step)
            units = self.units
            # warm: go on from the last pictures, so a unit's picture changes as its weights do
            warm = self.context.section.dream_start == "warm" and self.newest_dreams is not None
            tiles, reached = watch.dream_tiles(self.net, self.watch, units, self.data.channels,
                                               self.newest_dreams if warm else self.dream_start,
                                               self.context.seed("dream-transforms"),
                                               self.context.section.dream_steps_warm if warm else DREAM_STEPS[self.kind],
                                               DREAM_JITTER[self.kind], WARM_LR if warm else 0.05)
            self.first_dreams = tiles if self.first_dreams is None else self.first_dreams
            previous = tiles if self.newest_dreams is None else self.newest_dreams
            self.newest_dreams = tiles
            self.dream_log.append({"epoch": epoch, "activation": reached,  # mean |Δpixel| in [0, 1]
                                   "change_from_first": round(float((tiles - self.first_dreams).abs().mean()), 6),
                                   "change_from_previous": round(float((tiles - previous).abs().mean()), 6)})
            labels = [f"{unit}: {value:.3g}" for unit, value in zip(units, reached)]
            title = f"{self.label}: what the units want to see (epoch {epoch})"
            if self.kind == "small":
                self.last_dreams = training.grid(tiles, title, labels)
            else:  # as large as the frame allows, never smaller than drawn
                side = max(tiles.shape[-1], min(2 * tiles.shape[-1], (MODEL_FRAME_WIDTH - 40) // len(units) - 4))
                self.last_dreams = layout.labelled_grid(layout.resize(tiles, side, side), labels, title=title,
                                                        columns=len(units))
        return self.last_dreams

    def caption(self, history, step: int) -> str:
        """One line: where the run is, how it does, and the corruption in force."""
        section = self.context.section
        epoch = self.epoch(step)
        counted = f" (step {step} of {section.epochs * self.per_epoch})" if section.snapshot_every_steps else ""
        if step == 0 and not history.start:  # (a render resumed from before the untrained network was measured)
            words = [f"epoch 0 of {section.epochs}{counted}: untrained"]
        else:
            at = max(math.ceil(epoch) - 1, 0)  # the epoch under way (or just ended)
            moment = history.start if step == 0 else next((m for m in history.moments if m["step"] == step), None)
            loss, accuracy, judged = ((moment["loss"], moment["accuracy"], moment["heldout_accuracy"]) if moment else
                                      (history.loss[at], history.accuracy[at],
                                       (history.heldout_accuracy or history.clean_accuracy or [None] * (at + 1))[at]))
            words = [f"epoch {epoch:g} of {section.epochs}{counted}", f"loss {loss:.4g}", f"accuracy {accuracy:.0%}"]
            if judged is not None:  # short words: the corruption after them must fit a 720p line too
                chance = " (chance)" if judged <= 1 / len(self.data.classes) + 0.02 else ""
                words.append(f"{'held-out' if history.heldout_accuracy else 'clean'} {judged:.0%}{chance}")
            if any(abs(m - 1.0) > 1e-9 for m in history.multiplier):  # in every frame, so fields keep their places
                factor = history.multiplier[at]
                words.append(f"ascent x {-factor:.2g}" if factor < 0 else f"loss x {factor:.2g}")
        return " · ".join(words + corruption_words(section.corruption))

    def frame(self, history, step: int, living: int) -> torch.Tensor:
        section = self.context.section
        if section.layout == "film":
            return self.film_frame(history, step)
        def chart(width, height):
            return charts.loss_chart(history, self.epoch(step), width, height, chance=1 / len(self.data.classes),
                                     titled=False)

        return film.lab_frame(self.lab_panel(history, step, living), chart, section.video_size,
                              self.caption(history, step), self.template)

    def film_frame(self, history, step: int, tiles: torch.Tensor | None = None,
                   fade: tuple[str, float] | None = None) -> torch.Tensor:
        """The watched units' pictures fill the frame: what they want to see where dreams are
        drawn (``tiles``: pictures tweened between two snapshots), else their maps for the probe;
        one caption line and a loss sparkline."""
        if tiles is None:
            self.dreams(step)
            tiles = self.newest_dreams
        if tiles is not None:
            tiles = tiles.cpu()
        else:
            maps, _ = watch.watched_maps(self.net, self.watch, self.probe)
            tiles = training.diverging_tiles(maps[self.units].cpu())
        # the loss step by step where snapshots come inside epochs, else epoch by epoch
        series, marker = ((history.step_loss, step - 1) if self.context.section.snapshot_every_steps else
                          (history.loss, math.ceil(self.epoch(step)) - 1))
        return film.film_frame(tiles, self.caption(history, step), self.context.section.video_size,
                               series, max(marker, 0), [str(unit) for unit in self.units], self.template, fade)

    def lab_panel(self, history, step: int, living: int) -> torch.Tensor:
        section = self.context.section
        maps, caption = watch.watched_maps(self.net, self.watch, self.probe)
        probes = torch.cat([self.probe, self.seen]).cpu().expand(-1, 3, -1, -1)
        corrupted = not torch.equal(self.probe, self.seen)
        probe_tile = training.grid(probes if corrupted else probes[:1], "probe",
                                   ["clean", "as trained on"] if corrupted else None)
        dreams = self.dreams(step)
        if self.kind == "model":
            watched = layout.labelled_grid(training.diverging_tiles(maps[self.channels]), list(map(str, self.channels)),
                                           title=f"{self.label} for the clean probe", columns=len(self.channels))
            parts = [layout.side_by_side([probe_tile, watched])] + ([dreams] if dreams is not None else [])
            width = MODEL_FRAME_WIDTH
        else:
            watched = training.signed_grid(maps, f"{self.label}: {caption} ({living} of {maps.shape[0]} living)")
            name, first = watch.first_layer(self.net)
            weights = training.grid(training.weight_tiles(first, self.data.channels, section.size), f"{name} weights")
            parts = [layout.stack([probe_tile, watched]) if probe_tile.shape[-1] < 240 else probe_tile, weights]
            parts += [dreams] if dreams is not None else []
            width = FRAME_WIDTH
        parts = [layout.fit_width(p, width) if p.shape[-1] > width else p for p in parts]
        stacked = layout.stack(parts)
        # a landscape frame: parts side by side where one above the other would stand tall
        return layout.side_by_side(parts) if stacked.shape[-2] > 1.2 * stacked.shape[-1] else stacked

    def watched_activation(self) -> list[float]:
        """Each watched unit's mean activation over the held-out (else the training) images."""
        images = (self.heldout or self.data).images
        means = watch.channel_means(self.net, self.watch, images.to(self.context.device),
                                    self.context.section.batch_size)
        return [round(float(means[unit]), 6) for unit in self.units]

    def render(self, progress):
        section = self.context.section
        generator = self.context.generator("batches")
        history, states = trainer.train(self.net, self.data, self.truth, section, generator, self.context.device,
                                        progress.update, store=self.context.parts, heldout=self.heldout)
        final, self.dream_log, activations, weights, living = None, [], [], [], []
        self.template = film.caption_template([self.caption(history, step) for step in self.snapshots])
        watched_weights = dict(self.net.named_modules())[self.watch]
        earlier = None  # the previous snapshot's step and pictures, for tweens
        for step in self.snapshots:
            self.net.load_state_dict(states[step])
            self.net.eval()
            living.append(watch.living_units(self.net, self.watch, self.data.images.to(self.context.device),
                                             section.batch_size))
            final = self.frame(history, step, living[-1])
            activations.append(self.watched_activation())
            weights.append(watch.weight_vector(watched_weights))
            if section.tween and earlier is not None:
                between_all = optimize.param.tweens(earlier[1], self.newest_dreams, section.tween)
                for number, between in enumerate(between_all, 1):  # between the snapshots, in the spectra
                    # the last frames before a snapshot dissolve the caption into the next one's
                    share = (number - (section.tween - CAPTION_FADE)) / (CAPTION_FADE + 1)
                    fade = (self.caption(history, step), share) if share > 0 else None
                    yield Frame(self.film_frame(history, earlier[0], between, fade))
                    progress.update(1)
            earlier = (step, self.newest_dreams)
            yield Frame(final)
            progress.update(1)
        yield Still(final)
        yield Record("dataset", {"name": section.dataset, "examples": self.clean_count,
                                 "trained_on": len(self.data.labels), "classes": list(self.data.classes),
                                 "heldout": len(self.heldout.labels) if self.heldout else 0})
        yield Record("corruption", self.report)
        yield Record("loss_schedule", section.loss_schedule.kind)
        yield Record("snapshots", [self.epoch(step) for step in self.snapshots])
        if section.snapshot_every_steps:
            yield Record("snapshot_steps", self.snapshots)
            yield Record("steps_per_epoch", self.per_epoch)
            yield Record("moments", history.moments)
        for key in ("loss", "objective", "multiplier", "accuracy", "clean_accuracy", "heldout_accuracy", "step_loss"):
            yield Record(key, getattr(history, key))
        yield Record("watched", {"layer": self.label, "units": self.units})
        yield Record("watched_activation", activations)
        yield Record("living_units", living)
        yield Record("watched_weight_change", [round(float((w - weights[0]).norm() / weights[0].norm()), 6)
                                               for w in weights])
        if self.dream_log:
            yield Record("dreams", self.dream_log)


def corruption_words(corruption: Corruption) -> list[str]:
    """The corruption in force, in a few words each ("label noise 40%").

    Example:
        >>> corruption_words(Corruption(label_noise=0.4, pixel_noise=0.1))
        ['label noise 40%', 'pixel noise 0.1']
    """
    words = []
    for key, label in (("label_noise", "label noise"), ("conflicting", "conflicting"), ("missing", "missing"),
                       ("occlude", "occluded")):
        if getattr(corruption, key):
            words.append(f"{label} {getattr(corruption, key):.0%}")
    if corruption.pixel_noise:
        words.append(f"pixel noise {corruption.pixel_noise:g}")
    return words or ["clean data"]


def model_default_watch(model) -> str:
    """The middle of the network: early enough that its maps still show the image, late
    enough that fine-tuning moves it."""
    stages = layers.stage_paths(model.module, model.input_size)
    return stages[len(stages) // 2]
