"""Seed 004's catalogue on the offline EfficientNet-Lite0: what each scene shows, checked on the
pictures and logs a user gets (and the acceptance criteria of the issue)."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from studio.attribute import class_gradient, guided_relus, logits, occlude
from studio.inputs import load_input
from studio.models import LayerTap, load_model
from studio.models.receptive import receptive_field

CAT = 285  # Egyptian cat
# builtin:chelsea is 451x300: the cat's face (eyes, nose, mouth), and a strip of background
FACE = (60, 290, 130, 330)          # top, bottom, left, right in the original's pixels
BACKGROUND_STRIP = (0, 300, 395, 451)

PRESET = """
[preset]
name = "s4"
seed = 7
[model]
name = "efficientnet_lite0"
"""


def render(cli, write, tmp_path, scenes: str):
    path = write("s4.toml", PRESET + scenes)
    result = cli("render", path, "--out", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "s4"
    return folder, json.loads((folder / "log.json").read_text())["scenes"]


def region(array, box, height, width):
    """Slice of ``array`` (H, W, ...) for a box given in chelsea's 300x451 pixels."""
    top, bottom, left, right = box
    return array[round(top * height / 300):round(bottom * height / 300),
                 round(left * width / 451):round(right * width / 451)]


@pytest.fixture(scope="module")
def lite0():
    return load_model("efficientnet_lite0")


@pytest.fixture(scope="module")
def chelsea(lite0):
    return load_input("builtin:chelsea", None, lite0.input_size, torch.Generator())


def test_occluding_the_cup_lowers_espresso_more_than_any_corner(cli, write, tmp_path):
    """The occlusion machinery where the answer is not in doubt: hide the cup, lose the espresso."""
    folder, log = render(cli, write, tmp_path, """
[[scenes]]
kind = "occlusion"
input = "builtin:coffee"
window = 64
stride = 32
""")
    scene = log["occlusion"]
    assert scene["class"] == "class 967 (espresso)"
    drops = np.array(scene["drops"]["values"])
    tops, lefts = scene["drops"]["tops"], scene["drops"]["lefts"]
    assert drops.shape == (len(tops), len(lefts)) and scene["positions"] == drops.size
    # builtin:coffee is 600x400 and the cup's centre is near (290, 140); the image is 336x224 here
    row = int(np.argmin([abs(t + 32 - 140 * 224 / 400) for t in tops]))
    column = int(np.argmin([abs(left + 32 - 290 * 336 / 600) for left in lefts]))
    corners = [drops[0, 0], drops[0, -1], drops[-1, 0], drops[-1, -1]]
    assert drops[row, column] > 0.1 > max(corners), (drops[row, column], corners)
    for name in ("occlusion.png", "occlusion/map.png", "occlusion/overlay.png"):
        assert Image.open(folder / name).size[1] >= 224


def test_on_lite0_a_grey_window_over_the_cat_face_raises_egyptian_cat(lite0, chelsea):
    """Measured, and reported in the closing note because the issue expected the opposite:
    EfficientNet-Lite0 is *more* sure of class 285 when grey squares hide the face (its
    competitors, tiger cat and tabby, lose more). The seed-004 occlusion preset shows it."""
    from studio.attribute import occlusion_map

    found = occlusion_map(lite0, chelsea, CAT, 48, 24)
    height, width = chelsea.shape[-2:]
    face = region(found.map.numpy(), FACE, height, width).mean()
    corners = [found.drops[0, 0], found.drops[0, -1], found.drops[-1, 0], found.drops[-1, -1]]
    assert face < 0 and face < max(float(c) for c in corners)


def test_occlusion_hides_with_the_fill_asked_for():
    image = torch.rand(1, 3, 8, 8)
    box = [(2, 3, 4, 4)]
    inside = (slice(None), slice(None), slice(2, 6), slice(3, 7))
    assert torch.all(occlude(image, box, "gray")[inside] == 0.5)
    assert torch.all(occlude(image, box, "black")[inside] == 0.0)
    mean = occlude(image, box, "mean")[inside]
    assert torch.allclose(mean, image[inside].mean(dim=(2, 3), keepdim=True).expand_as(mean))
    noisy = occlude(image, box, "noise", torch.Generator().manual_seed(1))
    assert torch.equal(noisy, occlude(image, box, "noise", torch.Generator().manual_seed(1)))
    outside = occlude(image, box, "blur").clone()
    outside[inside] = image[inside]
    assert torch.equal(outside, image)  # nothing outside the box changes


def test_saliency_mass_is_on_the_cat_not_the_background(cli, write, tmp_path):
    folder, log = render(cli, write, tmp_path, """
[[scenes]]
kind = "saliency"
input = "builtin:chelsea"
target = 285
samples = 8
""")
    heat = np.asarray(Image.open(folder / "saliency/map.png").convert("L"), dtype=np.float64)
    height, width = heat.shape
    inside = region(heat, FACE, height, width).mean()
    outside = region(heat, BACKGROUND_STRIP, height, width).mean()
    assert inside > 1.5 * outside, (inside, outside)
    assert log["saliency"]["samples"] == 8 and log["saliency"]["probability"] > 0.3


def test_smoothgrad_is_seeded(cli, write, tmp_path):
    scenes = '[[scenes]]\nkind = "saliency"\ninput = "builtin:coffee"\nsize = [64, 48]\nsamples = 3\n'
    first, _ = render(cli, write, tmp_path, scenes)
    one = (first / "saliency.png").read_bytes()
    result = cli("render", tmp_path / "s4.toml", "--out", tmp_path / "out", "-q", "--force")
    assert result.exit_code == 0
    assert (first / "saliency.png").read_bytes() == one


def test_guided_backprop_leaves_the_model_as_it_was(lite0, chelsea):
    small = torch.nn.functional.interpolate(chelsea, size=(64, 96), mode="area")
    before = class_gradient(lite0, small, CAT)
    guided = class_gradient(lite0, small, CAT, guided=True)
    after = class_gradient(lite0, small, CAT)
    assert torch.equal(before, after)
    assert not torch.allclose(guided, before)
    counter = guided_relus()
    with torch.no_grad(), counter:
        logits(lite0, small)
    assert counter.count > 10  # every ReLU6 of the network was guided


def test_guided_backprop_refuses_a_network_without_relus(cli, write, tmp_path):
    path = write("silu.toml", """
[preset]
name = "silu"
[model]
name = "efficientnet_b0"
weights = "none"
[[scenes]]
kind = "guided-backprop"
size = [64, 64]
""")
    result = cli("render", path, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "needs ReLU" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out" / "silu" / "guided-backprop.png").exists()


def test_receptive_fields_match_the_architecture():
    vgg = load_model("vgg16", "none")
    sizes = {path: receptive_field(vgg, path, (224, 224))[1].size
             for path in ("features.0", "features.4", "features.29", "features.30")}
    assert sizes == {"features.0": 3, "features.4": 6, "features.29": 196, "features.30": 212}


def test_receptive_field_is_where_the_gradient_reaches(lite0):
    image = torch.rand(1, 3, 160, 160, requires_grad=True)
    maps = LayerTap(lite0, ["blocks.3"])(image)["blocks.3"]
    maps[0, :, 4, 6].sum().backward()
    rows, columns = torch.nonzero(image.grad[0].abs().sum(dim=0), as_tuple=True)
    y_field, x_field = receptive_field(lite0, "blocks.3", (160, 160))
    top, bottom = y_field.box(4)
    left, right = x_field.box(6)
    assert (int(rows.min()), int(rows.max()) + 1) == (max(0, top), min(160, bottom))
    assert (int(columns.min()), int(columns.max()) + 1) == (max(0, left), min(160, right))


def test_patches_are_the_strongest_units_cropped_to_their_field(cli, write, tmp_path):
    folder, log = render(cli, write, tmp_path, """
[[scenes]]
kind = "patches"
layer = "blocks.2"
channels = [0, 5]
images = ["builtin:coffee", "builtin:chelsea", "builtin:rocket"]
top = 4
""")
    scene = log["patches"]
    assert scene["receptive_field"]["height"] == 67
    for channel in (0, 5):
        rows = [p for p in scene["patches"] if p["channel"] == channel]
        values = [p["activation"] for p in rows]
        assert len(rows) == 4 and values == sorted(values, reverse=True)
        for patch in rows:
            left, top, right, bottom = patch["box"]
            assert right - left == 67 and bottom - top == 67
    # the first patch is the unit's real maximum over the set
    model = load_model("efficientnet_lite0")
    best = max(float(LayerTap(model, ["blocks.2"])(load_input(f"builtin:{name}", None, (224, 224),
               torch.Generator()))["blocks.2"][0, 0].max()) for name in ("coffee", "chelsea", "rocket"))
    assert scene["patches"][0]["activation"] == pytest.approx(best, rel=1e-4)
    assert (folder / "patches.png").is_file()


def test_neighbours_of_an_image_start_with_itself(cli, write, tmp_path):
    folder, log = render(cli, write, tmp_path, """
[[scenes]]
kind = "neighbours"
images = "builtin:*"
size = [96, 96]
k = 3
""")
    table = log["neighbours"]["neighbours"]
    assert len(table) == 8 and log["neighbours"]["dimensions"] == 1280
    for row in table:
        first = row["neighbours"][0]
        assert first["image"] == row["query"] and first["distance"] == 0.0
        distances = [n["distance"] for n in row["neighbours"]]
        assert distances == sorted(distances) and len(distances) == 4
    assert (folder / "neighbours.png").is_file()


def test_embedding_separates_faces_from_non_faces(cli, write, tmp_path):
    _, log = render(cli, write, tmp_path, """
[[scenes]]
kind = "embedding"
images = "builtin:lfw_subset"
size = [64, 64]
""")
    points = log["embedding"]["points"]
    x = {group: np.array([p["x"] for p in points if p["group"] == group]) for group in ("face", "non-face")}
    gap = abs(x["face"].mean() - x["non-face"].mean())
    assert gap > 1.5 * max(x["face"].std(), x["non-face"].std())
    assert sum(log["embedding"]["explained_variance"]) < 1


def test_tsne_without_scikit_learn_is_one_clear_message(cli, write, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)
    path = write("t.toml", PRESET + '[[scenes]]\nkind = "embedding"\nmethod = "tsne"\nsize = [32, 32]\n')
    result = cli("render", path, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "scikit-learn" in result.output and "Traceback" not in result.output


def test_tsne_map(cli, write, tmp_path):
    folder, log = render(cli, write, tmp_path, """
[[scenes]]
kind = "embedding"
images = "builtin:*"
size = [48, 48]
method = "tsne"
""")
    assert len(log["embedding"]["points"]) == 8
    assert Image.open(folder / "embedding.png").size == (1600, 1200)


def test_inversion_lowers_the_feature_loss_by_nine_tenths(cli, write, tmp_path):
    folder, log = render(cli, write, tmp_path, """
[[scenes]]
kind = "inversion"
input = "builtin:chelsea"
size = [96, 64]
layers = ["blocks.1", "blocks.4"]
steps = 100
""")
    scene = log["inversion"]
    for layer in ("blocks.1", "blocks.4"):
        assert scene["final_loss_per_layer"][layer] <= 0.1 * scene["start_loss_per_layer"][layer]
    assert scene["video"]["frames"] == 100
    for name in ("inversion.png", "inversion.mp4", "inversion/blocks.1.png", "inversion/blocks.4.png"):
        assert (folder / name).is_file()


def test_texture_lowers_the_gram_loss_by_nine_tenths_at_any_size(cli, write, tmp_path):
    folder, log = render(cli, write, tmp_path, """
[[scenes]]
kind = "texture"
style = "builtin:coffee"
size = [120, 72]
steps = 120
""")
    scene = log["texture"]
    assert scene["final_loss"] <= 0.1 * scene["start_loss"]
    assert Image.open(folder / "texture.png").size == (120, 72)


def test_style_transfer_lowers_style_keeping_content(cli, write, tmp_path):
    folder, log = render(cli, write, tmp_path, """
[[scenes]]
kind = "style"
input = "builtin:chelsea"
style = "builtin:hubble_deep_field"
size = [96, 64]
steps = 60
""")
    scene = log["style"]
    assert scene["final"]["style"] <= 0.5 * scene["start"]["style"]
    # bounded: the result's features stay nearer the photo's than all-zero features are
    assert scene["start"]["content"] == 0.0 and max(scene["content_loss"]) < 1.0
    assert (folder / "style.mp4").is_file() and (folder / "style/comparison.png").is_file()


@pytest.mark.parametrize("scene, message", [
    ('kind = "style"\nsize = [64, 64]', "scenes.0.style"),
    ('kind = "saliency"\ntarget = 1000\nsize = [64, 64]', "0..999"),
    ('kind = "occlusion"\nwindow = 100\nsize = [64, 64]', "window larger than the image"),
    ('kind = "neighbours"\nimages = "no/such/folder"', "no such folder or image"),
    ('kind = "inversion"\nsize = [64, 64]', "scenes.0.layer"),
    ('kind = "patches"\nlayer = "blocks.2"\nchannels = [500]\nimages = "builtin:coffee"', "channel out of range"),
])
def test_bad_seed004_scenes_are_one_clear_message(cli, write, tmp_path, scene, message):
    path = write("bad.toml", PRESET + "[[scenes]]\n" + scene + "\n")
    result = cli("render", path, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not list((tmp_path / "out").rglob("*.png"))


def test_an_image_set_with_a_broken_file_is_one_clear_message(cli, write, tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(folder / "red.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    path = write("set.toml", PRESET + f'[[scenes]]\nkind = "neighbours"\nimages = ["builtin:coffee", "{folder}"]\n')
    result = cli("render", path, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "scenes.0.images.1" in result.output and "broken.jpg" in result.output
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.png"))


def test_probe_reports_the_rank_of_the_channels_a_hypothesis_expects(cli, write, tmp_path):
    import json

    path = write("p.toml", """
        [preset]
        name = "probe"
        [[scenes]]
        kind = "probe"
        layer = "blocks.5"
        input = "builtin:chelsea"
        top = 5
        expect = [28, 100]
    """)
    result = cli("render", path, "--out", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    entry = json.loads((tmp_path / "probe" / "log.json").read_text())["scenes"]["probe"]
    means = entry["means"]
    for expected in entry["expect"]:
        channel = expected["channel"]
        assert expected["rank"] == 1 + sum(m > means[channel] for m in means)
        assert expected["in_top"] == (expected["rank"] <= 5)
    assert [e["channel"] for e in entry["expect"]] == [28, 100]
    bad = cli("validate", write("b.toml", path.read_text().replace("[28, 100]", "[28, 9999]")))
    assert bad.exit_code == 2 and "scenes.0.expect" in bad.output and "channel out of range" in bad.output
