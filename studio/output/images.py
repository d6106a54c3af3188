"""Tensors to pictures: colour maps, labelled grids, contact sheets, 8-bit conversion.

Images are float tensors in [0, 1], shaped (3, H, W) for one picture or (N, 3, H, W) for many.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from studio.errors import RenderError

BACKGROUND = (16, 16, 20)
LABEL_COLOUR = (225, 225, 230)


@functools.lru_cache(maxsize=16)
def _lut(name: str) -> torch.Tensor:
    import matplotlib

    return torch.from_numpy(matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3]).float()


def colormap(maps: torch.Tensor, name: str = "viridis", per_map: bool = True,
             span: tuple[float, float] | None = None) -> torch.Tensor:
    """Colour single-channel maps through a matplotlib colour map.

    Args:
        maps: (N, H, W) activations, any range.
        name: a matplotlib colour map name.
        per_map: stretch each map to its own min..max (else one range for all).
        span: a fixed (low, high) range instead (values outside are clipped), e.g. symmetric
            about zero for signed maps.

    Returns:
        (N, 3, H, W) in [0, 1]. A constant map comes out as the colour map's lowest colour.

    Example:
        >>> colormap(torch.arange(4.).view(1, 2, 2)).shape
        torch.Size([1, 3, 2, 2])
    """
    maps = maps.detach().float().cpu()
    dims = (1, 2) if per_map else (0, 1, 2)
    if span is not None:
        low, width = torch.tensor(span[0]), torch.tensor(max(span[1] - span[0], 1e-12))
    else:
        low = maps.amin(dim=dims, keepdim=True)
        width = (maps.amax(dim=dims, keepdim=True) - low).clamp_min(1e-12)
    index = ((maps - low) / width * 255).round().long().clamp(0, 255)
    return _lut(name)[index].permute(0, 3, 1, 2).contiguous()


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [0, 1] → (H, W, 3) uint8. Refuses NaN/Inf: no broken picture is written."""
    image = image.detach().float().cpu()
    if not torch.isfinite(image).all():
        raise RenderError("the image holds NaN or Inf values; nothing was written "
                          "(lower `lr` or raise `blur` in the scene)")
    if image.dim() == 2:
        image = image.unsqueeze(0)
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    return (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()


def upscale(image: torch.Tensor, factor: int) -> torch.Tensor:
    """Integer nearest-neighbour upscale of (..., H, W) images (crisp pixels for tiny nets)."""
    if factor == 1:
        return image
    return image.repeat_interleave(factor, dim=-2).repeat_interleave(factor, dim=-1)


def enlarge(tiles: torch.Tensor, min_side: int) -> torch.Tensor:
    """Nearest-neighbour enlarge by the smallest integer that makes tiles ``min_side`` px wide."""
    return upscale(tiles, max(1, math.ceil(min_side / tiles.shape[-1])))


def figure_image(figure) -> torch.Tensor:
    """A matplotlib Figure drawn off screen (Agg) as a (3, H, W) image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return from_pil(Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()))


@functools.lru_cache(maxsize=8)
def font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _text_size(text: str, size: int) -> tuple[int, int]:
    left, top, right, bottom = font(size).getbbox(text)
    return right - left, bottom - top


def from_pil(picture: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(picture.convert("RGB")).copy()).permute(2, 0, 1).float() / 255


def labelled_grid(tiles: torch.Tensor, labels: Sequence[str] = (), title: str = "",
                  columns: int | None = None, gap: int = 4, label_size: int | None = None) -> torch.Tensor:
    """Lay tiles out in rows with a caption under each and a title above.

    Args:
        tiles: (N, 3, h, w) in [0, 1].
        labels: one caption per tile (or none).
        title: printed above the grid.
        columns: tiles per row (default: about square).
        gap: pixels between tiles.

    Returns:
        (3, H, W) in [0, 1].
    """
    count, _, height, width = tiles.shape
    columns = columns or max(1, int(np.ceil(np.sqrt(count))))
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


def fit_width(image: torch.Tensor, width: int) -> torch.Tensor:
    """Resize a (3, H, W) image to ``width`` keeping its aspect (area filter when shrinking)."""
    if image.shape[-1] == width:
        return image
    height = max(1, round(image.shape[-2] * width / image.shape[-1]))
    return torch.nn.functional.interpolate(image[None], size=(height, width), mode="area"
                                           if width < image.shape[-1] else "nearest")[0]
