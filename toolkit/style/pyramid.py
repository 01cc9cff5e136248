"""Image sizes for the coarse-to-fine pyramid."""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from ..io import resize_to
from .config import MAX_SIZE

#: VGG-19 halves an image four times before its fifth block (relu5_1, the deepest layer the losses read by
#: default): a shorter side under 16 px leaves nothing to pool there.
MIN_SIDE = 16


def level_shape(shape: tuple[int, int], longer: int) -> tuple[int, int]:
    """(h, w) with the longer side ``longer`` and the aspect ratio of ``shape``."""
    h, w = shape[:2]
    s = longer / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def at_level(image: np.ndarray, longer: int) -> np.ndarray:
    """``image`` (H×W or H×W×C) resized so its longer side is ``longer`` (up or down)."""
    return resize_to(image, level_shape(image.shape, longer))


def fits(shape: tuple[int, ...], longer: int) -> bool:
    """Whether an image of ``shape`` (H, W, …) at longer side ``longer`` keeps a shorter side of :data:`MIN_SIDE`."""
    return min(level_shape(shape, longer)) >= MIN_SIDE


def require_fit(shape: tuple[int, ...], longer: int, what: str, fix: str | None = None) -> None:
    """Raise a one-line ParameterError when ``what`` is too thin at ``longer`` px, with ``fix`` or else a size
    that works."""
    if fits(shape, longer):
        return
    h, w = shape[:2]
    need = next((n for n in range(longer, MAX_SIZE + 1) if fits(shape, n)), None)
    fix = fix or (f"use a size of {need} px or more" if need else "crop it to a less elongated shape")
    short = min(level_shape(shape, longer))
    raise ParameterError(f"{what} is {w}×{h}: at {longer} px its shorter side would be {short} px, under the "
                         f"{MIN_SIDE} px VGG-19 needs; {fix}")


def require_images_fit(longer: int, content: np.ndarray, style: np.ndarray, second: np.ndarray | None = None) -> None:
    """:func:`require_fit` for a stylisation's content, style and (optional) second style."""
    for image, what in ((content, "the content image"), (style, "the style image"), (second, "the second style")):
        if image is not None:
            require_fit(image.shape, longer, what)
