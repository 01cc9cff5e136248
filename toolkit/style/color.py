"""Colour handling: keep the content's colours (luminance-only transfer) or match the style's histogram."""

from __future__ import annotations

import numpy as np


def transfer_luminance(stylised: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The stylised image's lightness (Lab L) with the content's colour (a, b): H×W×3 in [0, 1]."""
    from skimage.color import lab2rgb, rgb2lab

    lab = rgb2lab(content)
    lab[..., 0] = rgb2lab(stylised)[..., 0]
    return np.clip(lab2rgb(lab), 0.0, 1.0).astype(np.float32)


def match_style_histogram(style: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The style image recoloured so each channel's histogram matches the content's."""
    from skimage.exposure import match_histograms

    return np.clip(match_histograms(style, content, channel_axis=-1), 0.0, 1.0).astype(np.float32)
