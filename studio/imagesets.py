"""Sets of images for the scenes that look across many (patches, neighbours, embedding).

An ``images`` key is one entry or a list of them:

- ``builtin:*``: all of scikit-image's bundled colour photos;
- ``builtin:lfw_subset``: scikit-image's 200 small faces and non-faces (grouped ``face`` /
  ``non-face``);
- ``builtin:NAME``: one sample photo;
- a folder: its images (sorted); images in sub-folders are grouped by the sub-folder's name;
- an image file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from studio.errors import PresetError
from studio.inputs import BUILTINS, COLOUR_BUILTINS, builtin, fit_size, read_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
MAX_IMAGES = 2000
LFW_FACES = 100  # lfw_subset: the first 100 are faces, the next 100 are not


@dataclass
class SetImage:
    """One image of a set: where it came from, its group (for colours and legends), its pixels."""

    label: str
    group: str
    image: torch.Tensor  # (3, H, W) in [0, 1]


def _lfw() -> list[tuple[str, str, torch.Tensor]]:
    import skimage.data

    faces = torch.from_numpy(skimage.data.lfw_subset()).float()
    return [(f"lfw-{i:03d}", "face" if i < LFW_FACES else "non-face", face.expand(3, -1, -1))
            for i, face in enumerate(faces)]


def _entry(spec: str, base: Path | None, source: str, key: str) -> list[tuple[str, str, torch.Tensor]]:
    if spec == "builtin:*":
        return [(name, "photo", builtin(name, source, key)[0]) for name in COLOUR_BUILTINS]
    if spec == "builtin:lfw_subset":
        return _lfw()
    if spec.startswith("builtin:"):
        name = spec.removeprefix("builtin:")
        return [(name, "photo", builtin(name, source, key)[0])]
    path = Path(spec)
    if not path.is_absolute() and base is not None and (base / path).exists():
        path = base / path
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if len(files) > MAX_IMAGES:
            raise PresetError(source, key, f"over the limit of {MAX_IMAGES} images",
                              expected=f"a folder with at most {MAX_IMAGES} images", found=f"{len(files)} in {path}")
        return [(file.stem, file.parent.name if file.parent != path else path.name,
                 read_image(file, source, key)[0]) for file in files]
    if path.exists():
        return [(path.stem, path.parent.name or "file", read_image(path, source, key)[0])]
    raise PresetError(source, key, "no such folder or image", found=spec,
                      expected="builtin:*, builtin:lfw_subset, builtin:NAME (" + ", ".join(BUILTINS[:4])
                      + ", ...), a folder or an image file")


def fit(image: torch.Tensor, size: tuple[int, int] | None, model_size: tuple[int, int],
        keep_aspect: bool) -> torch.Tensor:
    """(3, h, w) → (3, H, W): ``size`` (height, width) or the model's; centre-cropped to the
    target aspect unless ``keep_aspect`` (then the short side goes to the model's size)."""
    from kornia.geometry.transform import center_crop, resize

    height, width = image.shape[-2:]
    if keep_aspect and size is None:
        target = fit_size(height, width, model_size)
    else:
        target = size or model_size
        ratio = min(height / target[0], width / target[1])
        image = center_crop(image[None], (round(target[0] * ratio), round(target[1] * ratio)))[0]
    return resize(image[None], target, antialias=True)[0].clamp(0, 1)


def load_image_set(spec: str | tuple[str, ...], size: tuple[int, int] | None, model_size: tuple[int, int],
                   base: Path | None = None, source: str = "<preset>", key: str = "images",
                   keep_aspect: bool = False) -> list[SetImage]:
    """Resolve an ``images`` key.

    Args:
        spec: one entry or several (see the module's docstring).
        size: (height, width) every image is brought to, or None for the model's input size.
        model_size: (height, width) the model was trained at.
        keep_aspect: keep each image's aspect (short side at the model's size) instead of a
            centre crop to one size; images then differ in size.

    Returns:
        The images in order, each (3, H, W) in [0, 1] on the CPU.
    """
    entries = [spec] if isinstance(spec, str) else list(spec)
    found: list[SetImage] = []
    for index, entry in enumerate(entries):
        entry_key = key if isinstance(spec, str) else f"{key}.{index}"
        for label, group, image in _entry(entry, base, source, entry_key):
            found.append(SetImage(label, group, fit(image, size, model_size, keep_aspect)))
            if len(found) > MAX_IMAGES:
                raise PresetError(source, key, f"over the limit of {MAX_IMAGES} images",
                                  expected=f"at most {MAX_IMAGES} images in all")
    if not found:
        raise PresetError(source, key, "the image set is empty", found=str(spec),
                          expected="at least one image (png, jpg, webp, bmp or tif)")
    return found
