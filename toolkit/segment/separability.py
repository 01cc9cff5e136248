"""How separable the object's colours are from its surroundings, measured before segmenting.

GrabCut models foreground and background as colour distributions; when the object's colours resemble those
around it, it fails. The score compares two Lab colour histograms (8×8×8 bins): the box's *core* (the box shrunk
by 15 % of its size on each side, mostly object) and a *ring* of local background around the box (10 % of the
image's longer side wide; the whole outside if the ring is nearly empty). It is ``1 - BC``, BC being their
Bhattacharyya coefficient: 0 for identical distributions, 1 for disjoint ones. On GrabCut-50 the core/ring
choice correlates better with GrabCut's IoU than comparing the whole inside with the whole outside (Spearman
0.39 against 0.23), because what GrabCut must tell apart is the object and the background next to it.
"""

from __future__ import annotations

import numpy as np

from ..io import as_image
from .grabcut import Box, validate_box

BINS = 8
CORE = 0.15
RING = 0.10


def separability(image: np.ndarray, box: Box) -> float:
    """Colour separability of the box's core and its surrounding ring, in [0, 1] (higher suits GrabCut)."""
    from skimage.color import rgb2lab

    image = as_image(image)
    H, W = image.shape[:2]
    x, y, w, h = validate_box(box, (H, W))
    lab = rgb2lab(image)
    q = np.stack([lab[..., 0] / 100.0, (lab[..., 1] + 128) / 256.0, (lab[..., 2] + 128) / 256.0], -1)
    idx = np.clip((q * BINS).astype(int), 0, BINS - 1)
    code = (idx[..., 0] * BINS + idx[..., 1]) * BINS + idx[..., 2]
    inside = np.zeros((H, W), bool)
    inside[y:y + h, x:x + w] = True
    core = np.zeros((H, W), bool)
    cx, cy = round(CORE * w), round(CORE * h)
    core[y + cy:y + h - cy, x + cx:x + w - cx] = True
    r = round(RING * max(H, W))
    grown = np.zeros((H, W), bool)
    grown[max(0, y - r):y + h + r, max(0, x - r):x + w + r] = True
    ring = grown & ~inside
    if ring.sum() < 50:
        ring = ~inside
    p = np.bincount(code[core], minlength=BINS**3).astype(np.float64)
    q_ = np.bincount(code[ring], minlength=BINS**3).astype(np.float64)
    return float(1.0 - np.sqrt(p / p.sum() * q_ / q_.sum()).sum())
