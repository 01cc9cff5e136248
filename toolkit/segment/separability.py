"""How separable the object's colours are from the background's, measured before segmenting.

GrabCut models foreground and background as colour distributions; when the colours inside the box resemble
those outside, it fails. The score is ``1 - BC`` where BC is the Bhattacharyya coefficient between the Lab colour
histograms (8×8×8 bins) of the pixels inside the box and outside it: 0 for identical distributions, 1 for
disjoint ones.
"""

from __future__ import annotations

import numpy as np

from .grabcut import Box, validate_box

BINS = 8


def separability(image: np.ndarray, box: Box) -> float:
    """Colour separability of the box's inside and outside, in [0, 1] (higher suits GrabCut better)."""
    from skimage.color import rgb2lab

    x, y, w, h = validate_box(box, image.shape[:2])
    lab = rgb2lab(image)
    q = np.stack([lab[..., 0] / 100.0, (lab[..., 1] + 128) / 256.0, (lab[..., 2] + 128) / 256.0], -1)
    idx = np.clip((q * BINS).astype(int), 0, BINS - 1)
    code = (idx[..., 0] * BINS + idx[..., 1]) * BINS + idx[..., 2]
    inside = np.zeros(image.shape[:2], bool)
    inside[y:y + h, x:x + w] = True
    p = np.bincount(code[inside], minlength=BINS**3).astype(np.float64)
    q_ = np.bincount(code[~inside], minlength=BINS**3).astype(np.float64)
    bc = np.sqrt(p / p.sum() * q_ / q_.sum()).sum()
    return float(1.0 - bc)
