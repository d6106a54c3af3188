"""Frames composed for video: a landscape frame of a fixed size, pictures fitted into it, one
caption line that always fits inside it whatever it says, and a sparkline. Sizes are (h, w);
pictures are float (3, H, W) in [0, 1]."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw

from studio.pictures.colour import from_pil
from studio.pictures.layout import BACKGROUND, LABEL_COLOUR, font, resize

MIN_TEXT = 10        # px: the smallest caption; below this a caption is shortened instead
SPARK_COLOUR = (255, 176, 0)
GAP = 8


def blank(size: tuple[int, int]) -> torch.Tensor:
    """A (3, H, W) frame of the background colour."""
    return (torch.tensor(BACKGROUND, dtype=torch.float32) / 255).view(3, 1, 1).repeat(1, *size)


def fit(picture: torch.Tensor, box: tuple[int, int]) -> torch.Tensor:
    """``picture`` scaled to the largest size that fits ``box`` (h, w), aspect kept. Small
    pictures (a tiny net's 25 px maps) grow by a whole factor with crisp pixels first, then
    smoothly; large ones shrink smoothly.

    Example:
        >>> fit(torch.rand(3, 25, 25), (100, 300)).shape
        torch.Size([3, 100, 100])
    """
    height, width = picture.shape[-2:]
    scale = min(box[0] / height, box[1] / width)
    whole = max(1, math.floor(scale))
    if whole > 1:
        picture = picture.repeat_interleave(whole, dim=-2).repeat_interleave(whole, dim=-1)
    target = (max(1, min(box[0], round(height * scale))), max(1, min(box[1], round(width * scale))))
    return resize(picture[None].float(), *target)[0].clamp(0, 1)


def place(frame: torch.Tensor, picture: torch.Tensor, top: int, left: int, box: tuple[int, int]) -> None:
    """Put ``picture`` fitted into the ``box`` whose corner is (top, left) of ``frame``, centred."""
    fitted = fit(picture.cpu(), box)
    y = top + (box[0] - fitted.shape[-2]) // 2
    x = left + (box[1] - fitted.shape[-1]) // 2
    frame[:, y:y + fitted.shape[-2], x:x + fitted.shape[-1]] = fitted


def caption_sizes(height: int) -> tuple[int, int]:
    """(largest, smallest) font sizes for a caption line ``height`` px tall: below the smallest
    a caption is shortened rather than shrunk (17 px on a 720p frame's 48 px line: legible).

    Example:
        >>> caption_sizes(48)
        (26, 17)
    """
    return max(MIN_TEXT, round(height * 0.55)), max(MIN_TEXT, round(height * 0.36))


def fitted_text(text: str, width: int, size: int, smallest: int = MIN_TEXT) -> tuple[str, int]:
    """The text and font size to draw ``text`` within ``width`` px: the largest size up to
    ``size`` that fits, down to ``smallest``; past that the middle gives way to "…".

    Example:
        >>> fitted_text("epoch 3 of 12", 2000, 20)
        ('epoch 3 of 12', 20)
        >>> line, size = fitted_text("x" * 400, 200, 20)
        >>> size, "…" in line, font(size).getlength(line) <= 200
        (10, True, True)
    """
    size = max(smallest, size)
    while size > smallest and font(size).getlength(text) > width:
        size -= 1
    face = font(size)
    if face.getlength(text) <= width:
        return text, size
    low, high = 0, len(text)  # the most characters kept, half from each end
    while low < high:
        keep = (low + high + 1) // 2
        candidate = text[:(keep + 1) // 2] + "…" + text[len(text) - keep // 2:]
        if face.getlength(candidate) <= width:
            low = keep
        else:
            high = keep - 1
    return text[:(low + 1) // 2] + "…" + text[len(text) - low // 2:], size


SEPARATOR = " · "  # between the fields of a caption


def caption(frame: torch.Tensor, text: str, top: int, left: int, box: tuple[int, int],
            colour: tuple[int, int, int] = LABEL_COLOUR, pad: int = 0, template: str | None = None,
            fade: tuple[str, float] | None = None) -> None:
    """Draw one line of ``text`` inside the ``box`` (h, w) at (top, left) of ``frame``, ``pad``
    px in from its sides: never past its edges (see :func:`fitted_text`).

    ``template``: the widest caption of a film, field by field (fields are separated by
    :data:`SEPARATOR`). When it fits whole and ``text`` has as many fields, each field is drawn at
    the template's place for it, in the template's size: the numbers of a film's caption change
    where they stand instead of pushing the rest of the line about from frame to frame.

    ``fade``: (the next caption, its share): the two drawn over each other, so a film's numbers
    dissolve into the next snapshot's over a few frames instead of jumping in one."""
    if fade is not None:
        caption(frame, text, top, left, box, colour, pad, template)
        before = frame[:, top:top + box[0], left:left + box[1]].clone()
        caption(frame, fade[0], top, left, box, colour, pad, template)
        frame[:, top:top + box[0], left:left + box[1]] = torch.lerp(before, frame[:, top:top + box[0], left:left + box[1]],
                                                                    fade[1])
        return
    fields = text.split(SEPARATOR)
    slots = template.split(SEPARATOR) if template else []
    line, size = fitted_text(template if len(slots) == len(fields) else text, box[1] - 2 * pad, *caption_sizes(box[0]))
    strip = Image.new("RGB", (box[1], box[0]), BACKGROUND)
    draw = ImageDraw.Draw(strip)
    face = font(size)
    bounds = draw.textbbox((0, 0), line, font=face)
    y = (box[0] - (bounds[3] - bounds[1])) // 2 - bounds[1]
    if len(slots) == len(fields) and line == template:
        x = pad
        for number, (field, slot) in enumerate(zip(fields, slots)):
            draw.text((x, y), field, fill=colour, font=face)
            x += face.getlength(slot)
            if number < len(fields) - 1:
                draw.text((x, y), SEPARATOR, fill=colour, font=face)
                x += face.getlength(SEPARATOR)
    else:
        if len(slots) == len(fields):  # the template did not fit whole: this caption fitted on its own
            line, size = fitted_text(text, box[1] - 2 * pad, *caption_sizes(box[0]))
            face = font(size)
            bounds = draw.textbbox((0, 0), line, font=face)
            y = (box[0] - (bounds[3] - bounds[1])) // 2 - bounds[1]
        draw.text((pad, y), line, fill=colour, font=face)
    frame[:, top:top + box[0], left:left + box[1]] = from_pil(strip)


def caption_template(texts: Sequence[str]) -> str:
    """The widest of each field across ``texts`` (captions with the same fields), joined: the
    template that keeps every field of a film's caption in one place.

    Example:
        >>> caption_template(["loss 1.2 · accuracy 76%", "loss 0.95 · accuracy 100%"])
        'loss 0.95 · accuracy 100%'
    """
    split = [text.split(SEPARATOR) for text in texts]
    count = max((len(fields) for fields in split), default=0)
    columns = [[fields[i] for fields in split if len(fields) == count] for i in range(count)]
    return SEPARATOR.join(max(column, key=lambda field: font(MIN_TEXT).getlength(field)) for column in columns)


def sparkline(values: Sequence[float], marker: int, size: tuple[int, int]) -> torch.Tensor:
    """A (3, H, W) line of ``values`` (a loss per epoch), the one at ``marker`` dotted. Values
    that span decades (a loss that explodes under gradient ascent) are drawn on an asinh scale so
    the rest of the line keeps its shape.

    Example:
        >>> sparkline([3.0, 1.0, 0.5], 1, (20, 60)).shape
        torch.Size([3, 20, 60])
    """
    height, width = size
    strip = Image.new("RGB", (width, height), BACKGROUND)
    if values:
        series = np.asarray(values, dtype=np.float64)
        spread = np.abs(series).max() / max(np.median(np.abs(series)), 1e-9)
        if spread > 50:
            series = np.arcsinh(series / max(np.median(np.abs(series)), 1e-9))
        low, high = float(series.min()), float(series.max())
        span = high - low or 1.0
        pad = max(2, height // 8)
        count = max(len(series) - 1, 1)
        points = [(pad + i * (width - 2 * pad) / count, height - pad - (v - low) / span * (height - 2 * pad))
                  for i, v in enumerate(series)]
        draw = ImageDraw.Draw(strip)
        draw.line(points if len(points) > 1 else points * 2, fill=SPARK_COLOUR, width=max(1, height // 24))
        x, y = points[min(max(marker, 0), len(points) - 1)]
        radius = max(2, height // 12)
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=(255, 255, 255))
    return from_pil(strip)


def grid_shape(count: int, box: tuple[int, int], aspect: float = 1.0) -> tuple[int, int, int]:
    """(rows, columns, tile height) that give ``count`` tiles of ``aspect`` (w/h) the largest
    size inside ``box`` (h, w), gaps included.

    Example:
        >>> grid_shape(8, (640, 1280))
        (2, 4, 314)
    """
    best = (1, count, 0)
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        tile = min((box[0] - GAP * (rows - 1)) / rows, (box[1] - GAP * (columns - 1)) / columns / aspect)
        if tile > best[2]:
            best = (rows, columns, int(tile))
    return best


def caption_bar(height: int) -> int:
    """Pixels of the film layout's caption line in a frame ``height`` tall."""
    return max(24, round(height / 15))


def film_tile(count: int, size: tuple[int, int]) -> int:
    """The side of each of ``count`` square pictures in a :func:`film_frame` of ``size`` (h, w):
    the size to draw them at, so the film shows them pixel for pixel.

    Example:
        >>> film_tile(6, (720, 1280))
        320
    """
    height, width = size
    return grid_shape(count, (height - caption_bar(height) - 3 * GAP, width - 2 * GAP))[2]


def film_frame(pictures: torch.Tensor, text: str, size: tuple[int, int], series: Sequence[float] = (),
               marker: int = 0, labels: Sequence[str] = (), template: str | None = None,
               fade: tuple[str, float] | None = None) -> torch.Tensor:
    """The ``film`` layout: the pictures (N, 3, h, w) fill the frame in the largest grid that
    fits; beneath them one caption line and, at its right, a sparkline of ``series``.

    Args:
        pictures: (N, 3, h, w) in [0, 1].
        text: the caption (shortened if it is too long for the frame, never clipped).
        size: the frame (h, w).
        series: values for the sparkline (none: the caption takes the whole line).
        marker: the index in ``series`` marked as now.
        labels: a short label per picture, drawn on its corner.
        template: the film's widest caption, field by field (see :func:`caption`).
        fade: the next caption and how far the line has dissolved into it (see :func:`caption`).

    Returns:
        (3, H, W) in [0, 1].
    """
    height, width = size
    bar = caption_bar(height)
    frame = blank(size)
    area = (height - bar - 3 * GAP, width - 2 * GAP)
    rows, columns, tile = grid_shape(len(pictures), area, pictures.shape[-1] / pictures.shape[-2])
    tile_w = round(tile * pictures.shape[-1] / pictures.shape[-2])
    top0 = GAP + (area[0] - (rows * tile + (rows - 1) * GAP)) // 2
    left0 = GAP + (area[1] - (columns * tile_w + (columns - 1) * GAP)) // 2
    for index, picture in enumerate(pictures):
        row, column = divmod(index, columns)
        top, left = top0 + row * (tile + GAP), left0 + column * (tile_w + GAP)
        place(frame, picture, top, left, (tile, tile_w))
        if index < len(labels):  # on a small dark plate in the tile's corner
            size = max(MIN_TEXT, bar // 2)
            label_box = (round(size * 1.5), min(tile_w, round(font(size).getlength(str(labels[index]))) + 8))
            caption(frame, str(labels[index]), top + tile - label_box[0], left, label_box, pad=4)
    spark_width = width // 4 if series else 0
    line_top = height - bar - GAP
    caption(frame, text, line_top, GAP, (bar, width - 3 * GAP - spark_width), template=template, fade=fade)
    if series:
        frame[:, line_top:line_top + bar, width - GAP - spark_width:width - GAP] = \
            sparkline(series, marker, (bar, spark_width))
    return frame


def lab_frame(panel: torch.Tensor, chart: Callable[[int, int], torch.Tensor], size: tuple[int, int],
              text: str = "", template: str | None = None) -> torch.Tensor:
    """The ``lab`` layout, landscape: the pictures (one composed (3, h, w) panel) fitted into
    the left half, the charts drawn for the right half (``chart(width, height)`` gives a
    picture of that size, so its text is drawn at its size, never scaled), and one caption line
    across the bottom."""
    height, width = size
    frame = blank(size)
    bar = max(24, round(height / 15)) if text else 0
    inner = height - 2 * GAP - (bar + GAP if text else 0)
    half = (width - 3 * GAP) // 2
    place(frame, panel, GAP, GAP, (inner, half))
    place(frame, chart(width - 3 * GAP - half, inner), GAP, 2 * GAP + half, (inner, width - 3 * GAP - half))
    if text:
        caption(frame, text, height - bar - GAP, GAP, (bar, width - 2 * GAP), template=template)
    return frame


def letterbox(picture: torch.Tensor, size: tuple[int, int], text: str = "") -> torch.Tensor:
    """One picture fitted into a frame of ``size`` (h, w), with an optional caption line."""
    height, width = size
    frame = blank(size)
    bar = max(24, round(height / 15)) if text else 0
    place(frame, picture, GAP, GAP, (height - 2 * GAP - bar, width - 2 * GAP))
    if text:
        caption(frame, text, height - bar - GAP // 2, GAP, (bar, width - 2 * GAP))
    return frame

