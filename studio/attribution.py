"""Attribution: which pixels a class score depends on.

Gradients (Simonyan et al.'s saliency), SmoothGrad (Smilkov et al.: the average over noisy
copies), guided backpropagation (Springenberg et al.: ReLUs pass only positive gradients back)
and occlusion (Zeiler & Fergus: the score's drop when a grey window hides part of the image).
All work on batches and leave the model untouched.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from studio.models import LoadedModel


def logits(model: LoadedModel, images: torch.Tensor) -> torch.Tensor:
    """(N, classes) scores of images (N, 3, H, W) in [0, 1]."""
    output = model.module(model.normalize(images))
    return getattr(output, "logits", output)


class _GuidedReLU(torch.autograd.Function):
    """clamp(x, low, high) forward; backward passes a gradient only where it is positive and
    the unit was active (Springenberg et al., 2015)."""

    @staticmethod
    def forward(ctx, inputs, low: float, high: float | None):
        ctx.save_for_backward(inputs)
        ctx.low, ctx.high = low, high
        return inputs.clamp(low, high)

    @staticmethod
    def backward(ctx, grad):
        (inputs,) = ctx.saved_tensors
        active = inputs > ctx.low
        if ctx.high is not None:
            active &= inputs < ctx.high
        return grad.clamp(min=0) * active, None, None


class guided_relus(TorchFunctionMode):
    """Within this context every ReLU (``relu``, ``relu6``, ``hardtanh(0, 6)``) of any model
    backpropagates guided. Nothing in the model changes, so a cached model stays as it was.

    ``count`` says how many ReLU calls were guided (0: the network has no ReLUs to guide).
    """

    RELUS = {F.relu, torch.relu, F.relu_, torch.relu_}

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self.RELUS:
            self.count += 1
            return _GuidedReLU.apply(args[0], 0.0, None)
        if func is F.relu6:
            self.count += 1
            return _GuidedReLU.apply(args[0], 0.0, 6.0)
        if func is F.hardtanh:
            low = kwargs.get("min_val", args[1] if len(args) > 1 else -1.0)
            high = kwargs.get("max_val", args[2] if len(args) > 2 else 1.0)
            if low == 0.0:
                self.count += 1
                return _GuidedReLU.apply(args[0], 0.0, high)
        return func(*args, **kwargs)


def class_gradient(model: LoadedModel, images: torch.Tensor, target: torch.Tensor | int,
                   guided: bool = False) -> torch.Tensor:
    """Gradient of each image's target logit with respect to its pixels.

    Args:
        model: a loaded model.
        images: (N, 3, H, W) in [0, 1].
        target: a class index, or (N,) indices.
        guided: backpropagate through guided ReLUs.

    Returns:
        (N, 3, H, W) gradients.
    """
    images = images.detach().clone().requires_grad_(True)
    mode = guided_relus() if guided else contextlib.nullcontext()
    with torch.enable_grad(), mode:
        scores = logits(model, images)
        chosen = torch.as_tensor(target, device=scores.device).expand(scores.shape[0])
        scores.gather(1, chosen.view(-1, 1)).sum().backward()
    return images.grad.detach()


def saliency_map(gradient: torch.Tensor) -> torch.Tensor:
    """Simonyan's map: |gradient|, max over colour. (N, 3, H, W) → (N, H, W).

    Example:
        >>> saliency_map(torch.tensor([[[[1.0]], [[-3.0]], [[2.0]]]]))
        tensor([[[3.]]])
    """
    return gradient.abs().amax(dim=1)


def smooth_saliency(model: LoadedModel, image: torch.Tensor, target: int, samples: int, noise: float,
                    generator: torch.Generator, batch: int = 16, guided: bool = False,
                    on_batch: Callable[[int], None] = lambda n: None) -> tuple[torch.Tensor, torch.Tensor]:
    """SmoothGrad: gradients averaged over ``samples`` copies with Gaussian noise.

    Args:
        image: (1, 3, H, W) in [0, 1].
        samples: noisy copies (0 = the plain gradient).
        noise: the noise's standard deviation as a fraction of the image's value range.
        generator: seeded CPU generator for the noise.

    Returns:
        (mean gradient (3, H, W), mean saliency map (H, W)).
    """
    if samples == 0:
        gradient = class_gradient(model, image, target, guided)
        on_batch(1)
        return gradient[0], saliency_map(gradient)[0]
    sigma = noise * float(image.max() - image.min())
    gradient_sum = torch.zeros_like(image[0])
    map_sum = torch.zeros_like(image[0, 0])
    # drawn at once, so the noise (and the map) does not depend on the batch size
    draws = torch.randn((samples, *image.shape[1:]), generator=generator)
    for start in range(0, samples, batch):
        count = min(batch, samples - start)
        gradients = class_gradient(model, image + sigma * draws[start:start + count].to(image.device),
                                   target, guided)
        gradient_sum += gradients.sum(dim=0)
        map_sum += saliency_map(gradients).sum(dim=0)
        on_batch(count)
    return gradient_sum / samples, map_sum / samples


def window_positions(length: int, window: int, stride: int) -> list[int]:
    """Window starts along one side, the last flush with the edge so every pixel is covered.

    Example:
        >>> window_positions(10, 4, 3)
        [0, 3, 6]
        >>> window_positions(11, 4, 3)
        [0, 3, 6, 7]
    """
    if window >= length:
        return [0]
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


FILLS = ("gray", "black", "mean", "blur", "noise")


def occlude(image: torch.Tensor, boxes: list[tuple[int, int, int, int]], fill: str = "gray",
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Copies of ``image`` (1, 3, H, W), copy i with box i = (top, left, height, width) hidden.

    Args:
        fill: what hides the box: ``gray`` (0.5, Zeiler & Fergus), ``black``, ``mean`` (the
            box's own mean colour: detail goes, colour stays), ``blur`` (a heavy Gaussian blur
            of the image) or ``noise`` (uniform noise from ``generator``).

    Example:
        >>> occlude(torch.ones(1, 3, 4, 4), [(0, 0, 2, 2)])[0, 0]
        tensor([[0.5000, 0.5000, 1.0000, 1.0000],
                [0.5000, 0.5000, 1.0000, 1.0000],
                [1.0000, 1.0000, 1.0000, 1.0000],
                [1.0000, 1.0000, 1.0000, 1.0000]])
    """
    copies = image.expand(len(boxes), -1, -1, -1).clone()
    blurred = None
    if fill == "blur":
        from kornia.filters import gaussian_blur2d

        sigma = max(image.shape[-2:]) / 16
        side = 2 * int(3 * sigma) + 1
        blurred = gaussian_blur2d(image, (side, side), (sigma, sigma), border_type="reflect")[0]
    for index, (top, left, height, width) in enumerate(boxes):
        window = copies[index, :, top:top + height, left:left + width]
        if fill == "mean":
            window[:] = window.mean(dim=(1, 2), keepdim=True)
        elif fill == "blur":
            window[:] = blurred[:, top:top + height, left:left + width]
        elif fill == "noise":
            window[:] = torch.rand(window.shape, generator=generator).to(window.device)
        else:
            window[:] = 0.0 if fill == "black" else 0.5
    return copies


def target_probability(model: LoadedModel, images: torch.Tensor, target: int) -> torch.Tensor:
    """(N,) softmax probability of class ``target``."""
    with torch.no_grad():
        return logits(model, images).softmax(dim=1)[:, target]


@dataclass
class Occlusion:
    """What hiding each window did: ``drops[i, j]`` is the probability lost with the window at
    (``tops[i]``, ``lefts[j]``); ``map`` spreads those over pixels (mean of the windows that
    cover each); ``baseline`` is the probability with nothing hidden."""

    map: torch.Tensor      # (H, W)
    drops: torch.Tensor    # (rows, columns)
    tops: list[int]
    lefts: list[int]
    baseline: float


def occlusion_map(model: LoadedModel, image: torch.Tensor, target: int, window: int, stride: int,
                  fill: str = "gray", generator: torch.Generator | None = None, batch: int = 32,
                  on_batch: Callable[[int], None] = lambda n: None) -> Occlusion:
    """Zeiler & Fergus: how much the target's probability drops when each region is hidden.

    Args:
        image: (1, 3, H, W) in [0, 1].
        window, stride: side of the square and its step, in pixels.
        fill: see :func:`occlude`.

    Returns:
        An :class:`Occlusion` (negative drops where hiding helps the class).
    """
    height, width = image.shape[-2:]
    tops, lefts = window_positions(height, window, stride), window_positions(width, window, stride)
    boxes = [(top, left, window, window) for top in tops for left in lefts]
    baseline = float(target_probability(model, image, target)[0])
    drops = []
    for start in range(0, len(boxes), batch):
        chunk = boxes[start:start + batch]
        drops.append(baseline - target_probability(model, occlude(image, chunk, fill, generator), target).cpu())
        on_batch(len(chunk))
    drops = torch.cat(drops).view(len(tops), len(lefts))
    total = torch.zeros(height, width)
    cover = torch.zeros(height, width)
    for row, top in enumerate(tops):
        for column, left in enumerate(lefts):
            total[top:top + window, left:left + window] += drops[row, column]
            cover[top:top + window, left:left + window] += 1
    return Occlusion(total / cover.clamp_min(1), drops, tops, lefts, baseline)


def overlay(image: torch.Tensor, heat: torch.Tensor, name: str = "inferno", strength: float = 0.75) -> torch.Tensor:
    """A heat map laid over a dimmed photo where it is strong.

    Args:
        image: (3, H, W) in [0, 1].
        heat: (H, W), any range; only its positive part shows.
    """
    from studio.output.images import colormap

    heat = heat.float().cpu().clamp_min(0)
    weight = (heat / heat.max().clamp_min(1e-12)).unsqueeze(0)
    colours = colormap(heat[None], name)[0]
    base = image.float().cpu() * 0.55
    return (base * (1 - strength * weight) + colours * strength * weight).clamp(0, 1)
