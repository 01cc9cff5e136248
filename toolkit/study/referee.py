"""The referee: one fixed PyTorch VGG-19, outside both engines, that scores every output the same way.

It uses the same loss definitions (:mod:`toolkit.style.losses`) and the same weights as the engines, so the
engines are compared on one yardstick rather than each on its own loss.
"""

from __future__ import annotations

import numpy as np
import torch

from ..style import StyleConfig
from ..style.engine import Level, StyleTerm
from ..style.torch_engine import TorchEngine


class Referee:
    def __init__(self, state_dict: dict, cfg: StyleConfig):
        self.engine = TorchEngine(state_dict, cfg, torch.device("cpu"))

    def score(self, image: np.ndarray, content: np.ndarray, style: np.ndarray,
              region: np.ndarray | None = None) -> dict:
        """Unweighted content and style loss of ``image`` (style inside ``region`` only, if given)."""
        f = self.engine.objective(Level(content, [StyleTerm(style, region)]))
        _, _, parts = f(image.astype(np.float64).ravel())
        return {"content": parts["content"], "style": parts["style"]}
