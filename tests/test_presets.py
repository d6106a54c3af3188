"""Every shipped preset validates, and renders as a draft (torchvision models with random
weights where their ImageNet weights are not on this machine) to the pictures recorded in
``draft_hashes.json``: a change to the code that is not meant to change pictures cannot."""

import json

import pytest
from paths import PRESETS as PRESETS_DIR

from studio.models import availability
from studio.preset import load_preset

from pixel_hashes import capability, folder_hashes, load, recorded_elsewhere

PRESETS = sorted(PRESETS_DIR.glob("*.toml"))


def test_presets_exist_for_every_seed():
    names = {p.stem for p in PRESETS}
    for seed in ("seed000", "seed001", "seed002", "seed003", "seed004"):
        assert any(n.startswith(seed) for n in names), seed


def test_every_seed004_technique_has_a_preset():
    kinds = {scene.kind for path in PRESETS if path.stem.startswith("seed004")
             for scene in load_preset(path).scenes}
    assert kinds >= {"saliency", "guided-backprop", "occlusion", "patches", "neighbours", "embedding",
                     "inversion", "texture", "style"}


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_preset_validates_and_cites_where_it_comes_from(path):
    preset = load_preset(path)
    assert preset.preset.title and preset.preset.description
    assert preset.name == path.stem


def offline(path) -> bool:
    """Whether a preset's model is the offline one: the others render here with random weights,
    the slow half of this test, so CI leaves them to `-m slow` (their offline twins run)."""
    return "efficientnet_lite0" in path.read_text() or "net = " in path.read_text()


# a 480-frame film's draft takes a minute on a 2-core CPU: zoom-canvas-depths checks a zoom's draft in CI
SLOW_DRAFTS = {"zoom-into-coffee"}
DRAFTS = [path if offline(path) and path.stem not in SLOW_DRAFTS else pytest.param(path, marks=pytest.mark.slow)
          for path in PRESETS]


@pytest.mark.parametrize("path", DRAFTS, ids=lambda p: p.stem)
def test_preset_renders_as_a_draft(cli, tmp_path, path):
    preset = load_preset(path)
    extra = []
    if not availability(preset.model.name).startswith("offline"):
        extra = ["--set", "model.weights=none"]
    result = cli("render", path, "--draft", "--out", tmp_path, "-q", *extra)
    assert result.exit_code == 0, result.output
    folder = tmp_path / f"{preset.name}-draft"
    log = json.loads((folder / "log.json").read_text())
    for scene in preset.scenes:
        assert (folder / f"{scene.name}.png").is_file()
        assert log["scenes"][scene.name]["seconds"] >= 0
    recorded = load().get(preset.name)
    if recorded is None and recorded_elsewhere(preset.name):
        pytest.skip(f"{preset.name}'s pictures are recorded for {recorded_elsewhere(preset.name)}, not for this "
                    f"machine's {capability()}: run tests/pixel_hashes.py --update {preset.name} on one")
    assert recorded is not None, f"no recorded pictures for {preset.name}: run tests/pixel_hashes.py --update"
    found = folder_hashes(folder)
    changed = sorted(name for name in recorded.keys() | found.keys() if recorded.get(name) != found.get(name))
    assert not changed, f"pictures differ from the recorded draft render: {changed[:8]}"
