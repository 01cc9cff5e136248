"""The dataset audit's aggregate: pure functions over per-image records (as read back from disk).

Intervals are percentile bootstrap 95 % intervals (SciPy's ``bootstrap``), each drawn from its own generator
seeded with ``seed``, so the same records always give the same aggregate, whatever order or machine produced
them. Where the bootstrap has nothing to resample (fewer than 2 values, or all equal) there is no interval
(None): a zero-width one would claim a certainty that 1 or a few images cannot give.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .dataset_plan import lookup

#: The shortcut probe's restyled regions, in the order reports list them.
PROBES = ("background", "foreground", "random_region")

#: What each shortcut figure is a share of: the rows are different kinds of figure.
MEASURES = {"background": "share of images whose top-1 changed",
            "foreground": "share of images whose top-1 changed",
            "random_region": "mean over images of the share of random regions (the background's area) whose top-1 "
                             "changed",
            "leans_on_background": "share of images judged to lean on the background"}

#: The faithfulness records' chance reference: a random map's curves.
CHANCE = "random map"


def estimate(values, statistic=np.mean, *, seed: int = 0, resamples: int = 2000) -> dict:
    """``{"n", "estimate", "low", "high"}``: the statistic of ``values`` and its bootstrap 95 % interval.

    Fewer than two values, or values all equal, leave nothing to resample: no interval (``low`` and ``high``
    None; the estimate too for no values).
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return {"n": 0, "estimate": None, "low": None, "high": None}
    point = float(statistic(x))
    if x.size < 2 or np.ptp(x) == 0:
        return {"n": int(x.size), "estimate": point, "low": None, "high": None}
    from scipy.stats import bootstrap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy warns about few distinct values; the percentile interval is fine
        ci = bootstrap((x,), statistic, n_resamples=resamples, confidence_level=0.95, method="percentile",
                       vectorized=True, rng=np.random.default_rng(seed)).confidence_interval
    if ci.low == ci.high:  # e.g. one differing value among many that no resample happened to draw twice
        return {"n": int(x.size), "estimate": point, "low": None, "high": None}
    return {"n": int(x.size), "estimate": point, "low": float(ci.low), "high": float(ci.high)}


def aggregate(records: list[dict], *, labels: dict[str, int] | None = None, class_names: list[str] | None = None,
              seed: int = 0, gallery: int = 12) -> dict:
    """Summaries over ``records`` (see :func:`toolkit.audit.dataset_image.audit_image`).

    labels: image name (or stem) → ImageNet class index, for accuracy and per-class figures; class_names: the
    1000 ImageNet names. Returns a JSON-ready dict: ``images``, ``audited``, ``errors``, ``methods`` (per
    saliency method: the attention ratio's mean, median, quartiles and the share of images where the object gets
    less attention than its area; deletion/insertion areas), ``chance`` (the random map's deletion/insertion
    areas, the reference for the methods'), ``shortcut`` (flip rates over the images the probe restyled, and the
    images it did not), ``accuracy`` and ``by_class`` (with labels), ``gallery`` (most and least focused images
    by the first method's ratio).
    """
    ok = [r for r in records if r["status"] == "ok"]
    methods = list(dict.fromkeys(m for r in ok for m in r["attention"]))
    out = {
        "images": len(records),
        "audited": len(ok),
        "errors": [{"image": r["image"], "kind": r["error"]["kind"], "reason": r["error"]["reason"]}
                   for r in records if r["status"] == "error"],
        "methods": {m: method_summary(ok, m, seed) for m in methods},
        "chance": faithfulness_summary(ok, CHANCE, seed),
        "shortcut": shortcut_summary(ok, seed),
        "gallery": focus_gallery(ok, methods[0], gallery) if methods else {"method": None, "most": [], "least": []},
    }
    if labels:
        labelled = [(r, lookup(labels, r["image"])) for r in ok]
        labelled = [(r, c) for r, c in labelled if c is not None]
        out["accuracy"] = accuracy(labelled, seed)
        out["by_class"] = by_class(labelled, methods, class_names, seed)
    return out


def method_summary(ok: list[dict], method: str, seed: int = 0) -> dict:
    """One saliency method over the images: attention ratio (share of positive attribution on the object ÷ the
    object's area) and faithfulness areas. ``undefined`` counts maps with no positive attribution."""
    ratios = [r["attention"][method]["ratio"] for r in ok if method in r["attention"]]
    x = np.array([v for v in ratios if v is not None], dtype=np.float64)
    q1, q3 = (float(v) for v in np.percentile(x, [25, 75])) if x.size else (None, None)
    return {
        "n": len(ratios), "undefined": len(ratios) - int(x.size),
        "ratio": {"mean": estimate(x, np.mean, seed=seed), "median": estimate(x, np.median, seed=seed),
                  "q1": q1, "q3": q3, "iqr": None if q1 is None else q3 - q1},
        "below_area": estimate((x < 1).astype(np.float64), seed=seed),
        "inside_share": estimate(_defined(r["attention"][method]["inside_share"] for r in ok
                                          if method in r["attention"]), seed=seed),
        **faithfulness_summary(ok, method, seed),
    }


def faithfulness_summary(ok: list[dict], method: str, seed: int = 0) -> dict:
    """Mean deletion and insertion areas of one map (a method, or :data:`CHANCE`) over the images with curves."""
    faith = [r["faithfulness"][method] for r in ok if r.get("faithfulness") and method in r["faithfulness"]]
    return {"deletion_auc": estimate(_defined(f["deletion_auc"] for f in faith), seed=seed),
            "insertion_auc": estimate(_defined(f["insertion_auc"] for f in faith), seed=seed)}


def shortcut_summary(ok: list[dict], seed: int = 0) -> dict:
    """Shortcut figures over the images whose probe restyled something (see ``MEASURES`` for what each is a
    share of; a control not run has n = 0). ``probed`` counts the images with a probe, ``not_restyled`` lists
    those left out and why: an image that was not restyled kept its top-1 trivially, and counting it would
    pull every flip rate towards 0."""
    probed = [r for r in ok if r.get("shortcut")]
    skipped = [{"image": r["image"], "reason": r["shortcut"]["undefined"]} for r in probed
               if r["shortcut"]["undefined"] is not None]
    left_out = {e["image"] for e in skipped}
    measured = [r["shortcut"] for r in probed if r["image"] not in left_out]
    out = {p: {**estimate([float(s[p]["top1_changed"]) for s in measured if s.get(p)], seed=seed),
               "measures": MEASURES[p]} for p in PROBES}
    out["leans_on_background"] = {**estimate([float(s["leans_on_background"]) for s in measured], seed=seed),
                                  "measures": MEASURES["leans_on_background"]}
    return {**out, "probed": len(probed), "not_restyled": skipped}


def accuracy(labelled: list[tuple[dict, int]], seed: int = 0) -> dict:
    """Top-1 and top-5 accuracy against the labels."""
    return {"top1": estimate([float(r["predictions"][0][0] == c) for r, c in labelled], seed=seed),
            "top5": estimate([float(c in [p[0] for p in r["predictions"]]) for r, c in labelled], seed=seed)}


def by_class(labelled: list[tuple[dict, int]], methods: list[str], class_names: list[str] | None,
             seed: int = 0) -> list[dict]:
    """Per labelled class (most images first): accuracy, each method's median ratio, shortcut flip rates."""
    groups: dict[int, list[tuple[dict, int]]] = {}
    for r, c in labelled:
        groups.setdefault(c, []).append((r, c))
    rows = []
    for c, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        recs = [r for r, _ in members]
        rows.append({"class": c, "name": class_names[c] if class_names else str(c), "n": len(recs),
                     **accuracy(members, seed),
                     "ratio_median": {m: method_summary(recs, m, seed)["ratio"]["median"]["estimate"]
                                      for m in methods},
                     "shortcut": {p: v for p, v in shortcut_summary(recs, seed).items() if p in PROBES}})
    return rows


def focus_gallery(ok: list[dict], method: str, size: int = 12) -> dict:
    """The ``size`` images with the highest and the lowest attention ratio for ``method`` (ties by name); with
    fewer than 2 × size images, the upper half are "most" and the rest "least", so none appears twice."""
    ranked = sorted(((r["attention"][method]["ratio"], r["image"]) for r in ok
                     if method in r["attention"] and r["attention"][method]["ratio"] is not None),
                    key=lambda t: (-t[0], t[1]))
    most = ranked[:min(size, math.ceil(len(ranked) / 2))]
    least = ranked[len(most):][::-1][:size]
    return {"method": method, "most": [{"image": n, "ratio": v} for v, n in most],
            "least": [{"image": n, "ratio": v} for v, n in least]}


def _defined(values) -> np.ndarray:
    return np.array([v for v in values if v is not None], dtype=np.float64)
