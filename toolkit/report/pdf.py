"""Print an HTML report or deck to PDF with headless Chromium.

Why Chromium rather than WeasyPrint: the deck is tested in Chromium (tests/browser.py), so the PDF is exactly what
that test saw; Chromium implements what the templates use (CSS grid, ``object-fit``, named pages, ``:target`` for
the notes pages, ``::details-content`` to print closed speaker notes) and keeps text as text; and it is already a
CI dependency, where WeasyPrint would add Pango and its own subset of CSS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ..errors import ParameterError, StyleSegError
from ..io import atomic_write_bytes, check_output

#: Executable names tried in order when STYLESEG_CHROMIUM is not set.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str:
    """The Chromium executable: ``$STYLESEG_CHROMIUM`` or the first of :data:`CANDIDATES` on the PATH."""
    wanted = os.environ.get("STYLESEG_CHROMIUM")
    for name in ([wanted] if wanted else CANDIDATES):
        found = shutil.which(name)
        if found:
            return found
    where = f"STYLESEG_CHROMIUM={wanted} is not an executable" if wanted else "Chromium is not on the PATH"
    raise StyleSegError(f"PDF output needs headless Chromium, and {where}; install it (Debian/Ubuntu: "
                        "apt-get install chromium) or set STYLESEG_CHROMIUM to its path")


#: Every page styleseg writes carries this tag (templates/base.html.j2), and a deck this element.
GENERATOR = '<meta name="generator" content="styleseg">'
DECK = '<span id="notes" class="mode-target">'


def _kind(html: Path) -> str:
    """"report" or "deck"; a one-line error for anything styleseg did not write."""
    if html.is_dir():
        raise ParameterError(f"{html} is a folder; give the path of a report or deck written by styleseg")
    if html.exists() and not html.is_file():  # a FIFO would block the read below, and Chromium's
        raise ParameterError(f"{html} is not a regular file (a FIFO or device?); give the path of a report or deck "
                             f"written by styleseg")
    try:
        text = html.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise StyleSegError(f"{html} not found; give the path of a report or deck written by styleseg") from None
    except OSError as e:
        raise StyleSegError(f"cannot read {html} ({e.strerror}); give the path of a report or deck") from None
    if GENERATOR not in text[:4096]:
        raise ParameterError(f"{html} is not a report or deck written by styleseg (it lacks their generator tag); "
                             f"give the path of one (styleseg run -o report.html)")
    return "deck" if DECK in text else "report"


def html_to_pdf(html: str | Path, output: str | Path, *, notes: bool = False, force: bool = False,
                timeout: float = 180.0) -> dict:
    """Print ``html`` to ``output`` (atomically; never over the input). A deck prints one page per slide, or with
    ``notes`` one A4 notes page per slide. Returns {"path", "bytes", "seconds"}."""
    t = time.perf_counter()
    html = Path(html)
    deck = _kind(html) == "deck"
    if notes and not deck:
        raise ParameterError(f"--notes is for slide decks and {html} is a report; drop --notes, or print the deck "
                             f"(styleseg run --format slides)")
    if Path(output).suffix.lower() != ".pdf":
        raise ParameterError(f"{output}: a PDF's name must end in .pdf; choose another -o")
    check_output(output, force=force, protect=[html])
    chromium = find_chromium()
    url = html.resolve().as_uri() + ("#notes" if notes else "")
    with tempfile.TemporaryDirectory(prefix="styleseg-pdf-") as tmp:
        pdf = Path(tmp) / "out.pdf"
        cmd = [chromium, "--headless", "--disable-gpu", "--no-first-run", "--no-pdf-header-footer",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp}/profile", f"--print-to-pdf={pdf}", url]
        if os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")  # Chromium refuses to start as root with its sandbox
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise StyleSegError(f"Chromium did not print {html} within {timeout:.0f} s; try again on a less "
                                "loaded machine") from None
        if proc.returncode != 0 or not pdf.is_file():
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            raise StyleSegError(f"Chromium could not print {html} (exit {proc.returncode}: {last}); check that "
                                f"{chromium} starts (run it with --version)")
        data = pdf.read_bytes()
    atomic_write_bytes(output, data, force=force, protect=[html])
    return {"path": str(output), "bytes": len(data), "seconds": time.perf_counter() - t}
