"""The yardstick every time is read against: a bare VGG-19 forward+backward on this machine, now.

Machines (and their load) differ by up to 8x, so benchmarks and studies report their times beside this pass.
"""

from __future__ import annotations

#: What reports call it.
BARE = "bare VGG-19 forward+backward at 256 px"


def bare_pass(eng, size: int):
    """A forward pass to the deepest layer the engine uses, and the backward pass of the sum of its outputs."""
    import numpy as np

    x = np.random.default_rng(0).random((size, size, 3), dtype=np.float32)
    if eng.name == "torch":
        import torch

        xt = torch.from_numpy(x).permute(2, 0, 1)[None].contiguous().to(eng.device).requires_grad_(True)

        def once():
            out = eng.net(xt)
            torch.autograd.grad(sum(v.sum() for v in out.values()), xt)
    else:
        import tensorflow as tf

        xt = tf.constant(x[None])

        @tf.function
        def once():
            with tf.GradientTape() as tape:
                tape.watch(xt)
                out = eng.net(xt)
                total = tf.add_n([tf.reduce_sum(v) for v in out.values()])
            return tape.gradient(total, xt)
    return once


def reference_ms(engine, size: int = 256, rounds: int = 5) -> float:
    """Median ms of a bare VGG-19 forward+backward (to the style engine's deepest layer) at ``size`` px.

    engine : the PyTorch style engine whose network is timed (its weights do not change the figure)
    """
    return median_ms(bare_pass(engine, size), rounds)


def median_ms(once, rounds: int) -> float:
    """Median ms of ``rounds`` calls of ``once()``, after one warm-up call (allocation, kernel choice)."""
    import statistics
    import time

    once()
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        once()
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times)
