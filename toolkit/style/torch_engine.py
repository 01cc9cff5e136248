"""The PyTorch engine: VGG-19 features and the losses of :mod:`.losses`, as an objective over the image."""

from __future__ import annotations

import numpy as np
import torch

from ..vgg.torch_vgg import VGGFeatures
from .config import StyleConfig
from .engine import Level, parts_dict
from .losses import content_loss, gram_matrix, style_loss, tv_loss
from .regions import layer_masks


class TorchEngine:
    name = "torch"

    def __init__(self, state_dict: dict, cfg: StyleConfig, device: torch.device):
        self.cfg = cfg
        self.device = device
        self.net = VGGFeatures(state_dict, cfg.content_layers + cfg.style_layers).to(device)

    def _tensor(self, image: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(image, np.float32)).permute(2, 0, 1)[None].to(self.device)

    def objective(self, level: Level):
        """``f(x) -> (total, gradient, parts)`` for a flat float64 image ``x`` of the level's shape."""
        cfg = self.cfg
        h, w = level.shape
        with torch.no_grad():
            content_feats = self.net(self._tensor(level.content))
            content_targets = {name: content_feats[name] for name in cfg.content_layers}
            shapes = {name: tuple(content_feats[name].shape[2:]) for name in cfg.style_layers}
            terms = []
            for term in level.terms:
                style_feats = self.net(self._tensor(term.image))
                grams = {name: gram_matrix(style_feats[name]) for name in cfg.style_layers}
                masks = None
                if term.region is not None:
                    masks = {name: torch.from_numpy(m).to(self.device)
                             for name, m in layer_masks(term.region, shapes).items()}
                terms.append((grams, masks))

        def losses(x: torch.Tensor):
            feats = self.net(x)
            c = sum(content_loss(feats[n], content_targets[n]) for n in cfg.content_layers) / len(cfg.content_layers)
            s = sum(wl * style_loss(gram_matrix(feats[n], masks[n] if masks else None), grams[n])
                    for grams, masks in terms for n, wl in zip(cfg.style_layers, cfg.layer_weights))
            tv = tv_loss(x)
            return cfg.content_weight * c + cfg.style_weight * s + cfg.tv_weight * tv, c, s, tv

        def f(flat: np.ndarray):
            x = torch.from_numpy(flat.astype(np.float32).reshape(h, w, 3)).permute(2, 0, 1)[None].contiguous()
            x = x.to(self.device).requires_grad_(True)
            total, c, s, tv = losses(x)
            (grad,) = torch.autograd.grad(total, x)
            g = grad[0].permute(1, 2, 0).cpu().numpy().astype(np.float64).ravel()
            parts = parts_dict(*(t.detach() for t in (total, c, s, tv)))
            return parts["total"], g, parts

        return f
