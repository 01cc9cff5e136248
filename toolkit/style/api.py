"""``stylize``: Gatys-style transfer over VGG-19, whole-image or confined to a region, in either engine."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import ParameterError
from ..io import as_image, as_mask, resize_to
from ..segment.masks import REGIONS, binarize, region_mask, require_pixels
from .color import match_style_histogram, transfer_luminance
from .config import StyleConfig
from .engine import Level, StyleTerm
from .optimize import StepRecord, minimize, timed_recorder
from .pyramid import at_level, level_shape, require_images_fit
from .regions import blend_region

log = logging.getLogger("styleseg")
ENGINES = ("torch", "tf")
MODES = ("guided", "composite")
HALTS = ("interrupted", "nan")  # stops that end a run; "early" (L-BFGS-B's own end) only ends a level


@dataclass
class StyleResult:
    """A stylisation.

    image : float32 H×W×3 in [0, 1], longer side ``config.size``
    before_blend : the engine's image before the final region blend (after colour preservation), same shape;
        ``image`` itself when there is no region
    history : one :class:`StepRecord` per step (step, level, size, total, content, style, tv, seconds)
    stopped : None when every step ran, "interrupted" (Ctrl-C: best image so far), "nan" (last good image) or
        "early" (L-BFGS-B ended a level by itself; ``stop_message`` says why)
    stop_message : SciPy's exit message(s) for early ends, with the level and the steps it ran, else None
    trace_seconds : time spent tracing graphs (TensorFlow; 0 for PyTorch), included in ``seconds``
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
    before_blend: np.ndarray | None = None
    stop_message: str | None = None
    trace_seconds: float = 0.0

    @property
    def final_loss(self) -> float:
        return self.history[-1].total if self.history else float("nan")

    def summary(self) -> dict:
        """JSON-ready record of the run (no image)."""
        return {"engine": self.engine, "weights": self.weights, "device": self.device, "seconds": self.seconds,
                "trace_seconds": self.trace_seconds, "stopped": self.stopped, "stop_message": self.stop_message,
                "region": self.region, "mode": self.mode, "steps": len(self.history),
                "steps_planned": self.config.steps, "final_loss": self.final_loss,
                "config": self.config.to_dict(), "environment": self.environment}


def make_engine(engine: str, weights, cfg: StyleConfig, device: str = "auto"):
    """The PyTorch or TensorFlow engine for a ``--weights`` source and ``cfg``; returns (engine, device name).

    Networks are built once per process for each engine, weight source, device and set of layers, and shared:
    later calls (other seeds, images, settings) get the same network, and for TensorFlow the same traced graphs.
    """
    from ..vgg.weights import parse_weights

    if engine not in ENGINES:
        raise ParameterError(f"engine must be torch or tf, got {engine!r}")
    if engine == "torch":
        from ..device import choose_device

        dev = str(choose_device(device))
    else:
        dev = "tf-cpu"
    source = parse_weights(weights)
    stamp = source.path.stat().st_mtime_ns if source.path else None  # a rewritten file is a new source
    built = _build(engine, source, stamp, dev, tuple(dict.fromkeys(cfg.content_layers + cfg.style_layers)))
    return built.with_config(cfg), dev


@functools.lru_cache(maxsize=4)
def _build(engine: str, source, stamp, device: str, layers: tuple[str, ...]):
    from ..vgg.weights import load_state_dict

    cfg = StyleConfig(content_layers=layers, style_layers=layers)  # only its layers matter: with_config follows
    if engine == "torch":
        import torch

        from .torch_engine import TorchEngine

        return TorchEngine(load_state_dict(source), cfg, torch.device(device))
    from ..vgg.tf_vgg import build_tf_features
    from .tf_engine import TFEngine

    return TFEngine(build_tf_features(source, layers), cfg)


def stylize(content: np.ndarray, style: np.ndarray, cfg: StyleConfig | None = None, *, engine: str = "torch",
            mask: np.ndarray | None = None, region: str | None = None, mode: str = "guided",
            second_style: np.ndarray | None = None, weights="random:0", device: str = "auto",
            progress: bool = True, built=None) -> StyleResult:
    """Stylise ``content`` with ``style``, everywhere or only in one region.

    Parameters
    ----------
    content, style, second_style : float32 H×W×3 in [0, 1] (float64, views and read-only arrays are converted;
        uint8, 0-255 floats, NaN, grayscale and RGBA are refused: see :func:`toolkit.io.as_image`)
    cfg : StyleConfig
    engine : "torch" or "tf"
    mask : float32 H×W in [0, 1] (1 = foreground; boolean and 0/1 integers too), the content's shape; needed
        with ``region``, refused without it
    region : None (whole image), "foreground" or "background": where ``style`` goes
    mode : "guided" (style statistics matched inside the region only, masked Gram matrices) or "composite"
        (stylise the whole image, then blend with a feathered matte)
    second_style : optional style for the other region (then no pixel keeps the content)
    built : an (engine, device) pair from :func:`make_engine` to reuse across calls
    """
    t0 = time.perf_counter()
    content, style = as_image(content, "the content image"), as_image(style, "the style image")
    if second_style is not None:
        second_style = as_image(second_style, "the second style")
    inside = _check(content, mask, region, mode, second_style, engine)
    guided = inside is not None and mode == "guided"
    cfg = (cfg or StyleConfig()).resolved(region=guided)  # the result records the optimiser that ran
    require_images_fit(cfg.size, content, style, second_style)
    if cfg.preserve_colors == "histogram":
        style = match_style_histogram(style, content)
        second_style = None if second_style is None else match_style_histogram(second_style, content)
    eng, dev = built or make_engine(engine, weights, cfg, device)
    eng = eng.with_config(cfg)  # a reused engine may have been made for other settings
    traced_before = eng.trace_seconds
    from ..vgg.weights import parse_weights

    source = parse_weights(weights)
    source.warn_if_random()

    passes = [(style, second_style)] if guided or inside is None else [(style, None)] + (
        [(second_style, None)] if second_style is not None else [])
    history: list[StepRecord] = []
    outputs, stopped, early = [], None, []
    for first, second in passes:
        image, stopped = _optimise(eng, cfg, content, first, second, inside if guided else None, history, t0,
                                   progress, f"{engine} style", early)
        outputs.append(image)
        if stopped in HALTS:
            break
    out_content = at_level(content, cfg.size)
    if cfg.preserve_colors == "luminance":  # every stylised output, the second style's too
        outputs = [transfer_luminance(image, out_content) for image in outputs]
    before = result = outputs[0]
    if inside is not None:
        r = binarize(at_level(inside, cfg.size))
        if second_style is None:
            result = blend_region(before, out_content, r, cfg.feather)
        elif not guided and len(outputs) == 2:
            result = blend_region(before, outputs[1], r, cfg.feather)
    from ..provenance import environment

    return StyleResult(result.astype(np.float32), history, cfg, engine, source.label, dev,
                       time.perf_counter() - t0, stopped or ("early" if early else None), region,
                       mode if inside is not None else None, environment(dev), before_blend=before.astype(np.float32),
                       stop_message="; ".join(early) or None, trace_seconds=eng.trace_seconds - traced_before)


def _optimise(eng, cfg, content, style, second, inside, history, t0, progress, desc, early):
    """Coarse-to-fine optimisation of one image; returns (image at cfg.size, stopped).

    A level that L-BFGS-B ends by itself is noted in ``early`` (and logged) and the next level still runs;
    an interrupt or a NaN ends the run.
    """
    from tqdm.auto import tqdm

    x = None
    stopped = None
    bar = tqdm(total=cfg.steps, desc=desc, unit="step", disable=not progress, leave=False)
    try:
        shapes = [image.shape for image in (content, style, second) if image is not None]
        for k, (size, steps) in enumerate(cfg.levels_for(*shapes)):
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
            if stopped == "early":
                early.append(f"{size} px level: L-BFGS-B stopped after {outcome.steps} of {steps} steps "
                             f"({outcome.message})")
                log.warning("%s", early[-1])
                bar.update(steps - outcome.steps)
            if stopped == "nan":
                log.error("the loss became NaN or infinite at step %d; kept the last good image (lower "
                          "--style-weight or the learning rate)", len(history))
            if stopped in HALTS:
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
        if mask is not None:
            raise ParameterError("a mask needs region='foreground' or region='background' (the region that gets "
                                 "the style); without a region the whole image is stylised, so leave the mask out")
        return None
    if region not in REGIONS:
        raise ParameterError(f"region must be foreground or background, got {region!r}")
    if mask is None:
        raise ParameterError(f"--region {region} needs a mask: give --mask FILE or --box X,Y,W,H")
    mask = as_mask(mask, content.shape[:2], of="the content image")
    inside = region_mask(binarize(mask), region)
    require_pixels(inside, f"the {region}")
    return inside


def with_overrides(cfg: StyleConfig, **changes) -> StyleConfig:
    """``cfg`` with the given fields changed, ignoring those left as None."""
    return replace(cfg, **{k: v for k, v in changes.items() if v is not None})


__all__ = ["StyleResult", "stylize", "make_engine", "with_overrides"]
