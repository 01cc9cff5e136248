"""``styleseg bench style``: cost of an optimisation step against a bare VGG-19 pass, and end-to-end times."""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace

from .common import add_bench_options, parse_names

#: The sizes timed, each with its number of timed pairs per figure (after one warm-up; medians). At 128 px one slow
#: pass in three moved a ratio by 0.3 (a step costs 0.15 s there, so 7 pairs add 2 s); at 256 px three pairs moved
#: the figures by under 2 % against six.
ROUNDS = {128: 7, 256: 3}
#: The end-to-end runs take 1/RUN_SHARE of the default steps (the same schedule, shorter): 20 steps still show the
#: pyramid's effect on time and loss, and keep the whole benchmark near a minute on a 2-core CPU (30 steps: 55 s).
RUN_SHARE = 6


def register(targets) -> None:
    p = targets.add_parser("style", help="ms per step vs a bare VGG forward+backward; 256 px masked runs",
                           description="For each engine at 128 and 256 px: ms per optimisation step, ms per bare "
                                       "VGG-19 forward + backward (cut at the same layer), and their ratio (medians "
                                       f"of {ROUNDS[128]} and {ROUNDS[256]}, timed in alternation) with a 95 % "
                                       "bootstrap interval over the timed pairs; then the wall time "
                                       f"of a 256 px masked stylisation with 1/{RUN_SHARE} of the default steps, with "
                                       "and without the coarse-to-fine pyramid, and the final 256 px loss of each. The "
                                       "machine's load average is printed before and after.")
    p.add_argument("--engines", default="torch,tf", help="comma-separated engines to time: torch, tf or both "
                                                          "(default: torch,tf)")
    p.add_argument("--skip-runs", action="store_true", help="only the per-step figures")
    add_bench_options(p, run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..io import read_image
    from ..style import StyleConfig
    from ..style.api import make_engine
    from ..style.reference import bare_pass

    engines = parse_names(args.engines, "--engines", ("torch", "tf"), "engine", "torch, tf or torch,tf")
    content, style = read_image("sample:astronaut"), read_image("sample:coffee")
    cfg = StyleConfig()
    report = {"weights": args.weights, "load_before": os.getloadavg(), "steps": {}, "runs": {}}
    for engine in engines:
        eng, _ = make_engine(engine, args.weights, cfg)
        for size, rounds in ROUNDS.items():
            step_ms, bare_ms = _interleaved(_step(eng, content, style, size), bare_pass(eng, size), rounds)
            step, bare = float(np.median(step_ms)), float(np.median(bare_ms))
            low, high = ratio_interval(step_ms, bare_ms)
            report["steps"][f"{engine}@{size}"] = {"step_ms": step, "bare_ms": bare, "ratio": step / bare,
                                                   "ratio_low": low, "ratio_high": high}
    if not args.skip_runs:
        report["runs"] = _runs(content, style, replace(cfg, steps=cfg.steps // RUN_SHARE), args.weights)
    report["load_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"style engines ({args.weights}); a step = one loss + gradient evaluation")
    print(f"{'engine@size':<14}{'step ms':>10}{'bare VGG f+b ms':>18}{'ratio':>8}{'95% interval':>15}")
    for key, r in report["steps"].items():
        print(f"{key:<14}{r['step_ms']:>10.0f}{r['bare_ms']:>18.0f}{r['ratio']:>8.2f}"
              f"{r['ratio_low']:>9.2f}-{r['ratio_high']:.2f}")
    for key, r in report["runs"].items():
        print(f"{key:<48} {r['seconds']:6.1f} s   final loss at 256 px {r['loss_256']:.4g}")
    print("load average (1, 5, 15 min): before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
        *report["load_before"], *report["load_after"]))
    return 0


def _interleaved(step, bare, rounds: int) -> tuple[list[float], list[float]]:
    """ms of each call of each, timed in alternation (pair i: step then bare) so that both see the same load."""
    step(), bare()  # warm-up: tracing, allocation
    times = {"step": [], "bare": []}
    for _ in range(rounds):
        for name, fn in (("step", step), ("bare", bare)):
            t = time.perf_counter()
            fn()
            times[name].append(1000 * (time.perf_counter() - t))
    return times["step"], times["bare"]


def ratio_interval(step_ms, bare_ms, resamples: int = 2000) -> tuple[float, float]:
    """Percentile bootstrap 95 % interval of median(step) / median(bare), the timed pairs resampled whole (SciPy's
    paired ``bootstrap``, seeded): how far the machine's pass-to-pass noise leaves the ratio uncertain. With 7
    pairs it is coarse, not a fine estimate."""
    import warnings

    import numpy as np
    from scipy.stats import bootstrap

    def ratio(step, bare, axis=-1):
        return np.median(step, axis=axis) / np.median(bare, axis=axis)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy warns about few distinct values; the percentile interval is fine
        ci = bootstrap((np.asarray(step_ms, float), np.asarray(bare_ms, float)), ratio, paired=True,
                       vectorized=True, n_resamples=resamples, confidence_level=0.95, method="percentile",
                       rng=np.random.default_rng(0)).confidence_interval
    return float(ci.low), float(ci.high)


def _step(eng, content, style, size):
    """One optimisation step as the optimiser sees it: loss and gradient of the image, from NumPy to NumPy."""
    import numpy as np

    from ..style.engine import Level, StyleTerm
    from ..style.pyramid import at_level

    c = at_level(content, size)
    f = eng.objective(Level(c, [StyleTerm(at_level(style, size))]))
    x = c.astype(np.float64).ravel()
    return lambda: f(x)


def _runs(content, style, cfg, weights) -> dict:
    """A 256 px masked stylisation (torch, foreground) with and without the pyramid: wall time, final loss."""
    import numpy as np

    from ..segment.grabcut import grabcut
    from ..style import stylize
    from ..style.api import make_engine
    from ..style.engine import Level, StyleTerm
    from ..style.pyramid import at_level

    mask = grabcut(content, (20, 10, 450, 500)).mask
    built = make_engine("torch", weights, cfg)
    judge = built[0].objective(Level(at_level(content, 256), [StyleTerm(at_level(style, 256), at_level(mask, 256))]))
    out = {}
    for label, c in ((f"torch 256 px masked, {cfg.steps} steps, pyramid", replace(cfg, pyramid=(0.5,))),
                     (f"torch 256 px masked, {cfg.steps} steps, no pyramid", replace(cfg, pyramid=()))):
        res = stylize(content, style, c, engine="torch", mask=mask, region="foreground", weights=weights,
                      progress=False, built=built)
        out[label] = {"seconds": res.seconds, "steps": len(res.history),
                      "loss_256": judge(res.before_blend.astype(np.float64).ravel())[0]}
    return out
