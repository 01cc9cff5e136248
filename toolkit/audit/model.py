"""The audited model: torchvision's VGG-19 with its classifier, taking RGB images in [0, 1].

Normalisation is the model's first module, so every attribution is with respect to the image as a person sees
it (pixels in [0, 1]; a zero baseline is a black image). Tensors live on the model's device inside the audit:
images enter through :meth:`AuditedModel.batch` and leave through :func:`to_numpy`, the only two crossings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..vgg.layers import layer_index
from ..vgg.torch_vgg import normalize

#: Images per forward pass where the audit batches (perturbation curves, shortcut probe): large batches keep a
#: 2-core CPU busy, this many 224 px VGG-19 passes stay under ~1 GB.
CHUNK = 32


class _Normalize(nn.Module):
    def forward(self, x):
        return normalize(x)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor on any device → a float32 NumPy array on the CPU (where results leave the audit)."""
    return t.detach().cpu().numpy().astype(np.float32)


@dataclass
class AuditedModel:
    net: nn.Module          # Sequential(normalise, vgg19): N×3×H×W in [0, 1] → N×1000 logits
    categories: list[str]
    weights: str

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def layer(self, name: str) -> nn.Module:
        """The module of a named VGG-19 feature layer, e.g. ``relu4_2`` or ``conv5_4``."""
        return self.net[1].features[layer_index(name)]

    def batch(self, images: np.ndarray) -> torch.Tensor:
        """H×W×3 or N×H×W×3 float images in [0, 1] → N×3×H×W float32 on the model's device."""
        a = np.asarray(images, np.float32)
        t = torch.from_numpy(np.ascontiguousarray(a[None] if a.ndim == 3 else a)).permute(0, 3, 1, 2)
        return t.to(self.device)

    @torch.no_grad()
    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax over the 1000 classes, N×1000 on the model's device, in chunks of :data:`CHUNK` images."""
        return torch.cat([torch.softmax(self.net(c), dim=1) for c in x.split(CHUNK)])

    def top5(self, x: torch.Tensor) -> list[tuple[int, str, float]]:
        p = self.probabilities(x)[0]
        values, idx = p.topk(5)
        return [(int(i), self.categories[int(i)], float(v)) for v, i in zip(values, idx)]


_CACHE: dict[tuple, AuditedModel] = {}


def load_model(weights="random:0", device: torch.device | str = "cpu") -> AuditedModel:
    """The audited VGG-19, built once per process for each (weights, device) and reused.

    The audit never changes the model it is given (the sanity check randomises a copy), so sharing it across
    images and stages is safe; a weights file is keyed by its path and modification time.
    """
    from ..vgg.weights import parse_weights

    source = parse_weights(weights)
    stamp = source.path.stat().st_mtime_ns if source.path is not None else None
    key = (source.label, stamp, str(torch.device(device)))
    if key not in _CACHE:
        _CACHE[key] = _build(source, device)
    return _CACHE[key]


def _build(source, device) -> AuditedModel:
    from ..vgg.torch_vgg import imagenet_categories, vgg19_classifier
    from ..vgg.weights import load_state_dict

    vgg = vgg19_classifier(load_state_dict(source, classifier=True))
    # channels-last runs oneDNN's faster convolution kernels on the CPU (about 1.3x per pass at 128 px)
    # float32 on purpose: under bfloat16 autocast, 1.5x faster here, Saliency's and IG's maps kept a rank
    # correlation of only 0.68-0.82 with float32's (README, Speed)
    net = nn.Sequential(_Normalize(), vgg).eval().to(device=device, memory_format=torch.channels_last)
    return AuditedModel(net, imagenet_categories(), source.label)
