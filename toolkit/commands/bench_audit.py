"""``styleseg bench audit``: one audit with a study's settings (the demo's by default), and for each stage how much of
its wall time its VGG-19 passes alone would take.

A stage whose passes take nearly all of its time can only get faster with fewer passes (a content choice: steps,
samples, stages); one whose passes take little of it has waste to remove.
"""

from __future__ import annotations

import argparse
import json
import os

from .common import add_bench_options


def register(targets) -> None:
    p = targets.add_parser("audit", help="the demo's audit stage by stage: wall time against its VGG-19 passes",
                           description="Audit the first content image of a study with the study's [audit] "
                                       "settings (the demo's by default; the shortcut probe stylises, as "
                                       "'styleseg audit --shortcut' does), counting every VGG-19 forward and "
                                       "backward pass. Each kind of pass is then timed again on its own, so "
                                       "each stage's wall time stands beside the time its passes take bare; "
                                       "with the bare VGG-19 forward+backward at 256 px and the load of the "
                                       "same run.")
    p.add_argument("--study", metavar="FILE", help="study file (default: reports/demo.toml)")
    add_bench_options(p, run)


def run(args: argparse.Namespace) -> int:
    from ..audit.model import load_model
    from ..audit.timing import bare_vgg_seconds
    from ..errors import ParameterError
    from ..resources import reports_dir
    from ..study.run import audit_content, segment_content, style_image
    from ..study.spec import load_study
    from ..vgg.flops import Floor, matmul_gflops, pass_flops
    from ..vgg.passes import PassCounter
    from ..vgg.weights import parse_weights

    spec = load_study(args.study or reports_dir() / "demo.toml")
    if not spec.audit:
        raise ParameterError(f"{spec.source} turns its audit off ([audit] enabled = false); set enabled = true "
                             f"or choose another study")
    source = parse_weights(args.weights)
    entry = segment_content(spec, 1, spec.contents[0], {})
    style = style_image(spec) if spec.shortcut else None
    with PassCounter() as counter:
        res = audit_content(spec, *entry["photo"], style, source)  # as the study does
    costs = counter.bare_costs()
    stages = {}
    for name, (start, end) in res.spans.items():
        images = counter.images(start, end)
        stages[name] = {"seconds": end - start, "seconds_passes": counter.cost(costs, start, end),
                        "images_forward_backward": images["forward+backward"], "images_forward": images["forward"],
                        "gflop": counter.flops(start, end) / 1e9}
    wall = sum(s["seconds"] for s in stages.values())
    passes = sum(s["seconds_passes"] for s in stages.values())
    model = load_model(source)
    bare = bare_vgg_seconds(model)
    floor = Floor({"audit": counter.flops()}, matmul_gflops(),
                  pass_flops(model.net[1].features, (3, 256, 256), True) / bare / 1e9, wall, "the audit")
    report = {"study": str(spec.source), "image": spec.contents[0].image, "weights": source.label,
              "size": spec.audit_size, "sanity_steps": spec.audit_sanity_steps,
              "curve_steps": spec.audit_curve_steps, "shortcut": spec.shortcut,
              "bare_vgg_ms": 1000 * bare, "load": os.getloadavg()[0],
              "seconds": wall, "seconds_passes": passes, "passes_share": passes / wall, "stages": stages,
              "arithmetic": floor.to_json(), "sentence": floor.sentence()}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)
    return 0


def _print_table(r: dict) -> None:
    untrained = " (RANDOM: an untrained VGG-19; the times are real, the maps mean nothing)"
    print(f"audit of {r['image']} from {r['study']}: {r['size']} px, sanity steps {r['sanity_steps']}, curve steps "
          f"{r['curve_steps']}, shortcut probe {'on' if r['shortcut'] else 'off'}; weights "
          f"{r['weights']}{untrained if r['weights'].startswith('random') else ''}")
    print(f"bare VGG-19 forward+backward at 256 px: {r['bare_vgg_ms']:.0f} ms (same run); load {r['load']:.2f}")
    print("passes s: what the stage's VGG-19 passes take timed again on their own (the same network, image size "
          "and batch); share: of the stage's wall time")
    print(f"{'stage':<32}{'wall s':>8}{'fwd+bwd':>9}{'fwd':>6}{'GFLOP':>8}{'passes s':>10}{'share':>7}")
    for name, s in r["stages"].items():
        share = s["seconds_passes"] / s["seconds"] if s["seconds"] else 0.0
        print(f"{name:<32}{s['seconds']:>8.2f}{s['images_forward_backward']:>9d}{s['images_forward']:>6d}"
              f"{s['gflop']:>8.0f}{s['seconds_passes']:>10.2f}{share:>7.0%}")
    print(f"{'all stages':<32}{r['seconds']:>8.2f}{'':>15}{r['arithmetic']['flops']['audit'] / 1e9:>8.0f}"
          f"{r['seconds_passes']:>10.2f}{r['passes_share']:>7.0%}")
    print(f"arithmetic: {r['sentence']}")
