"""Style engines at 64 px with random weights: losses fall, regions hold, engines agree, runs reproduce."""

import numpy as np
import pytest
import torch

from toolkit.errors import ParameterError, SegmentationError
from toolkit.style import StyleConfig, make_engine, stylize
from toolkit.style.engine import Level, StyleTerm
from toolkit.style.losses import gram_matrix, tf_gram_matrix
from toolkit.style.optimize import minimize

SMALL = StyleConfig(size=64, pyramid=(), steps=12)


@pytest.fixture(scope="module")
def torch_engine():
    return make_engine("torch", "random:0", SMALL, "cpu")


@pytest.fixture(scope="module")
def disc_mask():
    yy, xx = np.mgrid[0:64, 0:64]
    return (((yy - 32) ** 2 + (xx - 32) ** 2) < 16**2).astype(np.float32)


def test_losses_fall(astronaut64, coffee64, torch_engine):
    res = stylize(astronaut64, coffee64, SMALL, progress=False, built=torch_engine)
    assert res.image.shape == (64, 64, 3) and res.image.dtype == np.float32
    assert 0 <= res.image.min() and res.image.max() <= 1 and res.stopped is None
    assert len(res.history) == SMALL.steps
    assert res.history[-1].total < 0.5 * res.history[0].total
    assert res.history[-1].style < res.history[0].style
    assert res.weights == "random:0" and "torch" in res.environment["versions"]


@pytest.mark.parametrize("width", [64, 55])  # 55: level sizes that round differently
def test_pyramid_runs_coarse_then_fine(astronaut64, coffee64, torch_engine, width):
    cfg = StyleConfig(size=64, pyramid=(0.5,), steps=10, level_share=0.5)
    content = np.ascontiguousarray(astronaut64[:, :width])
    res = stylize(content, coffee64, cfg, progress=False, built=torch_engine)
    assert [r.size for r in res.history] == [32] * 5 + [64] * 5
    assert res.image.shape == content.shape


@pytest.mark.parametrize("mode", ["guided", "composite"])
@pytest.mark.parametrize("region", ["foreground", "background"])
def test_outside_the_region_the_content_is_kept(astronaut64, coffee64, disc_mask, torch_engine, mode, region):
    res = stylize(astronaut64, coffee64, SMALL, mask=disc_mask, region=region, mode=mode, progress=False,
                  built=torch_engine)
    inside = disc_mask if region == "foreground" else 1 - disc_mask
    import cv2

    far_outside = cv2.erode((inside < 0.5).astype(np.uint8), np.ones((3, 3), np.uint8), iterations=1) > 0
    assert np.abs(res.image - astronaut64)[far_outside].max() <= 1 / 255
    deep_inside = cv2.erode((inside > 0.5).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert np.abs(res.image - astronaut64)[deep_inside].mean() > 2 / 255  # and the region did change


def test_second_style_changes_the_other_region_too(astronaut64, coffee64, disc_mask, torch_engine):
    second = np.full_like(coffee64, 0.5)
    second[::4] = 0
    res = stylize(astronaut64, coffee64, SMALL, mask=disc_mask, region="foreground", second_style=second,
                  progress=False, built=torch_engine)
    assert np.abs(res.image - astronaut64)[disc_mask < 0.5].mean() > 2 / 255


@pytest.mark.parametrize("init", ["random", "content+noise"])
def test_same_seed_gives_the_same_image(astronaut64, coffee64, torch_engine, init):
    cfg = StyleConfig(size=64, pyramid=(), steps=5, init=init, seed=3)
    a = stylize(astronaut64, coffee64, cfg, progress=False, built=torch_engine).image
    b = stylize(astronaut64, coffee64, cfg, progress=False, built=torch_engine).image
    c = stylize(astronaut64, coffee64, StyleConfig(size=64, pyramid=(), steps=5, init=init, seed=4),
                progress=False, built=torch_engine).image
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_engines_agree_at_step_0(astronaut64, coffee64, disc_mask, random_state):
    from toolkit.style.tf_engine import TFEngine
    from toolkit.style.torch_engine import TorchEngine
    from toolkit.vgg.tf_vgg import from_torch_state_dict

    cfg = SMALL
    level = Level(astronaut64, [StyleTerm(coffee64, disc_mask), StyleTerm(coffee64[::-1].copy(), 1 - disc_mask)])
    x = np.random.default_rng(0).random(astronaut64.size)
    ours = TorchEngine(random_state, cfg, torch.device("cpu")).objective(level)(x)
    theirs = TFEngine(from_torch_state_dict(random_state, cfg.content_layers + cfg.style_layers), cfg)
    theirs = theirs.objective(level)(x)
    for part in ("total", "content", "style", "tv"):
        assert ours[2][part] > 0
        assert abs(ours[2][part] - theirs[2][part]) <= 1e-4 * abs(ours[2][part]), part
    np.testing.assert_allclose(ours[1], theirs[1], rtol=0, atol=1e-3 * np.abs(ours[1]).max())


def test_tf_engine_runs_and_losses_fall(astronaut64, coffee64):
    res = stylize(astronaut64, coffee64, StyleConfig(size=64, pyramid=(), steps=6), engine="tf", progress=False)
    assert res.engine == "tf" and res.history[-1].total < res.history[0].total


def test_masked_gram_is_the_regions_own_gram():
    f = torch.randn(1, 8, 6, 6)
    m = torch.zeros(1, 1, 6, 6)
    m[..., :, :3] = 1
    region_only = gram_matrix(f[..., :, :3].contiguous())
    torch.testing.assert_close(gram_matrix(f, m), region_only)
    tf_val = tf_gram_matrix(f.permute(0, 2, 3, 1).numpy(), m.permute(0, 2, 3, 1).numpy())
    np.testing.assert_allclose(np.asarray(tf_val), region_only.numpy(), rtol=1e-5, atol=1e-7)


def test_empty_region_and_bad_arguments_are_clear(astronaut64, coffee64, disc_mask):
    with pytest.raises(SegmentationError, match="no pixels in the foreground"):
        stylize(astronaut64, coffee64, SMALL, mask=np.zeros((64, 64), np.float32), region="foreground")
    with pytest.raises(ParameterError, match="needs a mask"):
        stylize(astronaut64, coffee64, SMALL, region="background")
    with pytest.raises(ParameterError, match="mask is"):
        stylize(astronaut64, coffee64, SMALL, mask=np.ones((10, 10), np.float32), region="background")
    with pytest.raises(ParameterError, match="steps"):
        StyleConfig(steps=0)
    with pytest.raises(ParameterError, match="init must be"):
        StyleConfig(init="noise")
    with pytest.raises(ParameterError, match="unknown VGG-19 layer"):
        StyleConfig(style_layers=("relu9_1",))


def _quadratic(stop_at, fail):
    """A toy objective that raises or returns NaN at its ``stop_at``-th call."""
    calls = {"n": 0}

    def f(x):
        calls["n"] += 1
        if calls["n"] == stop_at:
            if fail == "interrupt":
                raise KeyboardInterrupt
            return float("nan"), x, {}
        return float(((x - 0.3) ** 2).sum()), 2 * (x - 0.3), {}

    return f


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
@pytest.mark.parametrize("fail, expected", [("interrupt", "interrupted"), ("nan", "nan")])
def test_interrupt_and_nan_keep_the_best_image(optimizer, fail, expected):
    x0 = np.full(10, 0.9)
    out = minimize(_quadratic(3, fail), x0, 50, optimizer, lr=0.05)
    assert out.stopped == expected
    assert np.isfinite(out.best).all() and out.best_loss < ((x0 - 0.3) ** 2).sum()
