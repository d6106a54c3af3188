"""`train`: a small network trained on deliberately corrupted data, watched epoch by epoch.

Seed 000 §1: a two-layer MLP on faces, its first layer's activations for a face per epoch as
the loss falls (39.25 → 0.29 over 450 epochs in the seed). Corruption recipes and loss
schedules (DESIGN.md) make the training imperfect on purpose. Frames: the watched layer for the
probe image, the first layer's weights, the loss curve with the epoch marked.
"""

from __future__ import annotations

import torch

from studio.errors import PresetError
from studio.frames import Frame, Record, Still
from studio.inputs import load_input
from studio.models.layers import resolve_layer
from studio.models.small import build_small_net
from studio.output.images import fit_width, stack
from studio.scenes.base import SceneContext
from studio.train import pictures
from studio.train.corruption import corrupt
from studio.train.datasets import load_dataset
from studio.train.trainer import snapshot_epochs, train

FRAME_WIDTH = 640
DREAM_UNITS = 8


class Scene:
    kind = "train"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        clean = load_dataset(scene.dataset, scene.image_size, scene.classes, scene.per_class,
                             context.generator("dataset"), context.base, context.source, context.key("dataset"))
        self.data, self.truth, self.report = corrupt(clean, scene.corruption, context.generator("corruption"))
        self.clean_count = len(clean.labels)
        with torch.random.fork_rng(devices=[]):  # seeded weight init, global RNG left alone
            torch.manual_seed(context.generator("init").initial_seed())
            self.net = build_small_net(scene.net, self.data.channels, scene.image_size, scene.hidden,
                                       len(self.data.classes)).to(context.device)
        self.watch = (resolve_layer(self.net, scene.watch, context.source, context.key("watch"))
                      if scene.watch else pictures.first_layer(self.net)[0])
        self.probe = self.probe_image(clean).to(context.device)
        self.snapshots = snapshot_epochs(scene.epochs, scene.snapshot_every)
        self.last_dreams = None
        self.total = scene.epochs + len(self.snapshots)

    def probe_image(self, clean) -> torch.Tensor:
        """``dataset:N`` is example N of the clean set; anything else is an input image."""
        scene, context = self.context.scene, self.context
        if scene.probe.startswith("dataset:"):
            index = scene.probe.removeprefix("dataset:")
            if not index.isdigit() or int(index) >= len(clean.labels):
                raise PresetError(context.source, context.key("probe"), "no such dataset example",
                                  expected=f"dataset:0 .. dataset:{len(clean.labels) - 1}", found=scene.probe)
            return clean.images[int(index)].unsqueeze(0)
        size = (scene.image_size, scene.image_size)
        image = load_input(scene.probe, size, size, context.generator("probe"), context.base,
                           context.source, context.key("probe"))
        return image.mean(dim=1, keepdim=True) if self.data.channels == 1 else image

    def dreams(self, epoch: int) -> torch.Tensor | None:
        """Activation maximisation of the watched units, every ``dreams_every`` epochs (kept
        for the frames in between, so every frame has the same layout)."""
        scene = self.context.scene
        if not scene.dreams_every:
            return None
        if epoch % scene.dreams_every == 0 or self.last_dreams is None:
            units = self.units_watched()
            tiles = pictures.dream_tiles(self.net, self.watch, self.data.channels, scene.image_size,
                                         min(DREAM_UNITS, units), self.context.generator(f"dream-{epoch}"))
            self.last_dreams = pictures.grid(tiles, f"{self.watch}: what units 0..{min(DREAM_UNITS, units) - 1} "
                                                    f"want to see (epoch {epoch})",
                                             [str(i) for i in range(tiles.shape[0])])
        return self.last_dreams

    def units_watched(self) -> int:
        maps, _ = pictures.watched_maps(self.net, self.watch, self.probe)
        return maps.shape[0]

    def frame(self, history, epoch: int) -> torch.Tensor:
        maps, caption = pictures.watched_maps(self.net, self.watch, self.probe)
        probe_tile = pictures.grid(self.probe.cpu().expand(-1, 3, -1, -1), "probe")
        watched = pictures.signed_grid(maps, f"{self.watch}: {caption}")
        tiles, name = pictures.weight_tiles(self.net, self.data.channels, self.context.scene.image_size)
        weights = pictures.grid(tiles, f"{name} weights")
        top = stack([probe_tile, watched]) if probe_tile.shape[-1] < 200 else probe_tile
        dreams = self.dreams(epoch)
        parts = [fit_width(p, FRAME_WIDTH) if p.shape[-1] > FRAME_WIDTH else p
                 for p in (top, weights) + ((dreams,) if dreams is not None else ())]
        return stack(parts + [pictures.loss_chart(history, epoch, FRAME_WIDTH)])

    def render(self, progress):
        scene = self.context.scene
        generator = self.context.generator("batches")
        parts = self.context.parts
        key = "training"
        history, states = train(self.net, self.data, self.truth, scene, generator, self.context.device,
                                progress.update, checkpoint=(lambda state: parts.save(key, state)) if parts else None,
                                resume=parts.load(key) if parts else None)
        final = None
        for epoch in self.snapshots:
            self.net.load_state_dict(states[epoch])
            self.net.eval()
            final = self.frame(history, epoch)
            yield Frame(final)
            progress.update(1)
        yield Still(final)
        yield Record("dataset", {"name": scene.dataset, "examples": self.clean_count,
                                 "trained_on": len(self.data.labels), "classes": list(self.data.classes)})
        yield Record("corruption", self.report)
        yield Record("loss_schedule", scene.loss_schedule.kind)
        yield Record("snapshots", self.snapshots)
        for key in ("loss", "objective", "multiplier", "accuracy", "clean_accuracy"):
            yield Record(key, getattr(history, key))
