"""VGG-19 in PyTorch: a truncated feature extractor (style engine) and the full classifier (audit)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .layers import BLOCKS, LAYERS, truncate_at

#: torchvision's ImageNet input normalisation, for RGB in [0, 1].
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def _feature_modules(n: int) -> list[nn.Module]:
    """The first ``n`` modules of torchvision's ``vgg19().features`` (ReLUs not in place, so hooks work)."""
    modules: list[nn.Module] = []
    cin = 3
    for convs in BLOCKS:
        for cout in convs:
            modules += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=False)]
            cin = cout
        modules.append(nn.MaxPool2d(2, 2))
    return modules[:n]


class VGGFeatures(nn.Module):
    """VGG-19 cut after the deepest requested layer, returning the named activations.

    Input: N×3×H×W float32 RGB in [0, 1] (normalised inside). Output: ``{layer: N×C×h×w}``. Parameters are
    frozen (no weight gradients) and the module is in eval mode.
    """

    def __init__(self, state_dict: dict, layers: Sequence[str]):
        super().__init__()
        self.layers = tuple(dict.fromkeys(layers))
        n = truncate_at(self.layers)
        self.features = nn.Sequential(*_feature_modules(n))
        own = {k: v for k, v in state_dict.items()
               if k.startswith("features.") and int(k.split(".")[1]) < n}
        self.features.load_state_dict({k.removeprefix("features."): v for k, v in own.items()})
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        self._wanted = {LAYERS.index(name): name for name in self.layers}
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (x - self.mean) / self.std
        out = {}
        for i, module in enumerate(self.features):
            x = module(x)
            if i in self._wanted:
                out[self._wanted[i]] = x
        return out


def vgg19_classifier(state_dict: dict) -> nn.Module:
    """torchvision's full VGG-19 (features, pooling, classifier) with these weights, in eval mode.

    In-place ReLUs are switched off so Captum's backward hooks see every activation. The input is normalised
    ImageNet-style (use :func:`normalize`).
    """
    import torchvision

    with torch.device("meta"):  # skip torchvision's initialisation of 143 M parameters: the weights replace it
        model = torchvision.models.vgg19(weights=None)
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    model.load_state_dict(state_dict, assign=True)
    model.requires_grad_(False)
    return model.eval()


def normalize(x: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1], N×3×H×W → torchvision's ImageNet normalisation."""
    mean = torch.tensor(MEAN, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


def imagenet_categories() -> list[str]:
    """The 1000 ImageNet class names, as shipped in torchvision's weight metadata."""
    import torchvision

    return list(torchvision.models.VGG19_Weights.IMAGENET1K_V1.meta["categories"])
