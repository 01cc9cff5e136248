"""Model-randomisation sanity check (Adebayo et al., 2018): a cascade from the top of the network down.

Stage by stage, cumulatively, the classifier and then the convolution blocks 5, 4, 3, … of a copy of the model are
re-initialised (Gaussian weights with each layer's own s.d., zero bias, a fixed seed), and every method's map is
recomputed with the same noise seed as the original. A map that explains the model changes as the model is
destroyed; a map that stays the same (high Spearman rank correlation of |map| with the original) reflects the image,
not the model.

Each method is judged against its own *baseline*: the correlation of its map with a second run of itself on the
unchanged model with a different noise seed (1 for deterministic methods, which give the same map every run).
A method whose correlation after the whole cascade keeps at least :data:`KEEPS_BASELINE` of its baseline is
flagged: destroying the model changed its map no more than its own noise does.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ..vgg.layers import LAYERS
from .methods import STAGES
from .model import AuditedModel
from .saliency import STOCHASTIC, Attributor, SaliencyConfig, attribute

#: Share of its own baseline correlation above which a method's map "barely changes" under randomisation.
KEEPS_BASELINE = 0.5


def stage_layers(model: AuditedModel, stage: str) -> list[tuple[str, nn.Module]]:
    """The layers with weights a stage re-initialises: ``classifier`` → its three linear layers; ``blockN`` →
    convN_1 … convN_4 (or _2)."""
    vgg = model.net[1]
    if stage == "classifier":
        return [(f"classifier.{i}", vgg.classifier[i]) for i in (6, 3, 0)]
    block = stage.removeprefix("block")
    return [(name, vgg.features[i]) for i, name in reversed(list(enumerate(LAYERS)))
            if name.startswith(f"conv{block}_")]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of |a| and |b|; NaN when either is constant (no ranking to compare)."""
    from scipy.stats import spearmanr

    a, b = np.abs(a).ravel(), np.abs(b).ravel()
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    r = spearmanr(a, b)[0]
    return float(r) if np.isfinite(r) else float("nan")


def judge(rho: dict[str, list[float]], baseline: dict[str, float]) -> list[str]:
    """Methods whose last correlation keeps at least :data:`KEEPS_BASELINE` of their baseline (NaN: not judged)."""
    return [m for m, values in rho.items()
            if values and np.isfinite(values[-1]) and values[-1] >= KEEPS_BASELINE * baseline[m]]


def randomization_check(model: AuditedModel, x: torch.Tensor, target: int, maps: dict[str, np.ndarray],
                        stages: int = 4, seed: int = 0, cfg: SaliencyConfig = SaliencyConfig()) -> dict:
    """Cascade the first ``stages`` of :data:`STAGES`; ``maps`` are the originals, made with noise seed ``seed``.

    Returns ``{"stages", "layers", "rho": {method: [rho per stage]}, "baseline": {method: rho},
    "keeps_baseline", "unfaithful": [methods], "seed"}``.
    """
    baseline = {m: spearman(a, attribute(m, model, x, target, cfg, seed + 1)) if m in STOCHASTIC else 1.0
                for m, a in maps.items()}
    broken = copy.deepcopy(model)
    g = torch.Generator().manual_seed(seed)
    names = STAGES[:stages]
    layers, rho = [], {m: [] for m in maps}
    for stage in names:
        for name, module in stage_layers(broken, stage):
            with torch.no_grad():
                module.weight.copy_(torch.randn(module.weight.shape, generator=g) * module.weight.std().item())
                module.bias.zero_()
            layers.append(name)
        attributor = Attributor(broken, x, target, cfg, seed)
        for method, original in maps.items():
            rho[method].append(spearman(original, attributor.map(method)))
    return {"stages": list(names), "layers": layers, "rho": rho, "baseline": baseline,
            "keeps_baseline": KEEPS_BASELINE, "unfaithful": judge(rho, baseline), "seed": seed}
