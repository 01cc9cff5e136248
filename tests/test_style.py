"""Style engines at 64 px with random weights: losses fall, regions hold, engines agree, runs reproduce."""

import numpy as np
import pytest
import torch

from toolkit.errors import ParameterError, SegmentationError
from toolkit.style import StyleConfig, make_engine, stylize
from toolkit.style.engine import Level, StyleTerm
from toolkit.style.losses import (content_loss, content_target, gram_matrix, gram_target, style_loss,
                                  tf_gram_matrix, tv_loss)
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
def test_the_blend_keeps_the_outside_and_styles_the_rim(astronaut64, coffee64, disc_mask, torch_engine, mode,
                                                        region):
    import cv2

    from toolkit.style.regions import seam_report, seam_width

    res = stylize(astronaut64, coffee64, SMALL, mask=disc_mask, region=region, mode=mode, progress=False,
                  built=torch_engine)
    inside = disc_mask if region == "foreground" else 1 - disc_mask
    change = np.abs(res.image - astronaut64).mean(-1)
    before = np.abs(res.before_blend - astronaut64).mean(-1)
    seam = seam_report(res.before_blend, res.image, astronaut64, inside)
    # the engine's own image did change outside (so the blend has something to repair) ...
    assert seam["leak_mean_255"] > 1.0 and seam["leak_mean_255"] > 3 * seam["after_mean_255"]
    # ... and after the blend the outside is the content beyond the stated seam
    assert seam["seam_px"] <= seam_width(SMALL.feather)
    # no unstyled halo: the region's 2 px rim is styled like its core (the old blend left the rim untouched)
    ring = np.ones((5, 5), np.uint8)
    body = inside > 0.5
    rim = body & ~(cv2.erode(body.astype(np.uint8), ring) > 0)
    core = cv2.erode(body.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert change[rim].mean() > 0.4 * change[core].mean() > 1 / 255
    if mode == "guided":  # masked Grams: the engine styles the region, far less what lies well outside it
        # (at 64 px the deep layers see the whole image, so some leak is inherent; an ignored mask gives ~1)
        far = cv2.erode((~body).astype(np.uint8), np.ones((17, 17), np.uint8)) > 0
        assert before[far].mean() < 0.6 * before[core].mean()


@pytest.mark.parametrize("width, least", [(6, 3.0), (10, 6.0)])
def test_a_thin_stripe_is_styled(astronaut64, coffee64, torch_engine, width, least):
    """The old blend eroded the region by the feather radius: a 6 px stripe changed by 0.00/255."""
    stripe = np.zeros((64, 64), np.float32)
    stripe[:, 29:29 + width] = 1
    res = stylize(astronaut64, coffee64, SMALL, mask=stripe, region="foreground", mode="composite",
                  progress=False, built=torch_engine)
    change = np.abs(res.image - astronaut64).mean(-1) * 255
    assert change[stripe > 0].mean() > least
    from toolkit.style.regions import seam_width

    far = np.ones(64, bool)
    far[29 - seam_width(SMALL.feather):29 + width + seam_width(SMALL.feather)] = False
    assert change[:, far].max() <= 1.0


def test_layer_masks_follow_the_pooling_grid():
    """109 px: relu5_1's 6×6 grid covers the top-left 96×96 pixels; the rows below never reach it."""
    from toolkit.style.regions import layer_masks

    mask = np.zeros((109, 109), np.float32)
    mask[96:] = 1  # only pixels the pools drop
    mask[:16, :32] = 1  # exactly relu5_1's first two cells, relu4_1's first 2×4
    out = layer_masks(mask, {"relu5_1": (6, 6), "relu4_1": (13, 13), "relu1_1": (109, 109)})
    expected5 = np.zeros((6, 6), np.float32)
    expected5[0, :2] = 1
    np.testing.assert_array_equal(out["relu5_1"], expected5)
    assert out["relu4_1"][:2, :4].min() == 1 and out["relu4_1"][12].min() == 1  # row 12 pools rows 96-103
    assert out["relu4_1"].sum() == 8 + 13
    np.testing.assert_array_equal(out["relu1_1"], mask)


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


@pytest.mark.parametrize("region", [False, True])
def test_the_fused_losses_match_autograd_of_their_formulas(region):
    """The hand-written backward passes (style, content, total variation) against autograd of the plain formulas."""
    g = torch.Generator().manual_seed(0)
    f = torch.randn(1, 6, 5, 7, dtype=torch.float64, generator=g).requires_grad_(True)
    style = torch.randn(1, 6, 4, 4, dtype=torch.float64, generator=g)
    weights = torch.rand(5, 7, dtype=torch.float64, generator=g).numpy() if region else None
    target = gram_target(style, weights)
    target = target._replace(weights=None if weights is None else target.weights.double())
    m = None if weights is None else torch.from_numpy(weights)
    expected = torch.sum((gram_matrix(f, m) - target.gram) ** 2) / torch.sum(target.gram**2)
    got = style_loss(f, target)
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(torch.autograd.grad(got, f)[0], torch.autograd.grad(expected, f)[0])

    fixed = torch.randn(1, 6, 5, 7, dtype=torch.float64, generator=g)
    expected = torch.sum((f - fixed) ** 2) / torch.sum(fixed**2)
    got = content_loss(f, content_target(fixed))
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(torch.autograd.grad(got, f)[0], torch.autograd.grad(expected, f)[0])

    expected = torch.mean((f[:, :, 1:] - f[:, :, :-1]) ** 2) + torch.mean((f[..., 1:] - f[..., :-1]) ** 2)
    got = tv_loss(f)
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(torch.autograd.grad(got, f)[0], torch.autograd.grad(expected, f)[0])


def test_a_coarse_level_too_thin_for_vgg_is_left_out(astronaut64, coffee64, torch_engine):
    wide = np.tile(astronaut64, (1, 4, 1))  # 256×64: 16 px tall at 64 px, 8 px (nothing left to pool) at 32
    res = stylize(wide, coffee64, StyleConfig(size=64, pyramid=(0.5,), steps=4, level_share=0.5), progress=False,
                  built=torch_engine)
    assert [r.size for r in res.history] == [64] * 4 and res.image.shape == (16, 64, 3)
    res = stylize(coffee64, wide, StyleConfig(size=64, pyramid=(0.5,), steps=4, level_share=0.5), progress=False,
                  built=torch_engine)  # a thin style image too
    assert [r.size for r in res.history] == [64] * 4


def test_an_image_too_thin_at_the_working_size_is_refused_with_a_size_that_works(astronaut64, coffee64):
    wide = np.tile(astronaut64, (1, 4, 1))
    for content, style, what in ((wide, coffee64, "the content image"), (coffee64, wide, "the style image")):
        with pytest.raises(ParameterError, match=f"{what} is 256×64: at 32 px its shorter side would be 8 px, "
                                                 "under the 16 px VGG-19 needs; use a size of 62 px or more"):
            stylize(content, style, StyleConfig(size=32, steps=2), progress=False)


@pytest.mark.parametrize("field", ["content_weight", "style_weight", "tv_weight"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, 1e308])
def test_loss_weights_must_be_finite_and_at_most_a_million(field, value):
    with pytest.raises(ParameterError, match=f"finite numbers from 0 to 1,000,000; got {field}"):
        StyleConfig(**{field: value})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 0.0])
def test_the_learning_rate_must_be_finite_and_positive(value):
    with pytest.raises(ParameterError, match="lr must be positive"):
        StyleConfig(lr=value)


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


def test_colours_are_kept_in_every_stylised_region(astronaut64, coffee64, disc_mask, torch_engine):
    """``--second-style`` with ``--preserve-colors luminance``: the second region kept its style's colours."""
    from skimage.color import rgb2lab

    vivid = np.zeros_like(coffee64)
    vivid[..., 0], vivid[::3, :, 2] = 1.0, 1.0  # red and blue stripes: far from the astronaut's colours
    cfg = StyleConfig(size=64, pyramid=(), steps=8, preserve_colors="luminance")
    res = stylize(astronaut64, coffee64, cfg, mask=disc_mask, region="foreground", mode="composite",
                  second_style=vivid, progress=False, built=torch_engine)
    dab = np.abs(rgb2lab(res.image)[..., 1:] - rgb2lab(astronaut64)[..., 1:]).mean(-1)
    outside = disc_mask < 0.5
    assert dab[outside].mean() < 4.0
    assert np.abs(res.before_blend - astronaut64).mean() > 2 / 255  # and it was stylised


def test_auto_runs_adam_on_whole_images_and_lbfgs_on_guided_regions(astronaut64, coffee64, disc_mask, torch_engine):
    """Adam reaches a whole image's loss soonest (bench converge) but moves a guided region's outside about as far
    as its inside: "auto" picks per run, and the result records what ran."""
    cfg = StyleConfig(size=64, steps=4)
    assert (cfg.resolved(region=False).optimizer, cfg.resolved(region=False).pyramid) == ("adam", ())
    assert (cfg.resolved(region=True).optimizer, cfg.resolved(region=True).pyramid) == ("lbfgs", (0.5,))
    chosen = StyleConfig(optimizer="adam", pyramid=(0.5,)).resolved(region=True)
    assert (chosen.optimizer, chosen.pyramid) == ("adam", (0.5,))  # an explicit choice is kept
    runs = {mode: stylize(astronaut64, coffee64, cfg, mask=disc_mask, region="foreground", mode=mode,
                          progress=False, built=torch_engine) for mode in ("guided", "composite")}
    assert runs["guided"].config.optimizer == "lbfgs" and [r.size for r in runs["guided"].history] == [32] * 2 + [64] * 2
    assert runs["composite"].config.optimizer == "adam" and {r.size for r in runs["composite"].history} == {64}
    with pytest.raises(ValueError, match="resolved"):
        cfg.levels  # noqa: B018 - ambiguous until resolved for a run


def test_an_early_lbfgs_stop_is_recorded(astronaut64, coffee64, torch_engine):
    """All weights 0: the gradient is 0 and L-BFGS-B converges at once; the result says so and why."""
    cfg = StyleConfig(size=64, pyramid=(), steps=12, content_weight=0, style_weight=0, tv_weight=0,
                      optimizer="lbfgs")
    res = stylize(astronaut64, coffee64, cfg, progress=False, built=torch_engine)
    assert res.stopped == "early" and len(res.history) < cfg.steps
    assert "CONVERGENCE" in res.stop_message and f"after {len(res.history)} of 12 steps" in res.stop_message
    summary = res.summary()  # what the PNG metadata and the report carry
    assert summary["stop_message"] == res.stop_message and summary["steps"] < summary["steps_planned"]


def test_a_failed_line_search_is_reported():
    out = minimize(lambda x: (float((x**2).sum()), -2 * x - 1, {}), np.full(5, 0.5), 30, "lbfgs")
    assert out.stopped == "early" and out.steps < 30 and out.message


SCALINGS = ("random:0", "file scaled 50x", "keras preprocessing")


@pytest.fixture(scope="module")
def balances(astronaut64, coffee64, random_state):
    """Step-0 gradient balance at 48 px under the three scalings, with the default settings."""
    from toolkit.style.balance import explain_losses
    from toolkit.style.tf_engine import TFEngine
    from toolkit.style.torch_engine import TorchEngine
    from toolkit.vgg.tf_vgg import TFVGGFeatures, torch_to_tf_kernels

    cfg = StyleConfig(size=48, pyramid=())
    # conv1_1 and every bias × 50: every activation exactly 50× larger
    scaled = {k: v * 50 if k.endswith("bias") or k == "features.0.weight" else v for k, v in random_state.items()}
    layers = cfg.content_layers + cfg.style_layers
    engines = [TorchEngine(random_state, cfg, torch.device("cpu")), TorchEngine(scaled, cfg, torch.device("cpu")),
               TFEngine(TFVGGFeatures(torch_to_tf_kernels(random_state), layers, preprocess="caffe"), cfg)]
    return {name: explain_losses(eng, cfg, astronaut64, coffee64) for name, eng in zip(SCALINGS, engines)}


def test_the_loss_balance_does_not_depend_on_the_activation_scale(balances):
    ratios = [balances[name].style_to_content for name in SCALINGS]
    assert max(ratios) < 2 * min(ratios), ratios  # was 1.42, 3.6e3 and 5.9e3
    assert 0.2 < ratios[0] < 10  # style and content both pull


def test_each_style_layer_gets_a_comparable_gradient_share(balances):
    for name in SCALINGS:
        shares = [v for k, v in balances[name].shares.items() if k.startswith("style ")]
        assert max(shares) < 4 * min(shares), (name, shares)  # relu1_1 had ~90× relu5_1's


def test_engines_are_built_once_and_tf_traces_once_per_shape(astronaut64, coffee64):
    from toolkit.style import api

    api._build.cache_clear()  # another test may have traced this shape in the shared engine already
    cfg = StyleConfig(size=48, pyramid=(), steps=2)
    first, _ = make_engine("tf", "random:0", cfg)
    again, _ = make_engine("tf", "random:0", StyleConfig(size=48, pyramid=(), steps=2, seed=5, style_weight=3))
    assert again.net is first.net and again.cfg.style_weight == 3
    runs = [stylize(astronaut64, coffee64, StyleConfig(size=48, pyramid=(), steps=2, seed=seed,
                                                       init="content+noise"), engine="tf", progress=False)
            for seed in (0, 1)]
    assert runs[0].trace_seconds > 0 and runs[1].trace_seconds == 0  # the second seed reuses the graph
    assert runs[0].summary()["trace_seconds"] == runs[0].trace_seconds
