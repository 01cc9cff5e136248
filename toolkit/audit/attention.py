"""How much of a map's positive attribution falls on the object, compared with the object's size.

The *ratio* is the share of positive attribution inside the mask divided by the share of the image the object
covers: 1 means the object gets exactly the attention its size would give it under a uniform map, 2 twice that,
0.5 half. A small object is therefore not penalised for being small. The verdict uses a 95 % confidence interval
of the ratio from a spatial block bootstrap (the image cut into square blocks, resampled with replacement), so it
only speaks when the map's spatial variation supports it.
"""

from __future__ import annotations

import numpy as np

#: The ratio a uniform map gets; the verdict compares the confidence interval with it.
UNIFORM_RATIO = 1.0
#: Blocks per side for the spatial bootstrap, resamples, and the interval's coverage.
BLOCKS, RESAMPLES, COVERAGE = 8, 400, 0.95
VERDICTS = ("on the object", "mostly background", "no clear preference")


def attention_share(attribution: np.ndarray, mask: np.ndarray, seed: int = 0) -> dict:
    """Share of the positive attribution inside ``mask`` (H×W, 1 = object), its ratio to the object's area, a
    bootstrap confidence interval of the ratio, and a verdict.

    Returns ``{"inside_share", "object_area", "ratio", "ratio_ci", "verdict", "background_dominant"}``. The
    verdict is "mostly background" when the whole interval lies below :data:`UNIFORM_RATIO`, "on the object"
    when it lies above, "no clear preference" otherwise. A map with no positive attribution (or a mask with no
    object) has NaN share, ratio and interval, and no verdict.
    """
    pos = np.clip(np.asarray(attribution, np.float64), 0, None)
    m = (np.asarray(mask) >= 0.5).astype(np.float64)
    area = float(m.mean())
    total = pos.sum()
    if total <= 0 or area == 0:
        nan = float("nan")
        return {"inside_share": nan, "object_area": area, "ratio": nan, "ratio_ci": [nan, nan], "verdict": None,
                "background_dominant": False}
    share = float((pos * m).sum() / total)
    low, high = _bootstrap_ratio(pos, m, seed)
    verdict = VERDICTS[1] if high < UNIFORM_RATIO else VERDICTS[0] if low > UNIFORM_RATIO else VERDICTS[2]
    return {"inside_share": share, "object_area": area, "ratio": share / area, "ratio_ci": [low, high],
            "verdict": verdict, "background_dominant": verdict == VERDICTS[1]}


def _bootstrap_ratio(pos: np.ndarray, m: np.ndarray, seed: int) -> tuple[float, float]:
    """Percentile interval of the ratio over block resamples: per block the attribution inside, the attribution
    in all, the object's pixels and all pixels are summed; a resample draws BLOCKS² blocks with replacement."""
    h, w = pos.shape
    rows = np.linspace(0, h, BLOCKS + 1).astype(int)
    cols = np.linspace(0, w, BLOCKS + 1).astype(int)

    def per_block(a):
        return np.add.reduceat(np.add.reduceat(a, rows[:-1], 0), cols[:-1], 1).ravel()

    sums = np.stack([per_block(pos * m), per_block(pos), per_block(m), per_block(np.ones_like(m))])  # 4×B
    draws = np.random.default_rng(seed).integers(0, sums.shape[1], (RESAMPLES, sums.shape[1]))
    inside, total, obj, pixels = sums[:, draws].sum(-1)  # each RESAMPLES
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (inside / total) / (obj / pixels)
    ratio = ratio[np.isfinite(ratio)]
    if ratio.size == 0:
        return float("nan"), float("nan")
    tail = 100 * (1 - COVERAGE) / 2
    return float(np.percentile(ratio, tail)), float(np.percentile(ratio, 100 - tail))
