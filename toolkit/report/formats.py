"""Report formats: the long report, the slide deck and the PDF handout, all from one study result.

A format is a template set, not a second pipeline: each is rendered from :func:`render.build_context`; the PDF is
the report printed by headless Chromium (``styleseg pdf DECK.html`` prints a deck instead).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import ParameterError, StyleSegError
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
    from ..io import atomic_write_bytes, check_output
    from .pdf import html_to_pdf

    check_output(output, force=force, protect=protect)
    with tempfile.TemporaryDirectory(prefix="styleseg-report-") as tmp:
        html = Path(tmp) / "report.html"
        render_report(result, html, template=TEMPLATES[fmt])
        try:
            return html_to_pdf(html, output, force=force)
        except StyleSegError as e:  # the study's work is in the HTML: keep it rather than lose minutes of work
            kept = _kept_name(Path(output))
            atomic_write_bytes(kept, html.read_bytes(), protect=protect)
            raise type(e)(f"{str(e).replace(str(html), 'the report')}; the report is kept as HTML in {kept}: "
                          f"print it later with styleseg pdf {kept} -o {output}") from None


def _kept_name(pdf: Path) -> Path:
    """Where the HTML of a report that could not be printed goes: beside the PDF, under the PDF's name with .html,
    or ``NAME.unprinted.html``, ``NAME.unprinted-2.html``, … : the first name no file has."""
    from .paths import free_name

    html = pdf.with_suffix(".html")
    return free_name(html, "unprinted") if os.path.lexists(html) else html
