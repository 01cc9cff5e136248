"""One configuration for both style engines."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..errors import ParameterError
from ..limits import MAX_STEPS
from ..vgg.layers import layer_index

#: The largest working size, longer side in pixels.
MAX_SIZE = 2048
#: The largest loss weight: the losses are relative errors of order 1, so 1e6 already drowns every other term,
#: and far larger weights overflow float32 in the engines (1e308 did).
MAX_LOSS_WEIGHT = 1e6

OPTIMIZERS = ("auto", "adam", "lbfgs")
#: The pyramid each optimiser gets when ``pyramid`` is left to it (None).
PYRAMIDS = {"adam": (), "lbfgs": (0.5,)}
INITS = ("content", "content+noise", "random")
COLOR_MODES = (None, "luminance", "histogram")
#: Default relative weight of each style layer: with the relative-error losses of :mod:`.losses`, these give each
#: of relu1_1…relu5_1 a comparable share of the step-0 gradient (each 13-31 % over three sample pairs with random
#: weights; equal weights gave relu5_1 ~10× relu1_1's share). A layer not listed weighs 1.
LAYER_BALANCE = {"relu1_1": 12.0, "relu2_1": 5.0, "relu3_1": 3.0, "relu4_1": 2.0, "relu5_1": 1.0}


@dataclass(frozen=True)
class StyleConfig:
    """Settings shared by the PyTorch and TensorFlow engines.

    One **step** is one evaluation of the loss and its gradient with respect to the image: one VGG-19 forward and
    backward pass. ``steps`` counts them across all pyramid levels (L-BFGS's line search evaluates more than
    once per iteration; each evaluation is a step).

    content_layers, style_layers : VGG-19 layer names (see :mod:`toolkit.vgg.layers`)
    style_layer_weights : one weight per style layer (default: :data:`LAYER_BALANCE`), normalised to sum to 1
    content_weight, style_weight, tv_weight : weights of the three losses in the total (see :mod:`.losses`).
        The losses are relative errors, so these mean the same with any weights and preprocessing; the defaults
        keep the step-0 style/content gradient ratio of the demo pair with random weights where it was before
        (about 1.4; ``styleseg stylize --explain-losses`` prints it), and TV at about 15 % of content
    optimizer : "adam" (Adam, pixels clipped to [0, 1]), "lbfgs" (SciPy's L-BFGS-B, pixels bounded to [0, 1]) or
        "auto" (the default; see :meth:`resolved`): Adam for a whole image, which ``styleseg bench converge``
        finds the fastest to a given loss (the only variant within 1.05x of the best loss after 120 steps, on
        three sample pairs at 128 px and one at 256 px), and L-BFGS-B for a guided region, where Adam's
        per-pixel steps move the pixels outside the region about as far as those inside and its loss stayed up
        to 28 % higher (the demo's foreground region at 128 px)
    lr : Adam's learning rate (pixels in [0, 1]); L-BFGS ignores it
    history : L-BFGS memory (number of correction pairs)
    steps : total steps over all levels
    size : output size, longer side in pixels
    pyramid : coarse levels before full size, as fractions of ``size``, e.g. (0.5,): 128 px then 256 px; () for
        none; None (the default): the optimiser's own (:data:`PYRAMIDS`: none for Adam, (0.5,) for L-BFGS-B).
        Levels under 32 px are skipped.
    level_share : share of ``steps`` spent on each coarse level (the rest at full size)
    init : "content", "content+noise" (the content plus seeded Gaussian noise, s.d. 0.1: seeds then differ while
        the start stays recognisable), "random" (seeded uniform noise) or a path to an image
    seed : seed of the random initialisation
    preserve_colors : None, "luminance" (keep the content's colours, take the stylised lightness) or "histogram"
        (match the style image's colour histogram to the content before optimising)
    feather : radius in pixels of the soft edge of the final region blend
    """

    content_layers: tuple[str, ...] = ("relu4_2",)
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    style_layer_weights: tuple[float, ...] | None = None
    content_weight: float = 1.0
    style_weight: float = 0.2
    tv_weight: float = 0.5
    optimizer: str = "auto"
    lr: float = 0.02
    history: int = 10
    steps: int = 120
    size: int = 256
    pyramid: tuple[float, ...] | None = None
    level_share: float = 0.6
    init: str = "content"
    seed: int = 0
    preserve_colors: str | None = None
    feather: float = 3.0

    def __post_init__(self):
        for name in self.content_layers + self.style_layers:
            layer_index(name)
        if not self.style_layers:
            raise ParameterError("choose at least one style layer, e.g. relu1_1")
        if self.style_layer_weights is not None and len(self.style_layer_weights) != len(self.style_layers):
            raise ParameterError(f"{len(self.style_layer_weights)} style layer weights for "
                                 f"{len(self.style_layers)} style layers; give one weight per layer")
        if self.optimizer not in OPTIMIZERS:
            raise ParameterError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ParameterError(f"steps must be 1 to {MAX_STEPS}, got {self.steps}")
        if not 32 <= self.size <= MAX_SIZE:
            raise ParameterError(f"size must be between 32 and {MAX_SIZE} pixels, got {self.size}")
        if any(not 0 < f < 1 for f in self.pyramid or ()):
            raise ParameterError(f"pyramid levels {self.pyramid} must be fractions of the size between 0 and 1")
        if not 0 <= self.level_share < 1:
            raise ParameterError(f"level_share must be in [0, 1), got {self.level_share}")
        weights = {"content_weight": self.content_weight, "style_weight": self.style_weight,
                   "tv_weight": self.tv_weight, **dict(enumerate(self.style_layer_weights or ()))}
        bad = {k: v for k, v in weights.items() if not (math.isfinite(v) and 0 <= v <= MAX_LOSS_WEIGHT)}
        if bad:
            given = ", ".join(f"{k if isinstance(k, str) else f'style layer {k} weight'} {v:g}" for k, v in bad.items())
            raise ParameterError(f"loss weights must be finite numbers from 0 to {MAX_LOSS_WEIGHT:,.0f}; got {given}")
        if self.preserve_colors not in COLOR_MODES:
            raise ParameterError(f"preserve_colors must be luminance or histogram, got {self.preserve_colors!r}")
        if self.init not in INITS and not (self.init.startswith("sample:") or Path(self.init).is_file()):
            raise ParameterError(f"init must be {', '.join(INITS)} or an image file, got {self.init!r}")
        if not (math.isfinite(self.lr) and self.lr > 0) or self.history < 1:
            raise ParameterError("lr must be positive and history at least 1")

    @property
    def layer_weights(self) -> tuple[float, ...]:
        w = self.style_layer_weights or tuple(LAYER_BALANCE.get(n, 1.0) for n in self.style_layers)
        return tuple(v / sum(w) for v in w)

    def resolved(self, region: bool) -> StyleConfig:
        """This configuration with "auto" and the optimiser's own pyramid made concrete, for a run on a guided
        ``region`` (True) or on a whole image (False; composite blends also optimise the whole image)."""
        optimizer = self.optimizer if self.optimizer != "auto" else ("lbfgs" if region else "adam")
        return replace(self, optimizer=optimizer, pyramid=PYRAMIDS[optimizer] if self.pyramid is None else self.pyramid)

    @property
    def levels(self) -> list[tuple[int, int]]:
        """(size, steps) for each pyramid level, coarse to fine; the steps add up to ``steps``. A pyramid left to
        an "auto" optimiser is ambiguous: use :meth:`resolved` first."""
        return self.levels_for()

    def levels_for(self, *shapes: tuple[int, ...]) -> list[tuple[int, int]]:
        """:attr:`levels` for images of these shapes (H, W, …): the content and the styles. A coarse level at
        which one of them would be too thin for VGG-19 (:func:`.pyramid.fits`) is left out, its steps going to
        the other levels; that the full size fits is :func:`.pyramid.require_fit`'s to check."""
        from .pyramid import fits

        if self.pyramid is None and self.optimizer == "auto":
            raise ValueError("the pyramid depends on the run (whole image or region): use cfg.resolved(region)")
        pyramid = self.resolved(region=False).pyramid  # unambiguous here: the region no longer matters
        sizes = sorted({round(f * self.size) for f in pyramid
                        if f * self.size >= 32 and all(fits(s, round(f * self.size)) for s in shapes)}) + [self.size]
        if len(sizes) == 1:
            return [(self.size, self.steps)]
        coarse = round(self.steps * self.level_share / (len(sizes) - 1))
        plan = [(s, coarse) for s in sizes[:-1]]
        return plan + [(self.size, self.steps - coarse * (len(sizes) - 1))]

    def to_dict(self) -> dict:
        return asdict(self)
