"""The reference every audit timing is read against: a bare VGG-19 forward+backward on this machine, now."""

from __future__ import annotations

import torch

from ..style.reference import median_ms
from .model import AuditedModel


def bare_vgg_seconds(model: AuditedModel, size: int = 256, repeats: int = 2) -> float:
    """Median seconds of one forward+backward (gradient with respect to the input) through VGG-19's convolution
    stack for one size×size image, after a warm-up pass."""
    features = model.net[1].features
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0)).to(model.device)
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_(True)
    return median_ms(lambda: torch.autograd.grad(features(x).sum(), x), repeats) / 1000
