"""The loss definitions, written once in words and twice in code (PyTorch and TensorFlow, side by side).

For a layer with C channels and feature vectors f_p at positions p, and a region weight m_p in [0, 1]
(m = 1 everywhere when there is no mask, or the mask carried down to the layer's grid, see
:func:`toolkit.style.regions.layer_masks`):

* **Gram matrix**  G = Σ_p m_p f_p f_pᵀ / (C · Σ_p m_p): the region's mean outer product, so a region's
  statistics do not depend on its size.
* **Style loss** of layer l  S_l = ‖G_l(x) − G_l(s)‖²_F / ‖G_l(s)‖²_F: the squared error relative to the style's
  own Gram matrix.
* **Content loss**  C = mean over content layers of ‖F_l(x) − F_l(c)‖² / ‖F_l(c)‖².
* **Total variation**  TV = mean((x_{i+1,j} − x_{i,j})²) + mean((x_{i,j+1} − x_{i,j})²), on the image in [0, 1].
* **Total**  content_weight · C + style_weight · Σ_l w_l S_l + tv_weight · TV  (see :func:`term_weights`).

Why relative errors. If a network's activations are a times larger (trained rather than random weights, a file
whose layers are scaled, or Keras' Caffe preprocessing: inputs × 255 and no division by the s.d., about 57×
larger), an unnormalised Gram term grows as a⁴ and the content term as a², so one ``style_weight`` means
different things for different weights. Dividing each term by the size of its own target (G(s) → a²G(s),
F(c) → aF(c)) makes S_l and C unchanged by a, and so the balance between them and TV too. This is the relative
error that Gatys et al.'s per-layer factor 1/(4N²M²) approximates for one fixed network; dividing by the target
rather than by the layer's size also absorbs the differences between layers that the size does not predict.
The remaining per-layer weights w_l (``StyleConfig``) then only even out how strongly each layer pulls on the
pixels (a test checks both properties).

Torch tensors are N×C×H×W, TensorFlow tensors N×H×W×C; masks are 1×1×h×w and 1×h×w×1.
"""

from __future__ import annotations

import torch

#: Guards the relative errors against a target that is all zeros (a layer that is silent for this image).
TINY = 1e-12


def term_names(content_layers, style_layers) -> list[str]:
    """Names of the loss terms in the order the engines compute them: content, one per style layer, tv."""
    return ["content"] + [f"style {n}" for n in style_layers] + ["tv"]


def term_weights(cfg) -> list[float]:
    """The weight of each term of :func:`term_names` in the total (a ``StyleConfig``'s loss weights)."""
    return [cfg.content_weight] + [cfg.style_weight * w for w in cfg.layer_weights] + [cfg.tv_weight]


# ------------------------------------------------------------------------------------------------- PyTorch


class _Gram(torch.autograd.Function):
    """G = (f·m) fᵀ / n for C×N features f and weights m (1×N, or None for 1), with a one-product backward.

    Autograd would differentiate the product twice, once per operand, though both are ``f``; since
    ∂L/∂f = m ⊙ ((∂L/∂G + ∂L/∂Gᵀ) f) / n, one product does (the Gram matrices are a third of a step's
    overhead over the bare network on a CPU).
    """

    @staticmethod
    def forward(ctx, f, m, n):
        ctx.save_for_backward(f, m)
        ctx.n = n
        return (f if m is None else f * m) @ f.T / n

    @staticmethod
    def backward(ctx, grad):
        f, m = ctx.saved_tensors
        g = ((grad + grad.T) / ctx.n) @ f  # divide the C×C factor, not the C×N product
        return (g if m is None else g * m), None, None


def gram_matrix(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Normalised (region) Gram matrix of 1×C×h×w features: C×C."""
    _, c, h, w = features.shape
    f = features.reshape(c, h * w)
    if mask is None:
        return _Gram.apply(f, None, float(c * h * w))
    m = mask.reshape(1, h * w)
    return _Gram.apply(f, m, c * m.sum().clamp_min(1e-8))


def relative_error(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """‖value − target‖² / ‖target‖²: the style loss of a Gram matrix, the content loss of features."""
    return torch.sum((value - target) ** 2) / torch.sum(target**2).clamp_min(TINY)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation of an N×3×H×W image."""
    return (torch.mean((image[:, :, 1:, :] - image[:, :, :-1, :]) ** 2)
            + torch.mean((image[:, :, :, 1:] - image[:, :, :, :-1]) ** 2))


# ---------------------------------------------------------------------------------------------- TensorFlow


def tf_gram_matrix(features, mask=None):
    """Normalised (region) Gram matrix of 1×h×w×C features: C×C (one-product backward, as :class:`_Gram`)."""
    import tensorflow as tf

    shape = tf.shape(features)
    c = features.shape[-1]
    f = tf.reshape(features, (-1, c))
    if mask is None:
        m, n = None, tf.cast(shape[1] * shape[2] * c, features.dtype)
    else:
        m = tf.reshape(mask, (-1, 1))
        n = c * tf.maximum(tf.reduce_sum(m), 1e-8)

    @tf.custom_gradient
    def gram(f):
        def backward(grad):
            g = tf.matmul(f, (grad + tf.transpose(grad)) / n)  # divide the C×C factor, not the N×C product
            return g if m is None else g * m

        return tf.matmul(f if m is None else f * m, f, transpose_a=True) / n, backward

    return gram(f)


def tf_relative_error(value, target):
    """‖value − target‖² / ‖target‖² (see :func:`relative_error`)."""
    import tensorflow as tf

    return tf.reduce_sum((value - target) ** 2) / tf.maximum(tf.reduce_sum(target**2), TINY)


def tf_tv_loss(image):
    """Total variation of an N×H×W×3 image."""
    import tensorflow as tf

    return (tf.reduce_mean((image[:, 1:, :, :] - image[:, :-1, :, :]) ** 2)
            + tf.reduce_mean((image[:, :, 1:, :] - image[:, :, :-1, :]) ** 2))
