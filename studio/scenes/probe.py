"""`probe`: which channels of a layer respond to an image? Mean activation per channel, top k.

Seed 003's hypothesis test: after visualising a channel, check that a matching photo excites it.
"""

from __future__ import annotations


import torch

from studio.frames import Record, Still
from studio.models import LayerTap
from studio.output.images import colormap, enlarge, figure_image, labelled_grid
from studio.scenes.base import SceneContext, layer_label
from studio.scenes.feature_maps import MIN_TILE, as_maps


def bar_chart(means: torch.Tensor, top: list[int], title: str) -> torch.Tensor:
    """Mean activation per channel as bars, the top channels highlighted and labelled."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 4.5), dpi=100, facecolor="#101014")
    axes = figure.add_subplot()
    axes.set_facecolor("#101014")
    values = means.tolist()
    colours = ["#5a5a6a"] * len(values)
    for channel in top:
        colours[channel] = "#ffb000"
    axes.bar(range(len(values)), values, width=1.0, color=colours)
    for rank, channel in enumerate(top[:10]):
        axes.annotate(str(channel), (channel, values[channel]), textcoords="offset points",
                      xytext=(0, 3 + 9 * (rank % 2)), ha="center", color="#ffd060", fontsize=8)
    axes.set_title(title, color="#e0e0e6")
    axes.set_xlabel("channel", color="#c0c0c8")
    axes.set_ylabel("mean activation", color="#c0c0c8")
    axes.tick_params(colors="#a0a0a8")
    for spine in axes.spines.values():
        spine.set_color("#505058")
    axes.set_xlim(-1, len(values))
    figure.tight_layout()
    return figure_image(figure)


class Scene:
    kind = "probe"

    def __init__(self, context: SceneContext):
        self.context = context
        scene = context.scene
        self.model = context.model()
        self.path = context.layer(self.model, scene.layer)
        self.image = context.input(self.model.input_size)
        with torch.no_grad():
            self.maps = as_maps(LayerTap(self.model, [self.path])(self.image)[self.path][0]).float().cpu()
        self.total = 1

    def render(self, progress):
        scene = self.context.scene
        means = self.maps.mean(dim=(1, 2))
        k = min(scene.top, means.numel())
        order = torch.argsort(means, descending=True, stable=True)[:k].tolist()
        label = layer_label(self.model, self.path)
        yield Still(bar_chart(means, order, f"{label}: mean activation per channel for {scene.input} "
                                            f"(top {k} highlighted)"))
        tiles = enlarge(colormap(self.maps[order]), MIN_TILE)
        yield Still(labelled_grid(tiles, [f"{c}: {means[c]:.3g}" for c in order],
                                  title=f"{label}: the {k} strongest maps"), name="top")
        yield Record("layer", self.path)
        yield Record("input", scene.input)
        yield Record("top", [{"channel": c, "mean": round(float(means[c]), 6)} for c in order])
        yield Record("means", [round(float(v), 6) for v in means])
        progress.update(1)
