"""Deletion and insertion curves (Petsiuk et al., 2018) and their areas.

Pixels are taken in the order of a map's attribution, most important first. *Deletion* replaces them, step by
step, with a blurred copy of the image and follows the target class's probability (a faithful map makes it fall
fast: small area). *Insertion* starts from the blurred copy and puts them back (a faithful map makes it rise fast:
large area).
"""

from __future__ import annotations

import numpy as np
import torch

from .model import AuditedModel


def blurred(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(image, (0, 0), sigmaX=max(image.shape[:2]) / 20)


def curves(model: AuditedModel, image: np.ndarray, attribution: np.ndarray, target: int, steps: int = 10) -> dict:
    """``{"fractions", "deletion", "insertion", "deletion_auc", "insertion_auc"}`` for an H×W×3 image in [0, 1]."""
    order = np.argsort(-attribution.ravel(), kind="stable")
    base = blurred(image)
    fractions = np.linspace(0, 1, steps + 1)
    n = order.size
    dele, ins = [], []
    for f in fractions:
        chosen = np.zeros(n, bool)
        chosen[order[: int(round(f * n))]] = True
        chosen = chosen.reshape(attribution.shape)[..., None]
        dele.append(np.where(chosen, base, image))
        ins.append(np.where(chosen, image, base))
    batch = torch.from_numpy(np.stack(dele + ins).astype(np.float32)).permute(0, 3, 1, 2)
    p = model.probabilities(batch)[:, target].numpy()
    d, i = p[: steps + 1], p[steps + 1:]
    return {"fractions": fractions.tolist(), "deletion": d.tolist(), "insertion": i.tolist(),
            "deletion_auc": float(np.trapezoid(d, fractions)), "insertion_auc": float(np.trapezoid(i, fractions))}
