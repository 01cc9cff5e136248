"""VGG-19 in TensorFlow/Keras, with the same layer names as the PyTorch side.

Two ways to fill it:

* :func:`from_torch_state_dict` – the *same* weights as the PyTorch engine: kernels transposed from
  ``out×in×kh×kw`` to ``kh×kw×in×out``, RGB input, torchvision's mean/std normalisation. Its activations match
  PyTorch's (see :mod:`.parity`).
* :func:`keras_imagenet_kernels` – Keras' own ImageNet weights (the original Caffe VGG-19) with Keras' "caffe"
  preprocessing: RGB→BGR, ×255, minus the BGR ImageNet mean, no scaling.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .layers import BLOCKS, LAYERS, truncate_at
from .torch_vgg import MEAN, STD



def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up chatter (absl and oneDNN notices on fd 2) kept off the console.

    ``TF_CPP_MIN_LOG_LEVEL`` does not silence the messages absl prints before it is initialised, so standard error
    is pointed at /dev/null for the duration of the import only; Python errors still surface as exceptions.
    """
    import sys

    if "tensorflow" in sys.modules:
        return
    try:  # Triton (which torchvision.models loads through torch._dynamo) segfaults if imported after TensorFlow
        import triton  # noqa: F401
    except ImportError:
        pass
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_import_tensorflow_quietly()

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
Kernels = list[tuple[np.ndarray, np.ndarray]]  # per convolution: (kh×kw×in×out kernel, out bias)


class TFVGGFeatures:
    """VGG-19 cut after the deepest requested layer, as a Keras model.

    Call it with an N×H×W×3 float32 RGB tensor in [0, 1]; it returns ``{layer: N×h×w×C}``. ``preprocess`` is
    ``"torch"`` (torchvision normalisation) or ``"caffe"`` (Keras' ImageNet weights). Weights are constants of the
    model, not trainable.
    """

    def __init__(self, kernels: Kernels, layers: Sequence[str], preprocess: str = "torch"):
        import keras
        import tensorflow as tf

        if preprocess not in ("torch", "caffe"):
            raise ValueError(f"preprocess must be 'torch' or 'caffe', got {preprocess!r}")
        self.layers = tuple(dict.fromkeys(layers))
        self.preprocess = preprocess
        n = truncate_at(self.layers)
        inputs = keras.Input(shape=(None, None, 3), dtype="float32")
        x = inputs
        outputs = {}
        conv = 0
        for name in LAYERS[:n]:
            if name.startswith("conv"):
                k, b = kernels[conv]
                conv += 1
                layer = keras.layers.Conv2D(k.shape[3], 3, padding="same", name=name, trainable=False)
                x = layer(x)
                layer.set_weights([np.asarray(k, np.float32), np.asarray(b, np.float32)])
            elif name.startswith("relu"):
                x = keras.layers.ReLU(name=name)(x)
            else:
                x = keras.layers.MaxPool2D(2, 2, padding="valid", name=name)(x)
            if name in self.layers:
                outputs[name] = x
        self.model = keras.Model(inputs, outputs, name="vgg19_features")
        self.model.trainable = False
        if preprocess == "torch":
            self._shift = tf.constant(np.array(MEAN, np.float32))
            self._scale = tf.constant(1.0 / np.array(STD, np.float32))
        else:
            self._shift = tf.constant(np.array(CAFFE_MEAN_BGR, np.float32))

    def normalize(self, x):
        import tensorflow as tf

        if self.preprocess == "torch":
            return (x - self._shift) * self._scale
        return tf.reverse(x, axis=[-1]) * 255.0 - self._shift

    def __call__(self, x) -> dict:
        return self.model(self.normalize(x), training=False)


def torch_to_tf_kernels(state_dict: dict) -> Kernels:
    """torchvision conv weights (out×in×kh×kw) → Keras kernels (kh×kw×in×out), in network order."""
    out = []
    for i, name in enumerate(LAYERS):
        if name.startswith("conv"):
            w = state_dict[f"features.{i}.weight"].detach().cpu().numpy()
            b = state_dict[f"features.{i}.bias"].detach().cpu().numpy()
            out.append((np.ascontiguousarray(w.transpose(2, 3, 1, 0)), b))
    return out


def from_torch_state_dict(state_dict: dict, layers: Sequence[str]) -> TFVGGFeatures:
    """The Keras extractor with the same weights and input normalisation as :class:`VGGFeatures`."""
    return TFVGGFeatures(torch_to_tf_kernels(state_dict), layers, preprocess="torch")


def keras_imagenet_kernels() -> Kernels:
    """Keras' ImageNet VGG-19 kernels (cached, or downloaded with Keras' hash check)."""
    import keras

    from .weights import ensure_keras_file

    model = keras.applications.VGG19(include_top=False, weights=str(ensure_keras_file()))
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == sum(len(b) for b in BLOCKS)
    return [tuple(layer.get_weights()) for layer in convs]


def build_tf_features(source, layers: Sequence[str]) -> TFVGGFeatures:
    """The Keras extractor for a ``--weights`` source (``keras-imagenet`` uses Keras' weights and preprocessing)."""
    from .weights import load_state_dict, parse_weights

    source = parse_weights(source)
    if source.kind == "keras-imagenet":
        return TFVGGFeatures(keras_imagenet_kernels(), layers, preprocess="caffe")
    return from_torch_state_dict(load_state_dict(source), layers)
