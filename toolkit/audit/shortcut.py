"""Shortcut probe: does the prediction survive restyling the background, or the object?

The whole image is stylised once with the style engine (or a stylisation made already is reused); its pixels
are then pasted into the background only, into the object only, and into *area-matched controls*: the object's
own shape moved to random places (wrapping around the edges), and the complement of each moved shape for the
background. The model's top-1 / top-5 and the original class's probability are compared. Restyling a larger region changes more pixels, so the background is
judged against its controls of the same area: the model leans on the background only when restyling the
background lowers the class's probability more than restyling every one of the same-area random regions does
(a 1 in ``controls + 1`` chance if the background were nothing special). All inputs go through the model in one
batch.
"""

from __future__ import annotations

import numpy as np

from .model import AuditedModel, to_numpy

#: Pixels whose value moves by more than this (any channel, [0, 1] scale) count as changed.
CHANGED = 1 / 255


def control_masks(mask: np.ndarray, n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` copies of the binary H×W ``mask`` rolled by random offsets of a quarter to three quarters of the
    image (same area and shape, elsewhere)."""
    h, w = mask.shape
    rng = np.random.default_rng(seed)
    return [np.roll(mask, (int(rng.integers(h // 4, 3 * h // 4 + 1)), int(rng.integers(w // 4, 3 * w // 4 + 1))),
                    (0, 1)) for _ in range(n)]


def shortcut_probe(model: AuditedModel, image: np.ndarray, mask: np.ndarray, style: np.ndarray,
                   weights, size: int = 128, steps: int = 30, seed: int = 0, controls: int = 8,
                   styled: tuple[np.ndarray, str] | None = None) -> dict:
    """Predictions on the original and on each region restyled; image H×W×3 and mask H×W, the audit's size.

    styled : the whole image already stylised (H×W×3, any size: it is resized to ``image``) and a few words on
        how it was made, to reuse instead of stylising here (``size`` px, ``steps`` steps, ``seed``)

    Each restyled entry carries ``area`` (the region's share of the image), ``changed_area`` (share of pixels
    that changed by more than :data:`CHANGED`), ``p_change`` and the top-5; ``background_control`` and
    ``foreground_control`` give the controls' mean, s.d. and minimum ``p_change``; ``stylised`` says where the
    stylised image came from.
    """
    from ..io import resize_to

    if styled is None:
        from ..style import StyleConfig, stylize

        cfg = StyleConfig(size=size, pyramid=(), steps=steps, seed=seed)
        styled = (stylize(image, style, cfg, weights=weights, device=model.device.type, progress=False).image,
                  f"stylised for the probe: {size} px, {steps} steps, seed {seed}")
    styled, origin = resize_to(styled[0], image.shape[:2]), styled[1]
    obj = np.asarray(mask) >= 0.5
    moved = control_masks(obj, controls, seed)
    regions = {"background": ~obj, "foreground": obj}
    regions.update({f"background_control_{i}": ~m for i, m in enumerate(moved)})
    regions.update({f"foreground_control_{i}": m for i, m in enumerate(moved)})
    restyled = [np.where(r[..., None], styled, image) for r in regions.values()]
    x = model.batch(np.stack([image] + restyled))
    p = to_numpy(model.probabilities(x))
    cls = int(p[0].argmax())
    top = np.argsort(-p, axis=1)[:, :5]

    def top5(i):
        return [(int(c), model.categories[int(c)], float(p[i, c])) for c in top[i]]

    out = {"original": {"top5": top5(0), "p_class": float(p[0, cls])}, "class": cls, "stylised": origin,
           "controls": controls, "changed_threshold": CHANGED}
    for i, (name, region) in enumerate(regions.items(), start=1):
        changed = np.abs(restyled[i - 1] - image).max(-1) > CHANGED
        out[name] = {"top5": top5(i), "p_class": float(p[i, cls]), "top1_kept": int(top[i, 0]) == cls,
                     "in_top5": bool(cls in top[i]), "p_change": float(p[i, cls] - p[0, cls]),
                     "area": float(region.mean()), "changed_area": float(changed.mean())}
    for side in ("background", "foreground"):
        moved_runs = [out.pop(f"{side}_control_{i}") for i in range(controls)]
        changes = np.array([r["p_change"] for r in moved_runs])
        out[f"{side}_restyled"] = out.pop(side)
        out[f"{side}_control"] = {"p_change_mean": float(changes.mean()), "p_change_sd": float(changes.std()),
                                  "p_change_min": float(changes.min()), "p_changes": changes.tolist(),
                                  "top1_changed_share": float(np.mean([not r["top1_kept"] for r in moved_runs])),
                                  "area": out[f"{side}_restyled"]["area"]}
    bg = out["background_restyled"]
    out["leans_on_background"] = bool(bg["p_change"] < out["background_control"]["p_change_min"])
    return out
