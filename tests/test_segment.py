"""Segmentation: GrabCut and k-means on synthetic scenes whose answer is known, errors, benchmark scoring."""

from pathlib import Path

import numpy as np
import pytest

from toolkit.errors import ParameterError
from toolkit.segment import grabcut as grabcut_module
from toolkit.segment.benchmark import evaluate, load_dataset, protocol_box, score
from toolkit.segment.grabcut import (BG, FG, NO_HINT, PR_BG, PR_FG, clean_mask, grabcut, hints_from_image,
                                     _reached_as_background, plain_grabcut, refine_boundary, region_of_interest,
                                     validate_box)
from toolkit.segment.kmeans import kmeans_segment
from toolkit.segment.masks import boundary_contrast
from toolkit.segment.onecut import onecut
from toolkit.segment.reach import reach, step_cost
from toolkit.segment.separability import separability
from toolkit.segment.tightness import box_fit, edge_share, empty_line_share
from toolkit.segment.views import blackout_views, label_map, palette_strip

GRABCUT50 = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "grabcut50"


def disc_scene(size=96, seed=0, fg=(0.9, 0.2, 0.2), bg=(0.2, 0.6, 0.3)):
    """A noisy disc on a noisy background; returns (image, true mask)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    truth = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 4) ** 2).astype(np.float32)
    img = np.where(truth[..., None] > 0, fg, bg) + rng.normal(0, 0.05, (size, size, 3))
    return np.clip(img, 0, 1).astype(np.float32), truth


def iou(a, b):
    return ((a > 0.5) & (b > 0.5)).sum() / ((a > 0.5) | (b > 0.5)).sum()


@pytest.mark.parametrize("work_size", [None, 48])
def test_grabcut_finds_the_object_in_a_box(work_size):
    img, truth = disc_scene()
    res = grabcut(img, (16, 16, 64, 64), work_size=work_size)
    assert res.mask.shape == truth.shape and set(np.unique(res.mask)) <= {0.0, 1.0}
    assert iou(res.mask, truth) > 0.9
    assert res.alpha.min() >= 0 and res.alpha.max() <= 1
    soft = np.abs(res.alpha - res.mask) > 0.02  # the feathered band: present, and narrow
    assert 0 < soft.mean() < 0.15
    assert res.mask[:16].sum() == 0  # outside the box is background by definition


def test_grabcut_from_hints_alone():
    img, truth = disc_scene()
    hints = np.full(truth.shape, PR_BG, np.uint8)
    hints[:5], hints[-5:] = BG, BG
    hints[44:52, 44:52] = FG
    assert iou(grabcut(img, hints=hints).mask, truth) > 0.85


def test_default_box_is_used_without_box_or_hints():
    img, truth = disc_scene()
    res = grabcut(img)
    assert res.box == (10, 10, 77, 77) and iou(res.mask, truth) > 0.85


def test_bad_boxes_give_clear_errors():
    shape = (96, 96)
    assert validate_box((-10, -10, 50, 50), shape) == (0, 0, 40, 40)  # partly outside: clipped
    for box, msg in [((200, 200, 10, 10), "outside"), ((10, 10, 4, 40), "smaller"),
                     ((0, 0, 96, 96), "whole"), ((-5, -5, 200, 200), "whole")]:
        with pytest.raises(ParameterError, match=msg):
            validate_box(box, shape)
    img, _ = disc_scene()
    with pytest.raises(ParameterError, match="iterations"):
        grabcut(img, (16, 16, 64, 64), iterations=0)


def test_cleanup_keeps_every_substantial_part_drops_specks_and_fills_holes():
    m = np.zeros((40, 40), np.float32)
    m[5:30, 5:20] = 1
    m[5:30, 24:30] = 1       # a second part, 40 % of the first: kept (a person and their racket)
    m[15:18, 10:13] = 0      # a hole
    m[35:38, 35:38] = 1      # a speck, 2 % of the largest part
    out = clean_mask(m)
    assert out[16, 11] == 1 and out[36, 36] == 0 and out[5:30, 5:20].all() and out[5:30, 24:30].all()
    assert out[5:30, 20:24].sum() == 0  # the gap between the parts is not a hole
    assert clean_mask(m, keep_share=0.5)[5:30, 24:30].sum() == 0


def test_a_hole_showing_the_background_stays_open_and_one_of_other_colours_is_filled():
    rng = np.random.default_rng(0)
    img = np.clip(np.full((64, 64, 3), (0.2, 0.6, 0.3)) + rng.normal(0, 0.03, (64, 64, 3)), 0, 1).astype(np.float32)
    m = np.zeros((64, 64), np.float32)
    m[16:48, 16:48] = 1
    img[16:48, 16:48] = (0.9, 0.2, 0.2)
    m[20:26, 20:26] = 0
    img[20:26, 20:26] = (0.2, 0.6, 0.3)  # the background's green shows through: a real hole
    m[36:42, 36:42] = 0
    img[36:42, 36:42] = (0.95, 0.95, 0.9)  # a highlight on the object, left out by a colour model: not a hole
    outside = np.ones((64, 64), bool)
    outside[12:52, 12:52] = False
    out = clean_mask(m, image=img, background=outside)
    assert out[20:26, 20:26].sum() == 0 and out[36:42, 36:42].all()
    assert clean_mask(m)[20:26, 20:26].all()  # without colours every hole is filled, as before


def test_the_astronauts_name_patch_is_not_taken_for_the_flag_behind_her():
    from toolkit.samples import load_sample

    # the navy patch on the suit has the colours of the flag beside the box (mean log-odds 2.6): not a hole
    image = load_sample("astronaut")
    mask = grabcut(image, (20, 10, 450, 500)).mask
    assert (clean_mask(mask) != mask).sum() == 0


def test_grabcut_leaves_the_background_seen_through_a_ring_out():
    img, _ = disc_scene()
    yy, xx = np.mgrid[0:96, 0:96]
    centre = (yy - 48) ** 2 + (xx - 48) ** 2 < 10 ** 2
    background = disc_scene(seed=1, fg=(0.2, 0.6, 0.3))[0]
    img[centre] = background[centre]  # the ring's middle shows the background
    truth = ((yy - 48) ** 2 + (xx - 48) ** 2 < 24 ** 2) & ~centre
    res = grabcut(img, (16, 16, 64, 64))
    assert res.mask[centre].mean() < 0.1 and iou(res.mask, truth.astype(np.float32)) > 0.85


def test_a_small_box_is_worked_on_at_full_resolution(monkeypatch):
    # A 50×80 box in a 640×480 photo: GrabCut sees the box and its surroundings, unscaled (on a 320 px copy of
    # the whole photo, small objects vanished and 17 of COCO-MVal-100's photos got no mask).
    seen = []
    run = grabcut_module._run_opencv
    monkeypatch.setattr(grabcut_module, "_run_opencv", lambda im, *a: seen.append(im.shape) or run(im, *a))
    rng = np.random.default_rng(1)
    img = np.clip(rng.normal(0.45, 0.12, (480, 640, 3)), 0, 1).astype(np.float32)
    truth = np.zeros((480, 640), np.float32)
    truth[200:260, 300:310] = 1
    img[truth > 0] = (0.95, 0.85, 0.1)
    res = grabcut(img, (280, 190, 50, 80))
    assert seen == [(120, 90, 3)] and iou(res.mask, truth) > 0.9
    seen.clear()
    grabcut(img, (40, 40, 560, 400))  # a large box: a copy whose longer side is 320 px, its boundary redrawn at 640
    assert seen == [(240, 320, 3), (480, 640, 3)]


def spoked_scene(size=384, seed=0):
    """A noisy disc with eight 4 px spokes 40 px long, on a noisy background; (image, true mask, spokes)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] - size / 2
    r, t = np.hypot(yy, xx), np.arctan2(yy, xx)
    off_spoke = np.abs((t / (2 * np.pi / 8) + 0.5) % 1 - 0.5) * r * 2 * np.pi / 8  # px from the nearest spoke's axis
    spoked = (r < size / 5) | ((r < size / 5 + 40) & (off_spoke < 2))
    truth, spokes = spoked.astype(np.float32), spoked & (r > size / 5 + 2)
    img = np.where(truth[..., None] > 0, (0.9, 0.2, 0.2), (0.2, 0.6, 0.3)) + rng.normal(0, 0.05, (size, size, 3))
    return np.clip(img, 0, 1).astype(np.float32), truth, spokes


def test_thin_parts_lost_on_the_small_copy_come_back_at_full_resolution():
    # On a 48 px copy of 384 px the spokes are half a pixel wide; the boundary is redrawn at full resolution in a
    # band around the copy's mask (a guided filter on the upsampled mask kept 14 % of them)
    img, truth, spokes = spoked_scene()
    res = grabcut(img, (48, 48, 288, 288), work_size=48)
    assert res.mask[spokes].mean() > 0.9 and iou(res.mask, truth) > 0.97
    unrefined = grabcut(img, (48, 48, 288, 288), work_size=48, refine=False).mask
    assert unrefined[spokes].mean() < 0.1


def test_the_boundary_band_keeps_definite_labels_and_the_mask_when_it_cannot_cut():
    img, truth = disc_scene()
    init = np.full(truth.shape, PR_FG, np.uint8)
    init[:8], init[40:44, 40:44] = BG, BG  # the user's: outside the box, and a definite-background hint
    out = refine_boundary(img, init, truth, band=4)
    assert out[:8].sum() == 0 and out[40:44, 40:44].sum() == 0 and iou(out, truth) > 0.95
    everything = np.ones_like(truth)  # no background to learn colours from: the mask comes back as it was
    np.testing.assert_array_equal(refine_boundary(img, np.full(truth.shape, PR_FG, np.uint8), everything, 4),
                                  everything)


def test_an_empty_fast_result_falls_back_to_plain_opencv(monkeypatch):
    img, truth = disc_scene()
    monkeypatch.setattr(grabcut_module, "_fast_grabcut",
                        lambda image, init, *a: (np.zeros(init.shape, np.float32), False))
    res = grabcut(img, (16, 16, 64, 64))
    assert res.params["fallback"] and iou(res.mask, truth) > 0.9
    np.testing.assert_array_equal(res.mask, plain_grabcut(img, (16, 16, 64, 64)))


def test_onecut_colour_term_keeps_background_colours_out_of_the_box():
    # At a weak smoothness, ballooning alone fills the box; the colour-overlap term gives back the disc, as the
    # background's colour is also found outside the box.
    img, truth = disc_scene()
    rgb = (img * 255 + 0.5).astype(np.uint8)
    inside = np.zeros(truth.shape, bool)
    inside[16:80, 16:80] = True
    assert onecut(rgb, inside, smoothness=0.5, beta_share=0.0)[inside].mean() == 1.0
    mask = onecut(rgb, inside, smoothness=0.5)
    assert mask.dtype == np.float32 and iou(mask, truth) > 0.99 and mask[~inside].sum() == 0
    assert iou(onecut(rgb, inside), truth) > 0.99  # the authors' weights


def test_boundary_contrast_is_high_on_the_outline_low_through_flat_background():
    img, truth = disc_scene()
    rgb = (img * 255 + 0.5).astype(np.uint8)
    square = np.zeros(truth.shape, np.float32)
    square[16:80, 16:80] = 1
    assert boundary_contrast(rgb, truth) > 3 * boundary_contrast(rgb, square)
    assert boundary_contrast(rgb, np.zeros_like(square)) == 0.0


def test_onecut_mask_is_kept_only_when_it_follows_edges_and_has_not_collapsed(monkeypatch):
    from toolkit.segment import onecut as onecut_module

    img, truth = disc_scene()
    rgb = (img * 255 + 0.5).astype(np.uint8)
    inside = np.zeros(truth.shape, bool)
    inside[16:80, 16:80] = True
    square = inside.astype(np.float32)  # GrabCut having kept the whole box: its boundary crosses flat background
    mask, kept = grabcut_module._prefer_onecut(rgb, inside, square, 1.0)
    assert kept and iou(mask, truth) > 0.99
    mask, kept = grabcut_module._prefer_onecut(rgb, inside, truth, 1.0)  # GrabCut right: OneCut is no better
    assert not kept and mask is truth
    sliver = truth.copy()
    sliver[:, 32:] = 0  # the disc's left edge: on strong edges, but a collapse (4 % of the box against 100 %)
    assert boundary_contrast(rgb, sliver) > boundary_contrast(rgb, square)
    monkeypatch.setattr(onecut_module, "onecut", lambda *a: sliver)
    mask, kept = grabcut_module._prefer_onecut(rgb, inside, square, 1.0)
    assert not kept and mask is square


def test_box_fit_lines_the_object_leaves_empty_and_the_box_edge_it_covers():
    box = np.zeros((40, 60), np.float32)  # a mask of the box's pixels
    box[4:36, 5:55] = 1  # the object, inside the 15 % margin on every side: reaches across the inner part
    assert empty_line_share(box) == 0 and edge_share(box) == 0
    headless = box.copy()
    headless[:20] = 0  # the top half lost: rows 6-19 of the inner part (34 rows) are empty
    assert empty_line_share(headless) == pytest.approx(14 / 100)
    assert empty_line_share(headless, margin=0.5) == 0  # no inner rows left to check
    leak = box.copy()
    leak[:, :30] = 1  # run into the background up to the top, bottom and left sides of the box
    assert edge_share(leak) == pytest.approx((30 + 30 + 40) / 200)


def stripe_scene(size=96):
    """A disc crossed by a black stripe of background (a dark table edge): the stripe's edges are stronger than
    the disc's outline. Returns (uint8 RGB image, true mask, box (16, 16, 64, 64) as a bool array)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    truth = ((yy - 48) ** 2 + (xx - 48) ** 2 < 24 ** 2).astype(np.float32)
    img = np.full((size, size, 3), 0.5) + rng.normal(0, 0.02, (size, size, 3))
    img[truth > 0] = 0.7
    stripe = np.abs(yy - 48) < 5
    img[stripe & (truth == 0)] = 0.0
    inside = np.zeros(truth.shape, bool)
    inside[16:80, 16:80] = True
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), truth, inside


def test_onecut_mask_is_kept_when_it_fits_the_box_better_though_its_edges_are_weaker(monkeypatch):
    # GrabCut took the stripe inside the box with the disc: its boundary lies on the stripe's strong edges, but
    # runs along the box's edges where the box stopped it. The box fit prefers the disc; edge strength alone not.
    from toolkit.segment import onecut as onecut_module

    rgb, truth, inside = stripe_scene()
    leak = np.maximum(truth, (np.abs(np.mgrid[0:96, 0:96][0] - 48) < 5) & inside).astype(np.float32)
    assert boundary_contrast(rgb, leak) > boundary_contrast(rgb, truth)
    assert box_fit(rgb, truth, (16, 16, 64, 64)) > box_fit(rgb, leak, (16, 16, 64, 64))
    monkeypatch.setattr(onecut_module, "onecut", lambda *a: truth)
    mask, kept = grabcut_module._prefer_onecut(rgb, inside, leak, 1.0)
    assert kept and iou(mask, truth) == 1.0


def test_onecut_runs_for_a_box_not_for_hints(monkeypatch):
    from toolkit.segment import onecut as onecut_module

    img, truth = disc_scene()
    res = grabcut(img, (16, 16, 64, 64))
    assert res.params["onecut"] and iou(res.mask, truth) > 0.9
    monkeypatch.setattr(onecut_module, "onecut", lambda *a: pytest.fail("OneCut has no use for hints"))
    hints = np.full(truth.shape, NO_HINT, np.uint8)
    hints[44:52, 44:52] = FG
    res = grabcut(img, (16, 16, 64, 64), hints)
    assert not res.params["kept_onecut"] and iou(res.mask, truth) > 0.9
    assert not grabcut(img, (16, 16, 64, 64), onecut=False).params["kept_onecut"]


def hint_drawing(shape, canvas):
    """An RGBA hint drawing of ``shape`` whose unmarked pixels are transparent or opaque mid-gray."""
    d = np.zeros(shape + (4,), np.float32)
    if canvas == "gray":
        d[...] = (0.5, 0.5, 0.5, 1.0)
    return d


@pytest.mark.parametrize("canvas", ["transparent", "gray"])
def test_hint_drawing_levels_and_unmarked_canvas(canvas):
    d = hint_drawing((6, 5), canvas)
    for row, level in enumerate((0.0, 0.25, 0.75, 1.0)):
        d[row, :] = (level, level, level, 1.0)
    assert hints_from_image(d).tolist() == [[v] * 5 for v in (BG, PR_BG, PR_FG, FG, NO_HINT, NO_HINT)]
    assert (hints_from_image(d[..., :3]) == NO_HINT).sum() == (10 if canvas == "gray" else 0)


@pytest.mark.parametrize("canvas", ["transparent", "gray"])
def test_a_scribble_plus_a_box_segments_the_object(canvas):
    # A scribble on the object must add to the box, not override it (it gave IoU 0.07 when every undrawn pixel
    # of the drawing meant "definite background").
    img, truth = disc_scene()
    d = hint_drawing(truth.shape, canvas)
    d[44:52, 40:56] = (1, 1, 1, 1)        # white stroke on the object
    d[20:24, 20:28] = (0, 0, 0, 1)        # black stroke on background inside the box
    hints = hints_from_image(d)
    res = grabcut(img, (16, 16, 64, 64), hints)
    assert iou(res.mask, truth) > 0.9 and res.mask[20:24, 20:28].sum() == 0
    # a probable-foreground hint counts next to a box (it was ignored)
    light = hint_drawing(truth.shape, canvas)
    light[2:6, 2:6] = (0.75, 0.75, 0.75, 1)
    assert (grabcut_module._initial_labels(truth.shape, (16, 16, 64, 64), hints_from_image(light))[2:6, 2:6]
            == PR_FG).all()


def test_region_of_interest_grows_the_box_and_takes_in_hints():
    init = np.zeros((200, 300), np.uint8)
    assert region_of_interest(init, (100, 50, 40, 20), None, 0.25) == (40, 80, 90, 150)
    assert region_of_interest(init, (100, 50, 40, 20), None, None) == (0, 200, 0, 300)
    # in the corner, 10 px of margin leave 700 px of background for an 800 px box: grown to 16 px (1216 px)
    assert region_of_interest(init, (0, 0, 40, 20), None, 0.25) == (0, 36, 0, 56)
    hints = np.full((200, 300), NO_HINT, np.uint8)
    hints[190, 5] = BG
    assert region_of_interest(init, (100, 50, 40, 20), hints, 0.25) == (40, 191, 5, 150)


def three_colours(size=64):
    img = np.zeros((size, size, 3), np.float32)
    img[:, : size // 4] = (1, 0, 0)
    img[:, size // 4: size // 2] = (0, 0, 1)
    img[:, size // 2:] = (1, 1, 0)
    return img


def test_kmeans_recovers_known_clusters():
    img = three_colours()
    res = kmeans_segment(img, 3)
    assert res.labels.shape == (64, 64) and res.k == 3
    assert sorted(np.round(res.shares, 3)) == [0.25, 0.25, 0.5]
    np.testing.assert_allclose(label_map(res.labels, res.centers), img, atol=1e-6)
    views = list(blackout_views(img, res.labels))
    assert len(views) == 3 and all((v.sum(-1) == 0).mean() in (0.25, 0.5) for v in views)
    assert palette_strip(res.centers, res.shares, 10, 100).shape == (10, 100, 3)


def test_kmeans_auto_and_invalid_k():
    img = three_colours()
    assert kmeans_segment(img, "auto").k == 3
    with pytest.raises(ParameterError, match="at least 2"):
        kmeans_segment(img, 1)
    with pytest.raises(ParameterError, match="only 3 distinct colours"):
        kmeans_segment(img, 5)
    with pytest.raises(ParameterError, match="color space"):
        kmeans_segment(img, 2, color_space="hsv")


@pytest.mark.parametrize("axis", [0, 1])
def test_kmeans_auto_sees_every_band(axis, size=128):
    # four bands of distinct colours: -k auto judged images under 20,000 pixels on their top rows: k = 2
    img = np.zeros((size, size, 3), np.float32)
    bands = np.array([(0.9, 0.1, 0.1), (0.1, 0.8, 0.2), (0.1, 0.2, 0.9), (0.95, 0.9, 0.2)], np.float32)
    idx = np.arange(size) * 4 // size
    img[...] = bands[idx][:, None] if axis == 0 else bands[idx][None, :]
    assert kmeans_segment(img, "auto").k == 4


def test_kmeans_position_weight_splits_same_colour_regions():
    img = np.zeros((32, 64, 3), np.float32)
    img[:, 32:] = 0.02  # two near-identical halves: colour alone can't separate them, position can
    img[0, 0] = (1, 1, 1)
    labels = kmeans_segment(img, 2, xy_weight=5.0).labels
    assert labels[5, 5] != labels[5, 60]


def test_separability_ranks_easy_above_hard_scenes():
    easy, _ = disc_scene()
    hard, _ = disc_scene(fg=(0.25, 0.6, 0.3))
    assert separability(easy, (16, 16, 64, 64)) > separability(hard, (16, 16, 64, 64)) + 0.2


def test_scoring_excludes_the_mixed_band():
    truth = np.zeros((20, 20), np.uint8)
    truth[5:15, 5:15] = 255
    truth[5, 5:15] = 128
    pred = (truth == 255).astype(np.float32)
    assert score(pred, truth, (0, 0, 20, 20)) == (1.0, 0.0)
    pred[5, 5:15] = 1  # disagreeing inside the band costs nothing
    assert score(pred, truth, (0, 0, 20, 20)) == (1.0, 0.0)
    assert protocol_box(truth) == (4, 5, 12, 11)


def test_load_dataset_reads_bmp_and_png_masks_and_the_readme_title(tmp_path):
    from PIL import Image

    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    truth = np.zeros((24, 32), np.uint8)
    truth[8:16, 8:20] = 255
    for name, ext in (("a", ".bmp"), ("b", ".png")):
        Image.fromarray(np.full((24, 32, 3), 90, np.uint8)).save(tmp_path / "images" / f"{name}.jpg")
        Image.fromarray(truth).save(tmp_path / "masks" / f"{name}{ext}")
    Image.fromarray(truth).save(tmp_path / "images" / "c.png")  # no mask: skipped
    (tmp_path / "README.md").write_text("# Tiny-2\n\nTwo images.\n")
    data = load_dataset(tmp_path)
    assert data.name == "Tiny-2" and [s.name for s in data.samples] == ["a", "b"]
    assert all(s.image.shape == (24, 32, 3) and (s.truth == truth).all() for s in data.samples)
    with pytest.raises(ParameterError, match="images/ and masks/"):
        load_dataset(tmp_path / "images")


@pytest.mark.skipif(not GRABCUT50.is_dir(), reason="GrabCut-50 is not beside the checkout")
def test_grabcut50_ours_keeps_up_with_plain_opencv():
    samples = load_dataset(GRABCUT50, limit=6).samples
    ours = evaluate(samples, lambda im, box: grabcut(im, box).mask)
    plain = evaluate(samples, plain_grabcut)
    assert ours["images"] == 6 and ours["miou"] >= plain["miou"] - 0.05


def test_a_transparent_hint_file_plus_a_box_segments_the_object(tmp_path):
    # The drawing path end to end: PNG with alpha → hints → GrabCut with a box. Read as RGB, transparency was
    # composited onto white, i.e. "definite foreground everywhere".
    from PIL import Image

    from toolkit.commands.segment import _read_hint_drawing
    from toolkit.errors import StyleSegError

    img, truth = disc_scene()
    d = hint_drawing(truth.shape, "transparent")
    d[44:52, 40:56] = (1, 1, 1, 1)
    Image.fromarray((d * 255).astype(np.uint8), "RGBA").save(tmp_path / "hints.png")
    hints = hints_from_image(_read_hint_drawing(str(tmp_path / "hints.png"), truth.shape))
    assert iou(grabcut(img, (16, 16, 64, 64), hints).mask, truth) > 0.9
    with pytest.raises(StyleSegError, match="draw the hints on the same image"):
        _read_hint_drawing(str(tmp_path / "hints.png"), (80, 96))


def test_reach_is_near_zero_across_flat_background_and_an_edges_step_behind_it():
    lab = np.full((64, 64, 3), 100, np.uint8)
    lab[24:40, 24:40, 0] = 180  # a square 80 Lab units lighter than its flat surroundings
    outside = np.zeros((64, 64), bool)
    outside[:, :4] = True
    d = reach(lab, outside)
    assert d[:, 4:20].max() < 1 and d[50:, :].max() < 1  # the flat background, all the way across
    assert d[28:36, 28:36].min() > 0.8 * 80  # behind the edge: at least (nearly) its step away
    assert d[outside].max() == 0


def test_reach_from_the_outsides_edge_is_the_reach_from_all_of_it():
    from skimage.graph import MCP_Geometric

    # paths from deep outside pass the outside's edge, where distances are 0 too: starting there changes nothing
    lab = (np.random.default_rng(0).random((60, 70, 3)) * 255).astype(np.uint8)
    outside = np.ones((60, 70), bool)
    outside[10:50, 0:40] = False  # a box on the image's left edge
    every_start, _ = MCP_Geometric(step_cost(lab)).find_costs(np.argwhere(outside))
    np.testing.assert_allclose(reach(lab, outside), every_start, rtol=1e-6)


def test_grabcut_starts_background_the_outside_reaches_as_probable_background():
    # A lit floor runs under the object and out of the box: those box pixels start as probable background
    lab = np.full((48, 48, 3), 90, np.uint8)
    lab[30:, :, 0] = 160  # the floor, across the whole width
    lab[12:30, 16:32] = (220, 150, 180)  # the object standing on it
    init = np.full((48, 48), BG, np.uint8)
    init[8:40, 10:38] = PR_FG
    start = _reached_as_background(lab, init)
    assert (start[12:30, 16:32] == PR_FG).all()
    # beyond the object's blurred edge (a pixel), floor and wall alike
    assert (start[32:40, 10:38] == PR_BG).all() and (start[8:10, 10:38] == PR_BG).all()
    assert (start[init == BG] == BG).all()
    flat = np.full((48, 48, 3), 90, np.uint8)  # nothing to keep: the box's labels as they were
    assert (_reached_as_background(flat, init) == init).all()


@pytest.mark.skipif(not GRABCUT50.is_dir(), reason="GrabCut-50 is not beside the checkout")
def test_the_table_around_a_banana_is_not_taken_for_banana():
    # banana1: the box holds as much table as banana; a foreground model that learns the table keeps it (IoU 0.44)
    sample = next(s for s in load_dataset(GRABCUT50).samples if s.name == "banana1")
    box = protocol_box(sample.truth)
    assert score(grabcut(sample.image, box).mask, sample.truth, box)[0] > 0.85


def test_bench_segment_scores_every_grabcut_seed_for_both_methods(tmp_path, monkeypatch, capsys):
    import json

    from PIL import Image

    from toolkit.cli import main

    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for i in range(2):
        img, truth = disc_scene(64, seed=i)
        Image.fromarray((img * 255).astype(np.uint8)).save(tmp_path / "images" / f"d{i}.png")
        Image.fromarray((truth * 255).astype(np.uint8)).save(tmp_path / "masks" / f"d{i}.png")
    seen = {"ours": [], "plain": []}
    real, real_plain = grabcut_module.grabcut, grabcut_module.plain_grabcut

    def ours(image, box, *args, seed=0, **kw):
        seen["ours"].append(seed)
        return real(image, box, *args, seed=seed, **kw)

    def plain(image, box, iterations=5, seed=0):
        seen["plain"].append(seed)
        return real_plain(image, box, iterations, seed)

    monkeypatch.setattr(grabcut_module, "grabcut", ours)
    monkeypatch.setattr(grabcut_module, "plain_grabcut", plain)
    assert main(["bench", "segment", "--data", str(tmp_path), "--seeds", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)[tmp_path.name]
    assert sorted(seen["ours"]) == sorted(seen["plain"]) == [0, 0, 1, 1, 2, 2]
    for key in ("ours", "opencv"):
        by_seed = report[key]["miou_by_seed"]
        assert len(by_seed) == 3 and all(0.8 < v <= 1 for v in by_seed)
