"""Counting the VGG-19 passes a piece of work makes, and what they would cost on their own.

A run that is mostly VGG-19 passes can only get faster by making fewer of them; one that spends its time
elsewhere has waste to remove. :class:`PassCounter` tells which: it records every forward pass of a VGG-19 network
(the audit's classifier or a style engine's feature extractor), whether a backward pass went through it, and
then times each kind of pass again, bare, on this machine, so the passes' own cost can be set beside the run's
wall time.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import torch
from torch import nn

from ..style.reference import median_ms

#: A pass is timed again at this many images at most, per image: larger batches cost the same per image on a
#: CPU (128 px, VGG-19 with its classifier: 68 ms at 8, 16 and 32 images), so timing them whole would be waste.
TIMING_BATCH = 8


@dataclass
class Pass:
    """One forward pass of ``module``: ``images`` images of ``shape`` (C, H, W); ``backward``: a gradient went
    back through it to the images (a backward pass that stops at a layer, as Grad-CAM's does, is not counted);
    ``start``: ``time.perf_counter()`` when it began."""

    module: nn.Module
    images: int
    shape: tuple[int, ...]
    backward: bool
    start: float

    @property
    def kind(self) -> tuple:
        """What its bare cost per image depends on: the network, the image shape, a backward pass or not, and a
        batch of one or more (a single image costs more per image)."""
        return id(self.module), self.shape, self.backward, self.images == 1


class PassCounter:
    """Records every VGG-19 forward pass (torchvision's ``VGG`` or :class:`.torch_vgg.VGGFeatures`) made inside
    ``with PassCounter() as counter:``, and whether a backward pass followed, in :attr:`passes`."""

    def __init__(self):
        self.passes: list[Pass] = []
        self._handles = []

    def __enter__(self) -> PassCounter:
        from torchvision.models import VGG

        from .torch_vgg import VGGFeatures

        self._vgg = (VGG, VGGFeatures)  # the hooks see every module's call: the check must be cheap
        hooks = nn.modules.module
        self._handles = [hooks.register_module_forward_pre_hook(self._begin),
                         hooks.register_module_forward_hook(self._end)]
        self._open: dict[int, list[float]] = {}
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()

    def _begin(self, module, args):
        if isinstance(module, self._vgg):
            self._open.setdefault(id(module), []).append(time.perf_counter())

    def _end(self, module, args, output):
        if not isinstance(module, self._vgg):
            return
        x = args[0]
        record = Pass(module, int(x.shape[0]), tuple(x.shape[1:]), False, self._open[id(module)].pop())
        self.passes.append(record)
        if x.requires_grad:  # the gradient reaches the images only through the whole network
            def seen(grad):
                record.backward = True
            x.register_hook(seen)

    def images(self, since: float = float("-inf"), until: float = float("inf")) -> Counter:
        """Images passed forward and back (``"forward+backward"``) and forward only (``"forward"``), in passes
        begun in [since, until)."""
        out = Counter()
        for p in self.passes:
            if since <= p.start < until:
                out["forward+backward" if p.backward else "forward"] += p.images
        return out

    def bare_costs(self, rounds: int = 2) -> dict[tuple, float]:
        """Seconds per image of each kind of pass recorded (:attr:`Pass.kind`), timed now on random images of the
        same shape, up to :data:`TIMING_BATCH` at a time: the median of ``rounds`` after a warm-up. Call it after
        the ``with`` block, so that these passes are not counted."""
        costs = {}
        for p in list(self.passes):
            if p.kind not in costs:
                n = min(p.images, TIMING_BATCH)
                costs[p.kind] = median_ms(_bare(p.module, (n, *p.shape), p.backward), rounds) / 1000 / n
        return costs

    def flops(self, since: float = float("-inf"), until: float = float("inf")) -> int:
        """FLOPs of the passes begun in [since, until) (:func:`.flops.pass_flops`)."""
        from .flops import pass_flops

        kinds = Counter()
        for p in self.passes:
            if since <= p.start < until:
                kinds[p.module, p.shape, p.backward] += p.images
        return sum(pass_flops(module, shape, backward) * n for (module, shape, backward), n in kinds.items())

    def cost(self, costs: dict[tuple, float], since: float = float("-inf"), until: float = float("inf")) -> float:
        """Seconds the passes begun in [since, until) would take bare, at ``costs`` (from :meth:`bare_costs`)."""
        return sum(costs[p.kind] * p.images for p in self.passes if since <= p.start < until)


def _bare(module: nn.Module, shape: tuple[int, ...], backward: bool):
    """One call of ``module`` on random images of ``shape``, and the backward pass of its outputs' sum to the
    images if ``backward``."""
    device = next(module.parameters()).device
    x = torch.rand(shape, generator=torch.Generator().manual_seed(0)).to(device)

    def once():
        if not backward:
            with torch.no_grad():
                module(x)
            return
        xg = x.clone().requires_grad_(True)
        out = module(xg)
        total = sum(o.sum() for o in out.values()) if isinstance(out, dict) else out.sum()
        torch.autograd.grad(total, xg)

    return once
