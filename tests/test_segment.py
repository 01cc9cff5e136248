"""Segmentation: GrabCut and k-means on synthetic scenes whose answer is known, errors, benchmark scoring."""

from pathlib import Path

import numpy as np
import pytest

from toolkit.errors import ParameterError
from toolkit.segment.benchmark import evaluate, load_grabcut50, protocol_box, score
from toolkit.segment.grabcut import BG, FG, PR_BG, clean_mask, grabcut, plain_grabcut, validate_box
from toolkit.segment.kmeans import kmeans_segment
from toolkit.segment.separability import separability
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


def test_cleanup_keeps_the_largest_component_and_fills_holes():
    m = np.zeros((40, 40), np.float32)
    m[5:30, 5:30] = 1
    m[15:18, 15:18] = 0      # a hole
    m[35:38, 35:38] = 1      # a speck
    out = clean_mask(m)
    assert out[16, 16] == 1 and out[36, 36] == 0 and out[5:30, 5:30].all()


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
    views = blackout_views(img, res.labels)
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


@pytest.mark.skipif(not GRABCUT50.is_dir(), reason="GrabCut-50 is not beside the checkout")
def test_grabcut50_ours_keeps_up_with_plain_opencv():
    samples = load_grabcut50(GRABCUT50, limit=6)
    ours = evaluate(samples, lambda im, box: grabcut(im, box).mask)
    plain = evaluate(samples, plain_grabcut)
    assert ours["images"] == 6 and ours["miou"] >= plain["miou"] - 0.05
