"""What every scene is built with: its validated section, seeds, the model, inputs, layers, the
memory it may plan on and the store of its finished parts (for a resume). Sizes are (h, w)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from studio.errors import PresetError
from studio.inputs import load_input
from studio.models import LoadedModel, load_model, resolve_layer
from studio.preset import Preset
from studio.preset.schema import ModelSpec
from studio.scenes.support.step import Step


def derive_seed(*parts) -> int:
    """A 63-bit seed from the preset seed and a scene's position: stable across runs and machines."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@dataclass
class SceneContext:
    """Everything a scene may read. Scenes produce frames; they never write files.

    Args:
        section: the scene's validated section.
        index: the scene's position in its preset (its keys are ``scenes.<index>.*``).
        device: where it renders.
        source: the preset's file (for messages).
        preset_seed: the preset's seed, from which every random choice of the scene derives.
        model_spec: the preset's ``[model]`` (name and weights), loaded on first use.
        base: the folder relative input paths are read from (the preset's).
        parts: the store of this scene's finished parts (``output.cache.PartCache``): an
            interrupted render resumes from them, and a torchrun team shares climbs through it.
            None: nothing is kept.
        memory_limit: bytes one step may plan to use (``--memory-limit``); None: what the
            device has free.
        models: where the model comes from when it is not loaded by the preset's name (a
            network in memory, given through the Python API): called with the device.
    """

    section: object
    index: int
    device: torch.device
    source: str = "<preset>"
    preset_seed: int = 0
    model_spec: ModelSpec = field(default_factory=ModelSpec)
    base: Path = field(default_factory=Path.cwd)
    parts: object | None = None
    memory_limit: int | None = None
    models: Callable[[torch.device], LoadedModel] | None = None

    @classmethod
    def of(cls, preset: Preset, index: int, device: torch.device, **more) -> SceneContext:
        """The context of scene ``index`` of ``preset``."""
        return cls(preset.scenes[index], index, device, preset.source, preset.preset.seed, preset.model, **more)

    def key(self, name: str) -> str:
        return f"scenes.{self.index}.{name}"

    def seed(self, purpose: str = "") -> int:
        return derive_seed(self.preset_seed, self.index, purpose)

    def generator(self, purpose: str = "") -> torch.Generator:
        return torch.Generator().manual_seed(self.seed(purpose))

    def model(self) -> LoadedModel:
        if self.models is not None:
            return self.models(self.device)
        spec = self.model_spec
        return load_model(spec.name, spec.weights, self.device, self.source, self.preset_seed)

    def layer(self, model: LoadedModel, name: str, key: str = "layer") -> str:
        return resolve_layer(model, name, self.source, self.key(key))

    def layers(self, model: LoadedModel, layer: str | None, layers: tuple[str, ...] | None
               ) -> tuple[list[str], list[str]]:
        """``layers`` (or the one ``layer``): names as written and resolved module paths."""
        if layers:
            return list(layers), [self.layer(model, n, f"layers.{i}") for i, n in enumerate(layers)]
        return [layer], [self.layer(model, layer)]

    def input(self, spec: str, size: tuple[int, int] | None, model_size: tuple[int, int],
              key: str = "input") -> torch.Tensor:
        """An input image (1, 3, H, W) on the device: ``size`` (h, w), or the model's size
        (photos keep their aspect). A size that could not even be held (``--raise-limits`` lets
        sides grow) is refused before anything is allocated."""
        if size is not None:
            from studio.budget import GIB, available_bytes

            # the picture and a working copy or two of it, in float32
            needed, have = 4 * 3 * size[0] * size[1] * 4, available_bytes(self.device, self.memory_limit)
            if needed > have:
                raise PresetError(self.source, self.key("size"), f"a {size[1]} x {size[0]} picture would need about "
                                  f"{needed / GIB:.1f} GiB before the first step, and {have / GIB:.1f} GiB is available",
                                  expected="a smaller `size`", found=f"[{size[1]}, {size[0]}]")
        image = load_input(spec, size, model_size, self.generator(key), self.base, self.source, self.key(key))
        return image.to(self.device)

    def plan_step(self, model: LoadedModel, paths, batch: int, size: tuple[int, int],
                  backward: bool = True, key: str = "size", what: str = "one step", units: float = 1,
                  time_size: tuple[int, int] | None = None) -> Step:
        """One step of the scene's work, refused up front (on the CPU) when it cannot fit: its
        memory estimate, and the workload its time estimate probes (with the progress ``units``
        one step completes). ``time_size``: what one step works through when that is more than it
        holds at once (a tiled step: every tile with its halo, one at a time), timed by a probe no
        larger than ``size``."""
        import dataclasses

        from studio.budget import Workload, check_memory

        workload = Workload(tuple(paths), batch, tuple(size), backward, what)
        timed = workload if time_size is None else dataclasses.replace(
            workload, size=tuple(time_size), probe_pixels=size[0] * size[1])
        memory = check_memory(model, workload, self.device, self.source, self.key(key), self.memory_limit)
        return Step(memory, model, timed, units)

    def image_set(self, spec: str | tuple[str, ...], size: tuple[int, int] | None, model_size: tuple[int, int],
                  keep_aspect: bool = False):
        """The images of ``spec`` brought to ``size`` (h, w) or the model's; see ``imagesets``."""
        from studio.imagesets import load_image_set

        return load_image_set(spec, size, model_size, self.base, self.source, self.key("images"), keep_aspect)

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
