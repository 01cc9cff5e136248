"""Audit with random weights at 64 px: shapes, finiteness, ranges, attention shares, Captum equivalence."""

import numpy as np
import pytest
import torch

from toolkit.audit import METHODS, AuditConfig, audit
from toolkit.audit.attention import attention_share
from toolkit.audit.faithfulness import blurred, curves, pixel_order
from toolkit.audit.framing import frame
from toolkit.audit.model import load_model
from toolkit.audit.render import heatmap
from toolkit.audit.saliency import attribute
from toolkit.audit.sanity import judge, randomization_check
from toolkit.audit.shortcut import control_masks
from toolkit.errors import ParameterError

SIZE = 64


@pytest.fixture(scope="module")
def model():
    return load_model("random:0")


@pytest.fixture(scope="module")
def x(astronaut64):
    return torch.from_numpy(astronaut64).permute(2, 0, 1)[None]


def test_predictions_are_a_top5_with_class_names(model, x):
    top5 = model.top5(x)
    assert len(top5) == 5 and all(isinstance(name, str) and 0 <= p <= 1 for _, name, p in top5)
    assert [p for *_, p in top5] == sorted([p for *_, p in top5], reverse=True)
    assert model.categories[top5[0][0]] == top5[0][1]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_a_finite_map_of_the_input_size(model, x, method):
    a = attribute(method, model, x, target=3)
    assert a.shape == (SIZE, SIZE) and a.dtype == np.float32 and np.isfinite(a).all()
    if method in ("saliency", "smoothgrad", "gradcam"):
        assert a.min() >= 0


@pytest.mark.parametrize("size", [32, 64])
def test_occlusion_scales_its_window_with_the_image(model, size):
    # a fixed 56 px window could not be placed at all on a 32 px audit, and only once on a 64 px one (one value)
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(size))
    a = attribute("occlusion", model, x, target=3)
    assert a.shape == (size, size) and np.isfinite(a).all()
    assert len(np.unique(a)) >= 16


def test_an_occlusion_window_larger_than_the_image_is_refused_with_the_fix(model):
    from toolkit.audit.saliency import SaliencyConfig

    with pytest.raises(ParameterError, match="larger than the 32 px image; choose a window of at most 32 px"):
        attribute("occlusion", model, torch.rand(1, 3, 32, 32), 3, SaliencyConfig(occlusion_window=40))


def test_our_saliency_equals_a_direct_captum_call(model, x):
    from captum.attr import GuidedGradCam, IntegratedGradients, Saliency

    direct = Saliency(model.net).attribute(x.clone().requires_grad_(True), target=7, abs=True).sum(1)[0].detach()
    np.testing.assert_allclose(attribute("saliency", model, x, 7), direct.numpy(), rtol=1e-6)
    ig = IntegratedGradients(model.net).attribute(x.clone().requires_grad_(True), baselines=0.0, target=7,
                                                 n_steps=16, internal_batch_size=8).sum(1)[0].detach()
    np.testing.assert_allclose(attribute("integrated_gradients", model, x, 7), ig.numpy(), rtol=1e-4,
                               atol=1e-6 * float(ig.abs().max()))
    ggc = GuidedGradCam(model.net, model.layer("relu5_4")).attribute(x.clone().requires_grad_(True), target=7)
    np.testing.assert_allclose(attribute("guided_gradcam", model, x, 7), ggc.sum(1)[0].detach().numpy(), rtol=1e-5,
                               atol=1e-6 * float(ggc.abs().max()))


def test_attention_share_is_one_inside_and_zero_outside():
    mask = np.zeros((10, 10), np.float32)
    mask[2:6, 2:6] = 1
    inside = mask * np.random.default_rng(0).random((10, 10))
    assert attention_share(inside, mask)["inside_share"] == 1.0
    assert attention_share(inside, mask)["ratio"] == pytest.approx(1 / 0.16)
    outside = (1 - mask) * 0.5
    got = attention_share(outside, mask)
    assert got["inside_share"] == 0.0 and got["background_dominant"]
    assert np.isnan(attention_share(-outside, mask)["inside_share"])  # negative attribution is not attention


def test_an_all_zero_map_does_not_crash():
    zero = np.zeros((8, 8), np.float32)
    h = heatmap(zero)
    assert np.isfinite(h).all() and (h == h[0, 0]).all()  # one flat colour, no division by zero
    assert np.isnan(attention_share(zero, np.ones((8, 8)))["ratio"])


class OnDevice(torch.Tensor):
    """Stands for a tensor on an accelerator: ``.numpy()`` refuses, as it does on CUDA, until ``.cpu()``."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func is torch.Tensor.numpy:
            raise RuntimeError("can't convert a device tensor to NumPy: call .cpu() first")
        out = super().__torch_function__(func, types, args, kwargs or {})
        return out.as_subclass(torch.Tensor) if func is torch.Tensor.cpu else out


@pytest.fixture(scope="module")
def on_device_audit(astronaut64, coffee64):
    """The whole audit with the model on a (simulated) accelerator; ``seen`` lists the types of its inputs."""
    import copy

    from toolkit.audit import run

    real = load_model("random:0")
    seen = []

    def on_device(source, device):
        model = copy.deepcopy(real)

        def check(_module, inputs):
            seen.append(type(inputs[0]))
            assert isinstance(inputs[0], OnDevice), "an input reached the model without being moved to its device"

        model.net.register_forward_pre_hook(check)
        to_device = model.batch
        model.batch = lambda images: to_device(images).as_subclass(OnDevice)
        return model

    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[16:48, 16:48] = 1
    cfg = AuditConfig(methods=("saliency", "smoothgrad", "gradcam", "guided_gradcam"), size=SIZE, sanity_steps=2,
                      curve_steps=4, shortcut=True, shortcut_size=SIZE, shortcut_steps=2, shortcut_controls=2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(run, "load_model", on_device)
        return audit(astronaut64, cfg, mask=mask, style=coffee64), seen


def test_the_whole_audit_keeps_tensors_on_the_models_device(on_device_audit):
    """Every input the model sees must have been put on its device, and every result must come back with .cpu()
    before .numpy(): a CPU/device mix-up fails on a CPU-only machine."""
    res, seen = on_device_audit
    cfg = res.config
    assert len(seen) >= 10 and all(np.isfinite(a).all() for a in res.maps.values())
    report = res.to_json()
    assert set(res.maps) == set(cfg.methods) and report["weights"] == "random:0"
    assert all(0 <= a["inside_share"] <= 1 for a in res.attention.values())
    assert res.features["relu1_1"]["channels"] == 64 and 0 <= res.features["relu5_1"]["zero_share"] <= 1
    assert res.sanity["stages"] == ["classifier", "block5"] and "conv5_1" in res.sanity["layers"]
    for f in [*res.faithfulness["methods"].values(), res.faithfulness["random map"]]:
        assert len(f["deletion"]) == 5 and f["deletion"][0] == pytest.approx(f["insertion"][-1], rel=1e-4)
    bg, fg = res.shortcut["background_restyled"], res.shortcut["foreground_restyled"]
    assert bg["area"] == pytest.approx(0.75) and fg["area"] == pytest.approx(0.25)
    assert 0 <= bg["changed_area"] <= bg["area"] and res.shortcut["background_control"]["area"] == bg["area"]
    assert len(res.shortcut["background_control"]["p_changes"]) == 2
    assert report["framing"] == {"mode": "crop", "box": [0, 0, SIZE, SIZE], "of": [SIZE, SIZE], "size": SIZE} and "sanity" in res.timings


def test_the_shortcut_probe_reuses_a_given_stylisation(astronaut64, coffee64, monkeypatch):
    """A study hands the probe one of its own whole-image runs: the probe must paste exactly that image (here the
    image itself, so nothing may change) and never stylise again."""
    import toolkit.style as style_api

    def no_stylisation(*args, **kwargs):
        raise AssertionError("the probe stylised although it was given a stylisation")

    monkeypatch.setattr(style_api, "stylize", no_stylisation)
    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[16:48, 16:48] = 1
    cfg = AuditConfig(methods=("saliency",), size=SIZE, sanity_steps=0, curve_steps=0, shortcut=True,
                      shortcut_controls=2)
    res = audit(astronaut64, cfg, mask=mask, style=coffee64, styled=(astronaut64.copy(), "the image itself"))
    s = res.shortcut
    assert s["stylised"] == "the image itself"
    for side in ("background", "foreground"):
        assert s[f"{side}_restyled"]["changed_area"] == 0 and s[f"{side}_restyled"]["p_change"] == 0
    with pytest.raises(ParameterError, match="stylisation of this image"):
        audit(astronaut64, cfg, mask=mask, style=coffee64, styled=(astronaut64[:32], "a crop"))


def test_bad_audit_settings(astronaut64):
    with pytest.raises(ParameterError, match="unknown saliency"):
        AuditConfig(methods=("magic",))
    with pytest.raises(ParameterError, match="shortcut probe needs"):
        audit(astronaut64, AuditConfig(size=SIZE, shortcut=True, sanity_steps=0, curve_steps=0))


def test_the_model_is_built_once_per_weights_and_device(model):
    assert load_model("random:0") is model and load_model("random:1") is not model


def test_a_uniform_map_on_a_small_object_is_not_flagged():
    mask = np.zeros((64, 64), np.float32)
    mask[:32, :32] = 1  # a quarter of the image
    got = attention_share(np.ones((64, 64)), mask)
    assert got["ratio"] == pytest.approx(1.0) and got["ratio_ci"][0] <= 1.0 <= got["ratio_ci"][1]
    assert got["verdict"] == "no clear preference" and not got["background_dominant"]


def test_the_attention_verdict_follows_the_ratio_interval():
    rng = np.random.default_rng(1)
    mask = np.zeros((64, 64), np.float32)
    mask[16:40, 20:44] = 1
    noise = rng.random((64, 64))
    on_object = attention_share(noise + 3 * mask, mask)
    on_background = attention_share(noise + 3 * (1 - mask), mask)
    assert on_object["verdict"] == "on the object" and on_object["ratio_ci"][0] > 1
    assert on_background["verdict"] == "mostly background" and on_background["ratio_ci"][1] < 1
    assert on_object["ratio_ci"][0] <= on_object["ratio"] <= on_object["ratio_ci"][1]


def test_smoothgrad_noise_is_seeded_and_leaves_the_global_random_state_alone(model, astronaut64):
    small = torch.from_numpy(astronaut64[::2, ::2].copy()).permute(2, 0, 1)[None]
    state = torch.random.get_rng_state()
    a, b = (attribute("smoothgrad", model, small, 3, seed=5) for _ in range(2))
    assert torch.equal(state, torch.random.get_rng_state())
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, attribute("smoothgrad", model, small, 3, seed=6))


def test_the_sanity_cascade_reaches_the_convolution_blocks_by_default(model, astronaut64):
    small = torch.from_numpy(astronaut64[::2, ::2].copy()).permute(2, 0, 1)[None]
    maps = {"saliency": attribute("saliency", model, small, 3)}
    got = randomization_check(model, small, 3, maps, AuditConfig().sanity_steps)
    assert got["stages"] == ["classifier", "block5", "block4", "block3"]
    assert {"classifier.0", "conv5_4", "conv4_1", "conv3_1"} <= set(got["layers"]) and "conv2_2" not in got["layers"]
    assert len(got["rho"]["saliency"]) == 4 and got["baseline"]["saliency"] == 1.0
    np.testing.assert_array_equal(attribute("saliency", model, small, 3), maps["saliency"])  # model untouched


def test_each_method_is_judged_against_its_own_baseline():
    # a noisy method that agrees with itself at 0.4 and still at 0.35 after randomisation has not changed
    assert judge({"noisy": [0.38, 0.35]}, {"noisy": 0.4}) == ["noisy"]
    # a deterministic method that fell from 1 to 0.45 has changed, even though 0.45 is near the old fixed 0.5
    assert judge({"steady": [0.9, 0.45]}, {"steady": 1.0}) == []
    assert judge({"flat": [float("nan")]}, {"flat": 1.0}) == []  # a constant map has no ranking: not judged


def test_ties_are_broken_at_random_not_in_raster_order():
    first = pixel_order(np.zeros((64, 64)), seed=0)[:410]  # the first 10 % of a map with no ranking
    rows = first // 64
    assert rows.min() < 16 and rows.max() > 48
    np.testing.assert_array_equal(first, pixel_order(np.zeros((64, 64)), seed=0)[:410])
    ranked = np.arange(64 * 64, dtype=float).reshape(64, 64)
    assert pixel_order(ranked)[0] == 64 * 64 - 1  # real values still come first


def test_deletion_ends_black_insertion_starts_blurred_and_areas_are_normalised(model, astronaut64):
    img = astronaut64[::2, ::2].copy()
    gradient = np.linspace(0, 1, 32 * 32).reshape(32, 32)
    got = curves(model, img, {"ramp": gradient}, target=3, steps=4)
    p = model.probabilities(model.batch(np.stack([img, np.zeros_like(img), blurred(img)])))[:, 3].numpy()
    ramp = got["methods"]["ramp"]
    assert got["p_unperturbed"] == pytest.approx(p[0], rel=1e-5)
    assert ramp["deletion"][-1] == pytest.approx(p[1], rel=1e-5) and ramp["insertion"][0] == pytest.approx(p[2],
                                                                                                         rel=1e-5)
    assert ramp["deletion_auc"] == pytest.approx(np.trapezoid(ramp["deletion"], got["fractions"]) / p[0])
    reference = got["random map"]
    assert len(reference["deletion"]) == 5 and reference["deletion"] != ramp["deletion"]


def test_shortcut_controls_have_the_objects_area_elsewhere():
    mask = np.zeros((64, 64), bool)
    mask[10:30, 5:25] = True
    moved = control_masks(mask, 4, seed=0)
    assert all(m.sum() == mask.sum() and (m & mask).sum() < mask.sum() for m in moved)
    assert len({m.tobytes() for m in moved}) == 4


def test_a_wide_image_is_cropped_around_the_object_not_squashed():
    h, w = 64, 128
    yy, xx = np.mgrid[:h, :w]
    disc = ((yy - 32) ** 2 + (xx - 90) ** 2 <= 20 ** 2).astype(np.float32)
    image = np.repeat(disc[..., None], 3, axis=2)
    img, mask, framing = frame(image, disc, 32)
    assert img.shape == (32, 32, 3) and framing == {"mode": "crop", "box": [58, 0, 64, 64], "of": [128, 64],
                                                     "size": 32}
    ys, xs = np.nonzero(mask)
    assert abs((ys.max() - ys.min()) - (xs.max() - xs.min())) <= 1  # still a disc, not an ellipse


def test_the_report_section_shows_the_new_figures(on_device_audit):
    from types import SimpleNamespace

    from toolkit.report import figures
    from toolkit.report.render import environment

    res, _ = on_device_audit
    charts = figures.audit_charts(res.sanity, res.faithfulness)
    assert list(charts) == ["randomisation cascade", "deletion", "insertion"]
    assert all(png.startswith(b"\x89PNG") for png in charts.values())
    a = {"predictions": res.predictions, "target": res.target, "attention": res.attention, "sanity": res.sanity,
         "faithfulness": res.faithfulness, "shortcut": res.shortcut, "features": res.features,
         "timings": res.timings, "seconds": res.seconds, "framing": res.framing, "maps": {}, "grids": {},
         "charts": {k: "data:," for k in charts}}
    html = environment().get_template("_audit.html.j2").render(
        contents=[{"name": "astronaut", "audit": a}], result=SimpleNamespace(random_weights=True))
    for text in ("ratio to the object's area (95% CI)", "A map that spreads attention evenly gets 1",
                 "<th scope=\"col\">baseline</th>", "<th scope=\"col\">block5</th>", "random map (chance)",
                 "control: random region, same area as the background", "pixels changed",
                 "randomisation cascade chart", "square crop"):
        assert text in html, text


def test_a_probe_whose_restyling_changed_nothing_gives_no_verdict(model, astronaut64, coffee64):
    """With 1 style step the optimiser only evaluates its start, the content, so the "stylised" image is the content
    and no pixel is restyled: the probe must say it measured nothing, not "no background shortcut"."""
    from types import SimpleNamespace

    from toolkit.audit.shortcut import shortcut_probe
    from toolkit.report.render import environment

    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[16:48, 16:48] = 1
    noop = shortcut_probe(model, astronaut64, mask, coffee64, "random:0", SIZE, steps=1, controls=2)
    assert noop["background_restyled"]["changed_share"] == 0 and noop["foreground_control"]["changed_share_min"] == 0
    assert noop["leans_on_background"] is None and "--shortcut-steps" in noop["undefined"]
    real = shortcut_probe(model, astronaut64, mask, coffee64, "random:0", SIZE, steps=3, controls=2)
    assert real["background_restyled"]["changed_share"] > 0.9 and real["foreground_restyled"]["changed_share"] > 0.9
    assert real["undefined"] is None and isinstance(real["leans_on_background"], bool)
    a = {"predictions": [], "target": 0, "attention": None, "sanity": None, "faithfulness": None, "shortcut": noop,
         "features": {}, "timings": {}, "seconds": 0.0,
         "framing": {"mode": "crop", "box": [0, 0, SIZE, SIZE], "of": [SIZE, SIZE], "size": SIZE}, "maps": {},
         "grids": {}, "charts": {}}
    html = environment().get_template("_audit.html.j2").render(
        contents=[{"name": "astronaut", "audit": a}], result=SimpleNamespace(random_weights=True))
    assert "No verdict" in html and "--shortcut-steps" in html and "no sign that the model leans" not in html
