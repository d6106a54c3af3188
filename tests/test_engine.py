"""The ascent engine on the real offline EfficientNet-Lite0: it climbs, reproduces, batches,
tiles, guards against NaN, and keeps the sizes its schedules promise."""

import pytest
import torch

from studio.errors import RenderError
from studio.models import load_model
from studio.optimize import Ascent, Ramp, Robustness, Settings, objectives
from studio.optimize.objectives import Objective
from studio.optimize.param import SpectralImage
from studio.optimize.tiles import tiled_gradient


@pytest.fixture(scope="module")
def lite0():
    return load_model("efficientnet_lite0")


def settings(**kwargs):
    base = dict(steps=6, lr=Ramp(0.05, 0.05), robustness=Robustness(4, 5.0, (0.95, 1.05)), param="fft")
    return Settings(**{**base, **kwargs})


def start(batch=1, size=48):
    return torch.rand((1, 3, size, size), generator=torch.Generator().manual_seed(0)).expand(batch, -1, -1, -1)


@pytest.mark.parametrize("param", ["fft", "pixel"])
def test_ascent_raises_the_channel(lite0, param):
    objective = objectives.channel("blocks.2", torch.tensor([0, 3]))
    ascent = Ascent(lite0, objective, settings(param=param, lr=Ramp(0.05, 0.02)), torch.Generator().manual_seed(1))
    before = ascent.score(start(2)).detach()
    after = ascent.score(ascent.run(start(2), [(48, 48)])).detach()
    assert (after > before).all()


def test_same_seed_same_pixels_and_batch_invariance(lite0):
    def run(channels, seed=3):
        ascent = Ascent(lite0, objectives.channel("blocks.1", torch.tensor(channels)), settings(),
                        torch.Generator().manual_seed(seed))
        return ascent.run(start(len(channels)), [(48, 48)])
    pair = run([2, 5])
    assert torch.equal(pair, run([2, 5]))
    assert torch.allclose(run([5])[0], pair[1], atol=1e-5)
    assert not torch.equal(pair, run([2, 5], seed=4))


def test_spectral_parameterisation_round_trips_images():
    images = torch.rand(2, 3, 20, 30) * 0.9 + 0.05
    assert torch.allclose(SpectralImage(images).image(), images, atol=1e-4)


def test_sizes_follow_the_schedule(lite0):
    ascent = Ascent(lite0, objectives.channel("blocks.1", 0), settings(steps=2), torch.Generator())
    result = ascent.run(start(), [(40, 40), (48, 56)])
    assert result.shape[-2:] == (48, 56) and len(ascent.scores) == 4


def test_nan_stops_the_climb(lite0):
    nan = Objective(lambda a: a["blocks.1"].mean(dim=(1, 2, 3)) * float("nan"), ["blocks.1"], "nan")
    with pytest.raises(RenderError, match="diverged"):
        Ascent(lite0, nan, settings(), torch.Generator()).run(start(), [(48, 48)])


def test_tiled_gradient_equals_whole_image_when_halo_covers(lite0):
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    objective = objectives.layer_l2("blocks.2")
    ascent = Ascent(lite0, objective, settings(), torch.Generator())

    whole = image.clone().requires_grad_(True)
    ascent.score(whole).sum().backward()
    tiled, _ = tiled_gradient(image, ascent.score, tile=32, halo=64)
    assert torch.allclose(tiled, whole.grad, rtol=1e-3, atol=1e-7)


def test_shifted_tiles_with_a_halo_match_the_whole_image(lite0):
    image = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(2))
    ascent = Ascent(lite0, objectives.layer_l2("blocks.1"), settings(), torch.Generator())
    whole = image.clone().requires_grad_(True)
    ascent.score(whole).sum().backward()
    tiled, _ = tiled_gradient(image, ascent.score, tile=64, halo=64, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(tiled, whole.grad, rtol=1e-3, atol=1e-6 * whole.grad.abs().max().item())
    seams, _ = tiled_gradient(image, ascent.score, tile=64, halo=0, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(seams, whole.grad, rtol=1e-2, atol=1e-2 * whole.grad.abs().max().item())


def test_tiles_show_the_network_pieces_of_one_size_wherever_the_grid_moves():
    """Pieces cut short at the picture's edge came in hundreds of sizes as the grid moved (each
    a new convolution plan on a GPU); each piece is now a tile and two halos, a few pixels more at
    the far edges, and every pixel's gradient still comes from exactly one core."""
    sizes, covered = set(), []

    def score(piece):
        sizes.add(tuple(piece.shape[-2:]))
        return piece.mean(dim=(1, 2, 3))  # a mean, as objectives are: each pixel then weighs 1 / the image's pixels

    image = torch.zeros(1, 3, 1103, 1591)
    for seed in range(12):
        gradient, _ = tiled_gradient(image, score, tile=512, halo=64, generator=torch.Generator().manual_seed(seed))
        covered.append(gradient)
    assert len(sizes) <= 4, sorted(sizes)
    assert all(torch.allclose(gradient, torch.full_like(gradient, 1 / image.numel())) for gradient in covered)


def test_tiled_dream_raises_activation(lite0):
    objective = objectives.layer_l2("blocks.2")
    ascent = Ascent(lite0, objective, settings(param="pixel", tile=32, halo=16, lr=Ramp(0.02, 0.02)),
                    torch.Generator().manual_seed(0))
    image = torch.full((1, 3, 80, 80), 0.5) + 0.05 * torch.randn(1, 3, 80, 80, generator=torch.Generator())
    before = ascent.score(image).item()
    assert ascent.score(ascent.run(image, [(80, 80)])).item() > before


def test_the_robustness_warp_samples_where_kornias_rotation_says():
    """The sampling affine is kornia's rotation matrix (plus the shift) inverted, worked out in
    Python for speed: the same sampling grids, so the same pixels."""
    from kornia.geometry.transform import get_rotation_matrix2d

    from studio.optimize.transform import _apply, _pixel_grid, sampling_affine

    robustness, generator = Robustness(8, 5.0, (0.95, 1.05)), torch.Generator().manual_seed(3)
    for height, width in [(128, 128), (96, 160), (512, 300)]:
        angle, scale, dx, dy = robustness.draw(generator)
        centre = torch.tensor([[(width - 1) / 2, (height - 1) / 2]], dtype=torch.float64)
        forward = get_rotation_matrix2d(centre, torch.tensor([angle], dtype=torch.float64),
                                        torch.tensor([[scale, scale]], dtype=torch.float64))[0]
        forward[:, 2] += torch.tensor([dx, dy], dtype=torch.float64)
        full = torch.cat([forward, torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)])
        through_kornia = tuple(torch.linalg.inv(full)[:2].flatten().tolist())
        x, y = _pixel_grid(height, width, "cpu", torch.float32)
        for ours, theirs in zip(_apply(sampling_affine(angle, scale, dx, dy, height, width), x, y),
                                _apply(through_kornia, x, y)):
            assert torch.equal(ours, theirs)


@pytest.mark.parametrize("height", [64, 63])
def test_one_image_warps_as_it_would_beside_others(height):
    """A single image is sampled in halves (the CPU shares work out by image): its pixels and
    gradient are those it gets in a batch, so a channel rendered alone looks as it does in a grid."""
    from studio.optimize.transform import sampling_affine, warp

    images = torch.rand(3, 3, height, 48, generator=torch.Generator().manual_seed(0))
    affine = sampling_affine(4.0, 1.03, 5, -3, height, 48)
    alone, beside = images[1:2].clone().requires_grad_(True), images.clone().requires_grad_(True)
    (warp(alone, affine) * images[1:2]).sum().backward()
    (warp(beside, affine) * images).sum().backward()
    assert torch.equal(warp(alone, affine), warp(beside, affine)[1:2])
    assert torch.equal(alone.grad, beside.grad[1:2])


def test_deterministic_warp_backward_is_the_exact_adjoint():
    import math

    from studio.optimize.transform import _AdjointWarp, _sample

    images = torch.randn(2, 3, 20, 24, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(2, 3, 20, 24, dtype=torch.float64)
    for angle, scale in [(5.0, 1.03), (40.0, 0.7)]:
        c, s = math.cos(math.radians(angle)) / scale, math.sin(math.radians(angle)) / scale
        affine = (c, -s, 1.3, s, c, -2.2)
        native = _sample(images, affine)
        (native * upstream).sum().backward()
        expected, images.grad = images.grad.clone(), None
        ours = _AdjointWarp.apply(images, affine)
        (ours * upstream).sum().backward()
        assert torch.allclose(ours, native) and torch.allclose(images.grad, expected, atol=1e-12)
        images.grad = None


TRITON_WARP_CHECK = """
import torch
from studio.optimize.cuda_warp import warp_function
from studio.optimize.transform import FILL, _sample, sampling_affine
apply = warp_function()
generator = torch.Generator().manual_seed(0)
cases = [((20, 24), (4.0, 1.04, 3, -2)), ((33, 17), (-5.0, 0.95, -4, 5)), ((16, 16), (40.0, 0.7, 1, 1)),
         ((12, 12), (0.0, 1.0, 2, 0)), ((12, 12), (0.0, 1.0, 40, 0))]
for (height, width), draw in cases:
    images = torch.rand(1, 3, height, width, generator=generator, requires_grad=True)
    upstream = torch.rand(1, 3, height, width, generator=generator)
    affine = sampling_affine(*draw, height, width)
    ours = apply(images, affine, FILL)
    (ours * upstream).sum().backward()
    ours_grad, images.grad = images.grad, None
    exact = images.detach().double().requires_grad_(True)  # grid_sample in float64: the reference
    native = _sample(exact, affine, FILL)
    (native * upstream.double()).sum().backward()
    # float32 coordinates put any float32 warp about 1e-5 off (grid_sample's own is as far)
    assert torch.allclose(ours.double(), native, atol=4e-5), (draw, (ours - native).abs().max())
    assert torch.allclose(ours_grad.double(), exact.grad, atol=4e-5), (draw, (ours_grad - exact.grad).abs().max())
print("checked", len(cases))
"""


def test_cuda_warp_kernels_sample_as_grid_sample_and_backpropagate_its_adjoint():
    """The Triton warp a GPU render uses (run here in Triton's interpreter, on the CPU): its
    pictures are grid_sample's with mid-grey outside, and its gather backward gives the gradient
    grid_sample's scatter gives (both against grid_sample in float64), turned, scaled, shifted,
    and shifted out of sight."""
    import os
    import subprocess
    import sys

    pytest.importorskip("triton")
    done = subprocess.run([sys.executable, "-c", TRITON_WARP_CHECK], capture_output=True, text=True,
                          env={**os.environ, "TRITON_INTERPRET": "1"})
    assert done.returncode == 0 and "checked 5" in done.stdout, done.stderr[-2000:]


@pytest.mark.parametrize("height", [40, 41])
def test_one_image_warps_to_grid_samples_numbers(height):
    """On the CPU one image is sampled in two halves of rows (a faster split between threads):
    the picture is exactly ``grid_sample``'s, and so is the gradient but on the middle rows that
    both halves reach (there within float rounding), and the grid is the affine map's."""
    import torch.nn.functional as F

    from studio.optimize.transform import FILL, _apply, _pixel_grid, _sampling_grid, sampling_affine, warp

    images = torch.rand(1, 3, height, 24, generator=torch.Generator().manual_seed(0), requires_grad=True)
    upstream = torch.rand(1, 3, height, 24, generator=torch.Generator().manual_seed(1))
    affine = sampling_affine(4.0, 1.04, 3, -2, height, 24)
    grid = _sampling_grid(affine, height, 24, "cpu", torch.float32)
    x, y = _pixel_grid(height, 24, "cpu", torch.float64)
    source_x, source_y = _apply(affine, x, y)
    exact = torch.stack([source_x * (2 / 23) - 1, source_y * (2 / (height - 1)) - 1], -1)
    assert torch.allclose(grid.double(), exact, rtol=0, atol=3e-7)
    expected = F.grid_sample(images - FILL, grid[None], align_corners=True) + FILL
    (expected * upstream).sum().backward()
    expected_grad, images.grad = images.grad.clone(), None
    ours = warp(images, affine)
    (ours * upstream).sum().backward()
    assert torch.equal(ours, expected)
    middle = slice(height // 2 - 6, height // 2 + 6)  # the source rows near the halves' seam
    assert torch.allclose(images.grad, expected_grad, rtol=0, atol=1e-6)
    assert torch.equal(images.grad[..., :middle.start, :], expected_grad[..., :middle.start, :])
    assert torch.equal(images.grad[..., middle.stop:, :], expected_grad[..., middle.stop:, :])
    if height % 2:
        assert torch.equal(images.grad, expected_grad)


def test_per_octave_schedules_restart_at_each_octave(lite0):
    """Seed 002's sawtooth: a zero lr in the second octave leaves that octave's input as the first
    octave left it, and a per-octave blur is each octave's own ramp."""
    from studio.optimize import Sawtooth
    from studio.pictures.layout import resize

    def run(sizes, lr):
        ascent = Ascent(lite0, objectives.channel("blocks.1", 0),
                        settings(steps=3, param="pixel", lr=lr, robustness=Robustness(0, 0.0, (1.0, 1.0))),
                        torch.Generator().manual_seed(1))
        return ascent.run(start(), sizes)
    first = run([(40, 40)], Ramp(0.05, 0.05))
    both = run([(40, 40), (48, 48)], Sawtooth.of([(0.05, 0.05), (0.0, 0.0)]))
    assert torch.allclose(both, resize(first, 48, 48), atol=1e-6)
    assert not torch.allclose(run([(40, 40), (48, 48)], Ramp(0.05, 0.0)), both, atol=1e-3)
    blur = Sawtooth.of([(2.4, 0.8), (1.5, 0.4), (1.1, 0.3)])
    assert [blur.during(stage, 3, 0, 100) for stage in range(3)] == [2.4, 1.5, 1.1]
    assert [blur.during(stage, 3, 99, 100) for stage in range(3)] == pytest.approx([0.8, 0.4, 0.3])


def test_blur_kernel_is_torchvisions_fixed_kernel():
    """`blur_kernel = 3` is what the seed called: torchvision's gaussian_blur(x, 3, sigma)."""
    from torchvision.transforms.functional import gaussian_blur

    from studio.optimize.transform import blur

    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(blur(image, 2.4, kernel=3), gaussian_blur(image, 3, 2.4), atol=1e-6)
    assert not torch.allclose(blur(image, 2.4), gaussian_blur(image, 3, 2.4), atol=1e-3)
