"""The loss definitions, written once in words and twice in code (PyTorch and TensorFlow, side by side).

For a layer with C channels and feature vectors f_p at positions p, and a region weight m_p in [0, 1]
(m = 1 everywhere when there is no mask, or the mask carried down to the layer's resolution by area averaging):

* **Gram matrix**  G = Σ_p m_p f_p f_pᵀ / (C · Σ_p m_p): the region's mean outer product, so a region's
  statistics do not depend on its size.
* **Style loss**  Σ_l w_l · mean((G_l(x) − G_l(style))²), over the style layers l with weights w_l.
* **Content loss**  mean over content layers of mean((F_l(x) − F_l(content))²).
* **Total variation**  mean((x_{i+1,j} − x_{i,j})²) + mean((x_{i,j+1} − x_{i,j})²), on the image in [0, 1].
* **Total**  content_weight · content + style_weight · style + tv_weight · tv.

Torch tensors are N×C×H×W, TensorFlow tensors N×H×W×C; masks are 1×1×h×w and 1×h×w×1.
"""

from __future__ import annotations

import torch


# ------------------------------------------------------------------------------------------------- PyTorch


def gram_matrix(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Normalised (region) Gram matrix of 1×C×h×w features: C×C."""
    _, c, h, w = features.shape
    f = features.reshape(c, h * w)
    if mask is None:
        return f @ f.T / (c * h * w)
    m = mask.reshape(1, h * w)
    return (f * m) @ f.T / (c * m.sum().clamp_min(1e-8))


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.mean((features - target) ** 2)


def style_loss(gram: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    return torch.mean((gram - target_gram) ** 2)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation of an N×3×H×W image."""
    return (torch.mean((image[:, :, 1:, :] - image[:, :, :-1, :]) ** 2)
            + torch.mean((image[:, :, :, 1:] - image[:, :, :, :-1]) ** 2))


# ---------------------------------------------------------------------------------------------- TensorFlow


def tf_gram_matrix(features, mask=None):
    """Normalised (region) Gram matrix of 1×h×w×C features: C×C."""
    import tensorflow as tf

    shape = tf.shape(features)
    c = features.shape[-1]
    f = tf.reshape(features, (-1, c))
    if mask is None:
        n = tf.cast(shape[1] * shape[2], features.dtype)
        return tf.matmul(f, f, transpose_a=True) / (c * n)
    m = tf.reshape(mask, (-1, 1))
    return tf.matmul(f * m, f, transpose_a=True) / (c * tf.maximum(tf.reduce_sum(m), 1e-8))


def tf_content_loss(features, target):
    import tensorflow as tf

    return tf.reduce_mean((features - target) ** 2)


def tf_style_loss(gram, target_gram):
    import tensorflow as tf

    return tf.reduce_mean((gram - target_gram) ** 2)


def tf_tv_loss(image):
    """Total variation of an N×H×W×3 image."""
    import tensorflow as tf

    return (tf.reduce_mean((image[:, 1:, :, :] - image[:, :-1, :, :]) ** 2)
            + tf.reduce_mean((image[:, :, 1:, :] - image[:, :, :-1, :]) ** 2))
