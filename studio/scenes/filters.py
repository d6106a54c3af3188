"""`filters`: the learned kernels of a convolution, drawn as pictures.

Seed 000 looks at "the filters and feature maps" of hidden layers; a first layer's filters are the
one place where weights are pictures themselves (colour-opponent blobs and oriented edges in a
trained network, noise in an untrained one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.errors import PresetError
from studio.frames import Record, Still
from studio.lazy import lazy
from studio.preset.fields import Channels, Grid, SceneSection, check_count, meta
from studio.preset.limits import Limits
from studio.scenes.support.labels import layer_label
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
nn = lazy("torch.nn")
colour = lazy("studio.pictures.colour")
layout = lazy("studio.pictures.layout")


@dataclass(frozen=True)
class Section(Grid, SceneSection):
    WHAT = "a `filters` scene"
    layer: str | None = None  # a convolution, or a block whose first convolution is shown; default the first
    """A layer by module path (`blocks.4`) or alias (`conv5_1`)."""
    channels: Channels = "all"
    """`"all"`, `"a:b"`, a list of indices, or a count N (the first N kernels)."""
    filter_size: int = field(default=48, **meta(min=8, max=512))  # each kernel drawn about this many px wide
    """Each kernel drawn about this many pixels wide."""

    def check(self, limits: Limits):
        check_count(self.channels, limits)


def kernel_pictures(weight: torch.Tensor) -> torch.Tensor:
    """Convolution kernels as pictures in [0, 1], grey at zero, each scaled by its own largest
    magnitude so weak filters stay visible (the sign, not the scale, is what reads).

    Args:
        weight: (out, in, kh, kw). With three input channels each kernel is an RGB picture;
            otherwise its mean over the input channels, colour-mapped.

    Returns:
        (out, 3, kh, kw).

    Example:
        >>> kernel_pictures(torch.tensor([[[[1.0, -1.0]]] * 3])).squeeze().tolist()
        [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]
    """
    weight = weight.detach().float().cpu()
    if weight.shape[1] != 3:
        weight = weight.mean(dim=1, keepdim=True)
    peak = weight.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
    pictures = 0.5 + 0.5 * weight / peak
    return pictures if pictures.shape[1] == 3 else colour.colormap(pictures[:, 0], "twilight", span=(0.0, 1.0))


class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        section = context.section
        self.model = context.model()
        self.path, self.conv = self._convolution(section.layer)
        out_channels = self.conv.weight.shape[0]
        self.channels = context.channels(section.channels, out_channels, count_means_first=True)
        self.total = 1

    def seconds(self) -> float:
        return 0.0  # kernels drawn as they are: no pass through the network

    def _convolution(self, layer: str | None) -> tuple[str, nn.Module]:
        root = self.model.module
        path = self.context.layer(self.model, layer) if layer else ""
        start = root.get_submodule(path) if path else root
        if isinstance(start, nn.Conv2d):
            return path, start
        for name, module in start.named_modules():
            if isinstance(module, nn.Conv2d):
                return ".".join(p for p in (path, name) if p), module
        raise PresetError(self.context.source, self.context.key("layer"),
                          f"{self.model.name} has no convolution at or inside `{layer or 'the network'}`",
                          expected="a convolution or a block that holds one (see `studio layers MODEL`)")

    def render(self, progress):
        section = self.context.section
        weight = self.conv.weight[self.channels]
        pictures = layout.enlarge(kernel_pictures(weight), section.filter_size)
        out, inputs, height, width = self.conv.weight.shape
        title = (f"{layer_label(self.model, self.path)}: {len(self.channels)} of {out} filters, "
                 f"{width}x{height}x{inputs} ({self.model.weights} weights)")
        yield Still(layout.labelled_grid(pictures, [str(c) for c in self.channels], title=title,
                                         columns=section.columns))
        norms = weight.detach().float().flatten(1).norm(dim=1)
        yield Record("layer", self.path)
        yield Record("shape", [out, inputs, height, width])
        yield Record("norms", [round(float(n), 6) for n in norms])
        progress.update(1)
