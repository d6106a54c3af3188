"""Input images: scikit-image's sample photos, files, and plain canvases, as (1, 3, H, W) in [0, 1]."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

from studio.errors import PresetError, did_you_mean
from studio.preset.limits import MAX_SIDE

# scikit-image sample images that ship inside the package (no download).
BUILTINS = ("astronaut", "brick", "camera", "cat", "chelsea", "clock", "coffee", "coins",
            "colorwheel", "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry",
            "logo", "moon", "page", "retina", "rocket", "text")
COLOUR_BUILTINS = ("astronaut", "chelsea", "coffee", "colorwheel", "hubble_deep_field",
                   "immunohistochemistry", "retina", "rocket")
CANVASES = {"black": 0.0, "white": 1.0, "gray": 0.5, "grey": 0.5}
NOISE_STD = 0.05  # `noise`: gray with a faint seeded texture, the start lucent and DeepDream use
MAX_INPUT_PIXELS = 64_000_000  # refuse decompression bombs before decoding


def _as_rgb_tensor(array: np.ndarray) -> torch.Tensor:
    array = np.asarray(array)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    if array.shape[-1] == 4:
        array = array[..., :3]
    scale = 255.0 if array.dtype == np.uint8 else (65535.0 if array.dtype == np.uint16 else 1.0)
    return torch.from_numpy(array.astype(np.float32) / scale).permute(2, 0, 1).unsqueeze(0).clamp(0, 1)


# The samples whose scikit-image loader is a plain read of a file in its data folder.
BUILTIN_FILES = {"astronaut": "astronaut.png", "brick": "brick.png", "camera": "camera.png",
                 "cat": "chelsea.png", "chelsea": "chelsea.png", "clock": "clock_motion.png",
                 "coffee": "coffee.png", "coins": "coins.png", "grass": "grass.png",
                 "gravel": "gravel.png", "hubble_deep_field": "hubble_deep_field.jpg",
                 "logo": "logo.png", "moon": "moon.png", "page": "page.png", "retina": "retina.jpg",
                 "rocket": "rocket.jpg", "text": "text.png"}


def builtin(name: str, source: str = "<preset>", key: str = "input") -> torch.Tensor:
    if name not in BUILTINS:
        raise PresetError(source, key, f"no built-in image `{name}`",
                          expected="builtin:" + ", builtin:".join(BUILTINS),
                          hint=did_you_mean(name, BUILTINS))
    return _builtin_pixels(name).clone()


@functools.lru_cache(maxsize=None)
def _builtin_pixels(name: str) -> torch.Tensor:
    """A sample read once per process. Where scikit-image's loader is a plain read of a file in
    its data folder, PIL reads that file: the same pixels (the suite checks every sample) without
    importing ``skimage.io``, which pulls in scipy (a quarter of a second)."""
    import skimage.data

    path = Path(skimage.data.__file__).parent / BUILTIN_FILES.get(name, "-")
    if path.is_file():
        from PIL import Image

        with Image.open(path) as picture:
            return _as_rgb_tensor(np.asarray(picture))
    return _as_rgb_tensor(getattr(skimage.data, name)())


def _pixels(picture) -> np.ndarray:
    """A PIL image's pixels as RGB, 8-bit or float in [0, 1]: 16- and 32-bit grey images are
    scaled by their bit depth, not clipped at 255."""
    if picture.mode.startswith("I;16"):
        return np.asarray(picture).astype(np.float32) / 65535.0
    if picture.mode in ("I", "F"):
        array = np.asarray(picture).astype(np.float32)
        peak = float(array.max()) if array.size else 1.0
        return array / (65535.0 if peak > 255 else 255.0) if picture.mode == "I" else array
    return np.asarray(picture.convert("RGB"))


def read_image(path: Path, source: str = "<preset>", key: str = "input",
               shrink_to: tuple[int, int] | None = None) -> torch.Tensor:
    """An image file as (1, 3, H, W) in [0, 1]. ``shrink_to`` (h, w): a picture many times
    larger is first reduced by a whole factor (keeping twice that size), so a huge photo never
    costs gigabytes on its way to a small working size."""
    import stat

    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_INPUT_PIXELS
    try:
        if not stat.S_ISREG(Path(path).stat().st_mode):
            raise PresetError(source, key, "not a regular image file (a folder, pipe or device)", found=str(path))
        with Image.open(path) as picture:
            if picture.width * picture.height > MAX_INPUT_PIXELS:
                raise PresetError(source, key, "image too large",
                                  expected=f"at most {MAX_INPUT_PIXELS} pixels",
                                  found=f"{picture.width}×{picture.height}")
            if shrink_to is not None:
                factor = min(picture.height // shrink_to[0], picture.width // shrink_to[1]) // 2
                if factor >= 2:
                    picture = picture.reduce(factor)
            return _as_rgb_tensor(_pixels(picture))
    except PresetError:
        raise
    except Image.DecompressionBombError:
        raise PresetError(source, key, "image too large (refused before decoding)",
                          expected=f"at most {MAX_INPUT_PIXELS} pixels", found=str(path)) from None
    except FileNotFoundError:
        raise PresetError(source, key, "no such image file", found=str(path)) from None
    except Exception as error:  # PIL raises many kinds for broken files, bombs included
        raise PresetError(source, key, f"cannot read the image ({type(error).__name__}: {error})",
                          found=str(path)) from None


def fit_size(height: int, width: int, target: tuple[int, int]) -> tuple[int, int]:
    """(h, w) with the short side at the model's input size, aspect kept, multiples of 8, and
    the long side at most ``MAX_SIDE`` (a 4000×1 strip must not become 896,000 px long).

    Example:
        >>> fit_size(480, 640, (224, 224))
        (224, 296)
        >>> fit_size(1, 4000, (224, 224))
        (8, 4096)
    """
    ratio = min(min(target) / min(height, width), MAX_SIDE / max(height, width))
    return (min(MAX_SIDE, max(8, round(height * ratio / 8) * 8)), min(MAX_SIDE, max(8, round(width * ratio / 8) * 8)))


def missing_image(spec: str, base: Path | None, source: str, key: str) -> PresetError:
    """No file at ``spec``: the folders searched, and the image files nearest the name there."""
    from studio.errors import did_you_mean

    path = Path(spec)
    folders = [path.parent] if path.is_absolute() else [f for f in (base, Path.cwd()) if f is not None]
    folders = list(dict.fromkeys(folder.resolve() / (path.parent if not path.is_absolute() else "") for folder in folders))
    nearby = sorted({str(Path(spec).parent / found.name) if str(Path(spec).parent) != "." else found.name
                     for folder in folders if folder.is_dir() for found in folder.iterdir()
                     if found.suffix.lower() in IMAGE_SUFFIXES})
    hint = did_you_mean(spec, nearby) if nearby else None
    return PresetError(source, key, "no such image file", found=spec,
                       expected="an image file; searched " + " and ".join(str(folder) for folder in folders),
                       hint=hint or ("images there: " + ", ".join(nearby[:8]) if nearby else
                                     'or a canvas: noise, black, white, gray, or builtin:astronaut ...'))


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def load_input(spec: str, size: tuple[int, int] | None, model_size: tuple[int, int],
               generator: torch.Generator, base: Path | None = None, source: str = "<preset>",
               key: str = "input") -> torch.Tensor:
    """Resolve an ``input`` key to an image.

    Args:
        spec: ``noise`` (gray ± a faint Gaussian texture), ``uniform-noise`` (every pixel
            uniform in [0, 1]), ``black``, ``white``, ``gray``, ``builtin:NAME`` or a file path.
        size: (height, width), or None for the model's size (photos keep their aspect, short
            side at the model's size).
        model_size: (height, width) the model was trained at.
        generator: seeded CPU generator for ``noise``.
        base: folder that relative paths are read from (the preset's), then the working folder.

    Returns:
        (1, 3, H, W) float in [0, 1], on the CPU.
    """
    import kornia

    if spec in CANVASES or spec in ("noise", "uniform-noise"):
        height, width = size or model_size
        if spec == "noise":
            return (0.5 + NOISE_STD * torch.randn((1, 3, height, width), generator=generator)).clamp(0, 1)
        if spec == "uniform-noise":
            return torch.rand((1, 3, height, width), generator=generator)
        return torch.full((1, 3, height, width), CANVASES[spec])
    if spec.startswith("builtin:"):
        image = builtin(spec.removeprefix("builtin:"), source, key)
    else:
        path = Path(spec)
        if not path.is_absolute() and base is not None and (base / path).exists():
            path = base / path
        if not path.exists():
            raise missing_image(spec, base, source, key)
        image = read_image(path, source, key, shrink_to=size or model_size)
    height, width = size or fit_size(*image.shape[-2:], model_size)
    return kornia.geometry.transform.resize(image, (height, width), antialias=True).clamp(0, 1)
