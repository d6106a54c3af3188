"""Grids take `columns`: 8 channels as 4 × 2, no hole; unset, a grid is about square and an
earlier render stays fresh."""

from PIL import Image

FILTERS = """
[preset]
name = "g"
[model]
name = "efficientnet_lite0"
[[scenes]]
kind = "filters"
channels = "0:8"
"""

MAXIMIZE = """
[preset]
name = "m"
[model]
name = "efficientnet_lite0"
[[scenes]]
kind = "maximize"
layer = "blocks.1"
channels = "0:6"
size = [48, 48]
steps = 2
columns = 3
"""


def sheet_size(cli, path, out, *sets, still="filters"):
    arguments = [a for s in sets for a in ("--set", s)]
    result = cli("render", path, "--out", out, "-q", *arguments)
    assert result.exit_code == 0, result.output
    return Image.open(out / path.stem / f"{still}.png").size


def test_columns_lay_out_the_grid_without_a_hole(cli, write, tmp_path):
    path = write("g.toml", FILTERS)
    square = sheet_size(cli, path, tmp_path / "a")  # 3 columns: 3 + 3 + 2, a hole
    wide = sheet_size(cli, path, tmp_path / "b", "scenes.0.columns=4")
    row = sheet_size(cli, path, tmp_path / "c", "scenes.0.columns=8")
    more = sheet_size(cli, path, tmp_path / "d", "scenes.0.columns=20")  # more than there are cells: one row
    assert wide[0] > square[0] and wide[1] < square[1]
    assert row[0] > wide[0] and row[1] < wide[1] and more == row
    cell = (row[0] - 4) / 8  # gap 4 px before and after every cell
    assert abs(wide[0] - (4 + 4 * cell)) <= 1 and abs(square[0] - (4 + 3 * cell)) <= 1


def test_an_optimising_grid_takes_columns(cli, write, tmp_path):
    path = write("m.toml", MAXIMIZE)
    three = sheet_size(cli, path, tmp_path / "a", still="maximize")
    six = sheet_size(cli, path, tmp_path / "b", "scenes.0.columns=6", still="maximize")
    assert six[0] > three[0] and six[1] < three[1]


def test_setting_columns_renders_again_and_leaving_it_unset_stays_fresh(cli, write, tmp_path):
    path = write("g.toml", FILTERS)
    assert cli("render", path, "--out", tmp_path, "-q").exit_code == 0
    assert "cached" in cli("render", path, "--out", tmp_path).output
    assert "cached" not in cli("render", path, "--out", tmp_path, "--set", "scenes.0.columns=4").output


def test_columns_must_be_a_positive_count(cli, write, tmp_path):
    result = cli("render", write("g.toml", FILTERS + "columns = 0\n"), "--out", tmp_path, "-q")
    assert result.exit_code == 2 and "scenes.0.columns" in result.output
    assert not (tmp_path / "g").exists()
