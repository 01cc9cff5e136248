"""The referee: one fixed PyTorch VGG-19, outside both engines, that scores every output the same way.

It uses the same loss definitions (:mod:`toolkit.style.losses`) and the same weights as the engines, so the
engines are compared on one yardstick rather than each on its own loss.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from ..style import StyleConfig
from ..style.engine import Level, StyleTerm
from ..style.torch_engine import TorchEngine


def _key(*arrays: np.ndarray | None) -> tuple:
    return tuple(None if a is None else hashlib.blake2b(np.ascontiguousarray(a).tobytes(), digest_size=16).digest()
                 for a in arrays)


class Referee:
    def __init__(self, state_dict: dict, cfg: StyleConfig):
        self.engine = TorchEngine(state_dict, cfg, torch.device("cpu"))
        # a study scores every seed and engine against the same few (content, style, region) targets
        self._scorers: dict[tuple, object] = {}

    def score(self, image: np.ndarray, content: np.ndarray, style: np.ndarray,
              region: np.ndarray | None = None) -> dict:
        """Unweighted content and style loss of ``image`` (style inside ``region`` only, if given).

        image, content, style : float32 H×W×3 in [0, 1] (image and content of one shape); region : H×W or None
        """
        key = _key(content, style, region)
        if key not in self._scorers:
            self._scorers[key] = self.engine.scorer(Level(content, [StyleTerm(style, region)]))
        parts = self._scorers[key](image)
        return {"content": parts["content"], "style": parts["style"]}
