"""The same renders on CUDA (skipped where there is none): they run, climb, reproduce, and agree
with the CPU in what they find."""

import pytest
import torch

from studio.models import load_model
from studio.optimize import Ascent, Ramp, Robustness, Settings, objectives

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]


def climb(device, channels=(0, 3, 5, 9), size=64, steps=16, tile=None, param="fft"):
    model = load_model("efficientnet_lite0", device=device)
    objective = objectives.channel("blocks.3", torch.tensor(channels, device=device))
    settings = Settings(steps, Ramp(0.05, 0.05), Ramp(0.0, 0.0), Robustness(4, 5.0, (0.95, 1.05)),
                              param, tile)
    ascent = Ascent(model, objective, settings, torch.Generator().manual_seed(0))
    start = (0.5 + 0.05 * torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    start = start.to(device).expand(len(channels), -1, -1, -1)
    before = ascent.score(start).detach()
    result = ascent.run(start, [(size, size)])
    return result, before, ascent.score(result).detach()


def test_cuda_climbs_and_reproduces():
    first, before, after = climb("cuda")
    assert (after > before).all()
    again, _, _ = climb("cuda")
    assert torch.equal(first, again)


def test_cuda_and_cpu_find_similar_activations():
    _, _, gpu = climb("cuda")
    _, _, cpu = climb("cpu")
    assert torch.allclose(gpu.cpu(), cpu, rtol=0.25)


def test_cuda_tiled_dream_climbs():
    model = load_model("efficientnet_lite0", device="cuda")
    settings = Settings(4, Ramp(0.02, 0.02), param="pixel", tile=64, halo=32)
    ascent = Ascent(model, objectives.layer_l2("blocks.2"), settings, torch.Generator().manual_seed(0))
    image = torch.full((1, 3, 192, 192), 0.5, device="cuda")
    image = image + 0.05 * torch.randn(1, 3, 192, 192, generator=torch.Generator()).to("cuda")
    assert ascent.score(ascent.run(image, [(192, 192)])).item() > ascent.score(image).item()


def test_cuda_warp_kernels_repeat_and_match_grid_sample():
    """The Triton warp gives the same pixels and gradient twice, and, as closely as the warp
    written in torch operations (the one used where Triton is missing), those of grid_sample in
    float64. (A first version of this test held the two float32 warps to 1e-5 of each other and
    failed on an H200: float32 coordinates put each about 1e-5 off the exact values.)"""
    from studio.optimize.cuda_warp import warp_function
    from studio.optimize.transform import FILL, _AdjointWarp, _sample, sampling_affine

    kernels = warp_function()
    assert kernels is not None
    images = torch.rand(4, 3, 96, 80, generator=torch.Generator().manual_seed(0))
    upstream = torch.rand(images.shape, generator=torch.Generator().manual_seed(1))
    affine = sampling_affine(-4.0, 1.03, 5, -6, 96, 80)

    def run(warp, device, dtype=torch.float32):
        pixels = images.to(device, dtype, copy=True).requires_grad_(True)
        out = warp(pixels)
        (out * upstream.to(device, dtype)).sum().backward()
        return out.detach().cpu().double(), pixels.grad.cpu().double()

    ours = run(lambda pixels: kernels(pixels, affine, FILL), "cuda")
    again = run(lambda pixels: kernels(pixels, affine, FILL), "cuda")
    torch_ops = run(lambda pixels: _AdjointWarp.apply(pixels - FILL, affine) + FILL, "cuda")
    exact = run(lambda pixels: _sample(pixels, affine, FILL), "cpu", torch.float64)
    assert all(torch.equal(x, y) for x, y in zip(ours, again))
    for found in (ours, torch_ops):
        assert all(torch.allclose(x, y, atol=4e-5) for x, y in zip(found, exact))
