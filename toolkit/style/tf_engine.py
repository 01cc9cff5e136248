"""The TensorFlow engine: the Keras VGG-19 and the losses of :mod:`.losses`, compiled with ``tf.function``."""

from __future__ import annotations

import numpy as np

from ..vgg.tf_vgg import TFVGGFeatures
from .config import StyleConfig
from .engine import Level, parts_dict
from .losses import tf_content_loss, tf_gram_matrix, tf_style_loss, tf_tv_loss
from .regions import layer_masks


class TFEngine:
    """``jit_compile`` turns on XLA. It is off by default because on a 2-core CPU it was slower
    (82 vs 72 ms per step at 128 px, 280 vs 249 ms at 256 px, and 1-1.5 s more tracing per level); try it on a GPU.
    """

    name = "tf"

    def __init__(self, net: TFVGGFeatures, cfg: StyleConfig, jit_compile: bool = False):
        self.cfg = cfg
        self.net = net
        self.jit_compile = jit_compile

    def objective(self, level: Level):
        """``f(x) -> (total, gradient, parts)`` for a flat float64 image ``x`` of the level's shape."""
        import tensorflow as tf

        cfg = self.cfg
        h, w = level.shape
        content_feats = self.net(tf.constant(level.content[None], tf.float32))
        content_targets = [content_feats[n] for n in cfg.content_layers]
        shapes = {n: tuple(content_feats[n].shape[1:3]) for n in cfg.style_layers}
        terms = []
        for term in level.terms:
            style_feats = self.net(tf.constant(term.image[None], tf.float32))
            grams = [tf_gram_matrix(style_feats[n]) for n in cfg.style_layers]
            masks = None
            if term.region is not None:
                lm = layer_masks(term.region, shapes)
                masks = [tf.constant(lm[n][None, :, :, None]) for n in cfg.style_layers]
            terms.append((grams, masks))
        weights = cfg.layer_weights

        @tf.function(jit_compile=self.jit_compile, reduce_retracing=True)
        def step(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                feats = self.net(x)
                c = tf.add_n([tf_content_loss(feats[n], t) for n, t in zip(cfg.content_layers, content_targets)])
                c = c / len(cfg.content_layers)
                s = tf.add_n([wl * tf_style_loss(tf_gram_matrix(feats[n], masks[i] if masks else None), grams[i])
                              for grams, masks in terms
                              for i, (n, wl) in enumerate(zip(cfg.style_layers, weights))])
                tv = tf_tv_loss(x)
                total = cfg.content_weight * c + cfg.style_weight * s + cfg.tv_weight * tv
            return total, c, s, tv, tape.gradient(total, x)

        def f(flat: np.ndarray):
            x = tf.constant(flat.astype(np.float32).reshape(1, h, w, 3))
            total, c, s, tv, grad = step(x)
            return float(total), grad.numpy().astype(np.float64).ravel(), parts_dict(total, c, s, tv)

        return f
