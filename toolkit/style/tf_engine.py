"""The TensorFlow engine: the Keras VGG-19 and the losses of :mod:`.losses`, compiled with ``tf.function``.

The graphs are traced once per configuration's layers, number of style terms and image shape, and kept with the
network: the level's targets and the loss weights are arguments, not constants, so every seed, image and
setting with the same shapes reuses them. Time spent tracing is added up in ``trace_seconds``.
"""

from __future__ import annotations

import time

import numpy as np

from ..vgg.tf_vgg import TFVGGFeatures
from .config import StyleConfig
from .engine import EngineBase, Level, parts_dict
from .losses import (term_names, term_weights, tf_content_loss, tf_content_target, tf_gram_target, tf_style_loss,
                     tf_tv_loss)
from .regions import layer_masks


class TFEngine(EngineBase):
    """``jit_compile`` turns on XLA. It is off by default because on a 2-core CPU it was slower
    (82 vs 72 ms per step at 128 px, 280 vs 249 ms at 256 px, and 1-1.5 s more tracing per level); try it on a GPU.
    """

    name = "tf"

    def __init__(self, net: TFVGGFeatures, cfg: StyleConfig, jit_compile: bool = False):
        self.cfg = cfg
        self.net = net
        self.layers = net.layers
        self.jit_compile = jit_compile
        self._shared = {"trace_seconds": 0.0, "functions": {}}

    def _targets(self, level: Level) -> tuple:
        """(content targets, (style targets per layer) per style term), as tensors."""
        import tensorflow as tf

        cfg = self.cfg
        content_feats = self.net(tf.constant(level.content[None], tf.float32))
        shapes = {n: tuple(content_feats[n].shape[1:3]) for n in cfg.style_layers}
        terms = []
        for term in level.terms:
            style_feats = self.net(tf.constant(term.image[None], tf.float32))
            carried = {} if term.region is None else layer_masks(term.region, shapes)
            terms.append(tuple(tf_gram_target(style_feats[n], carried.get(n)) for n in cfg.style_layers))
        return tuple(tf_content_target(content_feats[n]) for n in cfg.content_layers), tuple(terms)

    def _raw_terms(self, x, targets) -> list:
        import tensorflow as tf

        cfg = self.cfg
        content_targets, terms = targets
        feats = self.net(x)
        c = tf.add_n([tf_content_loss(feats[n], t) for n, t in zip(cfg.content_layers, content_targets)])
        style = [tf.add_n([tf_style_loss(feats[n], targets[i]) for targets in terms])
                 for i, n in enumerate(cfg.style_layers)]
        return [c / len(content_targets), *style, tf_tv_loss(x)]

    def _function(self, kind: str):
        """The traced function ``kind`` ("step" or "gradients") for this configuration's layers, made once."""
        import tensorflow as tf

        key = (kind, self.cfg.content_layers, self.cfg.style_layers)
        functions = self._shared["functions"]
        if key in functions:
            return functions[key]
        raw_terms = self._raw_terms  # bound to this copy's cfg, whose layers are in the key

        def step(x, weights, targets):
            with tf.GradientTape() as tape:
                tape.watch(x)
                terms = tf.stack(raw_terms(x, targets))
                total = tf.reduce_sum(weights * terms)
            return total, terms, tape.gradient(total, x)

        def gradients(x, weights, targets):
            with tf.GradientTape(persistent=True) as tape:
                tape.watch(x)
                weighted = [weights[i] * t for i, t in enumerate(raw_terms(x, targets))]
            return tf.stack([tape.gradient(t, x) for t in weighted])

        functions[key] = tf.function({"step": step, "gradients": gradients}[kind], jit_compile=self.jit_compile)
        return functions[key]

    def _traced(self, kind: str, args: tuple):
        """The concrete function for these arguments' shapes, tracing it (timed) if it is new."""
        fn = self._function(kind)
        before, t = fn.experimental_get_tracing_count(), time.perf_counter()
        concrete = fn.get_concrete_function(*args)
        if fn.experimental_get_tracing_count() > before:
            self._shared["trace_seconds"] += time.perf_counter() - t
        return concrete

    def _args(self, level: Level, flat: np.ndarray | None = None) -> tuple:
        import tensorflow as tf

        h, w = level.shape
        x = tf.zeros((1, h, w, 3)) if flat is None else tf.constant(flat.astype(np.float32).reshape(1, h, w, 3))
        return x, tf.constant(term_weights(self.cfg), tf.float32), self._targets(level)

    def objective(self, level: Level):
        """``f(x) -> (total, gradient, parts)`` for a flat float64 image ``x`` of the level's shape."""
        import tensorflow as tf

        h, w = level.shape
        _, weights, targets = args = self._args(level)
        step = self._traced("step", args)

        def f(flat: np.ndarray):
            x = tf.constant(flat.astype(np.float32).reshape(1, h, w, 3))
            total, terms, grad = step(x, weights, targets)
            return float(total), grad.numpy().astype(np.float64).ravel(), parts_dict(total, terms.numpy(), self.cfg)

        return f

    def term_gradients(self, level: Level, flat: np.ndarray) -> dict[str, np.ndarray]:
        """The gradient of each weighted term (see :func:`~toolkit.style.losses.term_names`) at image ``flat``."""
        args = self._args(level, flat)
        grads = self._traced("gradients", args)(*args).numpy().astype(np.float64)
        names = term_names(self.cfg.content_layers, self.cfg.style_layers)
        return {name: g.ravel() for name, g in zip(names, grads)}
