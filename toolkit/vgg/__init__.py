"""VGG-19: one layer-name scheme, weight sources, and builders for PyTorch and TensorFlow/Keras.

* :mod:`.layers` – the names ``conv1_1`` … ``relu5_4``, ``pool1`` … ``pool5`` in network order.
* :mod:`.weights` – ``imagenet`` / ``keras-imagenet`` / file / ``random[:SEED]`` → a torchvision state dict.
* :mod:`.torch_vgg` – a truncated feature extractor, and the full classifier for the audit.
* :mod:`.tf_vgg` – the same extractor in Keras, from the same state dict (or from Keras' own weights).
* :mod:`.parity` – how closely the two frameworks agree on the same weights and image.
"""

from .layers import LAYERS, PARITY_LAYERS, layer_index, truncate_at
from .weights import WeightSource, load_state_dict, parse_weights

__all__ = ["LAYERS", "PARITY_LAYERS", "layer_index", "truncate_at", "WeightSource", "load_state_dict",
           "parse_weights"]
