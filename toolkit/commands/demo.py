"""``styleseg demo``: the demo study on bundled sample images, with its report."""

from __future__ import annotations

import argparse
import logging

from .run import add_report_options, execute, replaces_own

log = logging.getLogger("styleseg")
#: Where the demo writes each format unless -o says otherwise.
DEFAULT_OUTPUTS = {"html": "styleseg-demo/report.html", "slides": "styleseg-demo/slides.html",
                   "pdf": "styleseg-demo/report.pdf"}


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the demo study on bundled sample images and print the report's path",
                       description="Run reports/demo.toml (sample images from scikit-image and matplotlib; a few "
                                   "minutes on a 2-core CPU) and write its HTML report. Uses the ImageNet weights "
                                   "when present, otherwise random weights, and says so loudly.")
    add_report_options(p, default_output=", ".join(f"{v} for {k}" for k, v in DEFAULT_OUTPUTS.items()))
    p.add_argument("--check", action="store_true", help="only check the demo study and its output, then stop")
    p.add_argument("--weights", default="imagenet", help="VGG-19 weights (default: imagenet, else random:0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..resources import reports_dir
    from ..study.spec import load_study

    args.output = args.output or DEFAULT_OUTPUTS[args.format]
    spec = load_study(reports_dir() / "demo.toml")
    # The demo's own earlier report is regenerated, so running the quick start twice works; an interrupted
    # demo keeps it (see execute).
    own = not args.force and replaces_own([args.output], spec.title)
    return execute(spec, args, fallback=True, replace_own=own)
