"""One image of a dataset audit: ``audit_image(job, settings)`` runs the single-image audit and returns a
JSON-ready record. It is what every runner (this process, a local pool, a Ray task) calls, so the records do
not depend on where they were made.

A job carries its files' bytes, not paths, so a worker on another machine needs no shared disk.
"""

from __future__ import annotations

import base64
import logging
import math
import os
import socket
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ImageError, SegmentationError, StyleSegError, WeightsError
from .dataset_plan import RECORD_VERSION, ImageTask
from .run import AuditConfig, AuditResult, audit

log = logging.getLogger("styleseg")

#: Longer side of the saliency overlay kept in each record for the report's gallery (a few kB of PNG).
THUMBNAIL = 64


@dataclass(frozen=True)
class AuditSetConfig:
    """What every image's audit shares.

    style: the shortcut probe's style image, float32 H×W×3 in [0, 1] (decoded once by the caller);
    threads: PyTorch threads per worker (None leaves the worker's default); device: ``auto`` is resolved in
    each worker, so a GPU node uses its GPU.
    """

    audit: AuditConfig = field(default_factory=AuditConfig)
    weights: str = "random:0"
    device: str = "auto"
    style: np.ndarray | None = None
    threads: int | None = None


@dataclass(frozen=True)
class ImageJob:
    """An :class:`ImageTask` with its image's and mask's file bytes: what travels to a worker."""

    task: ImageTask
    image: bytes
    mask: bytes | None


def load_job(task: ImageTask) -> ImageJob:
    mask = Path(task.mask_path).read_bytes() if task.mask_path else None
    return ImageJob(task, Path(task.image_path).read_bytes(), mask)


def audit_image(job: ImageJob, settings: AuditSetConfig) -> dict:
    """Audit one image; a JSON-ready record with ``status`` "ok", or "error" and the reason.

    An input problem (a corrupt image, a mask of the wrong size or empty) is an error of kind ``input``: it will
    not change on a rerun. Any other exception is of kind ``crash`` and is retried on a rerun. Weights that
    cannot be loaded stop the run: they would fail every image the same way.
    """
    _prepare_worker(settings.threads)
    task = job.task
    head = {"version": RECORD_VERSION, "image": task.name, "key": task.key, "worker": _where()}
    try:
        image, mask = _inputs(job)
        require_object_at_size(mask, image.shape[:2], settings.audit.size, _mask_name(task))
        res = audit(image, settings.audit, mask=mask, style=settings.style, weights=settings.weights,
                    device=_device(settings.device))
    except WeightsError:
        raise
    except StyleSegError as e:
        return {**head, "status": "error", "error": {"kind": "input", "reason": str(e)}}
    except Exception as e:  # noqa: BLE001 - one image's failure must not end an audit of thousands
        log.debug("audit of %s failed", task.name, exc_info=True)
        return {**head, "status": "error", "error": {"kind": "crash", "reason": f"{type(e).__name__}: {e}"}}
    return {**head, "status": "ok", "mask_source": "file" if job.mask is not None else "grabcut",
            **record_from_audit(res)}


def record_from_audit(res: AuditResult) -> dict:
    """The per-image figures the aggregate reads, from the single-image audit's result (the one place that
    knows :class:`AuditResult`'s layout). NaN becomes None so the record is strict JSON.

    ``shortcut.random_region`` is the area-matched control of the background: the share of random regions of
    the background's area whose restyling changed the top-1 class, and their mean probability change.
    ``shortcut.undefined`` is None, or why the probe measured nothing (its stylisation barely changed a region):
    then every ``top1_changed`` and ``leans_on_background`` is None, and ``changed_share`` says how little changed.
    """
    from ..io import encode_png, resize_max
    from .render import overlay

    first = next(iter(res.maps))  # there is one: check_settings refuses an audit without saliency methods
    thumb = resize_max(overlay(res.image, res.maps[first]), THUMBNAIL)
    return {
        "predictions": [list(p) for p in res.predictions],
        "target": res.target,
        "object_area": _num(float(res.mask.mean())) if res.mask is not None else None,
        "attention": {m: {"inside_share": _num(a["inside_share"]), "ratio": _num(a["ratio"]),
                          "ratio_ci": [_num(v) for v in a["ratio_ci"]], "verdict": a["verdict"],
                          "background_dominant": bool(a["background_dominant"])}
                      for m, a in (res.attention or {}).items()},
        "faithfulness": _faithfulness(res.faithfulness) if res.faithfulness else None,
        "unfaithful_methods": res.sanity["unfaithful"] if res.sanity else None,
        "shortcut": _shortcut(res.shortcut) if res.shortcut else None,
        "weights": res.weights, "device": res.device, "seconds": round(res.seconds, 3), "timings": res.timings,
        "config": asdict(res.config), "versions": res.environment.get("versions", {}),  # of the worker that ran it
        "thumbnail": {"method": first, "png_base64": base64.b64encode(encode_png(thumb)).decode("ascii")},
    }


def _faithfulness(f: dict) -> dict:
    """Normalised deletion/insertion areas per method, and the random map's (chance) under its own key."""
    rows = {**f["methods"], "random map": f["random map"]}
    return {m: {"deletion_auc": _num(r["deletion_auc"]), "insertion_auc": _num(r["insertion_auc"])}
            for m, r in rows.items()}


def _shortcut(s: dict) -> dict:
    measured = s["undefined"] is None  # else a flip or its absence says nothing: the image was not restyled

    def probe(r):
        return {"top1_changed": (not r["top1_kept"]) if measured else None, "in_top5": bool(r["in_top5"]),
                "p_change": _num(r["p_change"]), "area": _num(r["area"])}

    control = s["background_control"]
    return {"class": s["class"], "undefined": s["undefined"],
            "changed_share": {"background": s["background_restyled"]["changed_share"],
                              "foreground": s["foreground_restyled"]["changed_share"],
                              "controls": min(s[f"{k}_control"]["changed_share_min"]
                                              for k in ("background", "foreground"))},
            "background": probe(s["background_restyled"]), "foreground": probe(s["foreground_restyled"]),
            "random_region": {"top1_changed": control["top1_changed_share"] if measured else None,
                              "p_change": _num(control["p_change_mean"]), "area": _num(control["area"])},
            "leans_on_background": s["leans_on_background"]}


def require_object_at_size(mask: np.ndarray | None, shape: tuple[int, int], size: int, name: str) -> None:
    """Refuse, in one line naming ``--size``, a mask (for an image of ``shape``) that has no object, whose object
    keeps no pixel in the audit's size×size square (see :mod:`.framing`), or that leaves no background in it: the
    attention figures and the shortcut probe would have nothing to measure."""
    from .framing import square_box

    if mask is None:
        return
    inside = np.asarray(mask) >= 0.5
    if not inside.any():
        raise SegmentationError(f"{name} has no object pixels (nothing white or light gray); give a mask with "
                                f"the object in white")
    x, y, side = square_box(shape, mask)
    crop = np.asarray(mask, np.float32)[y:y + side, x:x + side]
    if not (crop >= 0.5).any():
        raise SegmentationError(f"the object of {name} lies outside the {side}×{side} square the audit crops "
                                f"around it (the image's shorter side); give a mask of one object")
    from ..io import resize_to

    at_size = resize_to(crop, (size, size)) >= 0.5
    if not at_size.any():
        raise SegmentationError(f"the object of {name} ({int(inside.sum())} pixel(s)) vanishes when the audit's "
                                f"{side}×{side} square is resized to --size {size}; use a larger --size or a "
                                f"larger object mask")
    if at_size.all():
        raise SegmentationError(f"{name} covers the whole {side}×{side} square the audit crops, so there is no "
                                f"background to compare the object with; give a mask with background in black")


def _mask_name(task: ImageTask) -> str:
    if task.mask_path:
        return f"mask {Path(task.mask_path).name}"
    return f"the GrabCut mask of {task.name} (box {','.join(map(str, task.box))})"


def _inputs(job: ImageJob) -> tuple[np.ndarray, np.ndarray]:
    """The image and its mask (from the mask file, which must have the image's size, or GrabCut in the box)."""
    from ..io import read_image, read_mask

    task = job.task
    image = _decode(job.image, task.name, read_image)
    if job.mask is None:
        from ..segment.grabcut import grabcut

        return image, grabcut(image, task.box).mask
    mask_name = Path(task.mask_path).name
    mask = _decode(job.mask, mask_name, read_mask)
    if mask.shape != image.shape[:2]:
        raise ImageError(f"mask {mask_name} is {mask.shape[1]}×{mask.shape[0]} pixels but {task.name} is "
                         f"{image.shape[1]}×{image.shape[0]}; a mask must have its image's size")
    return image, mask


def _decode(data: bytes, name: str, reader):
    """Read file bytes with the project's reader (its conversions and checks), naming the original file."""
    with tempfile.TemporaryDirectory(prefix="styleseg-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            return reader(path)
        except ImageError as e:
            raise ImageError(str(e).replace(str(path), name)) from None


def _device(name: str):
    if name != "auto":
        return name
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _prepare_worker(threads: int | None) -> None:
    import torch

    if threads and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _where() -> dict:
    """Where the record was made (provenance only: the aggregate never reads it)."""
    out = {"host": socket.gethostname(), "pid": os.getpid()}
    import sys

    if "ray" in sys.modules and sys.modules["ray"].is_initialized():
        out["ray_node"] = sys.modules["ray"].get_runtime_context().get_node_id()
    return out


def _num(x) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)
