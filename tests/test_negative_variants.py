"""`negative` shows what a unit is against; `variants` with `diversity` shows several different
pictures of one unit. Measured on the offline model, where a broken implementation would fail."""

import json

import pytest

GRID = """
[preset]
name = "grid"
seed = 4
[[scenes]]
kind = "maximize"
layer = "blocks.3"
channels = [3, 5]
size = [48, 48]
steps = 24
input = "noise"
"""


@pytest.fixture
def rendered(cli, write, tmp_path):
    def render(*sets):
        path = write("g.toml", GRID)
        result = cli("render", path, "--out", tmp_path, "-q", "--no-resume", *[a for s in sets for a in ("--set", s)])
        assert result.exit_code == 0, result.output
        return json.loads((tmp_path / "grid" / "log.json").read_text())["scenes"]["maximize"]
    return render


def test_negative_lowers_what_maximize_raises(rendered):
    up = rendered()["activation"]
    down = rendered("scenes.0.negative=true")["activation"]
    start = rendered("scenes.0.steps=1", "scenes.0.lr=0.0")["activation"]
    for channel in ("3", "5"):
        assert up[channel] > start[channel] > down[channel], (channel, up, start, down)


def test_variants_push_apart_with_diversity(rendered, tmp_path):
    alike = rendered("scenes.0.variants=3")
    apart = rendered("scenes.0.variants=3", "scenes.0.diversity=20.0")
    assert set(apart["activation"]) == {"3·1", "3·2", "3·3", "5·1", "5·2", "5·3"}
    assert apart["variant_distance"] > 1.5 * alike["variant_distance"], (alike["variant_distance"],
                                                                        apart["variant_distance"])
    assert all(value > 0 for value in apart["activation"].values())  # still about their channel
    files = sorted(p.name for p in (tmp_path / "grid" / "maximize").glob("*.png"))
    assert files == [f"blocks.3-000{c}-{v}.png" for c in (3, 5) for v in (1, 2, 3)]


def test_variants_do_not_depend_on_the_batch(rendered, tmp_path):
    together = rendered("scenes.0.variants=2", "scenes.0.diversity=5.0")
    alone = rendered("scenes.0.variants=2", "scenes.0.diversity=5.0", "scenes.0.batch=2")
    assert together["activation"] == alone["activation"]
