"""How much of a map's positive attribution falls on the object."""

from __future__ import annotations

import numpy as np

#: Below this share of attribution on the object, the network is said to look mostly at the background.
BACKGROUND_DOMINANT = 0.5


def attention_share(attribution: np.ndarray, mask: np.ndarray) -> dict:
    """Share of the positive attribution inside ``mask`` (H×W, 1 = object), and that share over the object's area.

    Returns ``{"inside_share", "object_area", "ratio", "background_dominant"}``; for a map with no positive
    attribution the share and ratio are NaN and nothing is flagged. A ratio above 1 means the object draws more
    attention than its size alone would.
    """
    pos = np.clip(np.asarray(attribution, np.float64), 0, None)
    m = (np.asarray(mask) >= 0.5).astype(np.float64)
    area = float(m.mean())
    total = pos.sum()
    if total <= 0:
        return {"inside_share": float("nan"), "object_area": area, "ratio": float("nan"),
                "background_dominant": False}
    share = float((pos * m).sum() / total)
    return {"inside_share": share, "object_area": area, "ratio": share / area if area > 0 else float("nan"),
            "background_dominant": share < BACKGROUND_DOMINANT}
