"""`train`: a small network trained on deliberately corrupted data, watched epoch by epoch.

Seed 000 §1: a two-layer MLP on faces, its first layer's activations for a face per epoch as
the loss falls (39.25 → 0.29 over 450 epochs in the seed). Corruption recipes and loss
schedules make the training imperfect on purpose. Frames: the watched layer for the probe
image, the first layer's weights, the loss curve with the epoch marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from studio.errors import PresetError
from studio.frames import Frame, Record, Still
from studio.lazy import lazy
from studio.preset.coerce import Problem
from studio.preset.fields import SceneSection, meta
from studio.preset.limits import MAX_EPOCHS, Limits

torch = lazy("torch")
budget = lazy("studio.budget")
budget = lazy("studio.budget")
inputs = lazy("studio.inputs")
layers = lazy("studio.models.layers")
small = lazy("studio.models.small")
charts = lazy("studio.pictures.charts")
layout = lazy("studio.pictures.layout")
training = lazy("studio.pictures.training")
corrupting = lazy("studio.train.corruption")
datasets = lazy("studio.train.datasets")
trainer = lazy("studio.train.trainer")
watch = lazy("studio.train.watch")

FRAME_WIDTH = 640
DREAM_UNITS = 8


@dataclass(frozen=True)
class Corruption:
    WHAT = "`corruption`"
    label_noise: float = field(default=0.0, **meta(min=0.0, below=1.0, expect="a fraction in [0, 1)"))
    pixel_noise: float = field(default=0.0, **meta(min=0.0, max=10.0))
    conflicting: float = field(default=0.0, **meta(min=0.0, below=1.0, expect="a fraction in [0, 1)"))
    missing: float = field(default=0.0, **meta(min=0.0, below=1.0, expect="a fraction in [0, 1)"))
    occlude: float = field(default=0.0, **meta(min=0.0, below=1.0, expect="a fraction in [0, 1)"))


@dataclass(frozen=True)
class LossSchedule:
    WHAT = "`loss_schedule`"
    kind: Literal["constant", "cyclic", "flooding", "piecewise"] = "constant"
    points: tuple[tuple[float, float], ...] = ()
    period: float = 100.0
    low: float = -0.5
    high: float = 1.0
    level: float = field(default=0.1, **meta(min=0.0))

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
class Section(SceneSection):
    WHAT = "a `train` scene"
    dataset: str = "faces"
    net: Literal["mlp2", "small_cnn"] = "mlp2"
    hidden: int = field(default=16, **meta(min=1, max=4096))
    epochs: int = field(default=450, **meta(min=1, max=MAX_EPOCHS, limit="epochs"))
    snapshot_every: int = field(default=10, **meta(min=1))
    lr: float | tuple[float, float] = field(default=0.01, **meta(min=0.0, max=100.0))
    batch_size: int = field(default=64, **meta(min=1, max=65536))
    watch: str | None = None
    probe: str = "dataset:0"
    image_size: int = field(default=25, **meta(min=8, max=256))
    classes: int = field(default=4, **meta(min=2, max=64))
    per_class: int = field(default=100, **meta(min=1, max=10_000))
    optimizer: Literal["adam", "sgd"] = "adam"
    dreams_every: int = field(default=0, **meta(min=0))
    corruption: Corruption = field(default_factory=Corruption)
    loss_schedule: LossSchedule = field(default_factory=LossSchedule)

    def check(self, limits: Limits):
        if self.snapshot_every > self.epochs:
            raise Problem("snapshot_every", "longer than the training", f"at most `epochs` ({self.epochs})",
                          self.snapshot_every)
        frames = self.epochs // self.snapshot_every + 1
        if frames > limits.frames:
            raise Problem("snapshot_every", f"over the limit of {limits.frames} frames",
                          f"epochs / snapshot_every at most {limits.frames}", f"{frames} frames")

    def draft_changes(self) -> dict:
        return {**super().draft_changes(), "epochs": max(1, self.epochs // 10),
                "snapshot_every": max(1, self.snapshot_every // 10)}



class Scene:
    def __init__(self, context):
        self.context = context
        section = context.section
        available = budget.available_bytes(torch.device("cpu"), context.memory_limit)
        clean = datasets.load_dataset(section.dataset, section.image_size, section.classes, section.per_class,
                                      context.generator("dataset"), context.base, context.source,
                                      context.key("dataset"), available)
        self.data, self.truth, self.report = corrupting.corrupt(clean, section.corruption,
                                                                context.generator("corruption"))
        self.clean_count = len(clean.labels)
        with torch.random.fork_rng(devices=[]):  # seeded weight init, global RNG left alone
            torch.manual_seed(context.generator("init").initial_seed())
            self.net = small.build_small_net(section.net, self.data.channels, section.image_size, section.hidden,
                                       len(self.data.classes)).to(context.device)
        self.watch = (layers.resolve_layer(self.net, section.watch, context.source, context.key("watch"))
                      if section.watch else watch.first_layer(self.net)[0])
        self.probe = self.probe_image(clean).to(context.device)
        self.snapshots = trainer.snapshot_epochs(section.epochs, section.snapshot_every)
        self.last_dreams = None
        self.total = section.epochs + len(self.snapshots)

    def probe_image(self, clean) -> torch.Tensor:
        """``dataset:N`` is example N of the clean set; anything else is an input image."""
        section, context = self.context.section, self.context
        if section.probe.startswith("dataset:"):
            index = section.probe.removeprefix("dataset:")
            if not index.isdigit() or int(index) >= len(clean.labels):
                raise PresetError(context.source, context.key("probe"), "no such dataset example",
                                  expected=f"dataset:0 .. dataset:{len(clean.labels) - 1}", found=section.probe)
            return clean.images[int(index)].unsqueeze(0)
        size = (section.image_size, section.image_size)
        image = inputs.load_input(section.probe, size, size, context.generator("probe"), context.base,
                           context.source, context.key("probe"))
        return image.mean(dim=1, keepdim=True) if self.data.channels == 1 else image

    def dreams(self, epoch: int) -> torch.Tensor | None:
        """Activation maximisation of the watched units, every ``dreams_every`` epochs (kept
        for the frames in between, so every frame has the same layout)."""
        section = self.context.section
        if not section.dreams_every:
            return None
        if epoch % section.dreams_every == 0 or self.last_dreams is None:
            units = self.units_watched()
            tiles = watch.dream_tiles(self.net, self.watch, self.data.channels, section.image_size,
                                         min(DREAM_UNITS, units), self.context.generator(f"dream-{epoch}"))
            self.last_dreams = training.grid(tiles, f"{self.watch}: what units 0..{min(DREAM_UNITS, units) - 1} "
                                                    f"want to see (epoch {epoch})",
                                             [str(i) for i in range(tiles.shape[0])])
        return self.last_dreams

    def units_watched(self) -> int:
        maps, _ = watch.watched_maps(self.net, self.watch, self.probe)
        return maps.shape[0]

    def frame(self, history, epoch: int) -> torch.Tensor:
        maps, caption = watch.watched_maps(self.net, self.watch, self.probe)
        probe_tile = training.grid(self.probe.cpu().expand(-1, 3, -1, -1), "probe")
        watched = training.signed_grid(maps, f"{self.watch}: {caption}")
        name, first = watch.first_layer(self.net)
        tiles = training.weight_tiles(first, self.data.channels, self.context.section.image_size)
        weights = training.grid(tiles, f"{name} weights")
        top = layout.stack([probe_tile, watched]) if probe_tile.shape[-1] < 200 else probe_tile
        dreams = self.dreams(epoch)
        parts = [layout.fit_width(p, FRAME_WIDTH) if p.shape[-1] > FRAME_WIDTH else p
                 for p in (top, weights) + ((dreams,) if dreams is not None else ())]
        return layout.stack(parts + [charts.loss_chart(history, epoch, FRAME_WIDTH)])

    def render(self, progress):
        section = self.context.section
        generator = self.context.generator("batches")
        history, states = trainer.train(self.net, self.data, self.truth, section, generator, self.context.device,
                                        progress.update, store=self.context.parts)
        final = None
        for epoch in self.snapshots:
            self.net.load_state_dict(states[epoch])
            self.net.eval()
            final = self.frame(history, epoch)
            yield Frame(final)
            progress.update(1)
        yield Still(final)
        yield Record("dataset", {"name": section.dataset, "examples": self.clean_count,
                                 "trained_on": len(self.data.labels), "classes": list(self.data.classes)})
        yield Record("corruption", self.report)
        yield Record("loss_schedule", section.loss_schedule.kind)
        yield Record("snapshots", self.snapshots)
        for key in ("loss", "objective", "multiplier", "accuracy", "clean_accuracy"):
            yield Record(key, getattr(history, key))
