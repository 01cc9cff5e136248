"""Deletion and insertion curves (Petsiuk et al., 2018, RISE), with a random map as the reference.

Pixels are taken in the order of a map's attribution, most important first; ties (Grad-CAM's zeros, a flat
region) are broken at random with a fixed seed, not in raster order. *Deletion* replaces them, step by step, with
a black (or mean-colour) baseline and follows the target class's probability: a faithful map makes it fall fast
(small area). *Insertion* starts from a blurred copy of the image and puts them back: a faithful map makes it rise
fast (large area). Areas are divided by the unperturbed image's probability of the class, so 1 means "as
probable as the untouched image throughout". A random map gives the chance level: a method helps only where its
curve beats the random one.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .model import AuditedModel, to_numpy

DELETION_BASELINES = ("black", "mean")
#: Key of the random-map reference in the result.
RANDOM = "random map"


def blurred(image: np.ndarray) -> np.ndarray:
    """Insertion's starting point: a Gaussian blur with s.d. 1/20 of the longer side (H×W×3 float32)."""
    import cv2

    return cv2.GaussianBlur(image, (0, 0), sigmaX=max(image.shape[:2]) / 20)


def pixel_order(attribution: np.ndarray, seed: int = 0) -> np.ndarray:
    """Flat pixel indices, highest attribution first; equal values in a seeded random order."""
    tie = np.random.default_rng(seed).random(attribution.size)
    return np.lexsort((tie, -attribution.ravel()))


def _sequences(image, order, start, end, fractions):
    """Images where the first ``f`` of ``order`` come from ``end`` and the rest from ``start``, for each f."""
    n = order.size
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    rank = rank.reshape(image.shape[:2])[..., None]
    return [np.where(rank < int(round(f * n)), end, start) for f in fractions]


def curves(model: AuditedModel, image: np.ndarray, maps: dict[str, np.ndarray], target: int, steps: int = 10,
           seed: int = 0, deletion_baseline: str = "black") -> dict:
    """Deletion and insertion curves of every map and of a seeded random map, in batched forward passes.

    image : H×W×3 float32 in [0, 1]; maps : {method: H×W}
    Returns ``{"fractions", "deletion_baseline", "insertion_start", "p_unperturbed", "methods": {method:
    {"deletion", "insertion", "deletion_auc", "insertion_auc"}}, RANDOM: {...}}``; AUCs are normalised.
    """
    if steps < 1:
        raise ParameterError(f"curve steps must be at least 1, got {steps}")
    if deletion_baseline not in DELETION_BASELINES:
        raise ParameterError(f"deletion baseline must be one of {', '.join(DELETION_BASELINES)}, "
                             f"got {deletion_baseline!r}")
    gone = np.zeros_like(image) if deletion_baseline == "black" else np.broadcast_to(
        image.mean((0, 1), keepdims=True), image.shape)
    base = blurred(image)
    fractions = np.linspace(0, 1, steps + 1)
    orders = {m: pixel_order(a, seed) for m, a in maps.items()}
    orders[RANDOM] = pixel_order(np.zeros(image.shape[:2]), seed + 1)
    inner = fractions[1:-1]  # the ends are the same three images for every map: evaluated once
    batch = [image, gone, base]
    for order in orders.values():
        batch += _sequences(image, order, image, gone, inner) + _sequences(image, order, base, image, inner)
    p = to_numpy(model.probabilities(model.batch(np.stack(batch)))[:, target])
    (p0, p_gone, p_base), k = p[:3], steps - 1
    out = {"fractions": fractions.tolist(), "deletion_baseline": deletion_baseline, "insertion_start": "blurred",
           "p_unperturbed": float(p0), "methods": {}}
    for i, name in enumerate(orders):
        at = 3 + 2 * i * k
        d = np.concatenate([[p0], p[at: at + k], [p_gone]])
        ins = np.concatenate([[p_base], p[at + k: at + 2 * k], [p0]])
        entry = {"deletion": d.tolist(), "insertion": ins.tolist(),
                 "deletion_auc": float(np.trapezoid(d, fractions) / p0),
                 "insertion_auc": float(np.trapezoid(ins, fractions) / p0)}
        if name == RANDOM:
            out[RANDOM] = entry
        else:
            out["methods"][name] = entry
    return out
