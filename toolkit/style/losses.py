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

from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

#: Guards the relative errors against a target that is all zeros (a layer that is silent for this image).
TINY = 1e-12


def term_names(content_layers, style_layers) -> list[str]:
    """Names of the loss terms in the order the engines compute them: content, one per style layer, tv."""
    return ["content"] + [f"style {n}" for n in style_layers] + ["tv"]


def term_weights(cfg) -> list[float]:
    """The weight of each term of :func:`term_names` in the total (a ``StyleConfig``'s loss weights)."""
    return [cfg.content_weight] + [cfg.style_weight * w for w in cfg.layer_weights] + [cfg.tv_weight]


# ------------------------------------------------------------------------------------------------- PyTorch


class GramTarget(NamedTuple):
    """A style term's fixed side on one layer, computed once per level (tensors of either framework).

    gram : the style's Gram matrix, C×C; inv : 1 / ‖gram‖²
    weights : the region on the layer's grid, flattened (1×N for PyTorch, N×1 for TensorFlow), or None
    weight_sum : Σ weights (at least 1e-8), or None
    """

    gram: Any
    inv: Any
    weights: Any = None
    weight_sum: Any = None


def gram_matrix(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Normalised (region) Gram matrix of 1×C×h×w features: C×C."""
    _, c, h, w = features.shape
    f = features.reshape(c, h * w)
    if mask is None:
        return f @ f.T / (c * h * w)
    m = mask.reshape(1, h * w)
    return (f * m) @ f.T / (c * m.sum().clamp_min(1e-8))


def _inverse_square_norm(target: np.ndarray) -> float:
    """1 / ‖target‖², summed in float64 on the CPU (MPS has no float64), guarded by :data:`TINY`: a fixed
    target's scale, computed once rather than every step (either framework's tensor, as a NumPy array)."""
    return 1.0 / max(float(np.sum(np.square(target, dtype=np.float64))), TINY)


def _region(weights: np.ndarray) -> tuple[np.ndarray, float]:
    """A region's weights on a layer grid as a flat float32 array, and their sum (at least 1e-8)."""
    flat = np.ascontiguousarray(weights, np.float32).ravel()
    return flat, max(float(flat.sum(dtype=np.float64)), 1e-8)


def gram_target(style_features: torch.Tensor, weights: np.ndarray | None = None) -> GramTarget:
    """The :class:`GramTarget` of 1×C×h×w style features, for a region given as float32 weights on the
    (content's) layer grid in [0, 1], or for the whole image (None)."""
    gram = gram_matrix(style_features)
    inv = _inverse_square_norm(gram.cpu().numpy())
    if weights is None:
        return GramTarget(gram, inv)
    flat, total = _region(weights)
    return GramTarget(gram, inv, torch.from_numpy(flat[None]).to(gram.device), total)


class _StyleLoss(torch.autograd.Function):
    """S = ‖(f·m) fᵀ / n − T‖² · inv for C×N features f, region weights m (1×N or None) and a fixed Gram T.

    Forward, the difference D comes out of the Gram product itself (one BLAS call with β = −1); backward,
    ∂S/∂f = m ⊙ (4·inv/n) · D f (D is symmetric): one product, with the scale on the C×C factor. Autograd would
    take two products and a dozen small element-wise passes (on a CPU, the loss's whole overhead over the network).
    """

    @staticmethod
    def forward(ctx, f, m, gram, n, inv):
        d = torch.addmm(gram, f if m is None else f * m, f.T, beta=-1, alpha=1 / n)
        ctx.save_for_backward(f, m, d)
        ctx.scale = 4 * inv / n
        return (d.reshape(-1) @ d.reshape(-1)) * inv

    @staticmethod
    def backward(ctx, grad):
        f, m, d = ctx.saved_tensors
        g = (d * (ctx.scale * grad)) @ f
        return (g if m is None else g * m), None, None, None, None


def style_loss(features: torch.Tensor, target: GramTarget) -> torch.Tensor:
    """A style term S_l of 1×C×h×w features against a :class:`GramTarget` (see the module docstring)."""
    _, c, h, w = features.shape
    n = c * (h * w if target.weights is None else target.weight_sum)
    return _StyleLoss.apply(features.reshape(c, h * w), target.weights, target.gram, n, target.inv)


class _RelativeError(torch.autograd.Function):
    """‖v − t‖² · inv for a fixed target t: one difference and one dot product forward, one scaling backward."""

    @staticmethod
    def forward(ctx, value, target, inv):
        d = (value - target).reshape(-1)
        ctx.save_for_backward(d)
        ctx.inv, ctx.shape = inv, value.shape
        return (d @ d) * inv

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        return (d * (2 * ctx.inv * grad)).reshape(ctx.shape), None, None


def content_target(features: torch.Tensor) -> tuple[torch.Tensor, float]:
    """(features, 1 / ‖features‖²): a content term's fixed side, computed once per level."""
    return features, _inverse_square_norm(features.detach().cpu().numpy())


def content_loss(features: torch.Tensor, target: tuple[torch.Tensor, float]) -> torch.Tensor:
    """‖F(x) − F(c)‖² / ‖F(c)‖² against a :func:`content_target`."""
    return _RelativeError.apply(features, *target)


class _TotalVariation(torch.autograd.Function):
    """mean(dy²) + mean(dx²) of the image's neighbour differences, with the backward written out: autograd's
    slices, powers and means are a dozen small passes, each waking the CPU's sleeping threads (2.3 ms a step at
    128 px on 2 cores; this takes 1.2)."""

    @staticmethod
    def forward(ctx, x):
        dy = (x[:, :, 1:, :] - x[:, :, :-1, :]).reshape(-1)
        dx = (x[:, :, :, 1:] - x[:, :, :, :-1]).reshape(-1)
        ctx.save_for_backward(dy, dx)
        ctx.shape = x.shape
        return dy @ dy / dy.numel() + dx @ dx / dx.numel()

    @staticmethod
    def backward(ctx, grad):
        dy, dx = ctx.saved_tensors
        n, c, h, w = ctx.shape
        gy = (dy * (2 * grad / dy.numel())).reshape(n, c, h - 1, w)
        gx = (dx * (2 * grad / dx.numel())).reshape(n, c, h, w - 1)
        return F.pad(gy, (0, 0, 1, 0)) - F.pad(gy, (0, 0, 0, 1)) + F.pad(gx, (1, 0)) - F.pad(gx, (0, 1))


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation of an N×3×H×W image (see the module docstring)."""
    return _TotalVariation.apply(image)


# ---------------------------------------------------------------------------------------------- TensorFlow


def tf_gram_matrix(features, mask=None):
    """Normalised (region) Gram matrix of 1×h×w×C features: C×C."""
    import tensorflow as tf

    c = features.shape[-1]
    f = tf.reshape(features, (-1, c))
    if mask is None:
        return tf.matmul(f, f, transpose_a=True) / tf.cast(tf.shape(f)[0] * c, f.dtype)
    m = tf.reshape(mask, (-1, 1))
    return tf.matmul(f * m, f, transpose_a=True) / (c * tf.maximum(tf.reduce_sum(m), 1e-8))


def tf_gram_target(style_features, weights: np.ndarray | None = None) -> GramTarget:
    """:func:`gram_target` for 1×h×w×C TensorFlow features (every field a tensor, so that a traced function
    takes new targets without retracing)."""
    import tensorflow as tf

    gram = tf_gram_matrix(style_features)
    inv = tf.constant(_inverse_square_norm(gram.numpy()), tf.float32)
    if weights is None:
        return GramTarget(gram, inv)
    flat, total = _region(weights)
    return GramTarget(gram, inv, tf.constant(flat[:, None]), tf.constant(total, tf.float32))


def tf_style_loss(features, target: GramTarget):
    """:func:`style_loss` for 1×h×w×C TensorFlow features (the same one-product forward and backward)."""
    import tensorflow as tf

    c = features.shape[-1]
    f = tf.reshape(features, (-1, c))
    m = target.weights
    n = c * (tf.cast(tf.shape(f)[0], f.dtype) if m is None else target.weight_sum)

    @tf.custom_gradient
    def loss(f):
        d = tf.matmul(f if m is None else f * m, f, transpose_a=True) / n - target.gram

        def backward(grad):
            g = tf.matmul(f, d * (4 * target.inv * grad / n))
            return g if m is None else g * m

        return tf.reduce_sum(d * d) * target.inv, backward

    return loss(f)


def tf_content_target(features):
    """:func:`content_target` for TensorFlow features (the inverse norm as a tensor)."""
    import tensorflow as tf

    return features, tf.constant(_inverse_square_norm(features.numpy()), tf.float32)


def tf_content_loss(features, target):
    """:func:`content_loss` for TensorFlow features."""
    import tensorflow as tf

    fixed, inv = target

    @tf.custom_gradient
    def loss(v):
        d = v - fixed
        return tf.reduce_sum(d * d) * inv, lambda grad: d * (2 * inv * grad)

    return loss(features)


def tf_tv_loss(image):
    """Total variation of an N×H×W×3 image."""
    import tensorflow as tf

    return (tf.reduce_mean((image[:, 1:, :, :] - image[:, :-1, :, :]) ** 2)
            + tf.reduce_mean((image[:, :, 1:, :] - image[:, :, :-1, :]) ** 2))
