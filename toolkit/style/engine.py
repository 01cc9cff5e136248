"""What a style engine is: a VGG-19 plus the losses, turned into an objective for one pyramid level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class StyleTerm:
    """One style to match: the style image at the level's size, and where (an h×w region mask, or everywhere)."""

    image: np.ndarray
    region: np.ndarray | None = None


@dataclass
class Level:
    """One pyramid level's problem: the content (h×w×3) and the style terms."""

    content: np.ndarray
    terms: list[StyleTerm]

    @property
    def shape(self) -> tuple[int, int]:
        return self.content.shape[:2]


def parts_dict(total, content, style, tv) -> dict:
    return {"total": float(total), "content": float(content), "style": float(style), "tv": float(tv)}
