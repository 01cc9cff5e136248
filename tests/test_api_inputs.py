"""The documented Python API given careless inputs: uint8 or 0-255 images where float [0, 1] is expected, NaN,
grayscale or RGBA arrays, empty arrays, masks of the wrong shape or scale, malformed boxes, views and read-only
arrays. Bad input is a one-line ParameterError (or the module's own error) naming the problem and the fix, raised
before any work; cheap unambiguous differences (float64, views, read-only, lists) are converted; no input array is
ever changed in place. Everything runs at 64 px (the audit at 32 px) with random weights."""

import logging

import numpy as np
import pytest

from toolkit.audit import AuditConfig, audit
from toolkit.errors import ParameterError, SegmentationError
from toolkit.io import as_image, as_mask, read_image, read_mask, save_image
from toolkit.segment.grabcut import NO_HINT, grabcut, hints_from_image, plain_grabcut, validate_box
from toolkit.segment.kmeans import kmeans_segment
from toolkit.segment.separability import separability
from toolkit.style import StyleConfig, make_engine, stylize

BOX = (10, 10, 44, 44)
STYLE = StyleConfig(size=64, pyramid=(), steps=2)
AUDIT = AuditConfig(size=32, methods=("saliency",), sanity_steps=0, curve_steps=0)


def disc_scene(size=64):
    """A noisy red disc on a noisy green background, float32 in [0, 1]."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    truth = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 4) ** 2).astype(np.float32)
    img = np.where(truth[..., None] > 0, (0.9, 0.2, 0.2), (0.2, 0.6, 0.3)) + rng.normal(0, 0.05, (size, size, 3))
    return np.clip(img, 0, 1).astype(np.float32), truth


@pytest.fixture(scope="module")
def scene():
    return disc_scene()


@pytest.fixture(scope="module")
def engine():
    return make_engine("torch", "random:0", STYLE, "cpu")


def with_nan(img):
    out = img.copy()
    out[5, 7, 1] = np.nan
    return out


def read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


# ------------------------------------------------------------------------------------------ images, one rule

#: (what a careless caller passes, words the one-line error must contain)
BAD_IMAGES = {
    "uint8": (lambda img: (img * 255).round().astype(np.uint8), ["uint8", "divide it by 255"]),
    "float 0-255": (lambda img: img * 255, ["outside [0, 1]", "divide it by 255"]),
    "uint16": (lambda img: (img * 65535).astype(np.uint16), ["uint16", "65535"]),
    "negative": (lambda img: img - 0.5, ["outside [0, 1]", "rescale"]),
    "nan": (with_nan, ["1 NaN or infinite", "nan_to_num"]),
    "grayscale": (lambda img: img.mean(-1), ["one channel", "np.repeat"]),
    "rgba": (lambda img: np.dstack([img, np.ones(img.shape[:2], np.float32)]), ["RGBA", "[..., :3]"]),
    "empty": (lambda img: img[:0], ["empty"]),
    # before: stylize and audit upscaled a 1×1 array to the working size, which a 1×1 file is refused
    "tiny": (lambda img: img[:1, :3], ["3×1 pixels", "at least 16"]),
    "boolean": (lambda img: img > 0.5, ["boolean"]),
}

SEGMENTERS = {
    "grabcut": lambda img: grabcut(img, BOX),
    "plain_grabcut": lambda img: plain_grabcut(img, BOX),
    "kmeans_segment": lambda img: kmeans_segment(img, 3),
    "separability": lambda img: separability(img, BOX),
}


def refusal(call, *words, error=ParameterError) -> str:
    """The one-line message ``call()`` is refused with; it contains every word in ``words``."""
    with pytest.raises(error) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg and all(w in msg for w in words), msg
    return msg


@pytest.mark.parametrize("bad", BAD_IMAGES)
@pytest.mark.parametrize("fn", SEGMENTERS)
def test_segmentation_refuses_images_outside_its_contract(scene, fn, bad):
    img, _ = scene
    make, words = BAD_IMAGES[bad]
    refusal(lambda: SEGMENTERS[fn](make(img)), "the image", *words)


def test_a_uint8_image_is_not_clustered_into_0_255_centres(scene):
    # before: accepted, and the centres (documented in [0, 1]) came out up to 229
    img, _ = scene
    with pytest.raises(ParameterError, match="uint8"):
        kmeans_segment((img * 255).astype(np.uint8), 3)
    assert kmeans_segment(img, 3).centers.max() <= 1


@pytest.mark.parametrize("fn", ["grabcut", "kmeans_segment"])
def test_views_read_only_float64_and_lists_are_converted_to_the_same_result(scene, fn):
    img, _ = scene
    flipped = np.ascontiguousarray(img[:, ::-1])
    want = SEGMENTERS[fn](flipped)
    for variant in (img[:, ::-1], read_only(flipped), flipped.astype(np.float64), flipped.tolist(),
                    np.asfortranarray(flipped)):
        got = SEGMENTERS[fn](variant)
        if fn == "grabcut":
            np.testing.assert_array_equal(got.mask, want.mask)
        else:
            np.testing.assert_array_equal(got.labels, want.labels)
            np.testing.assert_allclose(got.centers, want.centers, atol=1e-6)


def test_values_a_rounding_outside_the_unit_range_are_clipped_not_refused(scene):
    img, _ = scene
    nudged = img.copy()
    nudged[0, 0] = (1 + 1e-4, -1e-4, 0.5)
    out = as_image(nudged)
    assert out.min() >= 0 and out.max() <= 1 and out.dtype == np.float32 and out.flags.c_contiguous
    assert nudged[0, 0, 0] > 1  # the caller's array is left alone


# ------------------------------------------------------------------------------------------------ GrabCut


@pytest.mark.parametrize("box, words", [((10, 10, 44), ["4 numbers"]), ("10,10,44,44", ["4 numbers"]),
                                         ((np.nan, 10, 44, 44), ["whole numbers", "nan"]),
                                         ((10, 10, np.inf, 44), ["whole numbers", "inf"]),
                                         (None, ["4 numbers"])])
def test_malformed_boxes_are_refused_in_one_line(box, words):
    refusal(lambda: validate_box(box, (64, 64)), "box", *words)


def test_a_float_box_is_taken_to_whole_pixels(scene):
    img, _ = scene
    assert validate_box((10.4, 10.6, 44.2, 43.9), (64, 64)) == (10, 11, 44, 44)
    np.testing.assert_array_equal(grabcut(img, (10.4, 10.6, 44.2, 43.9)).mask, grabcut(img, (10, 11, 44, 44)).mask)


def test_colour_hints_are_refused_saying_so_not_as_the_same_size(scene):
    img, _ = scene
    hints = np.full((64, 64, 3), 255, np.uint8)
    msg = refusal(lambda: grabcut(img, BOX, hints=hints), "hints", "3 channels")
    assert "64×64 but the image is 64×64" not in msg


@pytest.mark.parametrize("kw, words", [({"iterations": 2.5}, ["iterations", "whole number"]),
                                       ({"iterations": True}, ["iterations", "whole number"]),
                                       ({"work_size": 0}, ["work_size", "positive"]),
                                       ({"work_size": -5}, ["work_size", "positive"]),
                                       ({"feather_radius": np.nan}, ["feather_radius"]),
                                       ({"keep_share": 2.0}, ["keep_share", "0 to 1"]),
                                       ({"keep_share": -0.1}, ["keep_share", "0 to 1"]),
                                       ({"context": -0.5}, ["context", "0 or more"]),
                                       ({"context": np.inf}, ["context", "0 or more"])])
def test_grabcut_refuses_bad_settings_before_running(scene, kw, words):
    # before: iterations=2.5 failed inside OpenCV as "GrabCut failed ...; try a larger box", work_size=0 quietly
    # fell back to plain OpenCV, a NaN feather radius raised ValueError from int(); keep_share=2 dropped every
    # part and quietly fell back to plain OpenCV, a negative context was taken as 2 px
    img, _ = scene
    refusal(lambda: grabcut(img, BOX, **kw), *words)


@pytest.mark.parametrize("kw, words", [({"sample": 0}, ["sample", "at least"]), ({"sample": -1}, ["sample"]),
                                       ({"sample": 2.5}, ["sample", "whole number"]),
                                       ({"seed": -1}, ["seed", "whole number"])])
def test_kmeans_refuses_bad_settings(scene, kw, words):
    img, _ = scene
    refusal(lambda: kmeans_segment(img, 3, **kw), *words)


# ------------------------------------------------------------------------------------------ style transfer


@pytest.mark.parametrize("slot", ["content", "style", "second_style"])
@pytest.mark.parametrize("bad", ["uint8", "float 0-255", "nan", "grayscale", "rgba", "empty", "tiny"])
def test_stylize_refuses_each_image_outside_the_contract(astronaut64, coffee64, engine, slot, bad):
    # before: a uint8 or 0-255 content came out nearly white, a NaN content as a NaN image ("stopped": "nan"),
    # grayscale and RGBA as PyTorch RuntimeErrors
    yy, xx = np.mgrid[0:64, 0:64]
    disc = (((yy - 32) ** 2 + (xx - 32) ** 2) < 16**2).astype(np.float32)
    args = {"content": astronaut64, "style": coffee64, "second_style": coffee64}
    make, words = BAD_IMAGES[bad]
    args[slot] = make(args[slot])
    name = {"content": "the content image", "style": "the style image", "second_style": "the second style"}[slot]
    refusal(lambda: stylize(args["content"], args["style"], STYLE, mask=disc, region="foreground",
                            second_style=args["second_style"], progress=False, built=engine), name, *words)


@pytest.mark.parametrize("mask, words", [
    (lambda m: m * 255, ["the mask", "divide it by 255"]),
    (lambda m: np.where(np.arange(64) < 5, np.nan, m), ["the mask", "NaN"]),  # NaN used to count as background
    (lambda m: np.dstack([m] * 3), ["the mask", "3 channels", "mask[..., 0]"]),
    (lambda m: m[:32], ["the mask is 64×32", "the content image is 64×64"]),
    (lambda m: m.tolist()[:10], ["the mask is 64×10"]),
])
def test_stylize_refuses_masks_outside_the_contract(astronaut64, coffee64, engine, mask, words):
    yy, xx = np.mgrid[0:64, 0:64]
    disc = (((yy - 32) ** 2 + (xx - 32) ** 2) < 16**2).astype(np.float32)
    refusal(lambda: stylize(astronaut64, coffee64, STYLE, mask=mask(disc), region="background", progress=False,
                            built=engine), *words)


def test_stylize_refuses_a_mask_without_a_region(astronaut64, coffee64, engine):
    # before: the mask was silently ignored and the whole image stylised
    disc = np.zeros((64, 64), np.float32)
    disc[16:48, 16:48] = 1
    refusal(lambda: stylize(astronaut64, coffee64, STYLE, mask=disc, progress=False, built=engine),
            "region", "whole image")


def test_stylize_converts_bool_and_list_masks_and_leaves_its_inputs_alone(astronaut64, coffee64, engine):
    disc = np.zeros((64, 64), np.float32)
    disc[16:48, 16:48] = 1
    inputs = [read_only(astronaut64), coffee64[:, ::-1], disc]
    kept = [a.copy() for a in inputs]
    want = stylize(*inputs[:2], STYLE, mask=disc, region="foreground", progress=False, built=engine).image
    for variant in (disc > 0.5, disc.tolist(), disc[..., None]):
        got = stylize(*inputs[:2], STYLE, mask=variant, region="foreground", progress=False, built=engine).image
        np.testing.assert_allclose(got, want, atol=1e-6)
    for a, b in zip(inputs, kept):
        np.testing.assert_array_equal(a, b)


# -------------------------------------------------------------------------------------------------- audit


@pytest.mark.parametrize("bad", ["uint8", "float 0-255", "nan", "grayscale", "rgba", "empty", "tiny"])
def test_audit_refuses_images_outside_the_contract(astronaut64, bad):
    # before: uint8 and 0-255 images were audited as they were (pixels up to 255), a NaN image gave NaN
    # predictions, grayscale and RGBA PyTorch errors, an empty one OpenCV's assertion
    make, words = BAD_IMAGES[bad]
    refusal(lambda: audit(make(astronaut64), AUDIT), "the image", *words)


def test_audit_refuses_a_mask_of_another_image():
    # before: a 64×32 mask of a 64×64 image was cropped and used, measuring attention on the wrong pixels
    img, truth = disc_scene()
    refusal(lambda: audit(img, AUDIT, mask=truth[:, :32]), "the mask is 32×64", "the image is 64×64")
    refusal(lambda: audit(img, AUDIT, mask=np.dstack([truth] * 3)), "3 channels")


def test_audit_refuses_a_mask_with_no_background():
    # before: a mask covering the whole image gave an attention ratio of exactly 1 ("no clear preference")
    img, truth = disc_scene()
    refusal(lambda: audit(img, AUDIT, mask=np.ones_like(truth)), "whole", "background",
            error=SegmentationError)


def test_audit_refuses_a_bad_style_and_stylisation_for_the_shortcut_probe(astronaut64, coffee64):
    img, truth = disc_scene()
    cfg = AuditConfig(size=32, methods=("saliency",), sanity_steps=0, curve_steps=0, shortcut=True,
                      shortcut_size=32, shortcut_steps=2, shortcut_controls=1)
    refusal(lambda: audit(img, cfg, mask=truth, style=(coffee64 * 255).astype(np.uint8)), "the style image",
            "uint8")
    refusal(lambda: audit(img, cfg, mask=truth, style=coffee64.mean(-1)), "the style image", "one channel")
    refusal(lambda: audit(img, cfg, mask=truth, style=coffee64, styled=(img * 255, "x")), "the stylised image",
            "divide it by 255")


def test_audit_converts_views_and_leaves_its_inputs_alone():
    img, truth = disc_scene()
    kept = img.copy(), truth.copy()
    want = audit(np.ascontiguousarray(img[::-1]), AUDIT, mask=np.ascontiguousarray(truth[::-1]))
    got = audit(read_only(img)[::-1], AUDIT, mask=(truth > 0.5)[::-1])
    np.testing.assert_allclose(got.maps["saliency"], want.maps["saliency"], rtol=1e-5, atol=1e-7)
    assert got.attention["saliency"]["ratio"] == pytest.approx(want.attention["saliency"]["ratio"])
    np.testing.assert_array_equal(img, kept[0])
    np.testing.assert_array_equal(truth, kept[1])


# ---------------------------------------------------------------------------------------------------- I/O


@pytest.mark.parametrize("bad, words", [
    (lambda img: img * 255, ["outside [0, 1]", "divide it by 255"]),  # before: a white picture
    (lambda img: (img * 255).astype(np.int64), ["int64", "uint8"]),  # before: a white picture
    (lambda img: (img * 65535).astype(np.uint16), ["uint16", "uint8"]),  # before: a white picture
    (with_nan, ["NaN"]),  # before: NaN written as black
    (lambda img: img[:0], ["empty"]),  # before: Pillow's ValueError
    (lambda img: img[None], ["shape"]),  # before: Pillow's TypeError
])
def test_save_image_refuses_what_it_would_write_wrongly(tmp_path, scene, bad, words):
    img, _ = scene
    refusal(lambda: save_image(tmp_path / "out.png", bad(img)), "the image to save", *words)
    assert not list(tmp_path.iterdir())


def test_save_image_clips_a_computed_images_small_overshoot(tmp_path, scene):
    # a cubic resize or a colour transfer overshoots [0, 1] a little: the write after minutes of work must not fail
    img, _ = scene
    over = img * 1.04 - 0.02
    save_image(tmp_path / "out.png", over)
    back = read_image(tmp_path / "out.png")
    np.testing.assert_allclose(back, np.clip(over, 0, 1), atol=1 / 255)


def test_save_image_writes_a_one_channel_image_as_jpeg_and_refuses_rgba_as_jpeg(tmp_path, scene):
    img, _ = scene
    gray = img[..., :1]
    save_image(tmp_path / "gray.jpg", gray)  # before: Pillow's TypeError
    back = read_image(tmp_path / "gray.jpg")
    assert back.shape == (64, 64, 3) and abs(back[..., 0].mean() - gray.mean()) < 0.02
    rgba = np.dstack([img, np.ones((64, 64), np.float32)])
    refusal(lambda: save_image(tmp_path / "rgba.jpg", rgba), "JPEG", ".png")  # before: Pillow's OSError
    save_image(tmp_path / "rgba.png", rgba)  # PNG keeps the alpha
    assert read_image(tmp_path / "rgba.png").shape == (64, 64, 3)


def test_as_mask_takes_01_integers_and_bools_and_refuses_0_255(scene):
    _, truth = scene
    for variant in (truth.astype(np.uint8), truth > 0.5, truth.astype(np.float64)[..., None]):
        got = as_mask(variant, (64, 64))
        assert got.dtype == np.float32 and got.shape == (64, 64)
        np.testing.assert_array_equal(got, truth)
    refusal(lambda: as_mask((truth * 255).astype(np.uint8), (64, 64)), "the mask", "divide it by 255")


logging.getLogger("styleseg").setLevel(logging.ERROR)  # random weights warn on every run


def test_a_uint8_hint_drawing_is_refused_not_read_as_all_foreground(scene):
    # before: a uint8 drawing was scaled by 255 twice, so every pixel, the mid-gray canvas too, became foreground
    img, _ = scene
    drawing = np.full((64, 64, 4), 128, np.uint8)
    drawing[..., 3] = 255
    refusal(lambda: hints_from_image(drawing), "the hint drawing", "uint8", "divide it by 255")
    assert (hints_from_image(drawing / 255.0) == NO_HINT).all()


@pytest.mark.parametrize("shape", [(0, 0), (64, 64, 3), (64.5, 64), (-64, 64)])
def test_read_mask_refuses_a_shape_that_is_not_two_positive_sides(tmp_path, scene, shape):
    # before: (0, 0) failed in OpenCV's resize, (64, 64, 3) and (64.5, 64) were taken as (64, 64)
    _, truth = scene
    save_image(tmp_path / "m.png", truth)
    refusal(lambda: read_mask(tmp_path / "m.png", shape=shape), "shape", "(H, W)")


def test_an_array_larger_than_an_image_file_may_be_is_refused_before_any_work():
    # a read-only broadcast view: 42 megapixels without the memory, refused as a 42-megapixel file is
    huge = np.broadcast_to(np.full((1, 1, 3), 0.5, np.float32), (6000, 7000, 3))
    refusal(lambda: kmeans_segment(huge, 3), "the image is too large (7000×6000)", "downscale it first")
