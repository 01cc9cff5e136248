"""The report's output paths: checks and free names, with none of the rendering's imports (``styleseg run --check``)."""

from __future__ import annotations

import os
from pathlib import Path


def check_assets_dir(output: str | Path, assets_dir: str | Path | None) -> None:
    """Refuse an assets folder that is the report's own path or lies inside it: the images would make a folder
    where the report goes, and writing the report would then fail after the study. Paths are compared once
    ``..`` and symbolic links are resolved."""
    from ..errors import OutputError

    if assets_dir is None:
        return
    report, assets = Path(os.path.realpath(output)), Path(os.path.realpath(assets_dir))
    if assets == report or report in assets.parents:
        raise OutputError(f"--assets-dir {assets_dir} is {'' if assets == report else 'inside '}the report's own "
                          f"path {output}; give the images a folder of their own (e.g. --assets-dir "
                          f"{Path(output).with_name(Path(output).stem + '-assets')})")


def free_name(path: Path, tag: str) -> Path:
    """``report.TAG.html``, or ``report.TAG-2.html``, ``-3``, … : the first name beside ``path`` no file has."""
    candidates = (path.with_name(f"{path.stem}.{tag}{'' if n == 1 else f'-{n}'}{path.suffix}") for n in range(1, 10**6))
    return next(p for p in candidates if not os.path.lexists(p))
