"""Shortcut probe: does the prediction survive restyling the background, or the object?

The image is stylised only in the background, and separately only on the object, with the style engine; the
model's top-1 / top-5 and the original class's probability are compared. A prediction that falls apart when only
the background changes means the model leans on the background (a shortcut, Geirhos et al. 2020).
"""

from __future__ import annotations

import numpy as np
import torch

from .model import AuditedModel


def shortcut_probe(model: AuditedModel, image: np.ndarray, mask: np.ndarray, style: np.ndarray,
                   weights, size: int = 128, steps: int = 30, seed: int = 0) -> dict:
    """Predictions on the original and on each region restyled; image H×W×3 and mask H×W, the audit's size."""
    from ..io import resize_to
    from ..style import StyleConfig, stylize
    from ..style.api import make_engine

    cfg = StyleConfig(size=size, pyramid=(), steps=steps, seed=seed)
    built = make_engine("torch", weights, cfg)
    h, w = image.shape[:2]

    def predict(img):
        x = torch.from_numpy(np.ascontiguousarray(img, np.float32)).permute(2, 0, 1)[None]
        return model.top5(x), model.probabilities(x)[0]

    original, p0 = predict(image)
    cls = original[0][0]
    out = {"original": {"top5": original, "p_class": float(p0[cls])}, "class": cls,
           "style_size": size, "style_steps": steps}
    for region in ("background", "foreground"):
        res = stylize(image, style, cfg, mask=mask, region=region, weights=weights, progress=False, built=built)
        top5, p = predict(resize_to(res.image, (h, w)))
        out[f"{region}_restyled"] = {
            "top5": top5, "p_class": float(p[cls]), "top1_kept": top5[0][0] == cls,
            "in_top5": cls in [t[0] for t in top5], "p_change": float(p[cls] - p0[cls])}
    bg, fg = out["background_restyled"], out["foreground_restyled"]
    out["leans_on_background"] = bool(not bg["top1_kept"] and bg["p_change"] < fg["p_change"])
    return out
