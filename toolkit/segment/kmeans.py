"""k-means colour clustering: which regions an image is made of.

Fitted on a pixel subsample (fast on megapixel photos), then every pixel is assigned to its nearest centre.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError

#: k tried by ``k="auto"``.
AUTO_KS = tuple(range(2, 9))
#: Pixels ``k="auto"`` fits and scores each k on (the silhouette costs O(n²)).
AUTO_SAMPLE = 2000
#: Pixels the centres are fitted on by default.
FIT_SAMPLE = 20_000
#: The most clusters: the centres are fitted on FIT_SAMPLE pixels, about 300 per cluster at 64 (fewer and a
#: centre is a handful of pixels' colour), and ``--blackout-dir`` writes one full-size image per cluster.
MAX_K = 64
#: The most weight of position next to colour: at 100 the position already outweighs the whole colour range a
#: hundredfold (the clusters are tiles of the image); far beyond it the squared distances overflow float32 (NaN).
MAX_XY_WEIGHT = 100.0


@dataclass
class KMeansResult:
    """labels: int32 H×W in [0, k); centers: float32 k×3 RGB in [0, 1]; shares: float32 (k,) pixel shares."""

    labels: np.ndarray
    centers: np.ndarray
    shares: np.ndarray
    k: int
    seconds: float
    params: dict = field(default_factory=dict)
    silhouette: dict[int, float] | None = None


def pixel_features(image: np.ndarray, color_space: str = "lab", xy_weight: float = 0.0) -> np.ndarray:
    """Per-pixel features, N×(3 or 5) float32: colour scaled to about [0, 1] and, if weighted, x/y in [0, 1]."""
    if color_space == "lab":
        from skimage.color import rgb2lab

        col = rgb2lab(image).astype(np.float32) / np.array([100.0, 255.0, 255.0], np.float32)
    elif color_space == "rgb":
        col = image.astype(np.float32)
    else:
        raise ParameterError(f"color space must be lab or rgb, got {color_space!r}")
    feats = col.reshape(-1, 3)
    if xy_weight > 0:
        h, w = image.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        xy = np.stack([xx / max(w - 1, 1), yy / max(h - 1, 1)], -1).reshape(-1, 2) * xy_weight
        feats = np.concatenate([feats, xy], 1)
    return feats


def check_k(k: int | str, name: str = "k") -> int | str:
    """``k`` as an int from 2 to :data:`MAX_K`, or ``"auto"``; a one-line :class:`ParameterError` otherwise
    (``name``: the option the user typed, e.g. ``"-k"``, for the message)."""
    if k == "auto":
        return k
    if isinstance(k, str) and re.fullmatch(r"\s*[+-]?\d+\s*", k) or isinstance(k, (int, np.integer)) \
            and not isinstance(k, bool):
        value = int(k)
    else:
        raise ParameterError(f"{_named(name, repr(k))}: give a whole number of clusters from 2 to {MAX_K}, or "
                             f"'auto'")
    if value < 2:
        raise ParameterError(f"{_named(name, value)}: give at least 2 clusters (at most {MAX_K}), or 'auto'")
    if value > MAX_K:
        raise ParameterError(f"{_named(name, value)} is too many clusters: at most {MAX_K} (the centres are fitted "
                             f"on {FIT_SAMPLE:,} sampled pixels, about {FIT_SAMPLE // MAX_K} per cluster at "
                             f"{MAX_K}); use {_named(name, MAX_K)} or fewer")
    return value


def _named(name: str, value) -> str:
    """``-k 5`` for an option, ``k=5`` for a parameter."""
    return f"{name} {value}" if name.startswith("-") else f"{name}={value}"


def check_xy_weight(xy_weight: float, name: str = "xy_weight") -> float:
    """``xy_weight`` if it is a number from 0 to :data:`MAX_XY_WEIGHT`; a one-line :class:`ParameterError`
    otherwise (NaN and infinity included)."""
    try:
        value = float(xy_weight)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and 0.0 <= value <= MAX_XY_WEIGHT):
        raise ParameterError(f"{_named(name, xy_weight)}: give a number from 0 to {MAX_XY_WEIGHT:g} (0 ignores "
                             f"position; at {MAX_XY_WEIGHT:g} position outweighs colour a hundredfold)")
    return value


def kmeans_segment(image: np.ndarray, k: int | str = 3, color_space: str = "lab", xy_weight: float = 0.0,
                   sample: int = FIT_SAMPLE, seed: int = 0) -> KMeansResult:
    """Cluster the pixels of ``image`` (float32 H×W×3 in [0, 1]).

    Parameters
    ----------
    k : int or "auto"
        Number of clusters: 2 to :data:`MAX_K`, and at most the number of distinct colours among the pixels the
        centres are fitted on. ``"auto"`` tries k = 2 … 8 and keeps the k with the highest silhouette score,
        computed on 2,000 pixels drawn uniformly at random.
    color_space : "lab" (perceptual distances, default) or "rgb"
    xy_weight : float
        Weight of the pixel position (x, y in [0, 1]) next to the colour, 0 to :data:`MAX_XY_WEIGHT`; 0 ignores
        position.
    sample : int
        Pixels the centres are fitted on; all pixels are then assigned.
    seed : int
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    from ..io import as_image
    from ..seeds import parse_seed

    t0 = time.perf_counter()
    k = check_k(k)
    xy_weight = check_xy_weight(xy_weight)
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or sample < 1:
        raise ParameterError(f"sample={sample!r}: give a whole number of pixels, at least 1, to fit the centres "
                             f"on (default {FIT_SAMPLE:,})")
    seed = parse_seed(seed, "the seed")  # a bool or float is refused too: str(True), "2.5" are not digits
    image = as_image(image)
    h, w = image.shape[:2]
    feats = pixel_features(image, color_space, xy_weight)
    fitted = sample_indices(len(feats), sample, seed)
    fit_on = feats if fitted is None else feats[fitted]
    # the colours the centres can tell apart: those of the fitted pixels (the whole image is counted only when
    # they are too few, to say why)
    sampled = count_colors(image.reshape(-1, 3) if fitted is None else image.reshape(-1, 3)[fitted])
    scores = None
    if k == "auto":
        candidates = [c for c in AUTO_KS if c <= sampled]
        if not candidates:
            _refuse_k(2, sampled, image, fitted is None, sample)
        sub = uniform_sample(feats, AUTO_SAMPLE, seed)
        scores = {}
        for c in candidates:
            labels = KMeans(c, n_init=2, random_state=seed).fit(sub).labels_
            scores[c] = float(silhouette_score(sub, labels)) if len(set(labels)) > 1 else -1.0
        k = max(scores, key=scores.get)
    elif k > sampled:
        _refuse_k(k, sampled, image, fitted is None, sample)
    model = KMeans(k, n_init=3, random_state=seed).fit(fit_on)
    labels = model.predict(feats).reshape(h, w).astype(np.int32)
    # centres as the mean RGB of each cluster's pixels, whatever space the clustering ran in
    flat = image.reshape(-1, 3)
    counts = np.bincount(labels.ravel(), minlength=k).astype(np.float32)
    centers = np.stack([np.bincount(labels.ravel(), flat[:, c], minlength=k) for c in range(3)], 1)
    centers = (centers / np.maximum(counts, 1)[:, None]).astype(np.float32)
    params = {"k": k, "color_space": color_space, "xy_weight": xy_weight, "sample": sample, "seed": seed}
    return KMeansResult(labels, centers, counts / counts.sum(), k, time.perf_counter() - t0, params, scores)


def _refuse_k(k: int | str, sampled: int, image: np.ndarray, whole: bool, sample: int):
    """Say truthfully why ``k`` clusters cannot be made (``sampled``: the colours of the fitted pixels, all of the
    image's if ``whole``): the image has too few colours, or the fitted pixels miss its rare ones."""
    distinct = sampled if whole else count_colors(image)
    if distinct == 1:
        raise ParameterError("the image has a single colour; there is nothing to cluster")
    if distinct == sampled:
        raise ParameterError(f"k={k} but the image has only {distinct} distinct colours; use k ≤ {distinct}")
    fix = f"use k ≤ {sampled}" if sampled >= 2 else "there is nothing to cluster"
    raise ParameterError(f"k={k} but only {sampled} of the image's {distinct} distinct colours are among the "
                         f"{sample:,} pixels the centres are fitted on (the others are too rare to make a "
                         f"cluster); {fix}")


def sample_indices(n: int, size: int, seed: int) -> np.ndarray | None:
    """Indices of ``size`` of ``n`` rows drawn uniformly at random without replacement (seeded; the rows
    :func:`uniform_sample` takes), or None (all rows) if there are no more than ``size``."""
    if n <= size:
        return None
    return np.random.default_rng(seed).choice(n, size, replace=False)


def uniform_sample(feats: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` rows of ``feats`` drawn uniformly at random without replacement (seeded), or all rows if fewer.

    Uniform at every size: a prefix would be the image's top rows, blind to whatever lies below.
    """
    if len(feats) <= n:
        return feats
    return feats[np.random.default_rng(seed).choice(len(feats), n, replace=False)]


#: Above this many pixels, distinct colours are marked in a 2**24 table (16 MB, one pass) instead of sorted.
_TABLE_FROM = 1 << 20


def count_colors(image: np.ndarray) -> int:
    """The number of distinct 8-bit colours in ``image`` (H×W×3 or N×3, float in [0, 1]), exactly.

    Linear time at every size: a 40-megapixel image takes well under a second.
    """
    q = np.round(np.asarray(image, np.float32).reshape(-1, 3) * 255).astype(np.uint32)
    codes = (q[:, 0] << 16) | (q[:, 1] << 8) | q[:, 2]
    if len(codes) < _TABLE_FROM:
        return len(np.unique(codes))
    seen = np.zeros(1 << 24, bool)
    seen[codes] = True
    return int(np.count_nonzero(seen))
