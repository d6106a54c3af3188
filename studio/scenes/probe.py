"""`probe`: which channels of a layer respond to an image? Mean activation per channel, top k.

Seed 003's hypothesis test: after visualising a channel, check that a matching photo excites it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.coerce import Problem
from studio.preset.fields import InputImage, SceneSection, meta, need_layer
from studio.preset.limits import MAX_CHANNELS, Limits
from studio.scenes.feature_maps import MIN_TILE
from studio.scenes.support.labels import layer_label
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
budget = lazy("studio.budget")
models = lazy("studio.models")
features = lazy("studio.models.features")
charts = lazy("studio.pictures.charts")
colour = lazy("studio.pictures.colour")
layout = lazy("studio.pictures.layout")


@dataclass(frozen=True)
class Section(SceneSection, InputImage):
    WHAT = "a `probe` scene"
    layer: str | None = None
    """A layer by module path (`blocks.4`) or alias (`conv5_1`)."""
    top: int = field(default=15, **meta(min=1, max=MAX_CHANNELS))
    """How many to show."""
    expect: tuple[int, ...] = field(default=(), **meta(min=0))  # channels the hypothesis says should rank high
    """Channels a hypothesis expects to rank high: their rank and whether they are in the top k."""

    def check(self, limits: Limits):
        need_layer(self, "blocks.5")
        if len(set(self.expect)) != len(self.expect):
            raise Problem("expect", "a channel is listed twice", "distinct channel indices", list(self.expect))


class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        section = context.section
        self.model = context.model()
        self.path = context.layer(self.model, section.layer)
        self.image = context.input(section.input, section.size, self.model.input_size)
        self.step = context.plan_step(self.model, [self.path], 1, tuple(self.image.shape[-2:]), backward=False,
                                      what="the forward pass")
        with torch.no_grad():
            activation = models.LayerTap(self.model, [self.path])(self.image)[self.path][0]
            self.maps = features.as_maps(activation).float().cpu()
        self.expect = context.channels(list(section.expect), self.maps.shape[0], key="expect") if section.expect else []
        self.total = 1
        self.fixed_seconds = budget.FIRST_CHART_SECONDS  # its bar chart

    def render(self, progress):
        section = self.context.section
        means = self.maps.mean(dim=(1, 2))
        k = min(section.top, means.numel())
        ranking = torch.argsort(means, descending=True, stable=True).tolist()
        order = ranking[:k]
        rank = {channel: place + 1 for place, channel in enumerate(ranking)}
        expected = [{"channel": c, "rank": rank[c], "in_top": rank[c] <= k} for c in self.expect]
        label = layer_label(self.model, self.path)
        verdict = ", ".join(f"{e['channel']} is #{e['rank']}" for e in expected)
        yield Still(charts.bar_chart(means, order, f"{label}: mean activation per channel for {section.input} "
                                                   f"(top {k} highlighted" + (f"; expected {verdict})" if expected
                                                                               else ")"),
                                     {e["channel"]: e["rank"] for e in expected}))
        tiles = layout.enlarge(colour.colormap(self.maps[order]), MIN_TILE)
        yield Still(layout.labelled_grid(tiles, [f"{c}: {means[c]:.3g}" for c in order],
                                         title=f"{label}: the {k} strongest maps"), name="top")
        yield Record("layer", self.path)
        yield Record("input", section.input)
        yield Record("top", [{"channel": c, "mean": round(float(means[c]), 6)} for c in order])
        yield Record("means", [round(float(v), 6) for v in means])
        if expected:
            yield Record("expect", expected)
        progress.update(1)
