"""Everything about a study that can be known before the first optimisation step.

``check_study`` decodes every image and mask, checks that every mask (and box) leaves pixels on both sides at
the sizes the study works at, and that the weights can be had; ``check_outputs`` checks that the report (and its
assets folder) can be written without touching any input. ``styleseg run --check`` runs both and stops;
``styleseg run`` runs both before any work. Each failure is one line naming the study file and the table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import OutputError, SegmentationError, StyleSegError, WeightsError, in_context
from .spec import StudySpec


@dataclass(frozen=True)
class Plan:
    """What a checked study will do. ``inputs``: every file it reads (never to be written over)."""

    spec: StudySpec
    weights: str
    inputs: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        s = self.spec
        return (f"{s.source}: {len(s.contents)} content image(s), {len(s.engines)} engine(s) × {len(s.seeds)} "
                f"seed(s) × whole/masked = {s.stylisations} stylisations at {s.size} px, {s.steps} steps; "
                f"weights {self.weights}" + "".join(f"; {n}" for n in self.notes))


def check_study(spec: StudySpec, weights: str | None = None, *, fallback: bool = False) -> Plan:
    """Check every input of ``spec`` (``weights`` overrides the study's); raise a one-line error or return the
    :class:`Plan`. ``fallback``: missing ImageNet weights are a note (random weights will be used), not an error."""
    from ..io import read_image, read_mask
    from ..segment.grabcut import validate_box
    from ..style.pyramid import at_level, require_fit

    inputs = [spec.source] if spec.source and Path(spec.source).is_file() else []
    for i, item in enumerate(spec.contents, start=1):
        where = f"{spec.source}: [[content]] #{i}"
        image = _read(where, "image", read_image, item.image)
        _read(where, "image", require_fit, image.shape, spec.size, item.image)
        inputs.append(item.image)
        if item.mask:
            mask = _read(where, "mask", read_mask, item.mask, image.shape[:2])
            inputs.append(item.mask)
            for size in sorted({spec.size, spec.audit_size} if spec.audit else {spec.size}):
                both_sides(where, item.mask, (at_level(mask, size) >= 0.5), size)
        elif item.box:
            _read(where, "box", validate_box, item.box, image.shape[:2])
    style = _read(f"{spec.source}: [style]", "image", read_image, spec.style)
    _read(f"{spec.source}: [style]", "image", require_fit, style.shape, spec.size, spec.style)
    inputs.append(spec.style)
    label, notes, path = _check_weights(spec, weights or spec.weights, fallback,
                                        "--weights" if weights else f"{spec.source}: weights")
    inputs += [path] if path else []
    return Plan(spec, label, tuple(p for p in inputs if not p.startswith("sample:")), notes)


def check_outputs(output: str | None, assets_dir: str | None, *, force: bool, inputs: tuple[str, ...],
                  fmt: str = "html") -> None:
    """The report (and the assets folder) can be written, and none of it lands on an input."""
    from ..io import check_output, check_writable
    from ..report.paths import check_assets_dir

    if output is not None:
        check_output(output, force=force, protect=inputs)
        suffixes = (".pdf",) if fmt == "pdf" else (".html", ".htm")
        if Path(output).suffix.lower() not in suffixes:
            raise OutputError(f"{output}: this output is {'a PDF' if fmt == 'pdf' else 'HTML'}; "
                              f"give a file name ending in {suffixes[0]}")
        check_writable(Path(output).parent, output)
        check_assets_dir(output, assets_dir)
    if assets_dir is not None:
        check_writable(assets_dir, f"the images in --assets-dir {assets_dir}")


def _read(where: str, key: str, fn, *args):
    try:
        return fn(*args)
    except StyleSegError as e:
        raise in_context(e, f"{where} {key}") from None


def both_sides(where: str, path: str, inside: np.ndarray, size: int) -> None:
    if inside.all() or not inside.any():
        colour = "white (all object)" if inside.all() else "black (no object)"
        raise SegmentationError(f"{where} mask {path} is all {colour} at {size} px; a mask needs object "
                                   f"(white) and background (black) pixels")


def _check_weights(spec: StudySpec, weights: str, fallback: bool,
                   where: str) -> tuple[str, tuple[str, ...], str | None]:
    """(label, notes, file to protect) for the weights; a one-line error, naming ``where`` they were given (the
    study file or --weights), when they cannot be had."""
    from ..vgg.weights import load_state_dict, parse_weights
    from .spec import check_weights_override

    check_weights_override(weights)
    try:
        source = parse_weights(weights)
    except StyleSegError as e:
        raise in_context(e, where) from None
    if source.kind == "file":
        load_state_dict(source)  # the keys and shapes are checked now, not after the segmentation
        return source.label, (), str(source.path)
    if source.kind == "imagenet":
        from ..vgg.weights import imagenet_cache_path

        if not imagenet_cache_path().is_file():
            if fallback:
                return source.label, ("ImageNet weights not cached: downloaded if possible, else random:0",), None
            if os.environ.get("STYLESEG_OFFLINE") == "1":
                test_run = "--weights random:0" if where == "--weights" else 'weights = "random:0"'
                raise WeightsError(f"{where} imagenet: {imagenet_cache_path()} is missing and STYLESEG_OFFLINE=1 "
                                   f"forbids the download; fetch it (see the README's Weights section) or use "
                                   f"{test_run} for a test run")
            return source.label, ("ImageNet weights not cached: they will be downloaded first",), None
    return source.label, (), None
