"""Charts drawn with matplotlib off screen: bar charts of channel responses, training curves."""

from __future__ import annotations

import math

import torch
from PIL import Image

from studio.pictures.colour import from_pil

DARK = "#101014"


def figure_image(figure) -> torch.Tensor:
    """A matplotlib Figure drawn off screen (Agg) as a (3, H, W) image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return from_pil(Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()))


def bar_chart(means: torch.Tensor, top: list[int], title: str, expected: dict[int, int] | None = None) -> torch.Tensor:
    """Mean activation per channel as bars: the ``top`` channels highlighted, the ``expected``
    ones (channel → rank: a hypothesis to test) in another colour, every highlighted bar
    labelled with its channel (and the expected ones with their rank)."""
    expected = expected or {}
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 4.5), dpi=100, facecolor=DARK)
    axes = figure.add_subplot()
    axes.set_facecolor(DARK)
    values = means.tolist()
    # Every channel as one filled step outline, then bars over it for the highlighted few: the
    # same picture as a bar per channel, at a third of the drawing time (320 bars cost 0.4 s on a CPU).
    axes.stairs(values, [index - 0.5 for index in range(len(values) + 1)], fill=True, color="#5a5a6a")
    for channels, colour in ((list(top), "#ffb000"), (list(expected), "#3ec1ff")):
        if channels:
            axes.bar(channels, [values[c] for c in channels], width=1.0, color=colour)
    from matplotlib.patheffects import withStroke

    outline = [withStroke(linewidth=2.5, foreground=DARK)]  # a label stays readable across a bar
    labelled = list(dict.fromkeys(list(top) + list(expected)))
    for number, channel in enumerate(labelled):
        text = f"{channel} (#{expected[channel]})" if channel in expected else str(channel)
        below = values[channel] < 0  # a label sits beyond its bar's end, never on it
        axes.annotate(text, (channel, values[channel]), textcoords="offset points",
                      xytext=(0, (-1 if below else 1) * (3 + 9 * (number % 3))), va="top" if below else "bottom",
                      ha="center", color="#7fd8ff" if channel in expected else "#ffd060", fontsize=7,
                      path_effects=outline)
    axes.set_title(title, color="#e0e0e6")
    axes.set_xlabel("channel", color="#c0c0c8")
    axes.set_ylabel("mean activation", color="#c0c0c8")
    axes.tick_params(colors="#a0a0a8")
    for spine in axes.spines.values():
        spine.set_color("#505058")
    axes.set_xlim(-1, len(values))
    axes.margins(y=0.14)  # room for the labels above the tallest bars
    figure.tight_layout()
    return figure_image(figure)


ACCURACY_LINES = (("accuracy", "training accuracy (labels as given)", "#60c0ff", ":"),
                  ("clean_accuracy", "clean accuracy (true labels)", "#40e0a0", "--"),
                  ("heldout_accuracy", "held-out accuracy", "#ffffff", "-"))


def decade_ticks(low: float, high: float, threshold: float, most: int = 6) -> list[float]:
    """Ticks for a symlog axis from ``low`` to ``high``: 0 and the powers of ten beyond the
    linear ``threshold`` on each side, every second (third, ...) decade where more than
    ``most`` would crowd.

    Example:
        >>> decade_ticks(-1e5, 1e3, 1.0)
        [-100000.0, -1000.0, -10.0, 0.0, 10.0, 1000.0]
    """
    first = math.ceil(math.log10(threshold))

    def side(extent: float) -> list[int]:
        return list(range(first, math.floor(math.log10(extent)) + 1)) if extent >= 10 ** first else []

    negative, positive = side(-low), side(high)
    for every in range(1, 64):  # both sides count decades from ``first``: keep the every-th
        ticks = sorted([-10.0 ** k for k in negative[every - 1::every]] + [0.0]
                       + [10.0 ** k for k in positive[every - 1::every]])
        if len(ticks) <= most:
            return ticks
    return [0.0]


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decade_label(value: float, _position=None) -> str:
    """A symlog tick's label in plain text: decimals near 1, ``10⁴`` beyond (matplotlib's own
    labels are mathtext, whose parser leaves cycles that hold every caller's frame, a film's
    frame pixels among them, until the cyclic collector runs).

    Example:
        >>> [decade_label(v) for v in (0.0, 0.01, 1000.0, -1e5)]
        ['0', '0.01', '1000', '−10⁵']
    """
    if value == 0:
        return "0"
    power = round(math.log10(abs(value)))
    text = f"{abs(value):g}" if -3 <= power <= 3 else "10" + str(power).translate(SUPERSCRIPT)
    return ("−" if value < 0 else "") + text


def loss_chart(history, epoch: int, width: int, height: int = 250, chance: float | None = None,
               titled: bool = True) -> torch.Tensor:
    """Loss (and the scheduled objective) and the accuracies over all epochs, ``epoch`` marked,
    with a legend, as a (3, H, W) picture: see :func:`loss_figure`."""
    return figure_image(loss_figure(history, epoch, width, height, chance, titled))


def legend_columns(labels: list[str], width: int) -> int:
    """Entries a legend row holds inside ``width`` px (6.5 pt labels: about 5 px a character,
    34 px of line and padding an entry): all of them when they fit, else as many rows as needed.

    Example:
        >>> legend_columns(["loss", "held-out accuracy"], 600), legend_columns(["a" * 40] * 4, 600)
        (2, 2)
    """
    for columns in range(len(labels), 0, -1):  # matplotlib fills column by column, each as wide as its widest
        rows = -(-len(labels) // columns)
        if (columns - 1) * rows >= len(labels):  # a column left empty: the same rows with fewer columns
            continue
        widths = [max(len(label) for label in labels[column * rows:(column + 1) * rows] or [""])
                  for column in range(columns)]
        if sum(5.0 * chars + 34 for chars in widths) + 24 <= width:
            return columns
    return 1


def loss_figure(history, epoch: int, width: int, height: int = 250, chance: float | None = None,
                titled: bool = True):
    """The matplotlib figure of :func:`loss_chart`. A loss that explodes is drawn on a symlog
    axis with one tick a decade (six at most); a run whose held-out (or clean) accuracy sits at
    ``chance`` says so in its title, in red. ``titled = False``: no title (a video frame says it
    in a caption line that always fits)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter

    dpi = 100
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor=DARK)
    axes = figure.add_subplot()
    axes.set_facecolor(DARK)
    epochs = list(range(1, len(history.loss) + 1))  # history[i] is measured after epoch i + 1
    lines = axes.plot(epochs, history.loss, color="#ffb000", linewidth=1.2, label="loss")
    if any(abs(m - 1.0) > 1e-9 for m in history.multiplier) or history.objective != history.loss:
        lines += axes.plot(epochs, history.objective, color="#ff6060", linewidth=0.9, linestyle="--",
                           label="objective (scheduled)")
    values = [abs(v) for v in history.loss + history.objective]
    if max(values) > 50 * max(sorted(values)[len(values) // 2], 1e-6):
        # a loss that explodes (gradient ascent) would flatten the rest of the curve
        threshold = max(sorted(values)[len(values) // 2], 1e-3)
        axes.set_yscale("symlog", linthresh=threshold)
        # decades only, six at most: the default crowds labels into each other
        signed = history.loss + history.objective
        axes.yaxis.set_major_locator(FixedLocator(decade_ticks(min(signed), max(signed), threshold)))
        axes.yaxis.set_major_formatter(FuncFormatter(decade_label))
        axes.yaxis.set_minor_formatter(NullFormatter())
    accuracy = axes.twinx()
    shown = {}
    for key, label, colour, style in ACCURACY_LINES:
        series = getattr(history, key, [])
        if series and not (key == "clean_accuracy" and series == history.accuracy):
            lines += accuracy.plot(epochs[:len(series)], series, color=colour, linewidth=0.9, alpha=0.85,
                                   linestyle=style, label=label)
            shown[key] = series
    accuracy.set_ylim(0, 1.02)
    accuracy.tick_params(colors="#8090a0", labelsize=7)
    marker = min(max(math.ceil(epoch) - 1, 0), len(history.loss) - 1)  # inside an epoch: the one under way
    axes.axvline(epoch, color="#ffffff", linewidth=0.8, alpha=0.7)
    if epoch:
        axes.plot([epoch], [history.loss[marker]], "o", color="#ffffff", markersize=4)
    axes.set_xlim(0, len(history.loss))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("epoch", color="#a0a0a8", fontsize=7, labelpad=1)
    title = f"epoch {epoch:g}   loss {history.loss[marker]:.4g}   training accuracy {history.accuracy[marker]:.0%}"
    judged = shown.get("heldout_accuracy") or shown.get("clean_accuracy")
    if judged:
        title += f"   {'held-out' if 'heldout_accuracy' in shown else 'clean'} {judged[marker]:.0%}"
        if chance is not None and epoch > 0 and judged[marker] <= chance + 0.02:
            title += "   - at chance: the network has collapsed"
    if epoch == 0:
        title = "epoch 0: untrained"
    if titled:
        axes.set_title(title, color="#ff8080" if "collapsed" in title else "#e0e0e6", fontsize=9)
    axes.tick_params(colors="#a0a0a8", labelsize=7)
    for spine in list(axes.spines.values()) + list(accuracy.spines.values()):
        spine.set_color("#505058")
    # beneath the plot, so it never hides a curve
    labels = [line.get_label() for line in lines]
    columns = legend_columns(labels, width)
    figure.legend(lines, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0),
                  fontsize=6.5, ncol=columns, facecolor="#202028", labelcolor="#d0d0d0", edgecolor="#404048")
    rows = -(-len(labels) // columns)
    # margins in pixels (ticks and legend keep their size whatever the chart's size)
    figure.subplots_adjust(left=min(0.3, 52 / width), right=1 - min(0.3, 40 / width),
                           top=1 - min(0.3, (28 if titled else 10) / height),
                           bottom=min(0.5, (62 + 12 * (rows - 1)) / height))
    return figure
