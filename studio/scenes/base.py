"""What every scene gets: its validated section, a seeded generator, the model, inputs, layers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import torch

from studio.errors import PresetError
from studio.inputs import load_input
from studio.models import LoadedModel, load_model, resolve_layer
from studio.preset import Preset


def derive_seed(*parts) -> int:
    """A 63-bit seed from the preset seed and a scene's position: stable across runs and machines."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@dataclass
class SceneContext:
    """Everything a scene may read. Scenes produce frames; they never write files."""

    preset: Preset
    index: int
    device: torch.device
    base: Path = field(default_factory=Path.cwd)
    parts: object | None = None  # a PartCache where the renderer keeps finished parts (resume)

    @property
    def scene(self):
        return self.preset.scenes[self.index]

    @property
    def source(self) -> str:
        return self.preset.source

    def key(self, name: str) -> str:
        return f"scenes.{self.index}.{name}"

    def generator(self, purpose: str = "") -> torch.Generator:
        return torch.Generator().manual_seed(derive_seed(self.preset.preset.seed, self.index, purpose))

    def model(self) -> LoadedModel:
        spec = self.preset.model
        return load_model(spec.name, spec.weights, self.device, self.source)

    def layer(self, model: LoadedModel, name: str, key: str = "layer") -> str:
        return resolve_layer(model, name, self.source, self.key(key))

    def layers(self, model: LoadedModel) -> tuple[list[str], list[str]]:
        """The scene's `layers` (or its one `layer`): names as written and resolved module paths."""
        scene = self.scene
        if scene.layers:
            names = list(scene.layers)
            return names, [self.layer(model, n, f"layers.{i}") for i, n in enumerate(names)]
        return [scene.layer], [self.layer(model, scene.layer)]

    def input(self, model_size: tuple[int, int], spec: str | None = None, key: str = "input",
              size: tuple[int, int] | None = None) -> torch.Tensor:
        scene = self.scene
        image = load_input(spec if spec is not None else scene.input,
                           size if size is not None else getattr(scene, "size", None), model_size,
                           self.generator(key), self.base, self.source, self.key(key))
        return image.to(self.device)

    def check_memory(self, model: LoadedModel, paths, batch: int, size: tuple[int, int],
                     backward: bool = True, key: str = "size", what: str = "one step") -> int:
        """Refuse up front (on the CPU) a step that cannot fit; returns the estimate in bytes."""
        from studio.budget import Workload, check_memory

        return check_memory(model, Workload(tuple(paths), batch, tuple(size), backward, what),
                            self.device, self.source, self.key(key))

    def image_set(self, model_size: tuple[int, int], keep_aspect: bool = False):
        """The scene's ``images``, brought to its ``size`` (or the model's); see ``imagesets``."""
        from studio.imagesets import load_image_set

        scene = self.scene
        size = (scene.size[1], scene.size[0]) if scene.size else None
        return load_image_set(scene.images, size, model_size, self.base, self.source,
                              self.key("images"), keep_aspect)

    def channels(self, spec, available: int, key: str = "channels", count_means_first: bool = False) -> list[int]:
        """Resolve ``channels`` against a layer with ``available`` channels.

        An integer is one channel index, or, where ``count_means_first`` (grids of "the first N"),
        a count: the first N channels (clipped to what the layer has).
        """
        if spec == "all":
            return list(range(available))
        if isinstance(spec, int) and count_means_first:
            return list(range(min(spec, available)))
        if isinstance(spec, str):
            start, stop = map(int, spec.split(":"))
            chosen = list(range(start, stop))
        else:
            chosen = [spec] if isinstance(spec, int) else list(spec)
        bad = [c for c in chosen if c >= available]
        if bad:
            raise PresetError(self.source, self.key(key), "channel out of range",
                              expected=f"channels 0..{available - 1} (the layer has {available})",
                              found=", ".join(map(str, bad[:5])))
        return chosen


def layer_label(model: LoadedModel, path: str) -> str:
    from studio.models.layers import aliases_for

    names = [alias for alias, target in aliases_for(model.module).items() if target == path]
    return f"{path} ({names[0]})" if names else path
