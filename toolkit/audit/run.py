"""``audit``: every audit stage on one image, with per-stage timings."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import ParameterError, SegmentationError
from .attention import attention_share
from .faithfulness import DELETION_BASELINES, curves
from .features import channel_grid, layer_activations, layer_figures
from .framing import frame
from .model import load_model
from .saliency import METHODS, Attributor, SaliencyConfig
from .sanity import STAGES, randomization_check
from .shortcut import shortcut_probe

log = logging.getLogger("styleseg")


@dataclass(frozen=True)
class AuditConfig:
    """methods: saliency methods (see :data:`METHODS`); layers: feature-map layers; target: ImageNet class index
    (None: the top-1 class); size: a square is cropped from the image around the object (aspect ratio kept, see
    :mod:`.framing`) and resized to size×size (VGG-19's 224 by default); sanity_steps: stages of the
    randomisation cascade (:data:`.sanity.STAGES`: classifier, block5, block4, block3, …; 0 skips it);
    curve_steps: points on the deletion/insertion curves (0 skips them); deletion_baseline: "black" or "mean";
    shortcut: run the shortcut probe (needs a mask and a style image) with ``shortcut_controls`` area-matched
    random regions; seed: noise seed of SmoothGrad and of every random choice."""

    methods: tuple[str, ...] = METHODS
    layers: tuple[str, ...] = ("relu1_1", "relu3_1", "relu5_1")
    target: int | None = None
    size: int = 224
    sanity_steps: int = 4
    curve_steps: int = 10
    deletion_baseline: str = "black"
    shortcut: bool = False
    shortcut_size: int = 128
    shortcut_steps: int = 30
    shortcut_controls: int = 8
    seed: int = 0
    saliency: SaliencyConfig = SaliencyConfig()

    def __post_init__(self):
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise ParameterError(f"unknown saliency method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
        if not 32 <= self.size <= 1024:
            raise ParameterError(f"audit size must be between 32 and 1024 pixels, got {self.size}")
        if self.target is not None and not 0 <= self.target < 1000:
            raise ParameterError(f"target must be an ImageNet class index 0-999, got {self.target}")
        if not 0 <= self.sanity_steps <= len(STAGES):
            raise ParameterError(f"sanity steps must be 0-{len(STAGES)} (stages {', '.join(STAGES)}), "
                                 f"got {self.sanity_steps}")
        if self.deletion_baseline not in DELETION_BASELINES:
            raise ParameterError(f"deletion baseline must be {' or '.join(DELETION_BASELINES)}, "
                                 f"got {self.deletion_baseline!r}")
        if self.shortcut_controls < 1:
            raise ParameterError(f"the shortcut probe needs at least 1 control, got {self.shortcut_controls}")


@dataclass
class AuditResult:
    """Everything the audit found. ``image`` and ``mask`` are the audit's square crop at its size (``framing``
    says where it came from); ``maps`` are H×W float32."""

    image: np.ndarray
    mask: np.ndarray | None
    predictions: list[tuple[int, str, float]]
    target: int
    maps: dict[str, np.ndarray]
    attention: dict[str, dict] | None
    features: dict[str, dict]
    feature_grids: dict[str, np.ndarray]
    sanity: dict | None
    faithfulness: dict | None
    shortcut: dict | None
    config: AuditConfig
    weights: str
    device: str
    seconds: float
    timings: dict[str, float]
    framing: dict = field(default_factory=dict)
    cpu_timings: dict[str, float] = field(default_factory=dict)  # CPU seconds per stage, all threads
    environment: dict = field(default_factory=dict)
    #: each stage's (start, end) in ``time.perf_counter()`` seconds, to place other measurements of this process
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def random_weights(self) -> bool:
        """Whether an untrained VGG-19 made this audit (its maps and verdicts then mean nothing): ``weights`` is a
        source's label, ``random:SEED`` for random weights."""
        return self.weights.startswith("random:")

    def to_json(self) -> dict:
        """Every figure, JSON-ready (maps and images left out): top-5 ``predictions`` (the first is top-1),
        ``attention`` (per method: share, ``ratio`` to the object's area, its interval and verdict),
        ``faithfulness`` (normalised deletion/insertion AUCs per method and for a random map), ``sanity``,
        ``shortcut`` (with its area-matched controls), ``framing``, settings, timings and provenance. An
        undefined figure (a map with no positive attribution has no attention share, a constant map no rank
        correlation) is None, JSON's null: strict JSON has no NaN."""
        from ..io import null_undefined

        return null_undefined({
            "predictions": self.predictions, "target": self.target, "framing": self.framing,
            "attention": self.attention, "features": self.features, "sanity": self.sanity,
            "faithfulness": self.faithfulness, "shortcut": self.shortcut, "config": asdict(self.config),
            "weights": self.weights, "random_weights": self.random_weights, "device": self.device,
            "seconds": self.seconds, "timings": self.timings,
            "cpu_timings": self.cpu_timings, "environment": self.environment,
            "map_stats": {m: {"min": float(a.min()), "max": float(a.max()), "all_zero": not a.any()}
                          for m, a in self.maps.items()}})


def audit(image: np.ndarray, cfg: AuditConfig | None = None, *, mask: np.ndarray | None = None,
          style: np.ndarray | None = None, weights="random:0", device: str = "cpu",
          styled: tuple[np.ndarray, str] | None = None) -> AuditResult:
    """Audit VGG-19 on ``image`` (float32 H×W×3 in [0, 1]); ``mask`` (H×W in [0, 1], 1 = object, with some
    background) enables the attention figures and the shortcut probe (which also needs ``style``). Arrays are
    checked by :func:`toolkit.io.as_image` / :func:`toolkit.io.as_mask` before any work. Everything runs on
    ``device`` (a name or a ``torch.device``); the model is built once per process and weights source, and reused.

    styled : ``image`` already stylised with ``style`` (H×W×3 in [0, 1], the same shape) and a few words on how,
        for the shortcut probe to reuse (a study passes one of its own runs) instead of stylising again"""
    from ..io import as_image, as_mask
    from ..provenance import environment
    from ..segment.masks import require_pixels
    from ..vgg.weights import parse_weights

    cfg = cfg or AuditConfig()
    source = parse_weights(weights)
    source.warn_if_random()
    t0 = time.perf_counter()
    timings, cpu, spans = {}, {}, {}
    cpu_since = [time.process_time()]

    def lap(name, since):
        now = time.perf_counter()
        timings[name], spans[name] = round(now - since, 3), (since, now)
        cpu[name] = round(time.process_time() - cpu_since[0], 3)  # all threads: on a busy machine, the work done
        cpu_since[0] = time.process_time()
        return now

    image = as_image(image)
    if mask is not None:
        mask = as_mask(mask, image.shape[:2])
    if style is not None:
        style = as_image(style, "the style image")
    if styled is not None:
        styled = (as_image(styled[0], "the stylised image"), styled[1])
    img, m, framing = frame(image, mask, cfg.size)
    if m is not None:
        require_pixels(m, "the object mask")
        if m.all():
            raise SegmentationError(f"the mask covers the whole {framing['box'][2]}×{framing['box'][2]} square "
                                    f"the audit crops, so there is no background to compare the object with; give "
                                    f"a mask with the background in 0")
    if cfg.shortcut and (m is None or style is None):
        raise ParameterError("the shortcut probe needs a mask (--mask or --box) and a style image (--style)")
    t = time.perf_counter()
    model = load_model(source, device)
    x = model.batch(img)
    predictions = model.top5(x)
    target = predictions[0][0] if cfg.target is None else cfg.target
    t = lap("model", t)
    acts = layer_activations(model, x, cfg.layers)
    features = {n: layer_figures(a) for n, a in acts.items()}
    grids = {n: channel_grid(a, features[n]["top_channels"][:8]) for n, a in acts.items()}
    t = lap("features", t)
    maps, attributor = {}, Attributor(model, x, target, cfg.saliency, cfg.seed)
    for method in cfg.methods:
        maps[method] = attributor.map(method)
        t = lap(f"saliency:{method}", t)
    attention = {k: attention_share(v, m, cfg.seed) for k, v in maps.items()} if m is not None else None
    cheap = {k: v for k, v in maps.items() if k != "occlusion"}  # 49 forward passes per stage for no new insight
    sanity = randomization_check(model, x, target, cheap, cfg.sanity_steps, cfg.seed, cfg.saliency) \
        if cfg.sanity_steps else None
    t = lap("sanity", t)
    faith = curves(model, img, maps, target, cfg.curve_steps, cfg.seed, cfg.deletion_baseline) \
        if cfg.curve_steps else None
    t = lap("faithfulness", t)
    if styled is not None:
        if styled[0].shape != image.shape:
            raise ParameterError(f"the stylised image is {styled[0].shape[1]}×{styled[0].shape[0]}, the image "
                                 f"{image.shape[1]}×{image.shape[0]}; pass a stylisation of this image")
        styled = (frame(styled[0], mask, cfg.size)[0], styled[1])  # the same square as the image's
    shortcut = shortcut_probe(model, img, m, style, source, cfg.shortcut_size, cfg.shortcut_steps, cfg.seed,
                              cfg.shortcut_controls, styled) if cfg.shortcut else None
    lap("shortcut", t)
    return AuditResult(img, m, predictions, target, maps, attention, features, grids, sanity, faith, shortcut, cfg,
                       source.label, str(model.device), time.perf_counter() - t0, timings, framing, cpu,
                       environment(str(model.device)), spans)
