"""Image sizes for the coarse-to-fine pyramid."""

from __future__ import annotations

import numpy as np

from ..io import resize_to


def level_shape(shape: tuple[int, int], longer: int) -> tuple[int, int]:
    """(h, w) with the longer side ``longer`` and the aspect ratio of ``shape``."""
    h, w = shape[:2]
    s = longer / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def at_level(image: np.ndarray, longer: int) -> np.ndarray:
    """``image`` (H×W or H×W×C) resized so its longer side is ``longer`` (up or down)."""
    return resize_to(image, level_shape(image.shape, longer))
