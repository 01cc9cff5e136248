"""Shortcut probe: does the prediction survive restyling the background, or the object?

The whole image is stylised once with the style engine (or a stylisation made already is reused); its pixels
are then pasted into the background only, into the object only, and into *area-matched controls*: the object's
own shape moved to random places (wrapping around the edges), and the complement of each moved shape for the
background. The model's top-1 / top-5 and the original class's probability are compared. Restyling a larger
region changes more pixels, so the background is judged against its controls of the same area: the model leans
on the background only when restyling the background lowers the class's probability more than restyling every
one of the same-area random regions does (a 1 in ``controls + 1`` chance if the background were nothing
special). All inputs go through the model in one batch.

The stylisation starts from the content and keeps its lowest-loss image, which can be the content itself (always
with 1 step, and whenever the loss rises from the start): then nothing is restyled and "top-1 kept" would be a
result about an unchanged image. Every pasted region's share of changed pixels is recorded, and a probe in which
any region is barely changed gives no verdict (``undefined`` says why and what to change).
"""

from __future__ import annotations

import numpy as np

from .model import AuditedModel, to_numpy

#: Pixels whose value moves by more than this (any channel, [0, 1] scale) count as changed.
CHANGED = 1 / 255

#: A region counts as restyled when at least this share of its pixels changed. A stylisation from the content
#: either keeps the content (0 % changed) or moves nearly every pixel (each Adam step moves every pixel that has a
#: gradient by about the learning rate, 5/255; 99-100 % changed after 2-5 steps at 64 px), so any cut in between
#: separates the two; 10 % still counts a restyle that leaves a large clipped or flat area as it was, and does not
#: count a region where only scattered pixels moved.
MIN_RESTYLED = 0.1


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

    Each restyled entry carries ``area`` (the region's share of the image), ``changed_area`` (share of the
    image's pixels that changed by more than :data:`CHANGED`), ``changed_share`` (share of the region's pixels
    that did), ``p_change`` and the top-5; ``background_control`` and ``foreground_control`` give the controls'
    mean, s.d. and minimum ``p_change`` and their smallest ``changed_share_min``; ``stylised`` says where the
    stylised image came from. ``undefined`` is None, or why there is no verdict (a region less than
    :data:`MIN_RESTYLED` changed): then ``leans_on_background`` is None.
    """
    from ..io import resize_to

    styled_here = styled is None
    if styled_here:
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
           "controls": controls, "changed_threshold": CHANGED, "min_changed_share": MIN_RESTYLED}
    for i, (name, region) in enumerate(regions.items(), start=1):
        changed = np.abs(restyled[i - 1] - image).max(-1) > CHANGED
        out[name] = {"top5": top5(i), "p_class": float(p[i, cls]), "top1_kept": int(top[i, 0]) == cls,
                     "in_top5": bool(cls in top[i]), "p_change": float(p[i, cls] - p[0, cls]),
                     "area": float(region.mean()), "changed_area": float(changed.mean()),
                     "changed_share": float(changed[region].mean()) if region.any() else 0.0}
    for side in ("background", "foreground"):
        moved_runs = [out.pop(f"{side}_control_{i}") for i in range(controls)]
        changes = np.array([r["p_change"] for r in moved_runs])
        out[f"{side}_restyled"] = out.pop(side)
        out[f"{side}_control"] = {"p_change_mean": float(changes.mean()), "p_change_sd": float(changes.std(ddof=1)) if changes.size > 1 else float("nan"),
                                  "p_change_min": float(changes.min()), "p_changes": changes.tolist(),
                                  "top1_changed_share": float(np.mean([not r["top1_kept"] for r in moved_runs])),
                                  "changed_share_min": min(r["changed_share"] for r in moved_runs),
                                  "area": out[f"{side}_restyled"]["area"]}
    out["undefined"] = unrestyled_reason(out, styled_here, steps)
    bg = out["background_restyled"]
    out["leans_on_background"] = (None if out["undefined"] else
                                  bool(bg["p_change"] < out["background_control"]["p_change_min"]))
    return out


def unrestyled_reason(probe: dict, styled_here: bool, steps: int) -> str | None:
    """None when every pasted region (background, object, each control) changed in at least
    :data:`MIN_RESTYLED` of its pixels; else one line naming the least changed region and the fix."""
    shares = {"background": probe["background_restyled"]["changed_share"],
              "object": probe["foreground_restyled"]["changed_share"],
              "random regions": min(probe[f"{s}_control"]["changed_share_min"] for s in ("background", "foreground"))}
    region, share = min(shares.items(), key=lambda kv: kv[1])
    if share >= MIN_RESTYLED:
        return None
    fix = (f"give the probe more style steps (now {steps}; --shortcut-steps in audit-set)" if styled_here else
           "give the stylisation it reuses more steps")
    return (f"the stylisation ({probe['stylised']}) changed only {100 * share:.0f}% of the {region}'s pixels (a "
            f"restyle needs {100 * MIN_RESTYLED:.0f}%), so the probe measured an (almost) unchanged image; {fix}")
