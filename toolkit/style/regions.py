"""Region masks for style transfer: carried down to each layer's resolution, and the final blend."""

from __future__ import annotations

import numpy as np

from ..io import resize_to
from ..segment.masks import composite, feather


def layer_masks(mask: np.ndarray, shapes: dict[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    """The H×W mask at each layer's h×w resolution (area averaging: an edge cell keeps its covered share)."""
    return {name: np.clip(resize_to(mask, hw), 0.0, 1.0) for name, hw in shapes.items()}


def blend_region(stylised: np.ndarray, other: np.ndarray, region: np.ndarray, radius: float) -> np.ndarray:
    """Stylised pixels inside ``region``, ``other`` outside, with a feathered seam of about ``2 * radius`` px.

    The matte is the feathered region mask pushed inward by ``radius``: beyond the seam, outside pixels are
    exactly ``other`` (the content), within 1/255.
    """
    import cv2

    r = int(round(radius))
    inner = region
    if r > 0:
        inner = cv2.erode((region >= 0.5).astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8))
        inner = inner.astype(np.float32)
    alpha = feather(inner, radius)
    alpha[region < 0.5] = 0.0
    return composite(stylised, other, alpha)
