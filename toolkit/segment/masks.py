"""Mask utilities shared by segmentation, region-aware stylisation and the audit.

Masks are float32 arrays in [0, 1] of shape H×W, 1 = foreground.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError, SegmentationError

REGIONS = ("foreground", "background")


def binarize(mask: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Soft mask → binary float32 mask (values 0 or 1)."""
    return (np.asarray(mask, np.float32) >= threshold).astype(np.float32)


def region_mask(mask: np.ndarray, region: str) -> np.ndarray:
    """The mask of ``region``: the foreground mask itself, or its complement for ``"background"``."""
    if region not in REGIONS:
        raise ParameterError(f"region must be foreground or background, got {region!r}")
    mask = np.asarray(mask, np.float32)
    return mask if region == "foreground" else 1.0 - mask


def require_pixels(mask: np.ndarray, what: str = "the chosen region", min_pixels: int = 1) -> None:
    """Raise a one-line error if ``mask`` (soft or binary) covers fewer than ``min_pixels`` pixels."""
    n = int((np.asarray(mask) >= 0.5).sum())
    if n < min_pixels:
        raise SegmentationError(f"the mask has {'no' if n == 0 else 'only ' + str(n)} pixels in {what}; "
                                f"draw a larger box or use a mask that covers the object")


def colour_bins(image: np.ndarray, levels: int) -> np.ndarray:
    """Each pixel's colour bin: the RGB cube cut into ``levels`` equal steps per channel.

    image : uint8 H×W×3, or float H×W×3 in [0, 1]; levels : a divisor of 256
    Returns int64 H×W in [0, levels³).
    """
    image = np.asarray(image)
    u8 = image if image.dtype == np.uint8 else (image * 255 + 0.5).astype(np.uint8)
    q = u8.astype(np.int64) // (256 // levels)
    return (q[..., 0] * levels + q[..., 1]) * levels + q[..., 2]


def colour_log_odds(bins: np.ndarray, background: np.ndarray, foreground: np.ndarray, n_bins: int) -> np.ndarray:
    """log P(colour | background) - log P(colour | foreground) of each pixel, from the colour histograms of the two
    samples (each bin starts at half a pixel, so an unseen colour is not infinitely unlikely).

    bins : int H×W from :func:`colour_bins`; background, foreground : bool H×W; returns float64 H×W
    """
    def log_hist(sample):
        counts = np.bincount(bins[sample], minlength=n_bins) + 0.5
        return np.log(counts / counts.sum())

    return (log_hist(background) - log_hist(foreground))[bins]


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """Soften a binary mask's edge into an alpha matte.

    The edge becomes a ramp about ``2 * radius`` pixels wide, centred on the original boundary (a Gaussian blur
    with sigma = radius / 2), so compositing with it leaves no visible seam. ``radius <= 0`` returns the mask.

    Returns
    -------
    alpha : ndarray of float32, shape (H, W), values in [0, 1]
    """
    import cv2

    mask = np.asarray(mask, np.float32)
    if radius <= 0:
        return mask.copy()
    sigma = radius / 2.0
    k = 2 * int(np.ceil(3 * sigma)) + 1
    return np.clip(cv2.GaussianBlur(mask, (k, k), sigma, borderType=cv2.BORDER_REFLECT), 0.0, 1.0)


def composite(inside: np.ndarray, outside: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``alpha * inside + (1 - alpha) * outside`` for H×W×3 images and an H×W alpha."""
    a = np.asarray(alpha, np.float32)[..., None]
    return (a * inside + (1.0 - a) * outside).astype(np.float32)


def boundary_contrast(image: np.ndarray, mask: np.ndarray) -> float:
    """How strong the image's edges are along the mask's boundary: mean Lab gradient magnitude on the boundary
    (3×3 dilation minus erosion) over its mean on the whole image; 0 for a mask without boundary.

    A segmentation whose boundary follows the object's outline scores high; one cutting through a flat region
    (GrabCut's straight runs through a uniform sky) scores low.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W, 3), RGB
    mask : ndarray, shape (H, W), foreground where >= 0.5
    """
    import cv2

    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    grad = np.sqrt((cv2.Sobel(lab, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(lab, cv2.CV_32F, 0, 1) ** 2).sum(-1))
    m = (np.asarray(mask) >= 0.5).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    edge = cv2.dilate(m, kernel) != cv2.erode(m, kernel)
    if not edge.any():
        return 0.0
    return float(grad[edge].mean() / (grad.mean() + 1e-6))
