"""Image I/O: formats and conversions, size limits, bad files, and outputs that lose nothing."""

import os

import cv2
import numpy as np
import pytest
from PIL import Image

from toolkit import io
from toolkit.errors import ImageError, OutputError


def _rgb(h=32, w=48, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "WEBP"])
def test_lossless_formats_read_back_exactly(tmp_path, fmt):
    arr = _rgb()
    path = tmp_path / f"x.{fmt.lower()}"
    Image.fromarray(arr).save(path, format=fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    got = io.read_image(path)
    assert got.dtype == np.float32 and got.shape == (32, 48, 3)
    np.testing.assert_array_equal(io.to_uint8(got), arr)


def test_jpeg_reads_close_to_source(tmp_path):
    arr = np.full((32, 32, 3), (200, 40, 90), np.uint8)
    Image.fromarray(arr).save(tmp_path / "x.jpg", quality=95)
    got = io.read_image(tmp_path / "x.jpg")
    assert np.abs(got * 255 - arr).max() < 6


def test_grayscale_is_expanded_to_three_equal_channels(tmp_path):
    Image.fromarray(np.arange(32 * 32, dtype=np.uint8).reshape(32, 32)).save(tmp_path / "g.png")
    got = io.read_image(tmp_path / "g.png")
    assert got.shape == (32, 32, 3)
    np.testing.assert_array_equal(got[..., 0], got[..., 2])


def test_alpha_is_flattened_onto_white(tmp_path):
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 0] = 255          # red ...
    rgba[:10, :, 3] = 255       # ... opaque in the top half, transparent below
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    got = io.read_image(tmp_path / "a.png")
    np.testing.assert_allclose(got[0, 0], [1, 0, 0])
    np.testing.assert_allclose(got[15, 0], [1, 1, 1])


def test_16bit_gray_and_color_keep_their_precision(tmp_path):
    gray = np.full((20, 20), 300, np.uint16)  # 300/65535 is not an 8-bit level
    cv2.imwrite(str(tmp_path / "g16.png"), gray)
    np.testing.assert_allclose(io.read_image(tmp_path / "g16.png")[0, 0], 300 / 65535, atol=1e-6)
    color = np.zeros((20, 20, 3), np.uint16)
    color[..., 2] = 65535   # OpenCV writes BGR: this is red
    color[..., 1] = 300
    cv2.imwrite(str(tmp_path / "c16.png"), color)
    got = io.read_image(tmp_path / "c16.png")
    np.testing.assert_allclose(got[0, 0], [1.0, 300 / 65535, 0.0], atol=1e-6)


def test_cmyk_palette_and_animated_gif_are_converted(tmp_path):
    Image.fromarray(_rgb()).convert("CMYK").save(tmp_path / "c.jpg")
    assert io.read_image(tmp_path / "c.jpg").shape == (32, 48, 3)
    frames = [Image.new("RGB", (24, 24), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    first = io.read_image(tmp_path / "anim.gif")
    assert first[0, 0, 0] > 0.9 and first[0, 0, 2] < 0.1  # the first (red) frame


def test_exif_orientation_is_applied(tmp_path):
    im = Image.fromarray(_rgb(20, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    im.save(tmp_path / "phone.jpg", exif=exif)
    assert io.read_image(tmp_path / "phone.jpg").shape == (40, 20, 3)


def test_max_size_keeps_aspect_ratio_and_never_upscales(tmp_path):
    Image.fromarray(_rgb(100, 300)).save(tmp_path / "wide.png")
    assert io.read_image(tmp_path / "wide.png", max_size=150).shape == (50, 150, 3)
    assert io.read_image(tmp_path / "wide.png", max_size=1000).shape == (100, 300, 3)


def test_samples_are_readable_offline():
    img = io.read_image("sample:grace_hopper", max_size=64)
    assert img.shape[2] == 3 and max(img.shape[:2]) == 64 and 0 <= img.min() and img.max() <= 1
    with pytest.raises(ImageError, match="unknown sample"):
        io.read_image("sample:nope")


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"),
    (b"this is a text file, not a picture\n", "not an image"),
    (None, "truncated"),
])
def test_bad_files_give_one_line_errors(tmp_path, content, expected):
    path = tmp_path / "bad.png"
    if content is None:  # a real PNG cut in half
        Image.fromarray(_rgb(64, 64)).save(path)
        path.write_bytes(path.read_bytes()[: os.path.getsize(path) // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(ImageError, match=expected) as err:
        io.read_image(path)
    assert "\n" not in str(err.value)


def test_missing_small_and_huge_images_are_refused(tmp_path, monkeypatch):
    with pytest.raises(ImageError, match="no such file"):
        io.read_image(tmp_path / "missing.png")
    Image.fromarray(_rgb(8, 8)).save(tmp_path / "tiny.png")
    with pytest.raises(ImageError, match="too small"):
        io.read_image(tmp_path / "tiny.png")
    monkeypatch.setattr(io, "MAX_PIXELS", 1000)
    Image.fromarray(_rgb(40, 40)).save(tmp_path / "big.png")
    with pytest.raises(ImageError, match="too large"):
        io.read_image(tmp_path / "big.png")


def test_save_roundtrip_with_metadata(tmp_path):
    img = np.random.default_rng(1).random((16, 24, 3), dtype=np.float32)
    out = io.save_image(tmp_path / "o.png", img, metadata={"seed": 3, "weights": "random:0"})
    assert np.abs(io.read_image(out) - img).max() <= 0.5 / 255 + 1e-6
    assert io.read_png_metadata(out) == {"seed": 3, "weights": "random:0"}
    assert [p.name for p in tmp_path.iterdir()] == ["o.png"]  # no temporary file left behind


def test_outputs_never_replace_inputs_or_existing_files(tmp_path):
    src = tmp_path / "in.png"
    Image.fromarray(_rgb()).save(src)
    before = src.read_bytes()
    img = np.zeros((16, 16, 3), np.float32)
    with pytest.raises(OutputError, match="input"):
        io.save_image(src, img, force=True, protect=[src])
    with pytest.raises(OutputError, match="--force"):
        io.save_image(src, img)
    assert src.read_bytes() == before
    io.save_image(src, img, force=True)
    assert io.read_image(src, min_side=1).max() == 0


def test_mask_reading_resizes_to_the_image(tmp_path):
    m = np.zeros((20, 30), np.uint8)
    m[5:15, 10:20] = 255
    Image.fromarray(m).save(tmp_path / "m.png")
    mask = io.read_mask(tmp_path / "m.png")
    assert mask.shape == (20, 30) and mask.max() == 1 and mask.min() == 0
    assert io.read_mask(tmp_path / "m.png", shape=(40, 60)).shape == (40, 60)
    assert io.read_mask(tmp_path / "m.png", shape=(67, 100)).shape == (67, 100)  # 3.35 × 20 rounds to 67


@pytest.mark.parametrize("shape", [(30, 30), (20, 45), (60, 60)])
def test_a_mask_of_another_shape_than_its_image_is_refused(tmp_path, shape):
    Image.fromarray(np.full((20, 30), 255, np.uint8)).save(tmp_path / "m.png")
    with pytest.raises(ImageError, match=rf"m.png is 30×20 pixels and the image {shape[1]}×{shape[0]}: not the same "
                                         r"shape, so not this image's mask; give the mask made for this image"):
        io.read_mask(tmp_path / "m.png", shape=shape)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_a_cut_out_mask_is_read_by_its_alpha(tmp_path, mode):
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., :3] = 255 if mode == "RGBA" else 0  # white or black colour under the alpha: only alpha counts
    rgba[5:15, 10:20, 3] = 255  # the opaque object on a transparent canvas
    im = Image.fromarray(rgba, "RGBA")
    (im if mode == "RGBA" else im.convert("LA")).save(tmp_path / "cut.png")
    mask = io.read_mask(tmp_path / "cut.png")
    assert mask.shape == (20, 30) and mask[5:15, 10:20].min() == 1 and mask.sum() == 100
