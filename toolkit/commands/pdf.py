"""``styleseg pdf REPORT.html``: print a report or a deck to PDF (headless Chromium)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_force, output_path


def register(sub) -> None:
    p = sub.add_parser("pdf", help="print a report or slide deck to PDF (needs Chromium)",
                       description="Print an HTML report or deck written by styleseg to PDF with headless "
                                   "Chromium: a deck gives one page per slide (or, with --notes, one A4 page per "
                                   "slide with its speaker notes), a report gives a handout with its explanations.")
    p.add_argument("html", help="report.html or deck.html written by styleseg")
    p.add_argument("-o", "--output", type=output_path,
                   help="PDF file (default: the HTML's name with .pdf, or -notes.pdf)")
    p.add_argument("--notes", action="store_true", help="a deck's notes pages: each slide above its speaker notes")
    add_force(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..report.pdf import html_to_pdf

    html = Path(args.html)
    output = args.output or html.with_name(html.stem + ("-notes" if args.notes else "") + ".pdf")
    print(html_to_pdf(html, output, notes=args.notes, force=args.force)["path"])
    return 0
