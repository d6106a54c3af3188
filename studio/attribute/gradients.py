"""Gradients of a class score with respect to the pixels: Simonyan et al.'s saliency,
SmoothGrad (Smilkov et al.: the average over noisy copies) and guided backpropagation
(Springenberg et al.: ReLUs pass only positive gradients back). All work on batches and leave
the model untouched.
"""

from __future__ import annotations

import contextlib
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
