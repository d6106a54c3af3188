"""Files from strangers: corrupt images, decompression bombs, truncated checkpoints, and paths
that try to leave the output folder all end in one clean message."""

import torch
from PIL import Image

from conftest import TINY_FEATURE_MAPS


def render_with_input(cli, write, tmp_path, image_path):
    text = TINY_FEATURE_MAPS.replace('input = "builtin:chelsea"', f'input = "{image_path}"')
    return cli("render", write("t.toml", text), "--out", tmp_path / "out")


def test_corrupt_png_and_jpeg_inputs(cli, write, tmp_path):
    for name, payload in (("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
                          ("broken.jpg", b"\xff\xd8\xff\xe0" + b"garbage" * 10)):
        (tmp_path / name).write_bytes(payload)
        result = render_with_input(cli, write, tmp_path, tmp_path / name)
        assert result.exit_code == 2 and "cannot read the image" in result.output, result.output
        assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_decompression_bomb_is_refused_before_decoding(cli, write, tmp_path):
    Image.new("1", (12000, 12000)).save(tmp_path / "bomb.png")  # a few KB on disk, 144 Mpx decoded
    assert (tmp_path / "bomb.png").stat().st_size < 200_000
    result = render_with_input(cli, write, tmp_path, tmp_path / "bomb.png")
    assert result.exit_code == 2 and "too large" in result.output


def test_truncated_checkpoint_is_a_clean_error(cli, write, tmp_path):
    from studio.models.zoo import build_architecture

    path = tmp_path / "net.pt"
    torch.save({"arch": "resnet18", "state_dict": build_architecture("resnet18").state_dict()}, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    text = TINY_FEATURE_MAPS.replace('name = "efficientnet_lite0"', f'name = "{path}"').replace(
        '"blocks.0", "blocks.2"', '"layer1"')
    result = cli("render", write("t.toml", text), "--out", tmp_path / "out")
    assert result.exit_code == 1 and "not a loadable weights file" in result.output
    assert "Traceback" not in result.output


def test_names_and_dirs_cannot_leave_the_output_folder(cli, write, tmp_path):
    for change in ('name = "../escape"', 'name = "a/b"'):
        result = cli("validate", write("t.toml", TINY_FEATURE_MAPS.replace('name = "tiny"', change)))
        assert result.exit_code == 2 and "preset.name" in result.output
    result = cli("validate", write("t.toml", TINY_FEATURE_MAPS + '[output]\ndir = "/etc"\n'))
    assert result.exit_code == 2 and "output.dir" in result.output
