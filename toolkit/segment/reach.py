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


def reach(lab: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Geodesic distance of each pixel from ``outside``: the least sum of colour gradient along a path from it.

    lab : uint8 or float H×W×3, a Lab image (OpenCV's 8-bit Lab: L in [0, 255], a and b offset by 128)
    outside : bool H×W, where paths start (distance 0); at least one pixel
    Returns float64 H×W in the image's Lab units: a pixel behind an edge is at least the edge's colour step away;
    one joined to ``outside`` by a flat region is near 0. The gradient is taken after a Gaussian blur of 1 px, so
    noise and JPEG blocks do not add up along a path.
    """
    import cv2
    from skimage.graph import MCP_Geometric

    smooth = cv2.GaussianBlur(np.asarray(lab, np.float32), (0, 0), 1.0)
    # Sobel's kernel weighs 8 pixel differences: /8 makes a step of s over one pixel sum to s along a path
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3) / 8
    step = np.sqrt((gx ** 2 + gy ** 2).sum(-1)) + 1e-3  # a flat path still has a length
    distance, _ = MCP_Geometric(step).find_costs(np.argwhere(outside))
    return distance
