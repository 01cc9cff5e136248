"""The audited model: torchvision's VGG-19 with its classifier, taking RGB images in [0, 1].

Normalisation is the model's first module, so every attribution is with respect to the image as a person sees
it (pixels in [0, 1]; a zero baseline is a black image).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..vgg.layers import layer_index
from ..vgg.torch_vgg import normalize, vgg19_classifier


class _Normalize(nn.Module):
    def forward(self, x):
        return normalize(x)


@dataclass
class AuditedModel:
    net: nn.Module          # Sequential(normalise, vgg19): N×3×H×W in [0, 1] → N×1000 logits
    categories: list[str]
    weights: str

    def layer(self, name: str) -> nn.Module:
        """The module of a named VGG-19 feature layer, e.g. ``relu4_2`` or ``conv5_4``."""
        return self.net[1].features[layer_index(name)]

    @torch.no_grad()
    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=1)

    def top5(self, x: torch.Tensor) -> list[tuple[int, str, float]]:
        p = self.probabilities(x)[0]
        values, idx = p.topk(5)
        return [(int(i), self.categories[int(i)], float(v)) for v, i in zip(values, idx)]


def load_model(weights="random:0", device: torch.device | str = "cpu") -> AuditedModel:
    from ..vgg.torch_vgg import imagenet_categories
    from ..vgg.weights import load_state_dict, parse_weights

    source = parse_weights(weights)
    net = nn.Sequential(_Normalize(), vgg19_classifier(load_state_dict(source, classifier=True))).to(device)
    return AuditedModel(net.eval(), imagenet_categories(), source.label)
