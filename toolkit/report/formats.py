"""Report formats: the long report, the slide deck and the PDF handout, all from one study result.

A format is a template set, not a second pipeline: each is rendered from :func:`render.build_context`; the PDF is
the report printed by headless Chromium (``styleseg pdf DECK.html`` prints a deck instead).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..errors import ParameterError
from .render import render_report

#: Format name → the template that renders it.
TEMPLATES = {"html": "report.html.j2", "slides": "slides.html.j2", "pdf": "report.html.j2"}


def check_format(fmt: str, assets_dir: str | Path | None = None) -> None:
    """Everything that can fail about a format, checked before the study spends minutes running."""
    if fmt not in TEMPLATES:
        raise ParameterError(f"unknown format {fmt!r}; choose one of {', '.join(TEMPLATES)}")
    if fmt == "pdf":
        from .pdf import find_chromium

        if assets_dir:
            raise ParameterError("--assets-dir does not apply to --format pdf (the PDF carries its images); "
                                 "drop one of them")
        find_chromium()


def render(result, output: str | Path, fmt: str = "html", *, assets_dir: str | Path | None = None,
           force: bool = False, protect: tuple[str, ...] = ()) -> dict:
    """Write ``result`` to ``output`` in ``fmt`` (see :data:`TEMPLATES`); returns {"path", "bytes", "seconds"}."""
    check_format(fmt, assets_dir)
    if fmt != "pdf":
        return render_report(result, output, assets_dir=assets_dir, force=force, protect=protect,
                             template=TEMPLATES[fmt])
    from ..io import check_output
    from .pdf import html_to_pdf

    check_output(output, force=force, protect=protect)
    with tempfile.TemporaryDirectory(prefix="styleseg-report-") as tmp:
        html = Path(tmp) / "report.html"
        render_report(result, html, template=TEMPLATES[fmt])
        return html_to_pdf(html, output, force=force)
