import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from paths import ROOT

from studio.cli import main


@pytest.fixture
def root() -> Path:
    """The repository's root folder (render.py, presets/, bench/, docs/, examples/)."""
    return ROOT


@pytest.fixture
def write(tmp_path):
    """write("name.toml", text) -> path of a preset file in a temporary folder."""
    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path
    return _write


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """cli("render", ...) -> click Result, run in a temporary working folder."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def _run(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    return _run


TINY_FEATURE_MAPS = """
[preset]
name = "tiny"
seed = 1
[model]
name = "efficientnet_lite0"
[[scenes]]
kind = "feature-maps"
input = "builtin:chelsea"
size = [64, 48]
layers = ["blocks.0", "blocks.2"]
channels = 4
"""
