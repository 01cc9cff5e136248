"""VGG-19: layer names, weight sources (random, files, ImageNet cache) and PyTorch/TensorFlow parity."""

import re

import numpy as np
import pytest
import torch

from toolkit.errors import ParameterError, WeightsError
from toolkit.vgg import LAYERS, PARITY_LAYERS, layer_index, load_state_dict, parse_weights, truncate_at
from toolkit.vgg import weights as W
from toolkit.vgg.parity import parity
from toolkit.vgg.torch_vgg import VGGFeatures


def test_layer_names_follow_torchvision_order():
    import torchvision

    ref = torchvision.models.vgg19(weights=None).features
    assert len(LAYERS) == len(ref) == 37
    for name, module in zip(LAYERS, ref):
        kind = {"conv": torch.nn.Conv2d, "relu": torch.nn.ReLU, "pool": torch.nn.MaxPool2d}[name[:4]]
        assert isinstance(module, kind), name
    assert layer_index("relu4_2") == 22 and truncate_at(["relu1_1", "relu4_2"]) == 23
    with pytest.raises(ParameterError, match="unknown VGG-19 layer"):
        layer_index("relu9_9")


def test_parse_weights():
    assert parse_weights("random").label == "random:0"
    assert parse_weights("random:7").seed == 7 and parse_weights("random:7").is_random
    assert parse_weights("imagenet").kind == "imagenet"
    with pytest.raises(ParameterError, match="whole number from 0 to 4294967295"):
        parse_weights("random:x")
    with pytest.raises(ParameterError, match="imagenet"):
        parse_weights("vgg.bin")
    with pytest.raises(WeightsError, match="not found"):
        parse_weights("/nonexistent/vgg.pth")


def test_random_weights_are_seeded_and_independent_of_the_classifier(random_state):
    again = load_state_dict("random:0", classifier=True)
    other = load_state_dict("random:1")
    key = "features.34.weight"
    assert torch.equal(random_state[key], again[key])
    assert not torch.equal(random_state[key], other[key])
    assert "classifier.6.weight" in again and "classifier.6.weight" not in random_state
    # torchvision's initialisation: Kaiming normal, fan-out; PyTorch's default biases, so parity sees them
    assert abs(random_state["features.0.weight"].std().item() - (2 / (64 * 9)) ** 0.5) < 0.01
    for key in ("features.0.bias", "features.34.bias", "classifier.6.bias"):
        bias = again[key]
        assert bias.abs().min() > 0 and bias.abs().max() <= again[key.replace("bias", "weight")][0].numel() ** -0.5


def test_weight_files_load_safely(tmp_path, random_state):
    full = tmp_path / "vgg.pth"
    torch.save(random_state, full)
    assert torch.equal(load_state_dict(str(full))["features.0.weight"], random_state["features.0.weight"])
    bare = tmp_path / "features.pth"  # a bare ``features`` module's state dict
    torch.save({k.removeprefix("features."): v for k, v in random_state.items()}, bare)
    assert torch.equal(load_state_dict(str(bare))["features.2.bias"], random_state["features.2.bias"])
    from safetensors.torch import save_file

    st = tmp_path / "vgg.safetensors"
    save_file({k: v.contiguous() for k, v in random_state.items()}, str(st))
    assert torch.equal(load_state_dict(str(st))["features.5.weight"], random_state["features.5.weight"])


class _Payload:
    """An object whose unpickling would run code: weights_only=True must refuse it."""

    def __reduce__(self):
        return (print, ("pickle code ran",))


def test_weight_files_with_code_are_refused_in_one_line(tmp_path, recwarn):
    import pickle

    evil = tmp_path / "evil.pth"
    torch.save({"features.0.weight": _Payload()}, evil)
    plain = tmp_path / "plain.pth"  # a plain protocol-4 pickle: torch warns about the protocol
    plain.write_bytes(pickle.dumps({"features.0.weight": _Payload()}, protocol=4))
    for path in (evil, plain):
        with pytest.raises(WeightsError) as err:
            load_state_dict(str(path))
        msg = str(err.value)
        assert "refused for safety" in msg and "other than tensors" in msg and "\n" not in msg
        assert "\x1b" not in msg and "`w" not in msg  # not torch's message cut mid-word
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


def _without(state, key):
    return {k: v for k, v in state.items() if k != key}


@pytest.mark.parametrize("edit, expected", [
    (lambda s: _without(s, "features.2.bias"), "features.2.bias is missing, expected shape (64,)"),
    (lambda s: {**s, "features.2.bias": torch.zeros(63)}, "features.2.bias is of shape (63,), expected shape (64,)"),
    (lambda s: {**s, "features.0.weight": torch.zeros(64, 1, 3, 3)}, "features.0.weight is of shape (64, 1, 3, 3)"),
    (lambda s: {**s, "epoch": 3}, "entry 'epoch' is of type int, not a tensor"),
    (lambda s: {**s, "features.99.weight": torch.zeros(1)}, "unexpected key 'features.99.weight'"),
])
def test_malformed_weight_files_name_the_first_bad_key(tmp_path, random_state, edit, expected):
    path = tmp_path / "bad.pth"
    torch.save(edit(dict(random_state)), path)
    with pytest.raises(WeightsError, match=re.escape(expected)) as err:
        load_state_dict(str(path))
    assert "\n" not in str(err.value)


def test_a_classifier_is_checked_when_the_audit_needs_it(tmp_path, random_state):
    torch.save(random_state, tmp_path / "features_only.pth")
    with pytest.raises(WeightsError, match="no classifier"):
        load_state_dict(str(tmp_path / "features_only.pth"), classifier=True)
    full = load_state_dict("random:0", classifier=True)
    ten = {**full, "classifier.6.weight": torch.zeros(10, 4096), "classifier.6.bias": torch.zeros(10)}
    torch.save(ten, tmp_path / "ten_classes.pth")
    with pytest.raises(WeightsError, match=r"classifier.6.weight is of shape \(10, 4096\).*1000-class"):
        load_state_dict(str(tmp_path / "ten_classes.pth"), classifier=True)
    # the style engines use the features alone: a fine-tuned classifier does not stop them
    assert "classifier.6.weight" not in load_state_dict(str(tmp_path / "ten_classes.pth"))


def test_imagenet_missing_offline_names_the_cache_path(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("STYLESEG_OFFLINE", "1")
    with pytest.raises(WeightsError) as err:
        load_state_dict("imagenet")
    msg = str(err.value)
    assert str(tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth") in msg and W.IMAGENET_URL in msg
    assert "\n" not in msg


def test_imagenet_download_failure_is_one_line(tmp_path, monkeypatch):
    import urllib.error

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("STYLESEG_OFFLINE", raising=False)

    def no_network(url, tmp):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(W, "_torch_download", no_network)
    with pytest.raises(WeightsError, match="download failed .*Name or service not known"):
        load_state_dict("imagenet")
    assert not list((tmp_path / "hub" / "checkpoints").glob("*"))  # nothing half-written left behind


def test_imagenet_loads_from_the_torch_hub_cache(tmp_path, monkeypatch, random_state):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("STYLESEG_OFFLINE", "1")
    cache = W.imagenet_cache_path()
    cache.parent.mkdir(parents=True)
    torch.save(random_state, cache)
    assert torch.equal(load_state_dict("imagenet")["features.0.weight"], random_state["features.0.weight"])


def test_keras_weights_missing_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("STYLESEG_OFFLINE", "1")
    with pytest.raises(WeightsError, match="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        W.ensure_keras_file()
    with pytest.raises(ParameterError, match="TensorFlow engine only"):
        load_state_dict("keras-imagenet")


def test_feature_extractor_is_truncated_and_frozen(random_state, astronaut64):
    net = VGGFeatures(random_state, ["relu1_1", "relu3_1"])
    assert len(net.features) == truncate_at(["relu3_1"])
    assert not any(p.requires_grad for p in net.parameters())
    out = net(torch.from_numpy(astronaut64).permute(2, 0, 1)[None])
    assert out["relu1_1"].shape == (1, 64, 64, 64) and out["relu3_1"].shape == (1, 256, 16, 16)
    assert (out["relu3_1"] >= 0).all()


def test_pytorch_and_tensorflow_agree(random_state, astronaut64):
    result = parity(random_state, astronaut64)
    assert set(result["layers"]) == set(PARITY_LAYERS)
    assert result["max"] <= 1e-4


def test_parity_detects_a_wrong_kernel_layout(random_state, astronaut64, monkeypatch):
    """The figure must move when the conversion is wrong (kernels not transposed in space)."""
    from toolkit.vgg import tf_vgg

    real = tf_vgg.torch_to_tf_kernels
    monkeypatch.setattr(tf_vgg, "torch_to_tf_kernels",
                        lambda sd: [(k.transpose(1, 0, 2, 3).copy(), b) for k, b in real(sd)])
    assert parity(random_state, astronaut64)["max"] > 1e-2


def test_parity_detects_dropped_biases(random_state, astronaut64, monkeypatch):
    from toolkit.vgg import tf_vgg

    real = tf_vgg.torch_to_tf_kernels
    monkeypatch.setattr(tf_vgg, "torch_to_tf_kernels", lambda sd: [(k, np.zeros_like(b)) for k, b in real(sd)])
    assert parity(random_state, astronaut64)["max"] > 1e-3


def test_caffe_preprocessing_matches_keras():
    import keras

    from toolkit.vgg.tf_vgg import TFVGGFeatures

    kernels = [(np.zeros((3, 3, cin, cout), np.float32), np.zeros(cout, np.float32))
               for cin, cout in [(3, 64)]]
    net = TFVGGFeatures(kernels, ["conv1_1"], preprocess="caffe")
    x = np.random.default_rng(0).random((1, 8, 8, 3), dtype=np.float32)
    expected = keras.applications.vgg19.preprocess_input(x * 255.0)
    np.testing.assert_allclose(np.asarray(net.normalize(x)), expected, rtol=1e-5, atol=1e-3)
