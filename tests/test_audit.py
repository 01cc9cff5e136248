"""Audit with random weights at 64 px: shapes, finiteness, ranges, attention shares, Captum equivalence."""

import numpy as np
import pytest
import torch

from toolkit.audit import METHODS, AuditConfig, audit
from toolkit.audit.attention import attention_share
from toolkit.audit.model import load_model
from toolkit.audit.render import heatmap
from toolkit.audit.saliency import attribute
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


def test_our_saliency_equals_a_direct_captum_call(model, x):
    from captum.attr import IntegratedGradients, Saliency

    direct = Saliency(model.net).attribute(x.clone().requires_grad_(True), target=7, abs=True).sum(1)[0].detach()
    np.testing.assert_allclose(attribute("saliency", model, x, 7), direct.numpy(), rtol=1e-6)
    ig = IntegratedGradients(model.net).attribute(x.clone().requires_grad_(True), baselines=0.0, target=7,
                                                 n_steps=16, internal_batch_size=8).sum(1)[0].detach()
    np.testing.assert_allclose(attribute("integrated_gradients", model, x, 7), ig.numpy(), rtol=1e-4,
                               atol=1e-6 * float(ig.abs().max()))


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


def test_full_audit_on_a_small_image(astronaut64, coffee64):
    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[16:48, 16:48] = 1
    cfg = AuditConfig(methods=("saliency", "gradcam", "guided_backprop"), size=SIZE, sanity_steps=2,
                      curve_steps=4, shortcut=True, shortcut_size=SIZE, shortcut_steps=3)
    res = audit(astronaut64, cfg, mask=mask, style=coffee64)
    report = res.to_json()
    assert set(res.maps) == {"saliency", "gradcam", "guided_backprop"}
    assert all(0 <= a["inside_share"] <= 1 for a in res.attention.values())
    assert res.features["relu1_1"]["channels"] == 64 and 0 <= res.features["relu5_1"]["zero_share"] <= 1
    assert all(len(v) == 2 and all(-1 <= r <= 1 for r in v) for v in res.sanity["rho"].values())
    for f in res.faithfulness.values():
        assert len(f["deletion"]) == 5 and 0 <= f["deletion_auc"] <= 1 and 0 <= f["insertion_auc"] <= 1
        assert f["deletion"][0] == pytest.approx(f["insertion"][-1], rel=1e-4)  # both the untouched image
    assert {"background_restyled", "foreground_restyled"} <= set(res.shortcut)
    assert report["weights"] == "random:0" and "sanity" in res.timings


def test_bad_audit_settings(astronaut64):
    with pytest.raises(ParameterError, match="unknown saliency"):
        AuditConfig(methods=("magic",))
    with pytest.raises(ParameterError, match="shortcut probe needs"):
        audit(astronaut64, AuditConfig(size=SIZE, shortcut=True, sanity_steps=0, curve_steps=0))
