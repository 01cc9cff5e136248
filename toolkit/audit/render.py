"""Pictures of attributions: heat maps and overlays as float32 RGB arrays in [0, 1]."""

from __future__ import annotations

import numpy as np


def heatmap(attribution: np.ndarray, cmap: str = "inferno") -> np.ndarray:
    """The positive part of a map scaled to its 99th percentile and coloured: H×W×3 (an all-zero map is flat)."""
    from matplotlib import colormaps

    pos = np.clip(attribution, 0, None)
    top = np.percentile(pos, 99) if pos.any() else 0.0
    scaled = np.clip(pos / top, 0, 1) if top > 0 else np.zeros_like(pos)
    return colormaps[cmap](scaled)[..., :3].astype(np.float32)


def overlay(image: np.ndarray, attribution: np.ndarray, strength: float = 0.6) -> np.ndarray:
    """The heat map laid over a dimmed copy of the image."""
    return ((1 - strength) * image + strength * heatmap(attribution)).astype(np.float32)


def gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    from matplotlib import colormaps

    return colormaps["viridis"](np.clip(gray, 0, 1))[..., :3].astype(np.float32)
