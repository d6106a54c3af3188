"""Model zoo: offline ImageNet weights, layer paths and aliases, truncated forward passes."""

import pytest
import torch

from studio.errors import ModelError, PresetError
from studio.inputs import load_input
from studio.models import LayerTap, describe_layers, load_model, resolve_layer
from studio.models.zoo import build_architecture


@pytest.fixture(scope="module")
def vgg16():
    return load_model("vgg16", "none")


@pytest.fixture(scope="module")
def lite0():
    return load_model("efficientnet_lite0")


@pytest.mark.parametrize("name, expected_class", [("chelsea", 285), ("coffee", 967)])
def test_offline_efficientnet_classifies_sample_photos(lite0, name, expected_class):
    image = load_input(f"builtin:{name}", (224, 224), lite0.input_size, torch.Generator())
    with torch.no_grad():
        logits = lite0.module(lite0.normalize(image))
    assert logits.argmax(dim=1).item() == expected_class


def test_model_is_frozen_in_eval_mode_without_inplace_activations(lite0):
    assert not lite0.module.training
    assert not any(p.requires_grad for p in lite0.module.parameters())
    assert not any(getattr(m, "inplace", False) is True for m in lite0.module.modules())


@pytest.mark.parametrize("alias, path", [("conv1_1", "features.0"), ("relu1_2", "features.3"),
                                         ("pool1", "features.4"), ("conv3_1", "features.10"),
                                         ("conv5_1", "features.24"), ("conv5_3", "features.28"),
                                         ("pool5", "features.30")])
def test_vgg16_aliases(vgg16, alias, path):
    assert resolve_layer(vgg16, alias) == path


def test_module_paths_resolve_to_themselves(vgg16):
    assert resolve_layer(vgg16, "features.28") == "features.28"
    assert resolve_layer(vgg16, "classifier.0") == "classifier.0"


def test_unknown_layer_lists_closest_names(vgg16):
    with pytest.raises(PresetError) as caught:
        resolve_layer(vgg16, "conv5_4", "p.toml", "scenes.0.layer")
    message = str(caught.value)
    assert "p.toml" in message and "scenes.0.layer" in message and "conv5_3" in message


def test_forward_stops_at_the_deepest_needed_layer(vgg16):
    ran = []
    handles = [m.register_forward_hook(lambda *_, name=name: ran.append(name))
               for name, m in vgg16.module.named_modules() if name.startswith(("features.", "classifier."))]
    try:
        out = LayerTap(vgg16, ["features.3", "features.8"])(torch.rand(1, 3, 32, 32))
    finally:
        for h in handles:
            h.remove()
    assert out["features.8"].shape == (1, 128, 16, 16)
    assert "features.8" in ran and "features.9" not in ran and not any(r.startswith("classifier") for r in ran)


def test_taps_return_copies_unaffected_by_later_layers(vgg16):
    # conv output followed by a ReLU: with in-place ReLUs the recorded conv output would lose its negatives
    out = LayerTap(vgg16, ["features.0", "features.1"])(torch.rand(1, 3, 16, 16))
    assert (out["features.0"] < 0).any() and (out["features.1"] >= 0).all()


def test_describe_layers_has_shapes_and_aliases():
    rows = {r[0]: r for r in describe_layers(build_architecture("vgg16"), (224, 224))}
    assert rows["features.28"][2] == "512×14×14" and "conv5_3" in rows["features.28"][3]


def test_unknown_model_name_suggests():
    with pytest.raises(PresetError) as caught:
        build_architecture("vgg17")
    assert "vgg16" in str(caught.value) or "vgg19" in str(caught.value)


def test_missing_weights_offline_message(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")
    with pytest.raises(ModelError) as caught:
        load_model("alexnet", "DEFAULT")
    message = str(caught.value)
    assert "alexnet-owt" in message and str(tmp_path) in message and "efficientnet_lite0" in message


def test_bad_weights_enum_is_a_preset_error():
    with pytest.raises(PresetError) as caught:
        load_model("resnet18", "IMAGENET1K_V9")
    assert "IMAGENET1K_V1" in str(caught.value)


def test_checkpoint_round_trip(tmp_path):
    module = build_architecture("resnet18")
    path = tmp_path / "r18.pt"
    torch.save({"arch": "resnet18", "state_dict": module.state_dict()}, path)
    loaded = load_model(str(path))
    assert torch.equal(loaded.module.fc.weight, module.fc.weight)


def test_checkpoint_that_would_run_code_is_refused(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"arch": "resnet18", "state_dict": Evil()}))
    with pytest.raises(ModelError) as caught:
        load_model(str(path))
    assert "weights_only" in str(caught.value) and not (tmp_path / "pwned").exists()
