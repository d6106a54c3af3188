"""The gallery page in a real browser (Debian's chromium driven by Playwright): every image
loads, every video has a duration, and the page is not blank."""

import io
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")

from conftest import TINY_FEATURE_MAPS  # noqa: E402

TRAIN = """
[preset]
name = "moving"
title = "A tiny training video"
[output]
fps = 6
[[scenes]]
kind = "train"
dataset = "shapes"
net = "small_cnn"
classes = 2
per_class = 6
image_size = 16
hidden = 4
epochs = 12
snapshot_every = 2
"""

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]


def test_gallery_page_loads_its_images_and_videos(cli, write, tmp_path):
    (tmp_path / "p").mkdir()
    write("p/tiny.toml", TINY_FEATURE_MAPS.replace('name = "tiny"', 'name = "tiny"\ntitle = "Tiny maps"'))
    write("p/moving.toml", TRAIN)
    assert cli("gallery", "--presets", tmp_path / "p", "--out", tmp_path / "g", "-q").exit_code == 0
    page_path = tmp_path / "g" / "index.html"
    with playwright.sync_playwright() as run:
        browser = run.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                      env={"HOME": str(tmp_path)})
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(page_path.as_uri())
        page.evaluate("document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30000)
        widths = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
        assert len(widths) >= 2 and all(w > 0 for w in widths)
        page.wait_for_function(
            "Array.from(document.querySelectorAll('video')).every(v => v.readyState >= 1)", timeout=30000)
        durations = page.evaluate("Array.from(document.querySelectorAll('video')).map(v => v.duration)")
        assert len(durations) == 1 and durations[0] > 0
        titles = page.evaluate("Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
        assert "Tiny maps" in titles and "A tiny training video" in titles
        shot = page.screenshot(full_page=False)
        browser.close()
    from PIL import Image, ImageStat

    picture = Image.open(io.BytesIO(shot)).convert("L")
    assert ImageStat.Stat(picture).stddev[0] > 10  # not a blank page
