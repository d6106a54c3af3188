"""Input files that used to be read wrong or without bound."""

import numpy as np
import pytest
import torch
from PIL import Image

from studio.errors import ModelError
from studio.inputs import load_input, read_image


def test_a_16_bit_grey_png_keeps_its_values(tmp_path):
    Image.fromarray(np.full((8, 8), 32768, dtype=np.uint16)).save(tmp_path / "grey16.png")
    image = read_image(tmp_path / "grey16.png")
    assert image.shape == (1, 3, 8, 8)
    assert abs(float(image.mean()) - 0.5) < 0.01  # not 99.6 % white


def test_a_thin_strip_is_not_stretched_past_the_side_limit(tmp_path):
    Image.new("RGB", (4000, 1), (10, 200, 30)).save(tmp_path / "strip.png")
    image = load_input(str(tmp_path / "strip.png"), None, (224, 224), torch.Generator())
    assert max(image.shape[-2:]) <= 4096


def test_a_huge_photo_is_reduced_before_it_is_resized(tmp_path):
    Image.new("RGB", (3000, 2000), (120, 60, 200)).save(tmp_path / "big.png")
    image = load_input(str(tmp_path / "big.png"), (100, 150), (224, 224), torch.Generator())
    assert image.shape == (1, 3, 100, 150)
    assert torch.allclose(image[0, :, 50, 75], torch.tensor([120, 60, 200]) / 255, atol=0.01)


@pytest.mark.parametrize("change, words", [
    ({"state_dict": {0: torch.zeros(1)}}, "keys must be parameter names"),
    ({"input_size": 5}, "input_size"),
    ({"input_size": [1_000_000, 1_000_000]}, "input_size"),
    ({"mean": "abc"}, "mean must be three finite numbers"),
    ({"config": {"colour": 3}}, "unknown config key"),
    ({"config": [1, 2]}, "config must be a table"),
])
def test_a_checkpoint_with_malformed_metadata_is_one_message(tmp_path, change, words):
    from studio.models import load_model
    from studio.models.small import build_small_net

    net = build_small_net("mlp2", 1, 25, 16, 2)
    data = {"arch": "mlp2", "state_dict": net.state_dict(), "config": {"in_channels": 1, "image_size": 25,
                                                                      "hidden": 16, "classes": 2},
            "input_size": [25, 25], "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], **change}
    torch.save(data, tmp_path / "bad.pt")
    with pytest.raises(ModelError, match=words):
        load_model(str(tmp_path / "bad.pt"))
