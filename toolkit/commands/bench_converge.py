"""``styleseg bench converge``: loss against time for the default objective with L-BFGS-B and Adam, with and without
the coarse-to-fine pyramid, and the time each needs to come within 5% of the best loss any of them reaches."""

from __future__ import annotations

import argparse
import json
import os

from .common import add_bench_options

#: "Reached" means a full-size loss at most this many times the best loss of all variants.
TOLERANCE = 1.05
#: Ready-made comparisons of the default objective: optimiser × pyramid (as fractions of the size; () = none).
VARIANTS = (("lbfgs", True), ("lbfgs", False), ("adam", True), ("adam", False))


def register(targets) -> None:
    p = targets.add_parser("converge", help="loss against time: L-BFGS-B, Adam, with and without the pyramid",
                           description="Stylise one image with the default objective four ways (L-BFGS-B and "
                                       "Adam, each with and without the coarse-to-fine pyramid), the same number "
                                       "of steps each, and report the wall time each needs to bring the "
                                       f"full-size loss within {TOLERANCE:g}x of the best loss any of them "
                                       "reaches; with the bare VGG-19 forward+backward time and the machine's "
                                       "load of the same run.")
    p.add_argument("--size", type=int, default=128, help="output size, longer side in pixels (default: 128)")
    p.add_argument("--steps", type=int, default=120, help="steps (loss + gradient evaluations) per run (default: "
                                                          "120, the default StyleConfig's)")
    p.add_argument("--content", default="sample:astronaut", help="content image (default: sample:astronaut)")
    p.add_argument("--style", default="sample:coffee", help="style image (default: sample:coffee)")
    add_bench_options(p, run)


def time_to_quality(curves: dict[str, list[tuple[float, float]]],
                    tolerance: float = TOLERANCE) -> tuple[float, dict[str, tuple[float, int] | None]]:
    """When each run first came within ``tolerance`` of the best loss of all runs.

    curves : run name → its full-size (seconds since the run began, total loss) points, in step order
    Returns the target loss (``tolerance`` × the lowest loss of any run) and, per run, ``(seconds, steps)`` at its
    first point at or under the target (None if it never got there).
    """
    target = tolerance * min(loss for curve in curves.values() for _, loss in curve)
    reached = {}
    for name, curve in curves.items():
        first = next((k for k, (_, loss) in enumerate(curve) if loss <= target), None)
        reached[name] = None if first is None else (curve[first][0], first + 1)
    return target, reached


def catch_up(curves: dict[str, list[tuple[float, float]]], lead: str) -> dict[str, dict | None]:
    """For each other run: the seconds it took to reach its own best loss, and the seconds run ``lead`` took to
    reach that same loss (None if it never did): "by how much" ``lead`` is faster to each other run's quality.

    curves : as for :func:`time_to_quality`
    """
    out = {}
    for name, curve in curves.items():
        if name == lead:
            continue
        best = min(loss for _, loss in curve)
        own = next(t for t, loss in curve if loss <= best)
        theirs = next((t for t, loss in curves[lead] if loss <= best), None)
        out[name] = {"loss": best, "seconds": own, "lead_seconds": theirs,
                     "speedup": None if not theirs else own / theirs}
    return out


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..io import read_image
    from ..style import StyleConfig, make_engine, stylize
    from ..style.reference import reference_ms

    base = StyleConfig(size=args.size, steps=args.steps)
    content, style = read_image(args.content), read_image(args.style)
    built = make_engine("torch", args.weights, base)
    reference = reference_ms(built[0])
    whole = base.resolved(region=False)  # the default's choice for a whole image, the run compared here
    pyramid = whole.pyramid or (0.5,)
    configs = {_label(opt, pyr): replace(base, optimizer=opt, pyramid=pyramid if pyr else ())
               for opt, pyr in VARIANTS}
    default = next(name for name, c in configs.items() if (c.optimizer, c.pyramid) == (whole.optimizer, whole.pyramid))
    # warm-up at both levels' sizes, so the first timed run pays no one-off allocation or kernel selection
    stylize(content, style, replace(base, steps=4), weights=args.weights, progress=False, built=built)
    runs = {name: stylize(content, style, c, weights=args.weights, progress=False, built=built)
            for name, c in configs.items()}
    curves = {name: [(r.seconds, r.total) for r in res.history if r.size == base.size] for name, res in runs.items()}
    target, reached = time_to_quality(curves)
    timed = {name: hit[0] for name, hit in reached.items() if hit}
    fastest = min(timed, key=timed.get) if timed else None
    report = {"weights": args.weights, "engine": "torch", "size": args.size, "steps": args.steps,
              "content": args.content, "style": args.style, "tolerance": TOLERANCE, "target_loss": target,
              "bare_vgg_ms": reference, "load": os.getloadavg()[0], "default": default, "fastest": fastest,
              "default_catch_up": catch_up(curves, default),
              "variants": {name: {"default": name == default, "seconds": res.seconds,
                                  "best_loss": min(loss for _, loss in curves[name]),
                                  "seconds_to_target": reached[name][0] if reached[name] else None,
                                  "steps_to_target": reached[name][1] if reached[name] else None,
                                  "curve": curves[name]}
                           for name, res in runs.items()}}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)
    return 0


def _label(optimizer: str, pyramid: bool) -> str:
    return f"{optimizer}{' + pyramid' if pyramid else ''}"


def _print_table(r: dict) -> None:
    untrained = " (RANDOM: an untrained VGG-19, so the figures show speed, not a trained network's styles)"
    print(f"time to quality: torch, {r['size']} px, {r['steps']} steps per run, {r['content']} in the style of "
          f"{r['style']}, weights {r['weights']}{untrained if r['weights'].startswith('random') else ''}")
    print(f"bare VGG-19 forward+backward at 256 px: {r['bare_vgg_ms']:.0f} ms (same run); load {r['load']:.2f}")
    print(f"target: {r['tolerance']:g}x the best loss of all runs = {r['target_loss']:.4g} (full-size loss)")
    print(f"{'variant':<18}{'seconds':>9}{'best loss':>12}{'s to target':>13}{'steps':>7}")
    for name, v in r["variants"].items():
        hit = (f"{v['seconds_to_target']:>13.1f}{v['steps_to_target']:>7d}" if v["seconds_to_target"] is not None
               else f"{'not reached':>13}{'':>7}")
        print(f"{name + (' *' if v['default'] else ''):<18}{v['seconds']:>9.1f}{v['best_loss']:>12.4g}{hit}")
    print("* the default for a whole image (StyleConfig's optimizer \"auto\")")
    if r["fastest"] is None:
        return
    best = r["variants"][r["fastest"]]["seconds_to_target"]
    mine = r["variants"][r["default"]]["seconds_to_target"]
    verdict = ("the default is the fastest" if r["fastest"] == r["default"] else
               f"the default ({r['default']}) {'never gets there' if mine is None else f'takes {mine / best:.2f}x as long'}")
    print(f"fastest to the target: {r['fastest']} ({best:.1f} s); {verdict}")
    for name, c in r["default_catch_up"].items():
        lead = ("never gets there" if c["lead_seconds"] is None else
                f"the default ({r['default']}) gets there in {c['lead_seconds']:.1f} s, {c['speedup']:.1f}x sooner")
        print(f"{name} reaches its best loss {c['loss']:.4g} after {c['seconds']:.1f} s; {lead}")
