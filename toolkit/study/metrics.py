"""Measures for the comparison: SSIM, change outside the region, spread over seeds. (Peak memory is measured
in a fresh process: :mod:`toolkit.study.memory`.)"""

from __future__ import annotations

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
    """{"mean", "sd" (sample s.d.; NaN, undefined, for one value), "n"} of the finite values (None and NaN are
    left out)."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], np.float64)
    if v.size == 0:
        return {"mean": float("nan"), "sd": float("nan"), "n": 0}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else float("nan"), "n": int(v.size)}
