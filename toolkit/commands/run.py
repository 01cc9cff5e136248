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
    p.add_argument("--format", choices=("html", "slides", "pdf"), default="html",
                   help="html: the long report (default); slides: a 16:9 slide deck with speaker notes; "
                        "pdf: the report printed by headless Chromium")
    add_force(p)


def run(args: argparse.Namespace) -> int:
    from ..study.spec import load_study

    return execute(load_study(args.study), args, fallback=False)


def execute(spec, args, *, fallback: bool, outputs: list[tuple[str, str]] | None = None) -> int:
    """Run ``spec`` and write each (path, format) of ``outputs`` (default: ``args.output`` in ``args.format``)."""
    from ..io import check_output
    from ..report.formats import check_format, render
    from ..study.run import run_study

    outputs = outputs or [(args.output, args.format)]
    for path, fmt in outputs:  # fail before minutes of work, not after
        check_output(path, force=args.force)
        check_format(fmt, args.assets_dir)
    result = run_study(spec, args.weights, fallback=fallback, progress=not args.quiet)
    infos = [render(result, path, fmt, assets_dir=args.assets_dir, force=args.force) for path, fmt in outputs]
    if result.random_weights:
        log.warning("this report was made with RANDOM weights (%s): it shows the pipeline, not a trained VGG-19",
                    result.weights)
    for info in infos:
        print(info["path"])
    return 130 if result.interrupted else 0
