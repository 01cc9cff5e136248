"""``stylize``: Gatys-style transfer over VGG-19, whole-image or confined to a region, in either engine."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import ParameterError
from ..io import resize_to
from ..segment.masks import REGIONS, binarize, region_mask, require_pixels
from .color import match_style_histogram, transfer_luminance
from .config import StyleConfig
from .engine import Level, StyleTerm
from .optimize import StepRecord, minimize, timed_recorder
from .pyramid import at_level, level_shape
from .regions import blend_region

log = logging.getLogger("styleseg")
ENGINES = ("torch", "tf")
MODES = ("guided", "composite")


@dataclass
class StyleResult:
    """A stylisation.

    image : float32 H×W×3 in [0, 1], longer side ``config.size``
    history : one :class:`StepRecord` per step (step, level, size, total, content, style, tv, seconds)
    stopped : None when every step ran, "interrupted" (Ctrl-C: best image so far) or "nan" (last good image)
    """

    image: np.ndarray
    history: list[StepRecord]
    config: StyleConfig
    engine: str
    weights: str
    device: str
    seconds: float
    stopped: str | None = None
    region: str | None = None
    mode: str | None = None
    environment: dict = field(default_factory=dict)

    @property
    def final_loss(self) -> float:
        return self.history[-1].total if self.history else float("nan")

    def summary(self) -> dict:
        """JSON-ready record of the run (no image)."""
        return {"engine": self.engine, "weights": self.weights, "device": self.device, "seconds": self.seconds,
                "stopped": self.stopped, "region": self.region, "mode": self.mode, "steps": len(self.history),
                "final_loss": self.final_loss, "config": self.config.to_dict(), "environment": self.environment}


def make_engine(engine: str, weights, cfg: StyleConfig, device: str = "auto"):
    """Build the PyTorch or TensorFlow engine for a ``--weights`` source; returns (engine, device name)."""
    from ..vgg.weights import load_state_dict, parse_weights

    source = parse_weights(weights)
    if engine == "torch":
        from ..device import choose_device
        from .torch_engine import TorchEngine

        dev = choose_device(device)
        return TorchEngine(load_state_dict(source), cfg, dev), str(dev)
    if engine == "tf":
        from ..vgg.tf_vgg import build_tf_features
        from .tf_engine import TFEngine

        return TFEngine(build_tf_features(source, cfg.content_layers + cfg.style_layers), cfg), "tf-cpu"
    raise ParameterError(f"engine must be torch or tf, got {engine!r}")


def stylize(content: np.ndarray, style: np.ndarray, cfg: StyleConfig | None = None, *, engine: str = "torch",
            mask: np.ndarray | None = None, region: str | None = None, mode: str = "guided",
            second_style: np.ndarray | None = None, weights="random:0", device: str = "auto",
            progress: bool = True, built=None) -> StyleResult:
    """Stylise ``content`` with ``style``, everywhere or only in one region.

    Parameters
    ----------
    content, style, second_style : float32 H×W×3 in [0, 1]
    cfg : StyleConfig
    engine : "torch" or "tf"
    mask : float32 H×W in [0, 1] (1 = foreground), the content's shape; needed with ``region``
    region : None (whole image), "foreground" or "background": where ``style`` goes
    mode : "guided" (style statistics matched inside the region only, masked Gram matrices) or "composite"
        (stylise the whole image, then blend with a feathered matte)
    second_style : optional style for the other region (then no pixel keeps the content)
    built : an (engine, device) pair from :func:`make_engine` to reuse across calls
    """
    cfg = cfg or StyleConfig()
    t0 = time.perf_counter()
    inside = _check(content, mask, region, mode, second_style, engine)
    if cfg.preserve_colors == "histogram":
        style = match_style_histogram(style, content)
        second_style = None if second_style is None else match_style_histogram(second_style, content)
    eng, dev = built or make_engine(engine, weights, cfg, device)
    from ..vgg.weights import parse_weights

    source = parse_weights(weights)
    source.warn_if_random()

    guided = inside is not None and mode == "guided"
    passes = [(style, second_style)] if guided or inside is None else [(style, None)] + (
        [(second_style, None)] if second_style is not None else [])
    history: list[StepRecord] = []
    outputs, stopped = [], None
    for first, second in passes:
        image, stopped = _optimise(eng, cfg, content, first, second, inside if guided else None, history, t0,
                                   progress, f"{engine} style")
        outputs.append(image)
        if stopped:
            break
    out_content = at_level(content, cfg.size)
    result = outputs[0]
    if cfg.preserve_colors == "luminance":
        result = transfer_luminance(result, out_content)
    if inside is not None:
        r = binarize(at_level(inside, cfg.size))
        if second_style is None:
            result = blend_region(result, out_content, r, cfg.feather)
        elif not guided and len(outputs) == 2:
            result = blend_region(result, outputs[1], r, cfg.feather)
    from ..provenance import environment

    return StyleResult(result.astype(np.float32), history, cfg, engine, source.label, dev,
                       time.perf_counter() - t0, stopped, region, mode if inside is not None else None,
                       environment(dev))


def _optimise(eng, cfg, content, style, second, inside, history, t0, progress, desc):
    """Coarse-to-fine optimisation of one image; returns (image at cfg.size, stopped)."""
    from tqdm.auto import tqdm

    x = None
    stopped = None
    bar = tqdm(total=cfg.steps, desc=desc, unit="step", disable=not progress, leave=False)
    try:
        for k, (size, steps) in enumerate(cfg.levels):
            c = at_level(content, size)
            h, w = c.shape[:2]
            terms = [StyleTerm(at_level(style, size), None if inside is None else binarize(at_level(inside, size)))]
            if second is not None:
                terms.append(StyleTerm(at_level(second, size), 1.0 - terms[0].region))
            x0 = _initial(cfg, c) if x is None else resize_to(x, (h, w))  # exact shape: no rounding drift
            outcome = minimize(eng.objective(Level(c, terms)), x0.ravel(), steps, cfg.optimizer, lr=cfg.lr,
                               history=cfg.history, on_step=timed_recorder(history, k, size, t0, bar))
            x = outcome.best.reshape(h, w, 3).astype(np.float32)
            stopped = outcome.stopped
            if stopped == "nan":
                log.error("the loss became NaN or infinite at step %d; kept the last good image (lower "
                          "--style-weight or the learning rate)", len(history))
            if stopped:
                break
    finally:
        bar.close()
    if stopped == "interrupted":
        log.warning("interrupted after %d steps: keeping the best image so far", len(history))
    return np.clip(resize_to(x, level_shape(content.shape, cfg.size)), 0.0, 1.0), stopped


def _initial(cfg: StyleConfig, content: np.ndarray) -> np.ndarray:
    if cfg.init == "content":
        return content.copy()
    rng = np.random.default_rng(cfg.seed)
    if cfg.init == "random":
        return rng.random(content.shape, dtype=np.float32)
    if cfg.init == "content+noise":
        return np.clip(content + rng.normal(0.0, 0.1, content.shape), 0.0, 1.0).astype(np.float32)
    from ..io import read_image

    return resize_to(read_image(cfg.init), content.shape[:2])


def _check(content, mask, region, mode, second_style, engine):
    """Validate the region arguments; return the region's own mask (or None for the whole image)."""
    if engine not in ENGINES:
        raise ParameterError(f"engine must be torch or tf, got {engine!r}")
    if mode not in MODES:
        raise ParameterError(f"mode must be guided or composite, got {mode!r}")
    if region is None:
        if second_style is not None:
            raise ParameterError("a second style needs --region: it goes to the region the first style does not")
        return None
    if region not in REGIONS:
        raise ParameterError(f"region must be foreground or background, got {region!r}")
    if mask is None:
        raise ParameterError(f"--region {region} needs a mask: give --mask FILE or --box X,Y,W,H")
    if mask.shape != content.shape[:2]:
        raise ParameterError(f"the mask is {mask.shape[1]}×{mask.shape[0]} but the content is "
                             f"{content.shape[1]}×{content.shape[0]}; use a mask of the content image")
    inside = region_mask(binarize(mask), region)
    require_pixels(inside, f"the {region}")
    return inside


def with_overrides(cfg: StyleConfig, **changes) -> StyleConfig:
    """``cfg`` with the given fields changed, ignoring those left as None."""
    return replace(cfg, **{k: v for k, v in changes.items() if v is not None})


__all__ = ["StyleResult", "stylize", "make_engine", "with_overrides"]
