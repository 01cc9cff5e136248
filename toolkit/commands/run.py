"""``styleseg run STUDY.toml -o report.html``: check a study, run it and write its HTML report."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from .common import add_force, output_path

log = logging.getLogger("styleseg")


def register(sub) -> None:
    p = sub.add_parser("run", help="run a study file (TOML) and write a self-contained HTML report",
                       description="Run a comparative study (see reports/demo.toml) and write one self-contained "
                                   "HTML report: images embedded, no external requests, readable offline. "
                                   "Every input is checked before the first step; Ctrl-C stops the study and "
                                   "writes what finished (exit status 130).")
    p.add_argument("study", help="study file (.toml)")
    add_report_options(p, default_output=None)
    p.add_argument("--check", action="store_true",
                   help="only check the study (images, masks, boxes, weights, output) and print one OK line")
    p.add_argument("--weights", help="override the study's weights (imagenet, a file, random[:SEED])")
    p.set_defaults(func=run)


def add_report_options(p: argparse.ArgumentParser, default_output: str | None) -> None:
    """``-o`` (None when not given; ``default_output`` only describes what the command then writes), and the
    options of the report's format and files."""
    p.add_argument("-o", "--output", type=output_path,
                   help="the report: .html, or .pdf with --format pdf"
                        + (f" (default: {default_output})" if default_output else " (required)"))
    p.add_argument("--assets-dir", type=output_path,
                   help="write images as PNG files in this folder instead of inside the HTML (named by content, so "
                        "reports can share a folder)")
    p.add_argument("--format", choices=("html", "slides", "pdf"), default="html",
                   help="html: the long report (default); slides: a 16:9 slide deck with speaker notes; "
                        "pdf: the report printed by headless Chromium")
    add_force(p)


def run(args: argparse.Namespace) -> int:
    from ..errors import ParameterError
    from ..study.spec import load_study

    if args.output is None and not args.check:
        raise ParameterError("give the report's path with -o REPORT.html (or --check to only check the study)")
    return execute(load_study(args.study), args, fallback=False)


def execute(spec, args, *, fallback: bool, replace_own: bool = False,
            outputs: list[tuple[str, str]] | None = None) -> int:
    """Check everything, then run the study and write each (path, format) of ``outputs`` (default:
    ``args.output`` in ``args.format``). ``replace_own``: the outputs are this command's own earlier files,
    replaced without --force when the study completes."""
    from ..io import writing
    from ..report.formats import check_format, render
    from ..report.paths import free_name
    from ..report.render import yardstick
    from ..study.check import check_outputs, check_study
    from ..study.run import run_study

    outputs = outputs or [(args.output, args.format)]
    for _, fmt in outputs:  # the cheapest checks first; all of them before minutes of work
        check_format(fmt, args.assets_dir)
    plan = check_study(spec, args.weights, fallback=fallback)
    for path, fmt in outputs:
        check_outputs(path, args.assets_dir, force=args.force or replace_own, inputs=plan.inputs, fmt=fmt)
    if getattr(args, "check", False):
        paths = [path for path, _ in outputs if path]
        print(f"OK: {plan.summary()}" + (f"; would write {', '.join(paths)}" if paths else ""))
        return 0
    result = run_study(spec, args.weights, fallback=fallback, progress=not args.quiet)  # SIGTERM too: toolkit.cli
    infos = []
    # the study's minutes of work are in these files: a signal now waits for them (it would lose the study)
    with writing("the report", reraise=False) as stop:
        for path, fmt in outputs:
            output = Path(path)
            if result.interrupted and output.exists() and not args.force:
                output = free_name(output, "interrupted")  # keep the complete one, and any earlier interrupted one
                log.warning("the earlier %s is kept; the interrupted one goes to %s", path, output)
            force = args.force or (replace_own and not result.interrupted)
            infos.append(render(result, output, fmt, assets_dir=args.assets_dir, protect=plan.inputs, force=force))
    log.debug("where the time went (%s):\n%s", yardstick(result),
              stage_table(result.timings, result.seconds, result.bare_pass))
    if result.arithmetic is not None:
        log.debug("arithmetic: %s", result.arithmetic.sentence())
    if result.random_weights:
        log.warning("this report was made with RANDOM weights (%s): it shows the pipeline, not a trained VGG-19",
                    result.weights)
    for info in infos:
        print(info["path"])
    return 130 if result.interrupted or stop.interrupted else 0


def replaces_own(paths: list[str], title: str) -> bool:
    """Whether every existing one of ``paths`` is a styleseg report or deck of the study titled ``title``, and at
    least one exists: a ready-made command (demo, lesson) may then regenerate them without --force."""
    from markupsafe import escape  # Jinja2's own escaping, so the title matches the rendered one exactly

    existing = [Path(p) for p in paths if os.path.lexists(p)]
    # the exact <title> of a report or deck (see templates/base.html.j2): a longer title holding this one is not it
    titles = [f"<title>{escape(title)}{suffix}</title>" for suffix in ("", " (slides)")]
    for path in existing:
        if not path.is_file():  # a folder, or a FIFO that would block the read: not ours (check_output says why)
            return False
        try:
            with path.open("rb") as f:
                head = f.read(3000).decode("utf-8", errors="replace")
        except OSError:
            return False
        if '<meta name="generator" content="styleseg">' not in head or not any(t in head for t in titles):
            return False
    if existing:
        # said before the study runs: an interrupted one keeps them (execute) and writes beside them
        log.info("%s will be replaced when the study completes (an interrupted one keeps %s)",
                 ", ".join(map(str, existing)), "it" if len(existing) == 1 else "them")
    return bool(existing)


def stage_table(timings: dict[str, float], total: float, bare: float = 0.0) -> str:
    """The study's stages (a ``StudyResult``'s timings, which add up to ``total``) as aligned rows of seconds and
    share of ``total``. Given the bare VGG-19 pass of the same run (``bare`` seconds), each row also says how many
    such passes its time is worth: the figure to compare across machines."""
    width = max([len(k) for k in timings] + [len("whole study")])

    def row(name: str, seconds: float, shared: bool = True) -> str:
        share = f"{100 * seconds / total:>6.0f} %" if shared and total > 0 else " " * 8  # stopped at once: none
        passes = f"{seconds / bare:>8.0f} bare passes" if bare > 0 else ""
        return f"{name:<{width}}{seconds:>9.1f} s{share}{passes}".rstrip()

    rows = [row(k, v) for k, v in timings.items()]
    return "\n".join(rows + [row("whole study", total, shared=False)])
