"""`tour`: a smooth video from one channel's picture to the next (Distill's aligned
interpolation): every frame is optimised in one batch, sharing low-resolution parameters with
its neighbours while its objective blends from one channel to the next."""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.frames import Frame, Record, Still
from studio.lazy import lazy
from studio.preset.coerce import Problem
from studio.preset.fields import SceneSection, Transforms, Video, check_channels, meta, need_layer, rate, side, steps
from studio.preset.limits import Limits
from studio.scenes.support.labels import as_wh, layer_label
from studio.scenes.support.scene import SceneBase

torch = lazy("torch")
models = lazy("studio.models")
optimize = lazy("studio.optimize")
touring = lazy("studio.optimize.morph")
layout = lazy("studio.pictures.layout")
film = lazy("studio.pictures.film")


@dataclass(frozen=True)
class Section(SceneSection, Transforms, Video):
    WHAT = "a `tour` scene"
    layer: str | None = None
    """A layer by module path (`blocks.4`) or alias (`conv5_1`)."""
    channels: tuple[int, ...] = ()
    """The channels visited, in order: a list of two or more indices (`[3, 17, 42, 3]` comes back to the start)."""
    frames_per_channel: int = field(default=24, **meta(min=1, max=600))
    """Frames from one visited channel to the next (tour)."""
    size: tuple[int, int] | None = side((128, 128))
    """Working size `[width, height]` in pixels (default: the model's, photos keep their aspect)."""
    steps: int = steps(256)
    """Optimisation steps of the whole tour (its frames climb together)."""
    lr: float | tuple[float, float] = rate(0.05)
    """Adam's step size, or `[start, end]` ramped over the run."""
    jitter: int = field(default=4, **meta(min=0, max=512))
    """Random shift in pixels each step."""
    rotate: float = field(default=0.0, **meta(min=0.0, max=180.0))
    """Random rotation in degrees each step."""
    scale: tuple[float, float] = field(default=(1.0, 1.0), **meta(min=0.1, max=10.0))
    """Random scale range each step."""
    tween: int = field(default=0, **meta(min=0, max=120))
    """Frames between consecutive optimised frames, interpolated in their spectra (a long film from a few optimised
    frames)."""

    def check(self, limits: Limits):
        need_layer(self, "blocks.4")
        if len(self.channels) < 2:
            raise Problem("channels", "a tour needs two channels or more", "the channels visited, in order, "
                          "such as [3, 17, 42, 3]", list(self.channels))
        check_channels(self.channels, limits)
        optimised = (len(self.channels) - 1) * self.frames_per_channel + 1
        frames = optimised + (optimised - 1) * self.tween
        if frames > limits.frames:
            raise Problem("frames_per_channel", f"over the limit of {limits.frames} frames",
                          f"((channels - 1) × frames_per_channel + 1) frames, each but the last followed by "
                          f"`tween` more, at most {limits.frames}", f"{frames} frames")
        if self.param != "fft":
            raise Problem("param", "a tour is spectral", '"fft" (aligned interpolation shares spectra)', self.param)

    def draft_changes(self) -> dict:
        return {**super().draft_changes(), "frames_per_channel": min(self.frames_per_channel, 4),
                "tween": min(self.tween, 1)}


class Scene(SceneBase):
    def __init__(self, context):
        self.context = context
        section = context.section
        self.model = context.model()
        self.path = context.layer(self.model, section.layer)
        self.size = section.size
        shape = optimize.check_smallest_size(self.model, [self.path], self.size, context.source,
                                             context.key("size"))[self.path]
        self.channels = context.channels(tuple(section.channels), shape[0])
        self.frames = (len(self.channels) - 1) * section.frames_per_channel + 1
        chunk = min(self.frames, touring.chunk_size(self.size))
        chunks = -(-self.frames // chunk)  # a step climbs every frame, a chunk at a time
        self.step = context.plan_step(self.model, [self.path], chunk, self.size, what=f"a chunk of {chunk} frames",
                                      units=1 / chunks)
        self.total = section.steps
        self.film = (self.frames + section.tween * (self.frames - 1), section.video_size)

    def render(self, progress):
        section = self.context.section
        settings = optimize.Settings(section.steps, optimize.Ramp.of(section.lr),
                                     robustness=optimize.Robustness(section.jitter, section.rotate, section.scale))
        curves = {}
        frames = touring.tour(self.model, self.path, self.channels, section.frames_per_channel, settings,
                              self.context.generator("tour"), self.size, progress.update, curves)
        label = layer_label(self.model, self.path)
        for index, frame in enumerate(frames):
            leg, offset = divmod(index, section.frames_per_channel)
            words = (f"{label} channel {self.channels[leg]}" if offset == 0 else
                     f"{label} channel {self.channels[leg]} to {self.channels[leg + 1]}")
            if index:  # frames between optimised ones, interpolated in their spectra
                passing = f"{label} channel {self.channels[leg - (offset == 0)]} to {self.channels[leg + (offset > 0)]}"
                for between in optimize.param.tweens(frames[index - 1:index], frames[index:index + 1], section.tween):
                    yield Frame(film.letterbox(between[0], section.video_size, passing))
            yield Frame(film.letterbox(frame, section.video_size, words))
        keys = frames[::section.frames_per_channel]
        for number, (channel, image) in enumerate(zip(self.channels, keys)):
            yield Still(image, name=f"{section.layer}-{number:02d}-{channel:04d}")
        yield Still(layout.labelled_grid(keys, [str(c) for c in self.channels], columns=len(self.channels),
                                         title=f"{self.model.name} {label}: a tour of {len(self.channels)} channels"))
        between_keys = (keys[1:] - keys[:-1]).abs().mean(dim=(1, 2, 3))
        yield Record("layer", self.path)
        yield Record("channels", self.channels)
        yield Record("size", as_wh([self.size])[0])
        yield Record("objective", curves.get("score", []))
        # mean |Δpixel| in [0, 1] of the pictures, frame to frame, against jumping from key to key (a cut)
        steps_between = (frames[1:] - frames[:-1]).abs().mean(dim=(1, 2, 3))
        yield Record("picture_change", {"mean": round(float(steps_between.mean()), 6),
                                        "max": round(float(steps_between.max()), 6)})
        yield Record("key_change", [round(float(value), 6) for value in between_keys])
        with torch.no_grad():
            activations = models.LayerTap(self.model, [self.path])(keys.to(self.model.device))
            reached = optimize.objectives.channel(self.path, torch.tensor(self.channels))(activations)
        yield Record("key_activation", [round(float(value), 6) for value in reached])
