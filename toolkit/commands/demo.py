"""``styleseg demo``: the demo study on bundled sample images, with its report."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .run import add_report_options, execute

log = logging.getLogger("styleseg")
DEFAULT_OUTPUT = "styleseg-demo/report.html"


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the demo study on bundled sample images and print the report's path",
                       description="Run reports/demo.toml (sample images from scikit-image and matplotlib; a few "
                                   "minutes on a 2-core CPU) and write its HTML report. Uses the ImageNet weights "
                                   "when present, otherwise random weights, and says so loudly.")
    add_report_options(p, default_output=DEFAULT_OUTPUT)
    p.add_argument("--check", action="store_true", help="only check the demo study and its output, then stop")
    p.add_argument("--weights", default="imagenet", help="VGG-19 weights (default: imagenet, else random:0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..resources import reports_dir
    from ..study.spec import load_study

    out = Path(args.output)
    # The demo's own earlier report is regenerated, so running the quick start twice works; an interrupted
    # demo keeps it (see execute).
    own = out.exists() and not args.force and _is_earlier_demo(out)
    if own:
        log.info("replacing the earlier demo report %s", out)
    return execute(load_study(reports_dir() / "demo.toml"), args, fallback=True, replace_own=own)


def _is_earlier_demo(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return False
    return '<meta name="generator" content="styleseg">' in head and "styleseg demo" in head
