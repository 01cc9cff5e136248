"""Measures for the comparison: SSIM, change outside the region, spread over seeds, peak memory."""

from __future__ import annotations

import os
import threading
import time

import numpy as np


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of two H×W×3 images in [0, 1] (scikit-image)."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, channel_axis=-1, data_range=1.0))


def outside_change(image: np.ndarray, content: np.ndarray, inside: np.ndarray) -> dict:
    """Mean and max absolute change (in 1/255 units) of the pixels outside the region."""
    out = np.asarray(inside) < 0.5
    if not out.any():
        return {"mean_255": 0.0, "max_255": 0.0}
    d = np.abs(image - content)[out] * 255
    return {"mean_255": float(d.mean()), "max_255": float(d.max())}


def mean_sd(values) -> dict:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], np.float64)
    if v.size == 0:
        return {"mean": float("nan"), "sd": float("nan"), "n": 0}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0, "n": int(v.size)}


class PeakMemory:
    """Peak resident memory of this process during a ``with`` block, above what it held at the start.

    Sampled from /proc/self/statm every 10 ms in a thread (so it sees PyTorch's and TensorFlow's native
    allocations, which tracemalloc does not). On systems without /proc it reports None.
    """

    def __enter__(self):
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        self.start = self._rss()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _rss(self):
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * self._page
        except OSError:
            return None

    def _sample(self):
        while not self._stop.is_set():
            rss = self._rss()
            if rss is not None and self.peak is not None:
                self.peak = max(self.peak, rss)
            time.sleep(0.01)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def megabytes(self) -> float | None:
        return None if self.start is None else (self.peak - self.start) / 2**20
