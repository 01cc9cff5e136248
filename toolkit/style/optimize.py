"""The optimiser both engines share: it sees only ``objective(x) -> (loss, gradient, parts)``.

L-BFGS is SciPy's L-BFGS-B with every pixel bounded to [0, 1]; Adam is a plain NumPy Adam clipped to [0, 1].
Because both engines hand the same kind of objective to the same code, they differ only in how VGG-19 and the
losses are computed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

Objective = Callable[[np.ndarray], tuple[float, np.ndarray, dict]]


@dataclass
class StepRecord:
    """One step: losses (weighted total, unweighted parts) and wall time since the run began."""

    step: int
    level: int
    size: int
    total: float
    content: float
    style: float
    tv: float
    seconds: float


@dataclass
class Outcome:
    best: np.ndarray          # the evaluated image with the lowest total loss (flat float64)
    best_loss: float
    stopped: str | None       # None, "interrupted", "nan" or "early" (L-BFGS-B ended by itself)
    steps: int = 0            # evaluations actually run
    message: str | None = None  # SciPy's exit message when L-BFGS-B ended before ``steps`` evaluations


class _Stop(Exception):
    pass


def minimize(objective: Objective, x0: np.ndarray, steps: int, optimizer: str, *, lr: float = 0.02,
             history: int = 10, on_step: Callable[[float, dict], None] | None = None) -> Outcome:
    """Run ``steps`` evaluations of ``objective`` from ``x0`` (values in [0, 1]); keep the best image.

    Ctrl-C stops and keeps the best image so far (``stopped="interrupted"``); a NaN or infinite loss stops and
    keeps the last good one (``stopped="nan"``). L-BFGS-B can also end by itself before ``steps`` evaluations
    (converged, or its line search failed): ``stopped="early"``, with SciPy's message.
    """
    state = {"n": 0, "best": x0.astype(np.float64).copy(), "best_loss": math.inf, "stopped": None, "message": None}

    def counted(x: np.ndarray):
        if state["n"] >= steps:
            raise _Stop
        loss, grad, parts = objective(x)
        if not (math.isfinite(loss) and np.isfinite(grad).all()):
            state["stopped"] = "nan"
            raise _Stop
        state["n"] += 1
        if loss < state["best_loss"]:
            state["best"], state["best_loss"] = x.copy(), loss
        if on_step:
            on_step(loss, parts)
        return loss, grad

    # NumPy/SciPy's OpenBLAS threads busy-wait after each L-BFGS-B call and starve the VGG passes of the cores
    # (steps measured twice as slow on 2 cores); the optimiser's vector algebra needs no threads.
    with threadpool_limits(1, user_api="blas"):
        _run(counted, x0, steps, optimizer, lr, history, state)
    return Outcome(state["best"], state["best_loss"], state["stopped"], state["n"], state["message"])


def _run(counted, x0, steps, optimizer, lr, history, state) -> None:
    try:
        if optimizer == "lbfgs":
            from scipy.optimize import Bounds
            from scipy.optimize import minimize as scipy_minimize

            # arrays, not a list of (0, 1) pairs, which SciPy first checks pair by pair (~0.04 s a call at 128 px)
            res = scipy_minimize(counted, x0.astype(np.float64), jac=True, method="L-BFGS-B",
                                 bounds=Bounds(np.zeros(x0.size), np.ones(x0.size)),
                                 options={"maxfun": steps + 1, "maxiter": steps, "maxcor": history,
                                          "ftol": 0.0, "gtol": 0.0})
            if state["n"] < steps:  # SciPy returned before the step budget raised _Stop
                state["stopped"], state["message"] = "early", str(res.message)
        else:
            _adam(counted, x0.astype(np.float64), steps, lr)
    except _Stop:
        pass
    except KeyboardInterrupt:
        state["stopped"] = "interrupted"


def _adam(f, x, steps, lr, b1=0.9, b2=0.999, eps=1e-8):
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    for t in range(1, steps + 1):
        _, g = f(x)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = np.clip(x - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), 0.0, 1.0)


def timed_recorder(records: list[StepRecord], level: int, size: int, t0: float, bar=None):
    """An ``on_step`` callback that appends a :class:`StepRecord` and advances a progress bar."""

    def on_step(loss: float, parts: dict) -> None:
        records.append(StepRecord(len(records) + 1, level, size, loss, parts["content"], parts["style"],
                                  parts["tv"], time.perf_counter() - t0))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4g}", size=size, refresh=False)

    return on_step
