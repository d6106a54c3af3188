"""Start-up: studio's own EfficientNet-Lite0 is timm's network, samples load without
scikit-image's reader, the step rules are torch.optim's arithmetic, and a render imports none
of the packages that cost seconds (timm, torchvision, torch._dynamo). The times themselves are
measured by bench/bench_startup.py, not here."""

import copy
import os
import stat
import subprocess
import sys

import pytest
import torch

from studio.inputs import BUILTINS, _as_rgb_tensor, builtin
from studio.models.lite0 import efficientnet_lite0
from studio.models.zoo import imagenet_classes, load_model
from studio.optimize.rules import AdamStep, NormalisedStep


@pytest.fixture(scope="module")
def timm():
    return pytest.importorskip("timm")


def test_lite0_is_timms_network_module_for_module(timm):
    ours = [(name, type(module).__name__) for name, module in efficientnet_lite0().named_modules()]
    theirs = [(name, type(module).__name__)
              for name, module in timm.create_model("tf_efficientnet_lite0").named_modules()]
    assert ours == theirs  # every layer path (and `studio layers` type) is the same


@pytest.mark.parametrize("seed", [0, 11])
def test_random_lite0_weights_are_timms(timm, seed):
    torch.manual_seed(seed)
    theirs = timm.create_model("tf_efficientnet_lite0").state_dict()
    after_theirs = torch.rand(3)
    torch.manual_seed(seed)
    ours = efficientnet_lite0().state_dict()
    assert list(ours) == list(theirs)
    assert all(torch.equal(ours[key], theirs[key]) for key in ours)
    assert torch.equal(torch.rand(3), after_theirs)  # the generator is left where timm leaves it


def test_packaged_lite0_computes_what_timm_computes(timm):
    loaded = load_model("efficientnet_lite0")
    reference = timm.create_model("tf_efficientnet_lite0")
    reference.load_state_dict(loaded.module.state_dict())
    reference = reference.eval().to(memory_format=torch.channels_last)
    for size in [(224, 224), (225, 337), (61, 97)]:  # odd sizes: TF "same" padding at stride 2
        images = torch.rand(2, 3, *size, generator=torch.Generator().manual_seed(size[1]))
        ours_in, theirs_in = images.clone().requires_grad_(), images.clone().requires_grad_()
        ours_out = loaded.module(loaded.normalize(ours_in))
        theirs_out = reference(loaded.normalize(theirs_in))
        assert torch.equal(ours_out, theirs_out), size
        ours_out[:, 281].sum().backward()
        theirs_out[:, 281].sum().backward()
        assert torch.equal(ours_in.grad, theirs_in.grad), size


def test_imagenet_classes_are_torchvisions():
    from torchvision.models._meta import _IMAGENET_CATEGORIES

    assert imagenet_classes() == tuple(_IMAGENET_CATEGORIES)
    assert load_model("efficientnet_lite0").categories[285] == "Egyptian cat"


def test_every_builtin_sample_has_scikit_images_pixels():
    import skimage.data

    for name in BUILTINS:
        assert torch.equal(builtin(name), _as_rgb_tensor(getattr(skimage.data, name)())), name
    picture = builtin("chelsea")
    picture += 1  # the caller's copy: the next read is untouched
    assert torch.equal(builtin("chelsea"), _as_rgb_tensor(skimage.data.chelsea()))


@pytest.mark.parametrize("dtype", [torch.float32, torch.complex64])
def test_adam_steps_as_torch_optim_adam_and_their_checkpoints_swap(dtype):
    """Ours steps as torch's fused Adam (which takes a complex parameter as its pairs of reals)."""
    generator = torch.Generator().manual_seed(0)
    start = torch.randn(2, 3, 8, 5, dtype=dtype, generator=generator)
    as_real = torch.view_as_real if dtype.is_complex else (lambda tensor: tensor)
    theirs_param, ours_param = as_real(start).clone().requires_grad_(), start.clone().requires_grad_()
    theirs, ours = torch.optim.Adam([theirs_param], lr=0.05, fused=True), AdamStep([ours_param], lr=0.05)
    for step in range(12):
        gradient = torch.randn(start.shape, dtype=dtype, generator=generator)
        theirs_param.grad, ours_param.grad = as_real(gradient).clone(), gradient.clone()
        theirs.step()
        ours.step()
        if step == 5 and not dtype.is_complex:  # resume ours from torch's checkpoint, torch's from ours
            ours_saved, theirs_saved = copy.deepcopy(ours.state_dict()), copy.deepcopy(theirs.state_dict())
            ours = AdamStep([ours_param], lr=0.05)
            ours.load_state_dict(theirs_saved)
            theirs = torch.optim.Adam([theirs_param], lr=0.05, fused=True)
            theirs.load_state_dict(ours_saved)
    assert torch.equal(theirs_param, as_real(ours_param))


def test_a_spectrums_adam_checkpoint_moves_to_torch_optim_adam_and_back():
    """torch's fused Adam takes no complex tensor: a spectrum's checkpoint loads into the Adam
    torch.optim offers for one, which then steps, and its checkpoint loads back into ours."""
    generator = torch.Generator().manual_seed(0)
    ours_param = torch.randn(2, 3, 8, 5, dtype=torch.complex64, generator=generator).requires_grad_()
    ours = AdamStep([ours_param], lr=0.05)
    for _ in range(3):
        ours_param.grad = torch.randn(ours_param.shape, dtype=ours_param.dtype, generator=generator)
        ours.step()
    theirs_param = ours_param.detach().clone().requires_grad_()
    theirs = torch.optim.Adam([theirs_param], lr=0.05)
    theirs.load_state_dict(copy.deepcopy(ours.state_dict()))
    back = AdamStep([ours_param], lr=0.05)
    back.load_state_dict(copy.deepcopy(theirs.state_dict()))
    for key, saved in ours.state_dict()["state"][0].items():
        assert torch.equal(back.state_dict()["state"][0][key], saved), key
    gradient = torch.randn(ours_param.shape, dtype=ours_param.dtype, generator=generator)
    theirs_param.grad, ours_param.grad = gradient.clone(), gradient.clone()
    theirs.step()  # a group that asked for the fused kernel would fail here
    back.step()
    assert torch.allclose(theirs_param, ours_param, rtol=0, atol=1e-6)  # two kernels, one Adam


def test_normalised_step_moves_each_image_by_lr_on_average():
    images = torch.zeros(2, 3, 4, 4, requires_grad=True)
    images.grad = torch.randn(2, 3, 4, 4) * torch.tensor([1.0, 100.0]).view(2, 1, 1, 1)
    rule = NormalisedStep([images], lr=0.1)
    rule.step()
    rule.zero_grad()
    assert images.grad is None
    assert torch.allclose(images.detach().abs().mean(dim=(1, 2, 3)), torch.tensor([0.1, 0.1]))


HEAVY = ("timm", "torchvision", "torch._dynamo", "skimage.io", "scipy")


def test_a_render_imports_none_of_the_slow_packages(tmp_path, root):
    code = ("import sys\nfrom studio.preset import load_preset\nfrom studio.rendering import render_preset\n"
            "render_preset(load_preset(sys.argv[1], ['scenes.2.steps=2', 'scenes.2.octaves=2']), sys.argv[2], quiet=True)\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code, "presets/quickstart.toml", str(tmp_path)], cwd=root,
                           capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "quickstart" / "dream.png").is_file()


def test_the_program_exits_with_its_status_and_its_files_and_output_whole(tmp_path, write, root):
    preset = write("p.toml", """
        [preset]
        name = "p"
        [[scenes]]
        kind = "feature-maps"
        input = "builtin:coffee"
        layers = ["blocks.1"]
        channels = 4
    """)
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, str(root / "render.py"), str(preset), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "feature-maps" in done.stdout or "blocks.1.png" in done.stdout  # the summary reached the pipe
    log = tmp_path / "out" / "p" / "log.json"
    assert __import__("json").loads(log.read_text())["scenes"]
    picture = tmp_path / "out" / "p" / "feature-maps" / "blocks.1.png"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(picture.stat().st_mode) == 0o666 & ~mask  # shareable, not mkstemp's 0600
    bad = write("bad.toml", '[preset]\nname = "bad"\n[[scenes]]\nkind = "dreem"\n')
    refused = subprocess.run([sys.executable, str(root / "render.py"), str(bad)], capture_output=True, text=True,
                             env=env)
    assert refused.returncode == 2 and "dream" in refused.stderr
