"""Saliency methods, each a Captum method behind one entry point: ``attribute(model, x, target) -> H×W map``.

Maps are the attribution summed over the colour channels (signed; Saliency and SmoothGrad are gradient
magnitudes, so non-negative). Settings chosen for a 2-core CPU at 224 px; change them in :class:`SaliencyConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .methods import METHODS  # noqa: F401 - re-exported: the names live where --help can read them cheaply
from .model import AuditedModel, to_numpy

#: Methods that draw random numbers: their noise is seeded, so a map changes only when the model does.
STOCHASTIC = ("smoothgrad",)


@dataclass(frozen=True)
class SaliencyConfig:
    """ig_steps: Integrated Gradients steps (batched by ``ig_batch``); smooth_samples and smooth_sd: SmoothGrad
    samples and noise s.d. in pixel units (0.15 of the [0, 1] range); cam_layer: the layer Grad-CAM reads;
    occlusion_window / occlusion_stride: occluding square and its stride, in pixels (None: a quarter of the
    image's side, at least 8, and half the window, so an audit of any size gets about the 7×7 grid of placements
    224 px gets with 56 and 28 (8×8 at a few sizes where the window does not step evenly); a fixed window did
    not fit a 32 px audit at all). Each method runs its
    passes as one batch where it can (a batch of 16 costs about a third per image of single passes on a CPU)."""

    ig_steps: int = 16
    ig_batch: int = 16
    smooth_samples: int = 8
    smooth_sd: float = 0.15
    cam_layer: str = "relu5_4"
    occlusion_window: int | None = None
    occlusion_stride: int | None = None

    def occlusion(self, side: int) -> tuple[int, int]:
        """The occluding square and its stride, in pixels, on an image whose shorter side is ``side``."""
        window = self.occlusion_window or max(8, side // 4)
        if window > side:
            from ..errors import ParameterError

            raise ParameterError(f"the occlusion window ({window} px) is larger than the {side} px image; "
                                 f"choose a window of at most {side} px")
        return window, self.occlusion_stride or max(1, window // 2)


def attribute(method: str, model: AuditedModel, x: torch.Tensor, target: int,
              cfg: SaliencyConfig = SaliencyConfig(), seed: int = 0) -> np.ndarray:
    """Attribution map of ``method`` for class ``target``: float32 H×W (the input's size), on the CPU.

    x : 1×3×H×W float32 in [0, 1], on the model's device
    seed : the noise seed of stochastic methods (:data:`STOCHASTIC`): the same seed gives the same noise, so
        two maps differ only by what changed in the model; the global random state is left as it was
    """
    return Attributor(model, x, target, cfg, seed).map(method)


class Attributor:
    """Maps of several methods for one model, input and target, sharing work between them: Guided Grad-CAM is
    Guided Backprop times the Grad-CAM upsampled to the input (nearest), exactly as Captum's ``GuidedGradCam``
    computes it, so with Guided Backprop and Grad-CAM also asked for it costs no pass of its own."""

    def __init__(self, model: AuditedModel, x: torch.Tensor, target: int, cfg: SaliencyConfig = SaliencyConfig(),
                 seed: int = 0):
        from captum import attr

        self.attr, self.model, self.target, self.cfg, self.seed = attr, model, target, cfg, seed
        self.x = x.clone().requires_grad_(True)
        self._guided = self._cam = None

    def map(self, method: str) -> np.ndarray:
        import warnings

        x = self.x
        with warnings.catch_warnings(), torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
            torch.manual_seed(self.seed)
            # Captum announces its ReLU hooks on every guided call; that is how the method works, not a problem
            warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")
            return self._map(method)

    def guided(self) -> torch.Tensor:
        if self._guided is None:
            self._guided = self.attr.GuidedBackprop(self.model.net).attribute(self.x, target=self.target)
        return self._guided

    def cam(self) -> torch.Tensor:
        """Grad-CAM at the layer's resolution, 1×1×h×w (ReLU applied)."""
        if self._cam is None:
            layer = self.model.layer(self.cfg.cam_layer)
            self._cam = self.attr.LayerGradCam(self.model.net, layer).attribute(self.x, target=self.target,
                                                                                 relu_attributions=True)
        return self._cam

    def _map(self, method: str) -> np.ndarray:
        attr, net, x, target, cfg = self.attr, self.model.net, self.x, self.target, self.cfg
        size = x.shape[2:]
        if method == "saliency":
            a = attr.Saliency(net).attribute(x, target=target, abs=True)
        elif method == "integrated_gradients":
            a = attr.IntegratedGradients(net).attribute(x, baselines=0.0, target=target, n_steps=cfg.ig_steps,
                                                        internal_batch_size=cfg.ig_batch)
        elif method == "smoothgrad":
            a = attr.NoiseTunnel(attr.Saliency(net)).attribute(
                x, nt_type="smoothgrad", nt_samples=cfg.smooth_samples, nt_samples_batch_size=cfg.smooth_samples,
                stdevs=cfg.smooth_sd, target=target, abs=True)
        elif method == "guided_backprop":
            a = self.guided()
        elif method == "guided_gradcam":
            a = self.guided() * attr.LayerAttribution.interpolate(self.cam(), size, "nearest")
        elif method == "gradcam":
            return to_numpy(attr.LayerAttribution.interpolate(self.cam(), size, "bilinear")[0, 0])
        elif method == "occlusion":
            w, s = cfg.occlusion(min(size))
            a = attr.Occlusion(net).attribute(x, target=target, sliding_window_shapes=(3, w, w), strides=(3, s, s),
                                              baselines=0.0, perturbations_per_eval=16)
        else:
            from ..errors import ParameterError

            raise ParameterError(f"unknown saliency method {method!r}; choose from {', '.join(METHODS)}")
        return to_numpy(a.sum(dim=1)[0])
