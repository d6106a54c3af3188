"""studio from Python: the same scenes, keys, validation and pixels as the command line, with a
network given by name or in memory and results kept in memory (shown inline in Jupyter).

    >>> import studio
    >>> image = studio.visualize("efficientnet_lite0", "blocks.1:3", size=32, steps=2)
    >>> image.size
    (32, 32)

``render_scene`` runs one scene and keeps its stills, frames and records; ``render`` renders a
preset (a path, a TOML string or a dict) into files exactly as ``studio render`` does.
"""

from __future__ import annotations

import base64
import copy
import io
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from studio.errors import PresetError
from studio.frames import Frame, Record, Still
from studio.models.zoo import IMAGENET_MEAN, IMAGENET_STD, LoadedModel, _freeze
from studio.preset import Preset
from studio.preset.loader import Document, load_preset, loads, validate

SOURCE = "<python>"


@dataclass
class Wrapped:
    """A network in memory with what studio needs to look through it: the size it was trained
    at (h, w) and the per-channel normalisation of its inputs (images arrive in [0, 1])."""

    module: nn.Module
    input_size: tuple[int, int] = (224, 224)
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    name: str | None = None
    categories: tuple[str, ...] = ()
    _loaded: dict = field(default_factory=dict, repr=False)

    def load(self, device: torch.device) -> LoadedModel:
        """A frozen copy on ``device`` (the caller's module is left as it was: trainable)."""
        key = str(device)
        if key not in self._loaded:
            module = _freeze(copy.deepcopy(self.module)).to(device).to(memory_format=torch.channels_last)
            self._loaded[key] = LoadedModel(self.label, module, tuple(self.input_size), tuple(self.mean),
                                            tuple(self.std), "in-memory", tuple(self.categories), device)
        return self._loaded[key]

    @property
    def label(self) -> str:
        return self.name or type(self.module).__name__


def wrap(module: nn.Module, input_size: int | tuple[int, int] = (224, 224),
         mean: tuple[float, ...] = IMAGENET_MEAN, std: tuple[float, ...] = IMAGENET_STD,
         name: str | None = None, categories: tuple[str, ...] = ()) -> Wrapped:
    """An ``nn.Module`` with its input size (h, w, or one side) and normalisation, for
    ``visualize``/``render_scene``; a bare module is taken as an ImageNet classifier at 224²."""
    if not isinstance(module, nn.Module):
        raise PresetError(SOURCE, "model", "not a network", expected="a torch.nn.Module",
                          found=type(module).__name__)
    size = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    return Wrapped(module, size, tuple(mean), tuple(std), name, tuple(categories))


def _model_table(model, weights: str | None) -> tuple[dict, Wrapped | None]:
    if isinstance(model, nn.Module):
        model = wrap(model)
    if isinstance(model, Wrapped):
        return {"name": model.label, "weights": "in-memory"}, model
    if isinstance(model, (str, Path)):
        return {"name": str(model), **({"weights": weights} if weights else {})}, None
    raise PresetError(SOURCE, "model", "not a model", expected="a model name, a checkpoint path, an nn.Module "
                      "or studio.wrap(module, ...)", found=type(model).__name__)


def _toml_value(value: Any) -> Any:
    """Python values as TOML would give them: tuples as arrays, paths as strings."""
    if isinstance(value, (tuple, list)):
        return [_toml_value(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _toml_value(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def scene_preset(model, kind: str, seed: int = 0, device: str = "auto", weights: str | None = None,
                 **keys) -> tuple[Preset, Wrapped | None]:
    """The validated one-scene preset that ``render_scene`` renders: the keys of ``kind`` as a
    preset gives them (``size=256`` is ``[256, 256]``). A bad key raises ``PresetError`` naming it."""
    table, wrapped = _model_table(model, weights)
    if isinstance(keys.get("size"), int):
        keys["size"] = [keys["size"], keys["size"]]
    scene = {"kind": kind, **{key: _toml_value(value) for key, value in keys.items()}}
    data = {"preset": {"name": "python", "seed": seed, "device": device}, "model": table,
            "output": {"dir": "."}, "scenes": [scene]}
    try:
        return validate(Document(data, SOURCE)), wrapped
    except PresetError as error:
        raise _as_keyword_error(error, kind) from None


def _as_keyword_error(error: PresetError, kind: str) -> PresetError:
    """The CLI's message, with the key named as the keyword argument that set it."""
    key = error.key
    for prefix, label in (("scenes.0.", ""), ("preset.", ""), ("model.", "model ")):
        if key.startswith(prefix):
            key = label + key[len(prefix):]
            break
    return PresetError(f"render_scene({kind!r})", key, error.problem, expected=error.expected,
                       found=error.found, hint=error.hint)


@dataclass
class SceneResult:
    """One scene rendered in memory.

    Attributes:
        stills: the scene's pictures by the name its file would have (``"maximize"`` for the
            main still, ``"maximize/blocks.3-0001"`` for one of several), as PIL images.
        frames: its video's frames as PIL images (none for a scene without a video).
        records: what log.json would hold for it.
        seconds: how long it took.
    """

    preset: Preset
    device: str
    stills: dict = field(default_factory=dict)
    frames: list = field(default_factory=list)
    records: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def image(self):
        """The main still (PIL)."""
        return self.stills[self.preset.scenes[0].name]

    def save(self, folder: str | Path) -> Path:
        """The files ``studio render`` writes for this scene (PNGs, the MP4, preset.toml and
        log.json) in ``folder/<preset name>/``; returns that folder."""
        from studio.output.writer import RenderWriter

        main = self.preset.scenes[0].name
        writer = RenderWriter(Path(folder), self.preset, self.device)
        writer.start()
        scene_writer = writer.scene(self.preset.scenes[0])
        try:
            for name, picture in self.stills.items():  # in the order the scene made them, as the CLI lists them
                scene_writer.still_pixels(None if name == main else name.split("/", 1)[1], np.asarray(picture))
            for frame in self.frames:
                scene_writer.frame_pixels(np.asarray(frame))
            scene_writer.entry.update(self.records)
            scene_writer.close()
            scene_writer.entry["seconds"] = round(self.seconds, 3)  # the render's, not the save's
        except BaseException:
            scene_writer.abort()
            raise
        finally:
            writer.finish()
        return writer.folder

    def video(self) -> bytes:
        """The frames as an MP4, as ``studio render`` encodes them."""
        from studio.output.video import VideoWriter

        output = self.preset.output
        with tempfile.TemporaryDirectory() as folder:
            writer = VideoWriter(Path(folder) / "film.mp4", output.fps, output.crf)
            for frame in self.frames:
                writer.write(np.asarray(frame))
            writer.close()
            return (Path(folder) / "film.mp4").read_bytes()

    def _repr_html_(self) -> str:
        """Jupyter: the main still, and the film when there is one."""
        parts = [f"<p><b>{self.preset.scenes[0].kind}</b> on {self.preset.model.name}, {self.seconds:.1f} s</p>"]
        if self.frames:
            data = base64.b64encode(self.video()).decode()
            parts.append(f'<video controls loop muted style="max-width:100%" src="data:video/mp4;base64,{data}"></video>')
        if self.stills:
            buffer = io.BytesIO()
            self.image.save(buffer, format="PNG")
            data = base64.b64encode(buffer.getvalue()).decode()
            parts.append(f'<img style="max-width:100%" src="data:image/png;base64,{data}">')
        return "\n".join(parts)


def render_scene(model, kind: str, *, seed: int = 0, device: str = "auto", weights: str | None = None,
                 progress: bool = False, **keys) -> SceneResult:
    """Render one scene of ``kind`` in memory.

    Args:
        model: a zoo name (``"efficientnet_lite0"``, ``"vgg16"``), a checkpoint path, an
            ``nn.Module`` or ``studio.wrap(module, ...)``.
        kind: a scene kind (``maximize``, ``dream``, ``zoom``, ...).
        seed: every random choice derives from it: the same keys, seed and device give the
            pixels ``studio render`` gives.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        weights: the zoo model's weights (``DEFAULT``, ``none``, an enum name or a file).
        progress: show a progress bar.
        **keys: the preset keys of that kind (``layer="blocks.3"``, ``channels=[1, 2]``).

    Raises:
        PresetError: a bad key or value, with the CLI's text and a "did you mean".
    """
    from PIL import Image

    from studio.output.writer import pixels_of
    from studio.progress import progress_bar
    from studio.rendering import prepare, resolve_device

    preset, wrapped = scene_preset(model, kind, seed, device, weights, **keys)
    target = resolve_device(preset.preset.device, SOURCE)
    torch.manual_seed(preset.preset.seed)  # as `studio render` does, for library code that draws from it
    scene = prepare(preset, target, [None], models=wrapped.load if wrapped else None)[0]
    section = preset.scenes[0]
    result = SceneResult(preset, str(target))
    started = time.perf_counter()
    with progress_bar(scene.total, section.name, quiet=not progress) as bar:
        for item in scene.render(bar):
            if isinstance(item, Record):
                result.records[item.key] = item.value
                continue
            pixels = pixels_of(item.image, preset.output.upscale)
            if isinstance(item, Still):
                name = section.name if item.name is None else f"{section.name}/{item.name}"
                result.stills[name] = Image.fromarray(pixels)
            elif isinstance(item, Frame):
                result.frames.append(Image.fromarray(pixels))
    result.seconds = time.perf_counter() - started
    return result


def visualize(model, unit: str, **keys):
    """The picture that excites one channel most (a ``maximize`` scene), as a PIL image.

    Args:
        model: as for :func:`render_scene`.
        unit: ``"layer:channel"``, e.g. ``"blocks.4:17"``.
        **keys: any ``maximize`` key (``size=256``, ``steps=128``, ``param="pixel"``) and
            ``seed``/``device``/``weights``.
    """
    layer, colon, channel = unit.rpartition(":")
    if not colon or not layer or not channel.strip().isdigit():
        raise PresetError("visualize()", "unit", "not a unit", expected='"layer:channel", e.g. "blocks.4:17"',
                          found=repr(unit))
    return render_scene(model, "maximize", layer=layer, channels=[int(channel)], **keys).image


def render(preset: str | Path | Mapping, out: str | Path | None = None, *, quiet: bool = True,
           resume: bool = True, draft: bool = False):
    """Render a whole preset into files, as ``studio render`` does; returns what was written.

    Args:
        preset: a preset file's path, a preset's TOML text, or the same as a dict.
        out: the output root (default: the preset's ``output.dir``).
        quiet: no progress bars.
        resume: keep scenes already rendered and unchanged (``--no-resume`` when False).
        draft: a quick look (``--draft``).
    """
    from studio.rendering import render_preset

    if isinstance(preset, Mapping):
        loaded = validate(Document(_toml_value(dict(preset)), SOURCE))
    elif isinstance(preset, Path) or ("\n" not in str(preset) and str(preset).endswith(".toml")):
        loaded = load_preset(preset)
    else:
        loaded = loads(str(preset), SOURCE)
    if draft:
        from studio.preset.draft import make_draft

        loaded = make_draft(loaded)
    return render_preset(loaded, Path(out) if out is not None else None, quiet=quiet, resume=resume)
