"""``styleseg doctor``: versions, device, weight sources, and the PyTorch/TensorFlow parity figure."""

from __future__ import annotations

import argparse
import json
import logging
import time

from .common import add_device, add_json, add_weights

log = logging.getLogger("styleseg")
PARITY_SIZE = 128
PARITY_LIMIT = 1e-4


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check the installation: versions, device, weights, PyTorch/TF parity",
                       description="Report versions, the device, where each weight source is and whether it is "
                                   "present, and how closely the PyTorch and TensorFlow VGG-19s agree "
                                   f"(computed live with the chosen weights on a {PARITY_SIZE} px sample).")
    add_weights(p)
    add_device(p)
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..device import choose_device
    from ..errors import StyleSegError
    from ..io import read_image
    from ..provenance import environment
    from ..vgg.parity import parity
    from ..vgg.weights import load_state_dict, parse_weights, source_status

    source = parse_weights(args.weights)  # a malformed --weights is a usage error, not a finding of the report
    device = choose_device(args.device)
    report = environment(str(device))
    report["weights"] = {"chosen": args.weights, "sources": source_status()}
    problem = None
    try:
        source.warn_if_random()
        t = time.perf_counter()
        state = load_state_dict(source)
        image = read_image("sample:astronaut", max_size=PARITY_SIZE)
        result = parity(state, image)
        report["parity"] = {**result, "weights": source.label, "image": f"sample:astronaut @ {PARITY_SIZE} px",
                            "limit": PARITY_LIMIT, "ok": result["max"] <= PARITY_LIMIT,
                            "seconds": round(time.perf_counter() - t, 2)}
    except StyleSegError as e:
        problem = str(e)
        report["parity"] = {"error": problem}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_text(report)
    if problem:
        print(f"styleseg: error: {problem}")
        return 1
    return 0 if report["parity"]["ok"] else 1


def _print_text(report: dict) -> None:
    print("styleseg doctor")
    for name, version in report["versions"].items():
        print(f"  {name:<24} {version}")
    print(f"  {'platform':<24} {report['platform']} ({report['cpus']} CPUs)")
    print(f"  {'device':<24} {report['device']}")
    print("weights")
    for s in report["weights"]["sources"]:
        where = s["path"] or "(generated, seeded)"
        print(f"  {s['source']:<24} {'present' if s['present'] else 'MISSING':<8} {where}")
    p = report["parity"]
    if "max" in p:
        print(f"parity (PyTorch vs TensorFlow, {p['weights']}, {p['image']})")
        for layer, value in p["layers"].items():
            print(f"  {layer:<24} {value:.2e}")
        print(f"  {'max':<24} {p['max']:.2e}  {'OK' if p['ok'] else 'FAIL'} (limit {p['limit']:.0e})")
