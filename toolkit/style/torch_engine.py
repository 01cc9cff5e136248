"""The PyTorch engine: VGG-19 features and the losses of :mod:`.losses`, as an objective over the image."""

from __future__ import annotations

import numpy as np
import torch

from ..vgg.torch_vgg import VGGFeatures
from .config import StyleConfig
from .engine import EngineBase, Level, parts_dict
from .losses import content_loss, content_target, gram_target, style_loss, term_names, term_weights, tv_loss
from .regions import layer_masks


class TorchEngine(EngineBase):
    name = "torch"

    def __init__(self, state_dict: dict, cfg: StyleConfig, device: torch.device):
        self.cfg = cfg
        self.device = device
        self.layers = tuple(dict.fromkeys(cfg.content_layers + cfg.style_layers))
        self.net = VGGFeatures(state_dict, self.layers).to(device)
        self._shared = {"trace_seconds": 0.0}

    def _tensor(self, image: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(image, np.float32)).permute(2, 0, 1)[None].to(self.device)

    def _image(self, flat: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
        """A flat float64 H·W·3 image → a 1×3×H×W float32 leaf that records its gradient."""
        return self._tensor(flat.astype(np.float32).reshape(*shape, 3)).contiguous().requires_grad_(True)

    @staticmethod
    def _flat(grad: torch.Tensor) -> np.ndarray:
        return grad[0].permute(1, 2, 0).cpu().numpy().astype(np.float64).ravel()

    def _raw_terms(self, level: Level):
        """``x -> [content, style per layer…, tv]`` (unweighted), with the level's targets computed once."""
        cfg = self.cfg
        with torch.no_grad():
            content_feats = self.net(self._tensor(level.content))
            content_targets = [content_target(content_feats[n]) for n in cfg.content_layers]
            shapes = {n: tuple(content_feats[n].shape[2:]) for n in cfg.style_layers}
            terms = []
            for term in level.terms:
                style_feats = self.net(self._tensor(term.image))
                carried = {} if term.region is None else layer_masks(term.region, shapes)
                terms.append([gram_target(style_feats[n], carried.get(n)) for n in cfg.style_layers])

        def raw_terms(x: torch.Tensor) -> list[torch.Tensor]:
            feats = self.net(x)
            c = sum(content_loss(feats[n], t) for n, t in zip(cfg.content_layers, content_targets))
            style = [sum(style_loss(feats[n], targets[i]) for targets in terms) for i, n in enumerate(cfg.style_layers)]
            return [c / len(content_targets), *style, tv_loss(x)]

        return raw_terms

    def objective(self, level: Level):
        """``f(x) -> (total, gradient, parts)`` for a flat float64 image ``x`` of the level's shape."""
        raw_terms, weights = self._raw_terms(level), term_weights(self.cfg)

        def f(flat: np.ndarray):
            x = self._image(flat, level.shape)
            terms = raw_terms(x)
            total = sum(w * t for w, t in zip(weights, terms))
            (grad,) = torch.autograd.grad(total, x)
            loss = float(total.detach())
            return loss, self._flat(grad), parts_dict(loss, [t.detach() for t in terms], self.cfg)

        return f

    def scorer(self, level: Level):
        """``score(image) -> parts`` (see :func:`~toolkit.style.engine.parts_dict`) for float32 H×W×3 images of
        the level's shape, without gradients; the level's targets are computed once, here."""
        raw_terms, weights = self._raw_terms(level), term_weights(self.cfg)

        @torch.no_grad()
        def score(image: np.ndarray) -> dict:
            terms = raw_terms(self._tensor(image))
            return parts_dict(float(sum(w * t for w, t in zip(weights, terms))), terms, self.cfg)

        return score

    def term_gradients(self, level: Level, flat: np.ndarray) -> dict[str, np.ndarray]:
        """The gradient of each weighted term (see :func:`~toolkit.style.losses.term_names`) at image ``flat``."""
        x = self._image(flat, level.shape)
        terms = self._raw_terms(level)(x)
        names = term_names(self.cfg.content_layers, self.cfg.style_layers)
        return {name: self._flat(torch.autograd.grad(w * t, x, retain_graph=True)[0])
                for name, w, t in zip(names, term_weights(self.cfg), terms)}
