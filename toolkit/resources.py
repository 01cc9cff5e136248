"""Where the Jinja2 templates and the ready-made studies are.

In a wheel they are carried inside the package (``toolkit/templates``, ``toolkit/reports``); in a checkout or
an editable install they sit at the top of the repository, beside ``toolkit/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"styleseg's {name}/ folder is missing from {_PACKAGE}; reinstall styleseg")


def templates_dir() -> Path:
    return _find("templates")


def reports_dir() -> Path:
    return _find("reports")
