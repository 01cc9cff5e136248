"""``styleseg lesson``: the ready-made lesson (reports/lesson.toml), written as a report and a slide deck."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_force, output_path
from .run import execute, replaces_own

DEFAULT_DIR = "styleseg-lesson"


def register(sub) -> None:
    p = sub.add_parser("lesson", help="run the ready-made lesson and write its report and slide deck",
                       description="Run reports/lesson.toml (sample images only; about 3 minutes on a 2-core CPU) "
                                   "and write DIR/report.html and DIR/deck.html: the story of the project in "
                                   "order, with plain-words explanations and speaker notes. Print either with "
                                   "'styleseg pdf'. Uses the ImageNet weights when present, otherwise random "
                                   "weights, and says so loudly.")
    p.add_argument("-o", "--output-dir", default=DEFAULT_DIR, type=output_path,
                   help=f"folder for the two files (default: {DEFAULT_DIR})")
    p.add_argument("--weights", default="imagenet", help="VGG-19 weights (default: imagenet, else random:0)")
    add_force(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ParameterError
    from ..resources import reports_dir
    from ..study.spec import load_study

    out = Path(args.output_dir)
    if out.suffix.lower() in (".html", ".htm", ".pdf"):  # a file's name: the folder would take it
        raise ParameterError(f"-o {out} looks like a file, but the lesson writes two files (report.html and "
                             f"deck.html) into a folder; give a folder, e.g. -o {out.with_suffix('')}")
    args.assets_dir = None
    spec = load_study(reports_dir() / "lesson.toml")
    outputs = [(str(out / "report.html"), "html"), (str(out / "deck.html"), "slides")]
    # like the demo: the lesson's own earlier files are regenerated, anything else needs --force
    own = not args.force and replaces_own([path for path, _ in outputs], spec.title)
    return execute(spec, args, fallback=True, outputs=outputs, replace_own=own)
