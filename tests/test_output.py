"""Writers: MP4 through ffmpeg, PNG with the preset inside, atomic files."""


import imageio_ffmpeg
import numpy as np
import pytest
import torch

from studio.errors import RenderError
from studio.output.files import read_png_text, write_png
from studio.output.video import VideoWriter
from studio.pictures.colour import colormap, to_uint8
from studio.pictures.layout import labelled_grid


def test_mp4_has_every_frame_even_size_h264_yuv420p(tmp_path):
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, fps=12, crf=20) as video:
        for index in range(17):
            frame = np.full((33, 47, 3), index * 12, dtype=np.uint8)  # odd sizes on purpose
            video.write(frame)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    frames = list(reader)
    assert len(frames) == 17
    assert meta["size"] == (48, 34) and meta["codec"].startswith("h264") and meta["fps"] == 12
    assert "yuv420p" in meta["pix_fmt"]
    assert not list(tmp_path.glob(".*partial*"))


def test_mp4_head_has_moov_for_faststart(tmp_path):
    path = tmp_path / "clip.mp4"
    with VideoWriter(path) as video:
        for _ in range(3):
            video.write(np.zeros((16, 16, 3), dtype=np.uint8))
    head = path.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)


def test_failed_video_leaves_no_file(tmp_path):
    path = tmp_path / "clip.mp4"
    with pytest.raises(RenderError):
        with VideoWriter(path) as video:
            video.write(np.zeros((16, 16, 3), dtype=np.uint8))
            video.write(np.zeros((32, 16, 3), dtype=np.uint8))  # size change: refused
    assert list(tmp_path.iterdir()) == []


def test_png_carries_text_chunk(tmp_path):
    path = tmp_path / "a.png"
    write_png(path, np.zeros((4, 4, 3), dtype=np.uint8), {"studio-preset": "[preset]\nname = \"x\"\n"})
    assert read_png_text(path) == "[preset]\nname = \"x\"\n"


def test_nan_images_are_never_written():
    image = torch.zeros(3, 4, 4)
    image[0, 0, 0] = float("nan")
    with pytest.raises(RenderError, match="NaN"):
        to_uint8(image)


def test_colormap_and_grid_shapes():
    tiles = colormap(torch.randn(5, 8, 8))
    assert tiles.shape == (5, 3, 8, 8) and tiles.min() >= 0 and tiles.max() <= 1
    grid = labelled_grid(tiles, [str(i) for i in range(5)], title="t", columns=3)
    assert grid.shape[0] == 3 and grid.shape[2] > 3 * 8


def test_a_video_keeps_a_preset_too_long_for_one_ffmpeg_argument(cli, write, tmp_path):
    from studio.output.video import read_video_preset

    description = "a long story, told again and again; " * 4200  # about 150 KB: past the kernel's 128 KiB
    preset = ('[preset]\nname = "v"\ndescription = "' + description + '"\n[model]\nname = "efficientnet_lite0"\n'
              '[[scenes]]\nkind = "progressive"\nlayer = "blocks.1"\nchannel = 1\nneurons = 2\nsize = [32, 32]\n'
              'steps = 2\nvideo_size = [320, 180]\n')
    result = cli("render", write("v.toml", preset), "--out", tmp_path)
    assert result.exit_code == 0, result.output
    kept = read_video_preset(tmp_path / "v" / "progressive.mp4")
    assert description in kept and len(kept) > 150_000
    assert sorted(path.name for path in (tmp_path / "v").iterdir() if path.name.startswith(".") and
                  path.name != ".studio") == []
