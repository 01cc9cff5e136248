"""Feature maps with Captum's LayerActivation: per-layer figures and a grid of the most active channels."""

from __future__ import annotations

import numpy as np
import torch

from .model import AuditedModel, to_numpy


def layer_activations(model: AuditedModel, x: torch.Tensor, layers: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Activations of each named layer for a 1×3×H×W input: {layer: C×h×w float32}."""
    from captum.attr import LayerActivation

    acts = LayerActivation(model.net, [model.layer(n) for n in layers]).attribute(x)
    return {n: to_numpy(a[0]) for n, a in zip(layers, acts)}


def layer_figures(activation: np.ndarray) -> dict:
    """Mean activation, share of exact zeros, and the channels ranked by mean activation."""
    per_channel = activation.reshape(activation.shape[0], -1).mean(1)
    return {"channels": int(activation.shape[0]), "size": list(activation.shape[1:]),
            "mean": float(activation.mean()), "zero_share": float((activation == 0).mean()),
            "top_channels": [int(c) for c in np.argsort(per_channel)[::-1][:16]]}


def channel_grid(activation: np.ndarray, channels: list[int], columns: int = 4) -> np.ndarray:
    """The chosen channels side by side, each scaled to [0, 1] on its own: float32 grid (gray, H×W)."""
    tiles = []
    for c in channels:
        a = activation[c]
        span = a.max() - a.min()
        tiles.append((a - a.min()) / span if span > 0 else np.zeros_like(a))
    while len(tiles) % columns:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.concatenate(tiles[i:i + columns], 1) for i in range(0, len(tiles), columns)]
    return np.concatenate(rows, 0).astype(np.float32)
