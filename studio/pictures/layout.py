"""Layout: labelled grids, contact sheets, stacks, crops and tiles.

Images are float tensors in [0, 1], shaped (3, H, W) for one picture or (N, 3, H, W) for many.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from studio.pictures.colour import from_pil, to_uint8, upscale

BACKGROUND = (16, 16, 20)
LABEL_COLOUR = (225, 225, 230)
SHEET_TILE = 192  # contact-sheet tiles are at most this many pixels a side (full size: one PNG each)
FEW, FEW_TILE = 4, 1024


def resize(images: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Bilinear, antialiased resize of (N, 3, h, w) images to (height, width) (Kornia)."""
    from kornia.geometry.transform import resize as kornia_resize

    if images.shape[-2:] == (height, width):
        return images
    return kornia_resize(images, (height, width), interpolation="bilinear", antialias=True)


def enlarge(tiles: torch.Tensor, min_side: int) -> torch.Tensor:
    """Nearest-neighbour enlarge by the smallest integer that makes tiles ``min_side`` px wide."""
    return upscale(tiles, max(1, math.ceil(min_side / tiles.shape[-1])))


@functools.lru_cache(maxsize=8)
def font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _text_size(text: str, size: int) -> tuple[int, int]:
    left, top, right, bottom = font(size).getbbox(text)
    return right - left, bottom - top


def labelled_grid(tiles: torch.Tensor, labels: Sequence[str] = (), title: str = "",
                  columns: int | None = None, gap: int = 4, label_size: int | None = None) -> torch.Tensor:
    """Lay tiles out in rows with a caption under each and a title above.

    Args:
        tiles: (N, 3, h, w) in [0, 1].
        labels: one caption per tile (or none).
        title: printed above the grid.
        columns: tiles per row (default: about square; more than there are tiles: one row).
        gap: pixels between tiles.

    Returns:
        (3, H, W) in [0, 1].
    """
    count, _, height, width = tiles.shape
    columns = min(columns, count) if columns else max(1, int(np.ceil(np.sqrt(count))))
    rows = int(np.ceil(count / columns))
    label_size = label_size or int(np.clip(width / 8, 9, 18))
    caption = label_size + 4 if labels else 0
    title_size = int(np.clip(columns * width / 40, 12, 28))
    while title and title_size > 9 and _text_size(title, title_size)[0] > gap + columns * (width + gap) - 2 * gap:
        title_size -= 1  # long titles shrink to fit narrow grids rather than run off the edge
    header = title_size + 2 * gap if title else 0
    canvas = Image.new("RGB", (gap + columns * (width + gap), header + gap + rows * (height + caption + gap)),
                       BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((gap, gap), title, fill=LABEL_COLOUR, font=font(title_size))
    pixels = (tiles.detach().float().cpu().clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()
    for index in range(count):
        row, column = divmod(index, columns)
        x = gap + column * (width + gap)
        y = header + gap + row * (height + caption + gap)
        canvas.paste(Image.fromarray(pixels[index]), (x, y))
        if labels:
            text = str(labels[index])
            text_width, _ = _text_size(text, label_size)
            draw.text((x + max(0, (width - text_width) // 2), y + height + 1), text,
                      fill=LABEL_COLOUR, font=font(label_size))
    return from_pil(canvas)


def wrapped(text: str, width: int, size: int) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` px at ``size`` (a word wider
    than the line is broken inside).

    Example:
        >>> wrapped("a poster of many channels", 60, 12)
        ['a poster of', 'many', 'channels']
    """
    lines: list[str] = []
    for word in text.split():
        while font(size).getlength(word) > width and len(word) > 1:  # a word longer than the line
            cut = max(1, max(n for n in range(1, len(word) + 1) if font(size).getlength(word[:n]) <= width)
                      if font(size).getlength(word[:1]) <= width else 1)
            lines.append(word[:cut])
            word = word[cut:]
        if lines and font(size).getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def cell_labels(image: torch.Tensor, rows: int, columns: int, labels: Sequence[str], title: str = "") -> torch.Tensor:
    """A (3, H, W) picture with a faint grid of rows × columns cells, each cell's label at its
    centre on a dark plate, and a title above: the key to a poster.

    Returns:
        (3, H', W) in [0, 1].
    """
    height, width = image.shape[-2:]
    label_size = int(np.clip(min(height / rows, width / columns) / 6, 10, 28))
    title_size = int(np.clip(width / 40, 12, 28))
    lines = wrapped(title, width - 12, title_size) if title else []
    header = len(lines) * (title_size + 6) + 6 if title else 0
    canvas = Image.new("RGB", (width, header + height), BACKGROUND)
    canvas.paste(Image.fromarray(to_uint8(image)), (0, header))
    draw = ImageDraw.Draw(canvas, "RGBA")
    for number, line in enumerate(lines):  # the whole title, on as many lines as it needs
        draw.text((6, 6 + number * (title_size + 6)), line, fill=LABEL_COLOUR, font=font(title_size))
    for row in range(1, rows):
        y = header + round(row * height / rows)
        draw.line([(0, y), (width, y)], fill=(255, 255, 255, 70))
    for column in range(1, columns):
        x = round(column * width / columns)
        draw.line([(x, header), (x, header + height)], fill=(255, 255, 255, 70))
    for index, text in enumerate(labels):
        row, column = divmod(index, columns)
        text_width, text_height = _text_size(str(text), label_size)
        x = round((column + 0.5) * width / columns - text_width / 2)
        y = header + round((row + 0.5) * height / rows - text_height / 2)
        draw.rectangle([x - 4, y - 2, x + text_width + 4, y + text_height + 6], fill=(16, 16, 20, 170))
        draw.text((x, y), str(text), fill=LABEL_COLOUR, font=font(label_size))
    return from_pil(canvas)


def stack(images: Sequence[torch.Tensor], gap: int = 8) -> torch.Tensor:
    """Stack (3, H, W) pictures top to bottom, centred, on the background colour."""
    width = max(i.shape[-1] for i in images)
    height = sum(i.shape[-2] for i in images) + gap * (len(images) + 1)
    canvas = torch.tensor(BACKGROUND, dtype=torch.float32).view(3, 1, 1) / 255
    canvas = canvas.expand(3, height, width + 2 * gap).clone()
    y = gap
    for image in images:
        x = gap + (width - image.shape[-1]) // 2
        canvas[:, y:y + image.shape[-2], x:x + image.shape[-1]] = image.cpu().float()
        y += image.shape[-2] + gap
    return canvas


def side_by_side(images: Sequence[torch.Tensor], gap: int = 16) -> torch.Tensor:
    """Place (3, H, W) pictures left to right, top-aligned, on the background colour."""
    height = max(i.shape[-2] for i in images)
    width = sum(i.shape[-1] for i in images) + gap * (len(images) - 1)
    canvas = torch.tensor(BACKGROUND, dtype=torch.float32).view(3, 1, 1) / 255
    canvas = canvas.expand(3, height, width).clone()
    x = 0
    for image in images:
        canvas[:, :image.shape[-2], x:x + image.shape[-1]] = image.cpu().float()
        x += image.shape[-1] + gap
    return canvas


def fit_width(image: torch.Tensor, width: int) -> torch.Tensor:
    """Resize a (3, H, W) image to ``width`` keeping its aspect (area filter when shrinking)."""
    if image.shape[-1] == width:
        return image
    height = max(1, round(image.shape[-2] * width / image.shape[-1]))
    return torch.nn.functional.interpolate(image[None], size=(height, width), mode="area"
                                           if width < image.shape[-1] else "nearest")[0]


def contact_sheet(images: list[torch.Tensor], labels: list[str], title: str,
                  columns: int | None = None) -> torch.Tensor:
    """A labelled grid of (3, H, W) images, tiles shrunk to at most ``SHEET_TILE`` px; a sheet of
    a few (``FEW``) keeps them at up to ``FEW_TILE`` px, since those are the pictures to look at."""
    height, width = images[0].shape[-2:]
    ratio = min(1.0, (FEW_TILE if len(images) <= FEW else SHEET_TILE) / max(height, width))
    tiles = torch.stack([img.float() for img in images])
    if ratio < 1:
        tiles = resize(tiles, max(1, round(height * ratio)), max(1, round(width * ratio)))
    return labelled_grid(tiles, labels, title=title, columns=columns)


def comparison_sheet(references: list[torch.Tensor], images: torch.Tensor, labels: list[str],
                     title: str) -> torch.Tensor:
    """References (each (1, 3, h, w), brought to the results' size) then results (N, 3, H, W),
    labelled, as one contact sheet."""
    height, width = images.shape[-2:]
    tiles = [resize(r, height, width)[0].cpu() for r in references] + [i.cpu() for i in images]
    return contact_sheet(tiles, labels, title)


def crop(image: torch.Tensor, top: int, left: int, bottom: int, right: int) -> torch.Tensor:
    """The part of ``image`` (3, H, W) inside a box that may reach past its edges: what the unit
    actually sees of the picture.

    Example:
        >>> crop(torch.ones(3, 4, 4), -1, -1, 2, 3).shape
        torch.Size([3, 2, 3])
    """
    _, rows, columns = image.shape
    return image[:, max(0, top):min(rows, bottom), max(0, left):min(columns, right)]


def fit_tile(patch: torch.Tensor, side: int) -> torch.Tensor:
    """``patch`` scaled to fit a ``side``² tile, aspect kept, centred on the background colour."""
    height, width = patch.shape[-2:]
    scale = side / max(height, width)
    inner = resize(patch[None], max(1, round(height * scale)), max(1, round(width * scale)))[0]
    tile = (torch.tensor(BACKGROUND, dtype=patch.dtype) / 255).view(3, 1, 1).repeat(1, side, side)
    top, left = (side - inner.shape[-2]) // 2, (side - inner.shape[-1]) // 2
    tile[:, top:top + inner.shape[-2], left:left + inner.shape[-1]] = inner
    return tile
