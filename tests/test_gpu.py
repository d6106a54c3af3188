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
