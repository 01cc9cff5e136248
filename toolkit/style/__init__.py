"""Gatys-style neural style transfer over VGG-19, in PyTorch and TensorFlow, whole-image or region-aware.

The pieces, each swappable: :mod:`.config` (one configuration), :mod:`.losses` (the definitions),
:mod:`.torch_engine` / :mod:`.tf_engine` (VGG-19 + losses → an objective), :mod:`.optimize` (one optimiser for
both), :mod:`.pyramid`, :mod:`.regions`, :mod:`.color`, and :mod:`.api` (``stylize``).
"""

from .api import StyleResult, make_engine, stylize
from .config import StyleConfig
from .optimize import StepRecord

__all__ = ["StyleConfig", "StyleResult", "StepRecord", "stylize", "make_engine"]
