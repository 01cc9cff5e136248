"""``styleseg run STUDY.toml -o report.html``: run a study and write its HTML report."""

from __future__ import annotations

import argparse
import logging

from .common import add_force

log = logging.getLogger("styleseg")


def register(sub) -> None:
    p = sub.add_parser("run", help="run a study file (TOML) and write a self-contained HTML report",
                       description="Run a comparative study (see reports/demo.toml) and write one self-contained "
                                   "HTML report: images embedded, no external requests, readable offline.")
    p.add_argument("study", help="study file (.toml)")
    add_report_options(p, default_output=None)
    p.add_argument("--weights", help="override the study's weights (imagenet, a file, random[:SEED])")
    p.set_defaults(func=run)


def add_report_options(p: argparse.ArgumentParser, default_output: str | None) -> None:
    p.add_argument("-o", "--output", required=default_output is None, default=default_output,
                   help="report .html" + (f" (default: {default_output})" if default_output else ""))
    p.add_argument("--assets-dir", help="write images as PNG files in this folder instead of inside the HTML")
    add_force(p)


def run(args: argparse.Namespace) -> int:
    from ..study.spec import load_study

    return execute(load_study(args.study), args, fallback=False)


def execute(spec, args, *, fallback: bool) -> int:
    from ..io import check_output
    from ..report.render import render_report
    from ..study.run import run_study

    check_output(args.output, force=args.force)  # fail before minutes of work, not after
    result = run_study(spec, args.weights, fallback=fallback, progress=not args.quiet)
    info = render_report(result, args.output, assets_dir=args.assets_dir, force=args.force)
    if result.random_weights:
        log.warning("this report was made with RANDOM weights (%s): it shows the pipeline, not a trained VGG-19",
                    result.weights)
    print(info["path"])
    return 130 if result.interrupted else 0
