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
video_size = [640, 360]
"""

FILM = """
[preset]
name = "zz-film"
title = "A film"
seed = 2
[model]
name = "efficientnet_lite0"
[output]
fps = 6
[[scenes]]
kind = "zoom"
input = "builtin:coffee"
layers = ["blocks.1"]
size = [960, 540]
frames = 3
steps = 0
"""

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]


TALL = """
[preset]
name = "tall"
title = "A tall grid"
description = "Maps of **three** layers, one under the other. <script>alert(1)</script>"
seed = 1
[model]
name = "efficientnet_lite0"
[[scenes]]
kind = "feature-maps"
input = "builtin:chelsea"
size = [64, 48]
layers = ["blocks.0", "blocks.1", "blocks.2"]
channels = 24
"""

NEEDS_WEIGHTS = """
[preset]
name = "needs-vgg"
title = "Needs VGG16"
[model]
name = "vgg16"
[[scenes]]
kind = "probe"
layer = "conv5_1"
input = "builtin:chelsea"
"""


def open_page(run, tmp_path, width, height):
    browser = run.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, env={"HOME": str(tmp_path)})
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto((tmp_path / "g" / "index.html").as_uri())
    page.evaluate("document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30000)
    return browser, page


def test_gallery_page_in_the_browser_at_desktop_and_phone_widths(cli, write, tmp_path, monkeypatch):
    (tmp_path / "p").mkdir()
    write("p/tiny.toml", TINY_FEATURE_MAPS.replace('name = "tiny"', 'name = "tiny"\ntitle = "Tiny maps"'))
    write("p/moving.toml", TRAIN)
    write("p/tall.toml", TALL)
    write("p/needs-vgg.toml", NEEDS_WEIGHTS)
    write("p/zz-film.toml", FILM)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-weights"))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")
    assert cli("gallery", "--presets", tmp_path / "p", "--out", tmp_path / "g", "-q").exit_code == 0
    with playwright.sync_playwright() as run:
        browser, page = open_page(run, tmp_path, 1400, 900)
        widths = page.evaluate("Array.from(document.images).filter(i => !i.closest('dialog'))"
                               ".map(i => [i.naturalWidth, i.getBoundingClientRect().width])")
        assert len(widths) >= 2 and all(natural > 0 and shown >= 240 for natural, shown in widths), widths
        page.wait_for_function(
            "Array.from(document.querySelectorAll('video')).every(v => v.readyState >= 1)", timeout=30000)
        videos = page.evaluate("Array.from(document.querySelectorAll('video')).map(v => [v.duration, v.poster, "
                               "v.getBoundingClientRect().width, v.getBoundingClientRect().height, "
                               "v.videoWidth / v.videoHeight])")
        # the poster is the film's last frame, and the box has the film's shape, whatever the poster's
        assert len(videos) == 2 and all(v[0] > 0 and v[1].endswith(".last.jpg") and v[2] >= 240 for v in videos)
        assert all(abs(v[2] / v[3] - v[4]) < 0.02 for v in videos), videos
        # the film opens the page, a whole row at 960 px or more; the other cards share rows
        assert page.evaluate("document.querySelector('main section').id") == "zz-film"
        assert page.evaluate("document.querySelector('#zz-film video').getBoundingClientRect().width") >= 960
        cards = page.evaluate("Array.from(document.querySelectorAll('main section:not(.full)'))"
                              ".map(s => [Math.round(s.getBoundingClientRect().top), s.getBoundingClientRect().width])")
        assert all(width >= 320 for _, width in cards) and len({top for top, _ in cards}) < len(cards), cards
        # a video's controls do not cover its picture until the pointer is on it
        assert page.evaluate("Array.from(document.querySelectorAll('video')).every(v => !v.controls)")
        page.hover("#moving video")
        assert page.evaluate("document.querySelector('#moving video').controls")
        page.evaluate("document.querySelector('#moving video').play()")
        page.wait_for_function("document.querySelector('#moving video').currentTime > 0", timeout=30000)
        # what could not render is folded at the end
        assert page.evaluate("document.querySelector('main').lastElementChild.id") == "not-rendered"
        assert not page.evaluate("document.getElementById('not-rendered').open")
        text = page.evaluate("document.getElementById('not-rendered').textContent")
        assert "Not rendered on this machine" in text and "needs the vgg16 weights" in text
        assert page.evaluate("document.querySelectorAll('nav a').length") == 5  # four presets, and the missing
        sections = page.evaluate("Array.from(document.querySelectorAll('section p.meta'))"
                                 ".map(p => p.textContent)")
        assert any("moving · small_cnn" in meta for meta in sections)  # the net it trains, not [model]
        assert page.evaluate("document.querySelector('#tall .about strong').textContent") == "three"
        assert page.evaluate("document.querySelectorAll('#tall .about script').length") == 0
        page.click("#tall a.zoom")
        page.wait_for_function("document.getElementById('lightbox').open && "
                               "document.querySelector('#lightbox img').complete", timeout=30000)
        full = page.evaluate("[document.querySelector('#lightbox img').naturalWidth, "
                             "document.querySelector('#lightbox img').getBoundingClientRect().width]")
        assert full[0] > 0 and full[1] == full[0]  # shown at its own size, scrollable
        shot = page.screenshot(full_page=False)
        browser.close()
        browser, phone = open_page(run, tmp_path, 390, 844)
        overflow = phone.evaluate("document.documentElement.scrollWidth")
        phone_widths = phone.evaluate("Array.from(document.images).filter(i => !i.closest('dialog'))"
                                      ".map(i => i.getBoundingClientRect().width)")
        browser.close()
    assert overflow <= 390 and all(0 < width <= 390 for width in phone_widths)
    from PIL import Image, ImageStat

    picture = Image.open(io.BytesIO(shot)).convert("L")
    assert ImageStat.Stat(picture).stddev[0] > 10  # not a blank page
