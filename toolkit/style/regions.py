"""Region masks for style transfer: carried down to each layer's grid, the final blend, and what it repairs."""

from __future__ import annotations

import math

import numpy as np

from ..segment.masks import composite, feather
from ..vgg.layers import downsampling


def layer_masks(mask: np.ndarray, shapes: dict[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    """The H×W mask on each layer's h×w grid: float32, each cell the mean of the s×s input pixels it pools.

    VGG-19's max-pools floor odd sizes, so a cell of a layer ``s = downsampling(layer)`` times smaller spans
    exactly input rows ``s·i … s·i + s − 1`` and the last ``H − s·h`` rows (and columns) never reach the layer.
    The mask is averaged over those same blocks, so at every depth it lines up with the features it weights
    (resizing H to h instead would stretch it: 13 % at relu5_1 for a 109 px side).
    """
    out = {}
    for name, (h, w) in shapes.items():
        s = downsampling(name)
        blocks = np.asarray(mask, np.float32)[: h * s, : w * s].reshape(h, s, w, s)
        out[name] = blocks.mean(axis=(1, 3), dtype=np.float64).astype(np.float32)
    return out


def seam_width(radius: float) -> int:
    """How far (pixels, chessboard distance) the final blend reaches outside the region: beyond it, the outside
    is exactly the other image. The Gaussian of :func:`toolkit.segment.masks.feather` spans ``ceil(1.5·radius)``."""
    return math.ceil(1.5 * radius) if radius > 0 else 0


def blend_region(stylised: np.ndarray, other: np.ndarray, region: np.ndarray, radius: float) -> np.ndarray:
    """Stylised pixels inside ``region``, ``other`` outside, feathered across the boundary.

    The matte is the binary region blurred about its own boundary (alpha ≈ 0.5 on it), so the seam is shared:
    a rim of the region and a band of at most :func:`seam_width` pixels outside are mixed. Parts of the region
    thinner than the seam are still styled (a 6 px stripe keeps about 95 % of the style at its centre), and
    beyond the band the outside is exactly ``other``.

    stylised, other : float32 H×W×3 in [0, 1]; region : binary float32 H×W (1 = where ``stylised`` goes)
    """
    return composite(stylised, other, feather(region, radius))


def seam_report(before: np.ndarray, after: np.ndarray, content: np.ndarray, region: np.ndarray,
                tolerance: float = 1 / 255) -> dict:
    """What the engine changed outside the region before the final blend, and the seam the blend leaves.

    before, after : the engine's image before and after the final blend, float32 H×W×3 in [0, 1]
    content : the content image; region : H×W, ≥ 0.5 inside the stylised region

    Returns (changes in 1/255 units, averaged over channels; distances in pixels from the region, chessboard):
    ``leak_mean_255``: mean change outside the region before the blend (the style that leaked out);
    ``leak_reach_px``: the farthest outside pixel changed by more than ``tolerance`` before the blend;
    ``after_mean_255``: the mean change outside after the blend;
    ``seam_px``: the farthest outside pixel still changed by more than ``tolerance`` after it (the seam's width:
    the blend repairs everything beyond).
    """
    import cv2

    outside = np.asarray(region) < 0.5
    if not outside.any() or outside.all():
        return {"leak_mean_255": 0.0, "leak_reach_px": 0.0, "after_mean_255": 0.0, "seam_px": 0.0}
    distance = cv2.distanceTransform(outside.astype(np.uint8), cv2.DIST_C, 3)

    def reach(image: np.ndarray) -> tuple[float, float]:
        change = np.abs(image - content).mean(axis=-1)
        changed = outside & (change > tolerance)
        return float(change[outside].mean() * 255), float(distance[changed].max()) if changed.any() else 0.0

    (leak, leak_reach), (left, seam) = reach(before), reach(after)
    return {"leak_mean_255": leak, "leak_reach_px": leak_reach, "after_mean_255": left, "seam_px": seam}
