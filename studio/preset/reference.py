"""The preset format reference (``docs/presets.md``), generated from the schema itself: every
table, every kind and every key with its type, default and bounds, so the document cannot
drift from what the validator accepts (a test compares them).

``python -m studio.preset.reference > docs/presets.md`` writes it.
"""

from __future__ import annotations

import dataclasses
import importlib
import typing

from studio.preset.coerce import expectation
from studio.preset.schema import ModelSpec, OutputSpec, PresetInfo

MEANINGS = {
    "name": "the scene's output stem", "preset.name": "names the output folder: `a-z`, `0-9`, `-`, `_`",
    "model.name": "`efficientnet_lite0` (offline), a torchvision classifier name, or a checkpoint path",
    "loss_schedule.kind": "`constant`, `cyclic`, `flooding` or `piecewise` (negative multipliers ascend)",
    "title": "shown in the gallery", "description": "shown in the gallery (markdown)",
    "seed": "every random choice derives from it", "device": "where to render",
    "weights": "`DEFAULT`, `none` (random, from the seed), a torchvision enum name or a state-dict path",
    "dir": "root folder of renders (`--out` overrides it)", "stills": "write PNG stills",
    "video": "write MP4s", "frames": "also write every video frame as a PNG", "fps": "frames per second",
    "crf": "H.264 quality (0 lossless .. 51)", "upscale": "integer nearest-neighbour upscale of written images",
    "input": "`noise`, `uniform-noise`, `black`, `white`, `gray`, `builtin:NAME` or a path",
    "size": "working size `[width, height]` in pixels (default: the model's, photos keep their aspect)",
    "layer": "a layer by module path (`blocks.4`) or alias (`conv5_1`)", "layers": "several layers",
    "channels": '`"all"`, `"a:b"`, a list of indices, or an integer (a count for grids, else one index)',
    "channel": "one channel index", "steps": "optimisation steps (per octave where there are octaves)",
    "lr": "step size, `[start, end]` ramped over the run, or one `[start, end]` per octave",
    "octaves": "number of scales",
    "octave_scale": "size ratio between octaves",
    "blur": "Gaussian sigma between steps, `[start, end]`, or one `[start, end]` per octave",
    "blur_kernel": "the Gaussian kernel's side in pixels, odd (default: ±3 sigma)",
    "filter_size": "each kernel drawn about this many pixels wide",
    "jitter": "random shift in pixels each step", "rotate": "random rotation in degrees each step",
    "scale": "random scale range each step", "param": "`pixel`, or `fft` (spectral, colour-decorrelated)",
    "batch": "images per batch (default: what fits the device)", "weights.": "",
    "negative": "minimise instead: what the unit is against",
    "decorrelate": "pixel steps in natural images' colour statistics: no green or magenta casts (`pixel` only)",
    "margin": "pixels of context around the image, so the network's padding never frames the picture",
    "levels": "`as-is`, or `stretch`: the result's 0.5 % and 99.5 % tones become black and white (auto-levels; octave and upscale climbs end low in contrast)",
    "margin_fill": "that context: `wrap` (the picture continues into its opposite side; results tile) or `mirror` (photos)",
    "variants": "pictures per channel, climbed side by side", "diversity": "how hard the variants push apart",
    "maximize.lr": "step size: Adam's on the spectrum with `fft` (default 0.12), the mean pixel step with `pixel` (default 0.05); `[start, end]` ramps it, one pair per octave",
    "atlas.lr": "step size: Adam's on the spectrum with `fft` (default 0.12), the mean pixel step with `pixel` (default 0.05); `[start, end]` ramps it, one pair per octave",
    "columns": "cells per row of the grid (default: about square; 8 channels with `columns = 4`: 4 × 2, no hole)",
    "grid": "`[columns, rows]` of cells, one channel each (default: about square)",
    "blend": "fraction of a cell over which neighbouring cells cross-fade",
    "tile": "climb big images a tile at a time (pixels; automatic past a megapixel)",
    "upscale_steps": "seed 003's schedule: upscale this many times", "upscale_factor": "size ratio per upscale",
    "neurons": '`"all"` or the number of frames', "colormap": "matplotlib colour map",
    "top": "how many to show", "expect": "channels a hypothesis expects to rank high: their rank and whether they are in the top k", "target": '`"top"` (the predicted class) or a class index',
    "samples": "SmoothGrad's noisy copies (0: the plain gradient)", "noise": "SmoothGrad's noise, a fraction of the range",
    "window": "occluding square's side in pixels", "stride": "its step in pixels",
    "fill": "what hides the window", "images": "`builtin:*`, `builtin:lfw_subset`, `builtin:NAME`, a folder or file, or a list",
    "k": "neighbours per query", "queries": "rows of queries", "method": "`pca` or `tsne`",
    "tv_weight": "weight of the total-variation prior", "style": "the style image (texture: the sample)",
    "content_layer": "layer whose features the result keeps", "style_weight": "style against content (relative losses)",
    "dataset": "`faces`, `shapes` or a folder of class folders",
    "net": '`mlp2`, `small_cnn`, or `model`: fine-tune the preset\'s `[model]` with a new head',
    "hidden": "hidden units (mlp2) or channels (small_cnn)", "epochs": "training epochs",
    "snapshot_every": "epochs between frames", "batch_size": "examples per minibatch",
    "watch": "layer shown (default: the first; a model's middle stage)", "probe": "`dataset:N` or an image shown each snapshot",
    "image_size": "side of the training images (default 25; 128 for `model`)", "classes": "classes (shapes)", "per_class": "examples per class (shapes)",
    "optimizer": "`adam` or `sgd`",
    "dreams_every": "redraw the watched units' maximisation every N epochs from the same start (0: never; default: every snapshot for `model`)",
    "heldout": "fraction of each class held out, clean, for `heldout_accuracy`",
    "corruption": "table: see below", "loss_schedule": "table: see below",
    "label_noise": "fraction of labels replaced at random", "pixel_noise": "std of Gaussian noise on inputs",
    "conflicting": "fraction duplicated with a different label", "missing": "fraction of examples dropped",
    "occlude": "fraction of each image blanked", "points": "`[[epoch, multiplier], ...]` (piecewise)",
    "period": "epochs per cycle (cyclic)", "low": "lowest multiplier (cyclic)", "high": "highest multiplier (cyclic)",
    "level": "the flood level (flooding)",
    "ceiling": "a guard for ascent: while the multiplier is negative, a loss above this gives no gradient, so the network is pushed to be wrong up to this loss and no further (unset: no guard; see the README for the measured safe range of `low`)",
    "gradient_clip": "a guard: the gradient's total norm is clipped to this before every step (unset: no clipping)",
    "frames_per_channel": "frames from one visited channel to the next (tour)",
    "video_size": "the MP4's frame `[width, height]` (landscape 16:9 by default); pictures are fitted into it with a caption line that always fits",
    "layout": "`lab`: the pictures and the charts side by side; `film`: the watched units' pictures fill the frame, with one caption line and a loss sparkline",
    "dream_start": "`fixed`: every snapshot's pictures from the same seeded start; `warm`: each goes on from the last snapshot's, so a unit's picture changes as its weights do",
    "dream_steps_warm": "steps per snapshot when `dream_start = \"warm\"`",
    "tween": "frames between consecutive snapshots (frames), interpolated in the pictures' parameterisation (spectra), not cross-faded",
    "progressive.tween": "frames between consecutive frames (one more neuron each), interpolated in the pictures' parameterisation",
    "tour.tween": "frames between consecutive optimised frames, interpolated in their spectra (a long film from a few optimised frames)",
    "snapshot_every_steps": "also a snapshot every N optimiser steps (film layout): a 12-epoch fine-tune of 4 steps an epoch gives 48; 0: per epoch only",
    "dream_size": "pixels a side of the units' pictures (net = \"model\"); default: as large as the film layout shows them, else `image_size`",
    "frame_start": "`fixed`: every frame from the same seeded start (all frames one batch); `warm`: each frame goes on from the one before",
    "steps_warm": "steps per frame after the first when `frame_start = \"warm\"`",
    "zoom.frames": "frames in the film", "zoom.input": "the first frame: `noise`, `black`, `white`, `gray`, "
    "`builtin:NAME` or a path",
    "zoom.zoom": "scale per frame (above 1 moves in): a number or a schedule, `\"0:(1.02), 120:(1.0)\"`",
    "zoom.angle": "degrees turned per frame (counter-clockwise): a number or a schedule",
    "zoom.translation_x": "pixels moved per frame, at the working size: a number or a schedule",
    "zoom.translation_y": "pixels moved per frame, at the working size: a number or a schedule",
    "zoom.steps": "dream steps per dreamt frame (per octave): a number or a schedule",
    "zoom.lr": "dream step size (mean pixel move per step): a number or a schedule",
    "zoom.weights": "per layer: a number or a schedule (an array in `layers` order, or a table by name); "
    "the dream can travel through depth",
    "zoom.cadence": "dream every k-th frame; the frames between are the camera's move, cross-faded into the next "
    "dreamt frame",
    "zoom.colour_coherence": "`first`: every frame keeps frame 0's colours (Lab mean and spread); `none`",
    "zoom.border": "what the camera sees past the frame: `reflect`, `wrap` or `zeros`",
    "zoom.channels": "dream only these channels of each layer",
    "zoom.size": "the film's frame `[width, height]` in pixels (tiles past a megapixel)",
    "zoom.param": "`pixel` only: the loop feeds pictures back",
}


def _default(field: dataclasses.Field) -> str:
    if field.default is not dataclasses.MISSING:
        value = field.default
    elif field.default_factory is not dataclasses.MISSING:
        return "(table)"
    else:
        return "required"
    if value is None:
        return "—"
    if isinstance(value, tuple) and field.metadata.get("reversed"):
        value = value[::-1]  # shown as the preset writes it
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "`[" + ", ".join(map(str, value)) + "]`"
    return f"`{value}`"


def _bounds(field: dataclasses.Field) -> str:
    meta = field.metadata
    parts = []
    if "min" in meta:
        parts.append(f"≥ {meta['min']}")
    if "below" in meta:
        parts.append(f"< {meta['below']}")
    if "max" in meta:
        parts.append(f"≤ {meta['max']:,}" if isinstance(meta["max"], int) else f"≤ {meta['max']}")
    return ", ".join(parts)


def table(cls: type, prefix: str = "") -> list[str]:
    """Markdown rows of a dataclass's keys (``prefix``: the table's name, for meanings)."""
    hints = typing.get_type_hints(cls)
    rows = ["| key | accepts | default | bounds | meaning |", "|---|---|---|---|---|"]
    for field in dataclasses.fields(cls):
        if field.name == "kind" and not prefix.endswith("schedule"):
            continue  # a scene's kind heads its section
        accepts = expectation(hints[field.name]).replace("|", "\\|")
        if field.metadata.get("reversed"):
            accepts = "[width, height]"
        rows.append(f"| `{field.name}` | {accepts} | {_default(field)} | {_bounds(field)} | "
                    f"{MEANINGS.get(f'{prefix}.{field.name}', MEANINGS.get(field.name, ''))} |")
    return rows


def reference() -> str:
    """The whole reference as markdown."""
    from studio.scenes import KINDS

    lines = ["# Preset reference", "",
             "Generated from studio's schema (`python -m studio.preset.reference > docs/presets.md`); a test "
             "keeps it equal to what the validator accepts. A preset is TOML: the tables below, then one "
             "`[[scenes]]` table per scene with a `kind`. Unknown keys are refused with a \"did you mean\". "
             "`extends = \"base.toml\"` merges another preset under this one (tables merge, arrays replace). "
             "Sizes are written `[width, height]`.", ""]
    for title, cls in (("preset", PresetInfo), ("model", ModelSpec), ("output", OutputSpec)):
        lines += [f"## `[{title}]`", "", *table(cls, title), ""]
    lines += ["## Scenes", "", "Every scene takes `kind` (required) and `name` (its output stem; default: "
              "the kind, then kind-2, kind-3, ...).", ""]
    for kind, module_path in KINDS.items():
        module = importlib.import_module(module_path)
        summary = " ".join((module.__doc__ or "").strip().split("\n\n")[0].split())
        lines += [f"### `{kind}`", "", summary, "", *table(module.Section, kind), ""]
        for name, hint in typing.get_type_hints(module.Section).items():
            if dataclasses.is_dataclass(hint):
                lines += [f"`[scenes.{name}]`:", "", *table(hint, name), ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(reference(), end="")
