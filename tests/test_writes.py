"""Writes a user (or an attacker) can upset: planted links, two renders into one folder, files
changed behind a record, unwritable or full output folders. Each is one message and leaves no
partial file; nothing outside the output folder is ever written."""

import errno
import subprocess
import sys
import time

import pytest
from paths import ROOT

from conftest import TINY_FEATURE_MAPS


def render(*args, cwd):
    return subprocess.run([sys.executable, str(ROOT / "render.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_links_planted_in_the_output_folder_are_never_followed(write, tmp_path):
    preset = write("t.toml", TINY_FEATURE_MAPS)
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    folder = tmp_path / "out" / "tiny"
    folder.mkdir(parents=True)
    (folder / ".feature-maps.partial.png").symlink_to(outside)   # the old temporary name
    (folder / "feature-maps.png").symlink_to(outside)            # the final name
    result = render(preset, "--out", tmp_path / "out", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert outside.read_text() == "keep me"
    assert not (folder / "feature-maps.png").is_symlink() and (folder / "feature-maps.png").stat().st_size > 1000


def test_a_second_render_into_the_same_folder_is_refused_while_the_first_writes(write, tmp_path, root):
    slow = TINY_FEATURE_MAPS + '[[scenes]]\nkind = "progressive"\nlayer = "blocks.2"\nneurons = 4\nsize = [64, 64]\nsteps = 400\n'
    preset = write("t.toml", slow)
    first = subprocess.Popen([sys.executable, str(root / "render.py"), str(preset), "-q", "--out", str(tmp_path / "out")],
                             cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "out/tiny/preset.toml").exists() and time.time() < deadline:
        time.sleep(0.1)
    second = render(preset, "--out", tmp_path / "out", "-q", cwd=tmp_path)
    assert second.returncode == 1 and "another studio render is writing into" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.wait(timeout=300) == 0, first.stderr.read()
    import imageio_ffmpeg

    frames = list(imageio_ffmpeg.read_frames(str(tmp_path / "out/tiny/progressive.mp4")))
    assert len(frames) == 1 + 4  # the metadata, then every frame
    again = render(preset, "--out", tmp_path / "out", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.count("cached") == 2


def test_a_file_changed_behind_its_record_is_rendered_again(write, tmp_path):
    preset = write("t.toml", TINY_FEATURE_MAPS)
    assert render(preset, "--out", tmp_path, "-q", cwd=tmp_path).returncode == 0
    still = tmp_path / "tiny" / "feature-maps.png"
    good = still.read_bytes()
    still.write_bytes(good[:-40] + bytes(40))
    again = render(preset, "--out", tmp_path, cwd=tmp_path)
    assert again.returncode == 0 and "cached" not in again.stdout
    assert still.read_bytes() == good


def test_an_input_replaced_at_the_same_path_is_rendered_again(write, tmp_path):
    from PIL import Image

    Image.new("RGB", (64, 48), (200, 30, 30)).save(tmp_path / "photo.png")
    preset = write("t.toml", TINY_FEATURE_MAPS.replace('input = "builtin:chelsea"', 'input = "photo.png"'))
    assert render(preset, "--out", tmp_path / "out", "-q", cwd=tmp_path).returncode == 0
    before = (tmp_path / "out/tiny/feature-maps.png").read_bytes()
    Image.new("RGB", (64, 48), (30, 30, 200)).save(tmp_path / "photo.png")
    again = render(preset, "--out", tmp_path / "out", cwd=tmp_path)
    assert again.returncode == 0 and "cached" not in again.stdout
    assert (tmp_path / "out/tiny/feature-maps.png").read_bytes() != before


@pytest.mark.parametrize("out, words", [
    ("/proc/studio-out", ["cannot write", "/proc/studio-out"]),
    ("a-file.toml/sub", ["cannot write", "a-file.toml"]),
])
def test_an_output_folder_that_cannot_be_written_is_one_message(write, tmp_path, out, words):
    preset = write("a-file.toml", TINY_FEATURE_MAPS)
    result = render(preset, "--out", out, "-q", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


@pytest.mark.parametrize("blocked", ["tiny", "tiny/.studio"])
def test_an_output_or_cache_folder_that_is_a_file_is_one_message(write, tmp_path, blocked):
    preset = write("t.toml", TINY_FEATURE_MAPS)
    (tmp_path / "out" / blocked).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "out" / blocked).write_text("not a folder")
    result = render(preset, "--out", tmp_path / "out", "-q", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "is a file, not a folder" in result.stderr or "a file, not a folder" in result.stderr


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "the disk is full"),
                                         (errno.EROFS, "the file system is read-only")])
def test_a_full_or_read_only_disk_keeps_what_finished_and_leaves_no_partial_file(cli, write, tmp_path, monkeypatch,
                                                                                  code, words):
    from PIL import Image

    preset = write("t.toml", TINY_FEATURE_MAPS)
    real_save, saved = Image.Image.save, []

    def fails_on_the_third_picture(self, fp, *args, **kwargs):
        if len(saved) == 2:
            raise OSError(code, "simulated")
        saved.append(fp)
        return real_save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", fails_on_the_third_picture)
    result = cli("render", preset, "--out", tmp_path / "out", "-q")
    assert result.exit_code == 1 and words in result.output
    folder = tmp_path / "out" / "tiny"
    assert not [p for p in folder.rglob("*") if ".partial" in p.name]
    assert len([p for p in folder.rglob("*.png")]) == 2  # the two that finished


def test_the_next_render_removes_what_a_killed_render_left_half_written(cli, write, tmp_path, root):
    import signal

    preset = write("p.toml", '[preset]\nname = "v"\n[model]\nname = "efficientnet_lite0"\n[[scenes]]\n'
                             'kind = "progressive"\nlayer = "blocks.1"\nchannel = 1\nneurons = 24\nbatch = 1\n'
                             'size = [32, 32]\nsteps = 40\nvideo_size = [320, 180]\n')
    folder = tmp_path / "v"
    render = subprocess.Popen([sys.executable, "render.py", str(preset), "--out", str(tmp_path), "-q"],
                              cwd=root)
    deadline = time.time() + 120
    # polled often: on a fast machine the video is open for well under a second
    while not list(folder.glob(".progressive.*.partial.mp4")) and time.time() < deadline and render.poll() is None:
        time.sleep(0.005)
    render.send_signal(signal.SIGKILL)
    render.wait()
    left = list(folder.rglob(".*.partial*"))
    assert any(path.suffix == ".mp4" for path in left), "the render was not killed while writing its video"
    assert cli("render", preset, "--out", tmp_path, "-q").exit_code == 0
    assert list(folder.rglob(".*.partial*")) == [] and (folder / "progressive.mp4").is_file()


@pytest.mark.parametrize("linked", ["renders", "renders/tiny"])
def test_an_output_folder_linked_out_of_the_working_folder_is_refused(cli, write, tmp_path, monkeypatch, linked):
    preset = write("tiny.toml", TINY_FEATURE_MAPS)
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    (work / linked).parent.mkdir(parents=True, exist_ok=True)
    (work / linked).symlink_to(elsewhere, target_is_directory=True)
    monkeypatch.chdir(work)
    result = cli("render", preset)
    assert result.exit_code == 2 and "`output.dir`" in result.output and "symbolic link" in result.output
    assert list(elsewhere.iterdir()) == []
