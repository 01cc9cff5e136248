"""Which parts of a box the background outside it reaches without crossing an edge.

A box drawn around an object also holds background: the floor under a person, the table under a banana. When
that background runs on, in the same colours, past the box's edge, it is the same surface as the background
outside. GrabCut starts by taking everything in the box as probable foreground, so its foreground colour model
learns those colours too, and then keeps them. Starting them as probable background instead (they can still
become foreground) keeps the foreground model to the object. This is the background prior of geodesic saliency
(Wei, Wen, Zhu and Sun, "Geodesic saliency using background priors", ECCV 2012) with the box's outside as the
image's border: a pixel's *reach* is the least colour change along any path to it from outside the box.
"""

from __future__ import annotations

import numpy as np


def step_cost(lab: np.ndarray) -> np.ndarray:
    """The cost of a path's step through each pixel: its colour gradient after a Gaussian blur of 1 px (so noise
    and JPEG blocks do not add up along a path), plus 1e-3 (a flat path still has a length).

    lab : uint8 or float H×W×3, a Lab image (OpenCV's 8-bit Lab: L in [0, 255], a and b offset by 128)
    Returns float32 H×W in Lab units per pixel.
    """
    import cv2

    smooth = cv2.GaussianBlur(np.asarray(lab, np.float32), (0, 0), 1.0)
    # Sobel's kernel weighs 8 pixel differences: /8 makes a step of s over one pixel sum to s along a path
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3) / 8
    return np.sqrt((gx ** 2 + gy ** 2).sum(-1)) + 1e-3


def reach(lab: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Geodesic distance of each pixel from ``outside``: the least sum of :func:`step_cost` along a path from it.

    lab : uint8 or float H×W×3, a Lab image (see :func:`step_cost`)
    outside : bool H×W, where paths start (distance 0)
    Returns float64 H×W in the image's Lab units: a pixel behind an edge is at least the edge's colour step away;
    one joined to ``outside`` by a flat region is near 0.
    """
    import cv2
    from skimage.graph import MCP_Geometric

    outside = np.asarray(outside, bool)
    # Every path from outside leaves it through an outside pixel next to the inside, itself at distance 0, so those
    # are the only starts needed: the same distances, and 25x fewer starts (MCP sets each one up in Python).
    edge = outside & cv2.dilate((~outside).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if not edge.any():  # all outside (every distance 0) or none (nothing reaches anywhere)
        return np.where(outside, 0.0, np.inf)
    distance, _ = MCP_Geometric(step_cost(lab)).find_costs(np.argwhere(edge))
    distance[outside] = 0
    return distance
