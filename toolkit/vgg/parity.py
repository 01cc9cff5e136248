"""Do the PyTorch and TensorFlow VGG-19s compute the same thing? A figure, computed live."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .layers import PARITY_LAYERS


def parity(state_dict: dict, image: np.ndarray, layers: Sequence[str] = PARITY_LAYERS) -> dict:
    """Relative max abs difference between the two frameworks' activations, per layer.

    Parameters
    ----------
    state_dict : dict
        torchvision VGG-19 weights (see :func:`toolkit.vgg.weights.load_state_dict`).
    image : ndarray of float32, shape (H, W, 3), values in [0, 1]
    layers : layer names to compare

    Returns
    -------
    dict
        ``{"layers": {name: max|torch - tf| / max|torch|}, "max": worst of them}``.
    """
    import torch

    from .tf_vgg import from_torch_state_dict
    from .torch_vgg import VGGFeatures

    x = np.ascontiguousarray(image[None], dtype=np.float32)
    with torch.no_grad():
        ours = VGGFeatures(state_dict, layers)(torch.from_numpy(x).permute(0, 3, 1, 2))
    theirs = from_torch_state_dict(state_dict, layers)(x)
    per_layer = {}
    for name in layers:
        a = ours[name][0].permute(1, 2, 0).numpy()
        b = np.asarray(theirs[name][0])
        per_layer[name] = float(np.abs(a - b).max() / max(float(np.abs(a).max()), 1e-12))
    return {"layers": per_layer, "max": max(per_layer.values())}
