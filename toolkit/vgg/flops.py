"""How much arithmetic VGG-19 passes are, and how fast this machine does float32 arithmetic: together, the least
time a piece of work could take here, however well written, unless it made fewer or cheaper passes.

A pass is counted as :class:`torch.utils.flop_counter.FlopCounterMode` counts it (its convolutions and matrix
products, two FLOPs per multiply-add) on the meta device, so counting does no arithmetic. A backward pass goes to
the image only, with no weight gradients, as every styleseg pass does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import torch
from torch import nn

#: (architecture, shape, backward) → FLOPs
_CACHE: dict[tuple, int] = {}


def pass_flops(module: nn.Module, shape: tuple[int, ...], backward: bool = False) -> int:
    """FLOPs of one ``module`` call on one image of ``shape`` (C, H, W), and of the backward pass of its outputs'
    sum to the image if ``backward``."""
    # keyed by the architecture (its repr), not the weights: the audit's randomised copies count as the model
    key = (repr(module), tuple(shape), backward)
    if key not in _CACHE:
        _CACHE[key] = _count(module, tuple(shape), backward)
    return _CACHE[key]


def style_step_flops(layers: tuple[str, ...], shape: tuple[int, int]) -> int:
    """FLOPs of one VGG-19 forward+backward pass of an (h, w) image through the convolutions up to the deepest of
    ``layers``: a style step's passes, in either engine (the TensorFlow network has the same layers; the loss's
    Gram matrices are not counted)."""
    return pass_flops(_features(tuple(layers)), (3, *shape), backward=True)


def steps_flops(layers: tuple[str, ...], shape: tuple[int, ...], sizes: list[int]) -> int:
    """FLOPs of a stylisation's steps: one :func:`style_step_flops` per step, at the size of its pyramid level.

    shape : the full-size image's (h, w, …); sizes : each step's longer side (a run's recorded ``sizes``)"""
    from ..style.pyramid import level_shape

    return sum(style_step_flops(layers, level_shape(shape, s)) for s in sizes)


@lru_cache(maxsize=8)
def _features(layers: tuple[str, ...]) -> nn.Module:
    """VGG-19's convolution stack up to the deepest of ``layers``, on the meta device (no memory, no weights)."""
    from .layers import truncate_at
    from .torch_vgg import _feature_modules

    with torch.device("meta"):
        return nn.Sequential(*_feature_modules(truncate_at(layers))).requires_grad_(False)


def _count(module: nn.Module, shape: tuple[int, ...], backward: bool) -> int:
    from torch.func import functional_call
    from torch.utils.flop_counter import FlopCounterMode

    # meta stand-ins for the weights: the module's own code runs, on shapes alone
    state = {name: torch.empty_like(t, device="meta")
             for name, t in chain(module.named_parameters(), module.named_buffers())}
    x = torch.empty((1, *shape), device="meta", requires_grad=backward)
    with FlopCounterMode(display=False) as counter:
        out = functional_call(module, state, (x,))
        if backward:
            total = sum(o.sum() for o in out.values()) if isinstance(out, dict) else out.sum()
            total.backward()  # torch.autograd.grad trips the counter's module tracking
    return int(counter.get_total_flops())


def matmul_gflops(n: int = 2048, rounds: int = 3) -> float:
    """This machine's float32 rate now, in GFLOP/s: an n×n matrix product with every thread torch uses, the
    median of ``rounds`` after a warm-up: near the CPU's peak, and about what a well-tuned convolution gets (a
    :class:`Floor` takes the faster of this and the bare VGG-19 pass)."""
    from ..style.reference import median_ms

    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(n, n, generator=g), torch.rand(n, n, generator=g)
    return 2 * n ** 3 / median_ms(lambda: a @ b, rounds) / 1e6


@dataclass(frozen=True)
class Floor:
    """A piece of work's VGG-19 arithmetic against this machine's float32 rate.

    flops: the passes' FLOPs by part (e.g. ``{"stylisation steps": …, "audits": …}``); matmul_gflops: a large
    matrix product's rate; bare_gflops: the bare VGG-19 pass's rate in the same run (0 if not timed). The rate
    is the faster of the two, so the floor is the least time the passes could take at the rate this machine
    showed; seconds: the time the work took; what: the work, as the sentence names it."""

    flops: dict[str, int]
    matmul_gflops: float
    bare_gflops: float
    seconds: float
    what: str = "the work"

    @property
    def rate(self) -> float:
        return max(self.matmul_gflops, self.bare_gflops)

    @property
    def floor(self) -> float:
        """Seconds the passes need at least, at :attr:`rate`."""
        return sum(self.flops.values()) / self.rate / 1e9

    def sentence(self) -> str:
        """One line for a report: the arithmetic, the rate, the floor and how far above it the work took."""
        parts = ", ".join(f"{k} {_flop(v)}" for k, v in self.flops.items())
        bare = f"the bare pass {self.bare_gflops:.0f}, " if self.bare_gflops else ""
        return (f"{_flop(sum(self.flops.values()))} of VGG-19 passes ({parts}); at the float32 rate this machine "
                f"showed in the same run, {self.rate:.0f} GFLOP/s ({bare}a 2048² matrix product "
                f"{self.matmul_gflops:.0f}), they need at least {_short(self.floor)} s; {self.what} took "
                f"{_short(self.seconds)} s, {_short(self.seconds / self.floor)}× that floor")

    def to_json(self) -> dict:
        return {"flops": self.flops, "matmul_gflops": self.matmul_gflops, "bare_gflops": self.bare_gflops,
                "rate_gflops": self.rate, "floor_seconds": self.floor, "seconds": self.seconds}


def _flop(n: float) -> str:
    return f"{n / 1e12:.1f} TFLOP" if n >= 1e12 else f"{n / 1e9:.1f} GFLOP"


def _short(x: float) -> str:
    """Two significant digits under 10, whole numbers above (0.032, 4.1, 107)."""
    return f"{x:.0f}" if x >= 10 else f"{x:.2g}"
