"""How hard each loss term pulls on the pixels at step 0: the balance a ``style_weight`` sets.

The share of a term is the norm of its weighted gradient with respect to the image over the sum of all the
terms' norms; the style/content ratio compares the norm of the whole style gradient (all layers together) with
the content gradient's. With relative-error losses (:mod:`.losses`) these figures do not depend on the scale of
the network's activations, which is what lets one set of defaults serve random, trained and Keras weights.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .config import StyleConfig
from .engine import Level, StyleTerm
from .pyramid import at_level

@dataclass(frozen=True)
class Balance:
    """Gradient norms of each weighted term (names from :func:`toolkit.style.losses.term_names`) at one image.

    style_norm : norm of the sum of the style terms' gradients; probe : what image they were measured at
    """

    norms: dict[str, float]
    style_norm: float
    probe: str

    @property
    def shares(self) -> dict[str, float]:
        total = sum(self.norms.values()) or 1.0
        return {name: value / total for name, value in self.norms.items()}

    @property
    def style_to_content(self) -> float:
        content = self.norms.get("content", 0.0)
        return self.style_norm / content if content > 0 else float("inf")

    def lines(self) -> list[str]:
        """The table ``--explain-losses`` prints."""
        out = [f"share of the step-0 gradient (at {self.probe}):"]
        out += [f"  {name:<16}{share:8.1%}" for name, share in self.shares.items()]
        out.append(f"  style/content gradient ratio {self.style_to_content:.3g}")
        return out


def gradient_balance(engine, level: Level, x: np.ndarray, probe: str = "the given image") -> Balance:
    """The :class:`Balance` of ``engine`` (its configuration's weights) on ``level`` at flat float64 image ``x``."""
    grads = engine.term_gradients(level, x)
    style = sum(g for name, g in grads.items() if name.startswith("style "))
    return Balance({name: float(np.linalg.norm(g)) for name, g in grads.items()}, float(np.linalg.norm(style)),
                   probe)


def probe_image(cfg: StyleConfig, content: np.ndarray) -> tuple[np.ndarray, str]:
    """The image step 0 sees, and its description. The content gradient is zero at the content itself, so a run
    that starts there is probed where ``--init content+noise`` starts (the content plus seeded noise)."""
    from .api import _initial

    if cfg.init == "content":
        return _initial(replace(cfg, init="content+noise"), content), "the content+noise start"
    return _initial(cfg, content), f"the {cfg.init} start"


def explain_losses(engine, cfg: StyleConfig, content: np.ndarray, style: np.ndarray,
                   region: np.ndarray | None = None) -> Balance:
    """The balance at the first pyramid level of a run of ``cfg``; ``region`` (H×W, 1 = styled) as in guided mode.

    engine : an engine from :func:`toolkit.style.make_engine`; content, style : float32 H×W×3 in [0, 1]
    """
    from ..segment.masks import binarize

    size = cfg.resolved(region=region is not None).levels_for(content.shape, style.shape)[0][0]
    c = at_level(content, size)
    mask = None if region is None else binarize(at_level(region, size))
    x, probe = probe_image(cfg, c)
    return gradient_balance(engine.with_config(cfg), Level(c, [StyleTerm(at_level(style, size), mask)]),
                            x.astype(np.float64).ravel(), f"{probe}, {size} px")
