"""Training sets that need no download: scikit-image's faces, procedural shapes, a folder.

Each returns ``Dataset(images (N, C, S, S) in [0, 1], labels (N,), class_names)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from studio.errors import PresetError

SHAPES = ("circle", "square", "triangle", "stripes", "ring", "cross")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass
class Dataset:
    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]

    @property
    def channels(self) -> int:
        return self.images.shape[1]


def faces(image_size: int = 25) -> Dataset:
    """scikit-image's LFW subset: 100 faces then 100 non-faces, 25×25 gray (seed 000 §1)."""
    import skimage.data

    images = torch.from_numpy(np.asarray(skimage.data.lfw_subset(), dtype=np.float32)).unsqueeze(1)
    if images.max() > 1:
        images = images / 255
    if image_size != images.shape[-1]:
        images = torch.nn.functional.interpolate(images, size=(image_size, image_size), mode="bilinear",
                                                 antialias=True, align_corners=False)
    labels = torch.cat([torch.ones(100, dtype=torch.long), torch.zeros(100, dtype=torch.long)])
    return Dataset(images.clamp(0, 1), labels, ("non-face", "face"))


def _shape_mask(kind: str, size: int, cx: float, cy: float, radius: float, angle: float) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                            indexing="ij")
    dx, dy = xs - cx, ys - cy
    if kind == "circle":
        return (dx * dx + dy * dy <= radius * radius).float()
    if kind == "ring":
        distance = torch.sqrt(dx * dx + dy * dy)
        return ((distance <= radius) & (distance >= radius * 0.6)).float()
    rx = dx * math.cos(angle) + dy * math.sin(angle)
    ry = -dx * math.sin(angle) + dy * math.cos(angle)
    if kind == "square":
        return ((rx.abs() <= radius * 0.8) & (ry.abs() <= radius * 0.8)).float()
    if kind == "cross":
        bar = radius * 0.3
        return (((rx.abs() <= bar) & (ry.abs() <= radius)) | ((ry.abs() <= bar) & (rx.abs() <= radius))).float()
    if kind == "triangle":
        # upward triangle in the rotated frame: below the two slanted edges, above the base
        return ((ry <= radius * 0.5) & (ry >= 2 * rx.abs() - radius)).float()
    # stripes: parallel bars across a disc
    return ((torch.sin(rx * math.pi / max(radius / 2.5, 1.0)) > 0) & (dx * dx + dy * dy <= radius * radius)).float()


def shapes(classes: int, image_size: int, per_class: int, generator: torch.Generator) -> Dataset:
    """Procedural shapes in random colours, sizes, positions and angles; class = shape kind."""
    count = classes * per_class
    images = torch.empty(count, 3, image_size, image_size)
    labels = torch.arange(classes).repeat_interleave(per_class)
    draws = torch.rand(count, 10, generator=generator).tolist()
    for index, (label, u) in enumerate(zip(labels.tolist(), draws)):
        radius = image_size * (0.18 + 0.17 * u[0])
        cx = radius + u[1] * (image_size - 2 * radius)
        cy = radius + u[2] * (image_size - 2 * radius)
        mask = _shape_mask(SHAPES[label], image_size, cx, cy, radius, u[3] * math.pi)
        foreground = torch.tensor(u[4:7]).view(3, 1, 1)
        background = torch.tensor(u[7:10]).view(3, 1, 1) * 0.5
        images[index] = background + (foreground - background) * mask
    return Dataset(images.clamp(0, 1), labels, SHAPES[:classes])


def folder(path: Path, image_size: int, source: str, key: str) -> Dataset:
    """A folder of class sub-folders of images (ImageFolder layout), resized to ``image_size``."""
    from studio.inputs import read_image

    if not path.is_dir():
        raise PresetError(source, key, "no such dataset folder", expected='"faces", "shapes" or a folder',
                          found=str(path))
    classes = sorted(p for p in path.iterdir() if p.is_dir())
    if not classes:
        raise PresetError(source, key, "the folder has no class sub-folders",
                          expected="FOLDER/<class>/<image>.png", found=str(path))
    images, labels = [], []
    for label, directory in enumerate(classes):
        files = sorted(f for f in directory.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise PresetError(source, key, f"class folder `{directory.name}` holds no images",
                              expected="at least one image per class", found=str(directory))
        for file in files:
            image = read_image(file, source, key)
            images.append(torch.nn.functional.interpolate(image, size=(image_size, image_size),
                                                          mode="bilinear", antialias=True)[0])
            labels.append(label)
    if len(classes) < 2:
        raise PresetError(source, key, "a dataset needs two classes or more",
                          found=f"1 class folder in {path}")
    return Dataset(torch.stack(images).clamp(0, 1), torch.tensor(labels), tuple(c.name for c in classes))


COPIES = 4  # the clean set, the corrupted one, its duplicates and the device copy, at most


def check_memory(count: int, image_size: int, channels: int, available: int | None, source: str,
                 key: str) -> None:
    """Refuse a dataset that could not be held (``count`` images of ``image_size``² float32,
    the copies training makes of them) before a single image is made."""
    needed = count * image_size * image_size * channels * 4 * COPIES
    if available is not None and needed > available:
        raise PresetError(source, key, f"the dataset would need about {needed / 2 ** 30:.1f} GiB "
                          f"({count} images of {image_size}x{image_size}), and {available / 2 ** 30:.1f} GiB "
                          "is available", expected="fewer `per_class`, a smaller `image_size`, or "
                          "`--memory-limit GB`")


def load_dataset(spec: str, image_size: int, classes: int, per_class: int, generator: torch.Generator,
                 base: Path, source: str, key: str, available: int | None = None) -> Dataset:
    """The dataset ``spec`` names, refused up front when it would not fit ``available`` bytes."""
    if spec == "faces":
        return faces(image_size)
    if spec == "shapes":
        if classes > len(SHAPES):
            raise PresetError(source, key.replace("dataset", "classes"), "too many shape classes",
                              expected=f"at most {len(SHAPES)} ({', '.join(SHAPES)})", found=str(classes))
        check_memory(classes * per_class, image_size, 3, available, source, key)
        return shapes(classes, image_size, per_class, generator)
    path = Path(spec)
    if not path.is_absolute() and (base / path).exists():
        path = base / path
    if path.is_dir():
        count = sum(1 for f in path.glob("*/*") if f.suffix.lower() in IMAGE_SUFFIXES)
        check_memory(count, image_size, 3, available, source, key)
    return folder(path, image_size, source, key)


def split_heldout(data: Dataset, fraction: float, generator: torch.Generator) -> tuple[Dataset, Dataset | None]:
    """(training, held-out): ``fraction`` of each class's examples set aside, never trained on
    and never corrupted, so accuracy on them says what the network learnt rather than what it
    memorised. Every class keeps at least one training example.

    Example:
        >>> data = Dataset(torch.zeros(10, 1, 2, 2), torch.tensor([0] * 5 + [1] * 5), ("a", "b"))
        >>> training, heldout = split_heldout(data, 0.2, torch.Generator().manual_seed(0))
        >>> len(training.labels), len(heldout.labels)
        (8, 2)
    """
    if fraction <= 0:
        return data, None
    kept, aside = [], []
    for label in range(len(data.classes)):
        members = torch.nonzero(data.labels == label).flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        count = min(round(fraction * len(members)), len(members) - 1)
        aside.append(members[:count])
        kept.append(members[count:])
    kept, aside = torch.sort(torch.cat(kept)).values, torch.sort(torch.cat(aside)).values
    if not len(aside):
        return data, None
    return (Dataset(data.images[kept], data.labels[kept], data.classes),
            Dataset(data.images[aside], data.labels[aside], data.classes))


def as_colour(data: Dataset) -> Dataset:
    """Gray images repeated into three channels (what an ImageNet network takes)."""
    if data.channels == 3:
        return data
    return Dataset(data.images.expand(-1, 3, -1, -1).contiguous(), data.labels, data.classes)
