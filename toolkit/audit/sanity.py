"""Model-randomisation sanity check (Adebayo et al., 2018).

Layers are re-initialised cumulatively from the top (the last classifier layer first). A faithful saliency
method's map changes as the model it explains is destroyed; a map that stays the same (high Spearman rank
correlation with the original) reflects the image, not the model.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from .model import AuditedModel
from .saliency import SaliencyConfig, attribute

#: Spearman rank correlation above which a map is said not to depend on the model.
UNFAITHFUL_RHO = 0.5


def cascade_layers(model: AuditedModel) -> list[tuple[str, nn.Module]]:
    """The layers with weights, top first: classifier.6, classifier.3, classifier.0, conv5_4, conv5_3, …"""
    vgg = model.net[1]
    out = [(f"classifier.{i}", vgg.classifier[i]) for i in (6, 3, 0)]
    from ..vgg.layers import LAYERS

    out += [(name, vgg.features[i]) for i, name in reversed(list(enumerate(LAYERS))) if name.startswith("conv")]
    return out


def randomization_check(model: AuditedModel, x: torch.Tensor, target: int, maps: dict[str, np.ndarray],
                        steps: int = 4, seed: int = 0, cfg: SaliencyConfig = SaliencyConfig()) -> dict:
    """Spearman rho of each method's |map| after each cumulative randomisation step, against the original.

    Returns ``{"layers": [...], "rho": {method: [rho per step]}, "unfaithful": [methods]}``.
    """
    from scipy.stats import spearmanr

    broken = copy.deepcopy(model)
    g = torch.Generator().manual_seed(seed)
    layers = cascade_layers(broken)[:steps]
    rho = {m: [] for m in maps}
    for name, module in layers:
        with torch.no_grad():
            module.weight.copy_(torch.randn(module.weight.shape, generator=g) * module.weight.std())
            module.bias.zero_()
        for method, original in maps.items():
            a, b = np.abs(original).ravel(), np.abs(attribute(method, broken, x, target, cfg)).ravel()
            # a constant map (e.g. Grad-CAM with no positive evidence) has no ranking: the correlation is undefined
            r = spearmanr(a, b)[0] if np.ptp(a) > 0 and np.ptp(b) > 0 else float("nan")
            rho[method].append(float(r) if np.isfinite(r) else float("nan"))
    unfaithful = [m for m, values in rho.items() if values and np.nanmin(values) > UNFAITHFUL_RHO]
    return {"layers": [n for n, _ in layers], "rho": rho, "threshold": UNFAITHFUL_RHO, "unfaithful": unfaithful}
