"""Pictures of a clustering: the label map, a palette strip, and each cluster blacked out.

All return float32 RGB arrays in [0, 1], ready for :func:`toolkit.io.save_image` or a report.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def label_map(labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Each pixel painted with its cluster's mean colour: H×W×3."""
    return centers[labels].astype(np.float32)


def palette_strip(centers: np.ndarray, shares: np.ndarray, height: int = 24, width: int = 256) -> np.ndarray:
    """A height×width strip, one block per cluster, each as wide as the cluster's share of the image."""
    bounds = np.round(np.concatenate([[0.0], np.cumsum(shares)]) * width).astype(int)
    strip = np.zeros((height, width, 3), np.float32)
    for c, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        strip[:, a:b] = centers[c]
    return strip


def blackout_views(image: np.ndarray, labels: np.ndarray) -> Iterator[np.ndarray]:
    """For each cluster c, the image with cluster c's pixels set to black: k float32 H×W×3 arrays, made one at a
    time (k full-size copies at once may not fit in memory)."""
    for c in range(int(labels.max()) + 1):
        yield np.where((labels == c)[..., None], 0.0, image).astype(np.float32)


def overlay(image: np.ndarray, mask: np.ndarray, color=(1.0, 0.2, 0.2), strength: float = 0.5) -> np.ndarray:
    """The image with the background dimmed and the foreground tinted, for checking a mask by eye."""
    m = np.asarray(mask, np.float32)[..., None]
    tinted = (1 - strength) * image + strength * np.asarray(color, np.float32)
    return (m * tinted + (1 - m) * image * 0.35).astype(np.float32)
