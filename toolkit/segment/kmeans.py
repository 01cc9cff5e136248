"""k-means colour clustering: which regions an image is made of.

Fitted on a pixel subsample (fast on megapixel photos), then every pixel is assigned to its nearest centre.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError

#: k tried by ``k="auto"``.
AUTO_KS = tuple(range(2, 9))
#: Pixels ``k="auto"`` fits and scores each k on (the silhouette costs O(n²)).
AUTO_SAMPLE = 2000


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


def kmeans_segment(image: np.ndarray, k: int | str = 3, color_space: str = "lab", xy_weight: float = 0.0,
                   sample: int = 20_000, seed: int = 0) -> KMeansResult:
    """Cluster the pixels of ``image`` (float32 H×W×3 in [0, 1]).

    Parameters
    ----------
    k : int or "auto"
        Number of clusters (2 or more, at most the number of distinct colours). ``"auto"`` tries k = 2 … 8 and
        keeps the k with the highest silhouette score, computed on 2,000 pixels drawn uniformly at random.
    color_space : "lab" (perceptual distances, default) or "rgb"
    xy_weight : float
        Weight of the pixel position (x, y in [0, 1]) next to the colour; 0 ignores position.
    sample : int
        Pixels the centres are fitted on; all pixels are then assigned.
    seed : int
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    t0 = time.perf_counter()
    if xy_weight < 0:
        raise ParameterError(f"xy weight must be 0 or more, got {xy_weight}")
    h, w = image.shape[:2]
    feats = pixel_features(image, color_space, xy_weight)
    fit_on = uniform_sample(feats, sample, seed)
    distinct = count_colors(image)
    scores = None
    if k == "auto":
        candidates = [c for c in AUTO_KS if c <= distinct]
        if not candidates:
            raise ParameterError("the image has a single colour; there is nothing to cluster")
        sub = uniform_sample(feats, AUTO_SAMPLE, seed)
        scores = {}
        for c in candidates:
            labels = KMeans(c, n_init=2, random_state=seed).fit(sub).labels_
            scores[c] = float(silhouette_score(sub, labels)) if len(set(labels)) > 1 else -1.0
        k = max(scores, key=scores.get)
    else:
        try:
            k = int(k)
        except (TypeError, ValueError):
            raise ParameterError(f"k must be a whole number of clusters or 'auto', got {k!r}") from None
        if k < 2:
            raise ParameterError(f"k must be at least 2, got {k}")
        if k > distinct:
            raise ParameterError(f"k={k} but the image has only {distinct} distinct colours; use k ≤ {distinct}")
    model = KMeans(k, n_init=3, random_state=seed).fit(fit_on)
    labels = model.predict(feats).reshape(h, w).astype(np.int32)
    # centres as the mean RGB of each cluster's pixels, whatever space the clustering ran in
    flat = image.reshape(-1, 3)
    counts = np.bincount(labels.ravel(), minlength=k).astype(np.float32)
    centers = np.stack([np.bincount(labels.ravel(), flat[:, c], minlength=k) for c in range(3)], 1)
    centers = (centers / np.maximum(counts, 1)[:, None]).astype(np.float32)
    params = {"k": k, "color_space": color_space, "xy_weight": xy_weight, "sample": sample, "seed": seed}
    return KMeansResult(labels, centers, counts / counts.sum(), k, time.perf_counter() - t0, params, scores)


def uniform_sample(feats: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` rows of ``feats`` drawn uniformly at random without replacement (seeded), or all rows if fewer.

    Uniform at every size: a prefix would be the image's top rows, blind to whatever lies below.
    """
    if len(feats) <= n:
        return feats
    return feats[np.random.default_rng(seed).choice(len(feats), n, replace=False)]


def count_colors(image: np.ndarray, cap: int = 64) -> int:
    """Distinct 8-bit colours in ``image``, counted up to ``cap`` (enough to validate k)."""
    q = np.round(image.reshape(-1, 3) * 255).astype(np.uint32)
    codes = (q[:, 0] << 16) | (q[:, 1] << 8) | q[:, 2]
    return min(len(np.unique(codes)), cap)
