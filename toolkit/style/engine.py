"""What a style engine is: a VGG-19 plus the losses, turned into an objective for one pyramid level."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError


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


class EngineBase:
    """What both engines share: a network built once, and the configuration whose losses they compute.

    ``with_config(cfg)`` gives the same network (and, for TensorFlow, the same traced functions) under another
    configuration, so one engine serves every seed, image and setting that uses the same layers.
    ``trace_seconds`` adds up the time spent tracing graphs (TensorFlow; 0 for PyTorch).
    """

    name = "base"
    cfg = None
    layers: tuple[str, ...] = ()
    _shared: dict  # state every copy shares: {"trace_seconds": float, ...}

    @property
    def trace_seconds(self) -> float:
        return self._shared["trace_seconds"]

    def with_config(self, cfg) -> EngineBase:
        missing = [n for n in cfg.content_layers + cfg.style_layers if n not in self.layers]
        if missing:
            raise ParameterError(f"this engine was built for layers {', '.join(self.layers)}, not "
                                 f"{', '.join(missing)}; build one with make_engine for these layers")
        other = copy.copy(self)
        other.cfg = cfg
        return other


def parts_dict(total: float, terms, cfg) -> dict:
    """The weighted total and the unweighted content, style (Σ_l w_l S_l) and tv of one step's raw terms
    (ordered as :func:`toolkit.style.losses.term_names`)."""
    terms = [float(t) for t in terms]
    style = sum(w * v for w, v in zip(cfg.layer_weights, terms[1:-1]))
    return {"total": float(total), "content": terms[0], "style": style, "tv": terms[-1]}
