"""Scatter maps of pictures: thumbnails placed at 2-D points, framed by group, with a legend."""

from __future__ import annotations

import torch
from PIL import Image, ImageDraw

from studio.pictures.colour import from_pil, to_uint8
from studio.pictures.layout import BACKGROUND, LABEL_COLOUR, font

CANVAS = (1600, 1200)
GROUP_COLOURS = ["#ffb000", "#3ec1ff", "#ff5a8c", "#7ee07e", "#c792ff", "#ff8a3d", "#f0f0f0", "#48d1cc"]


def place(points: torch.Tensor, thumbnails: list[torch.Tensor], groups: list[str], title: str,
          thumb: int) -> torch.Tensor:
    """Draw thumbnails centred at ``points`` (N, 2) scaled to fill the canvas, with a legend."""
    width, height = CANVAS
    margin = thumb // 2 + 16
    low, high = points.min(dim=0).values, points.max(dim=0).values
    span = (high - low).clamp_min(1e-12)
    canvas = Image.new("RGB", CANVAS, BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    names = list(dict.fromkeys(groups))
    for (x, y), image, group in zip(points.tolist(), thumbnails, groups):
        left = round(margin + (x - low[0].item()) / span[0].item() * (width - 2 * margin)) - thumb // 2
        top = round(48 + margin + (1 - (y - low[1].item()) / span[1].item()) * (height - 48 - 2 * margin)) - thumb // 2
        colour = GROUP_COLOURS[names.index(group) % len(GROUP_COLOURS)]
        draw.rectangle([left - 3, top - 3, left + thumb + 2, top + thumb + 2], outline=colour, width=3)
        canvas.paste(Image.fromarray(to_uint8(image)), (left, top))
    draw.text((16, 12), title, fill=LABEL_COLOUR, font=font(20))
    if len(names) > 1:
        for index, name in enumerate(names):
            colour = GROUP_COLOURS[index % len(GROUP_COLOURS)]
            draw.rectangle([width - 240, 20 + 24 * index, width - 226, 34 + 24 * index], fill=colour)
            draw.text((width - 218, 16 + 24 * index), name, fill=colour, font=font(18))
    return from_pil(canvas)
