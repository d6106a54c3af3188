"""Address layers by module path or alias, and read their activations with a truncated forward.

Paths are those of ``named_modules()`` (``features.28``, ``Mixed_6b``, ``blocks.4``). VGG
networks also answer to ``conv1_1``..``conv5_3``, ``relu1_1``.. and ``pool1``..``pool5``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from studio.errors import PresetError, RenderError, closest
from studio.models.zoo import LoadedModel


def vgg_aliases(module: nn.Module) -> dict[str, str]:
    """``conv3_2 -> features.12`` style names for a torchvision VGG's ``features``."""
    features = getattr(module, "features", None)
    if not isinstance(features, nn.Sequential) or not module.__class__.__name__.startswith("VGG"):
        return {}
    aliases, block, conv = {}, 1, 0
    for index, layer in enumerate(features):
        path = f"features.{index}"
        if isinstance(layer, nn.Conv2d):
            conv += 1
            aliases[f"conv{block}_{conv}"] = path
        elif isinstance(layer, nn.ReLU):
            aliases[f"relu{block}_{conv}"] = path
        elif isinstance(layer, nn.BatchNorm2d):
            aliases[f"bn{block}_{conv}"] = path
        elif isinstance(layer, nn.MaxPool2d):
            aliases[f"pool{block}"] = path
            block, conv = block + 1, 0
    return aliases


def aliases_for(module: nn.Module) -> dict[str, str]:
    return vgg_aliases(module)


def module_paths(module: nn.Module) -> list[str]:
    return [name for name, _ in module.named_modules() if name]


def resolve_layer(model: LoadedModel | nn.Module, name: str, source: str = "<preset>",
                  key: str = "layer") -> str:
    """The module path ``name`` stands for; an error naming the closest paths if none."""
    module = model.module if isinstance(model, LoadedModel) else model
    paths = module_paths(module)
    if name in paths:
        return name
    aliases = aliases_for(module)
    if name in aliases:
        return aliases[name]
    suggestions = closest(name, paths + list(aliases), n=5)
    top = [p for p in paths if "." not in p]
    raise PresetError(source, key, f"no layer `{name}` in this model",
                      expected="a module path (see `studio layers MODEL`)",
                      hint=("closest: " + ", ".join(suggestions)) if suggestions
                      else "top-level modules: " + ", ".join(top[:20]))


class _StopForward(Exception):
    """Raised from a hook once every wanted activation is recorded: the rest never runs."""


def _first_tensor(output):
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    return getattr(output, "logits", output)


class LayerTap:
    """Call a model on images in [0, 1] and get the activations of some layers.

    The forward pass stops as soon as the last wanted layer has run, so a scene that looks at
    ``blocks.2`` never pays for ``blocks.3`` onwards.

    Args:
        model: a loaded model.
        paths: module paths (already resolved).

    Example:
        >>> tap = LayerTap(model, ["features.3"])          # doctest: +SKIP
        >>> tap(torch.rand(1, 3, 64, 64))["features.3"].shape  # doctest: +SKIP
        torch.Size([1, 64, 64, 64])
    """

    def __init__(self, model: LoadedModel, paths: Sequence[str]):
        self.model = model
        self.paths = list(dict.fromkeys(paths))
        modules = dict(model.module.named_modules())
        self.modules = [modules[p] for p in self.paths]
        self.calls: list[str] = []  # the layers that ran in the last call, for tests and benches

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        captured: dict[str, torch.Tensor] = {}
        wanted = len(self.paths)

        def make_hook(path):
            def hook(_module, _inputs, output):
                if path not in captured:
                    captured[path] = _first_tensor(output)
                if len(captured) == wanted:
                    raise _StopForward
            return hook

        handles = [m.register_forward_hook(make_hook(p)) for p, m in zip(self.paths, self.modules)]
        try:
            self.model.module(self.model.normalize(images))
        except _StopForward:
            pass
        finally:
            for handle in handles:
                handle.remove()
        missing = [p for p in self.paths if p not in captured]
        if missing:
            raise RenderError(f"layers {', '.join(missing)} never ran in {self.model.name}'s forward pass")
        self.calls = list(captured)
        return captured


def describe_layers(module: nn.Module, input_size: tuple[int, int]) -> list[tuple[str, str, str, str]]:
    """(path, module type, output shape, aliases) for every module, from one forward pass."""
    shapes: dict[str, str] = {}
    handles = []
    for path, child in module.named_modules():
        if not path:
            continue

        def hook(_m, _i, output, path=path):
            tensor = _first_tensor(output)
            if path not in shapes and isinstance(tensor, torch.Tensor):
                shapes[path] = "×".join(str(s) for s in tensor.shape[1:])
        handles.append(child.register_forward_hook(hook))
    try:
        with torch.no_grad():
            module.eval()(torch.zeros(1, 3, *input_size))
    finally:
        for handle in handles:
            handle.remove()
    by_path: dict[str, list[str]] = {}
    for alias, path in aliases_for(module).items():
        by_path.setdefault(path, []).append(alias)
    return [(path, type(child).__name__, shapes.get(path, "-"), ", ".join(by_path.get(path, [])))
            for path, child in module.named_modules() if path]


def stage_paths(module: nn.Module, size: tuple[int, int]) -> list[str]:
    """The stages of a network: the children of its ``features``/``blocks`` sequence, or its
    top-level modules that produce feature maps (at an input of ``size`` (h, w))."""
    for container in ("features", "blocks", "layers"):
        child = getattr(module, container, None)
        if isinstance(child, nn.Sequential):
            return [f"{container}.{name}" for name, _ in child.named_children()]
    rows = describe_layers(module, size)
    return [path for path, _, shape, _ in rows if "." not in path and shape.count("×") == 2]
