"""Framing: the audit crops a square out of the image (keeping its aspect ratio) instead of squashing it.

VGG-19 is audited on a square image. A non-square image is *cropped*, not padded: a padded border would be
attributed, deleted and restyled like image content and would count as background. The square's side is the
image's shorter side and it is centred on the object's bounding box (on the image's centre without a mask),
moved inwards where it would leave the image; then it is resized to the audit's size.
"""

from __future__ import annotations

import numpy as np


def square_box(shape: tuple[int, int], mask: np.ndarray | None = None) -> tuple[int, int, int]:
    """``(x, y, side)`` of the square to crop from an image of ``shape`` = (H, W)."""
    h, w = shape
    side = min(h, w)
    if mask is not None and (np.asarray(mask) >= 0.5).any():
        ys, xs = np.nonzero(np.asarray(mask) >= 0.5)
        cy, cx = (ys.min() + ys.max() + 1) / 2, (xs.min() + xs.max() + 1) / 2
    else:
        cy, cx = h / 2, w / 2
    y = int(np.clip(round(cy - side / 2), 0, h - side))
    x = int(np.clip(round(cx - side / 2), 0, w - side))
    return x, y, side


def frame(image: np.ndarray, mask: np.ndarray | None, size: int):
    """Crop the square of :func:`square_box` and resize it to size×size.

    Returns ``(image, mask, framing)``: the H×W×3 float32 image, the binary float32 mask (or None) and
    ``{"mode": "crop", "box": [x, y, side, side], "of": [W, H], "size": size}``: the box in the pixels of the W×H
    image given, and the side it is resized to.
    """
    from ..io import resize_to

    x, y, side = square_box(image.shape[:2], mask)
    img = resize_to(image[y:y + side, x:x + side], (size, size))
    m = None
    if mask is not None:
        crop = np.asarray(mask, np.float32)[y:y + side, x:x + side]
        m = (resize_to(crop, (size, size)) >= 0.5).astype(np.float32)
    return img, m, {"mode": "crop", "box": [x, y, side, side], "of": [image.shape[1], image.shape[0]],
                    "size": size}
