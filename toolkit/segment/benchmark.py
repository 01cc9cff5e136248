"""Segmentation benchmark scoring (GrabCut-50, COCO-MVal-100): the box protocol their READMEs share, IoU, error
rate inside the box.

Pure functions over arrays plus a loader; ``styleseg bench segment`` prints what :func:`evaluate` returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ParameterError, SegmentationError
from .grabcut import Box

UNKNOWN = 128  # the mixed-pixel band of the ground truth, left out of every score


@dataclass
class Sample:
    name: str
    image: np.ndarray  # float32 H×W×3
    truth: np.ndarray  # uint8 H×W: 0, 255 and, on GrabCut-50, 128 (mixed pixels)


@dataclass
class Dataset:
    name: str  # the title of the folder's README (e.g. "GrabCut-50"), else the folder's name
    samples: list[Sample]


def check_dataset(folder: str | Path) -> Path:
    """``folder`` as a Path, or a one-line error when it has no ``images/`` and ``masks/``."""
    folder = Path(folder)
    if not (folder / "images").is_dir() or not (folder / "masks").is_dir():
        raise ParameterError(f"{folder} is not a segmentation benchmark folder (needs images/ and masks/); "
                             f"pass --data ../shared/datasets/grabcut50 or ../shared/datasets/cocomval100")
    return folder


def load_dataset(folder: str | Path, limit: int | None = None) -> Dataset:
    """Images and ground-truth masks of a benchmark folder: ``images/NAME.*`` and ``masks/NAME.bmp|.png``."""
    from PIL import Image

    from ..io import read_image

    folder = check_dataset(folder)
    masks = {p.stem: p for p in (folder / "masks").iterdir() if p.suffix.lower() in (".bmp", ".png")}
    samples = []
    for path in sorted((folder / "images").iterdir()):
        if path.stem not in masks:
            continue
        truth = np.asarray(Image.open(masks[path.stem]).convert("L"))
        samples.append(Sample(path.stem, read_image(path), truth))
        if limit and len(samples) >= limit:
            break
    if not samples:
        raise ParameterError(f"{folder}/images has no image with a mask of the same name in {folder}/masks")
    readme = folder / "README.md"
    title = readme.read_text().splitlines()[0].lstrip("# ").strip() if readme.is_file() else ""
    return Dataset(title or folder.name, samples)


def protocol_box(truth: np.ndarray, margin: float = 0.05) -> Box:
    """The tight box of the foreground (255), grown by ``margin`` × the longer side, clipped to the image."""
    ys, xs = np.nonzero(truth == 255)
    h, w = truth.shape
    m = round(margin * max(h, w))
    x0, y0 = max(xs.min() - m, 0), max(ys.min() - m, 0)
    x1, y1 = min(xs.max() + 1 + m, w), min(ys.max() + 1 + m, h)
    if (x0, y0, x1, y1) == (0, 0, w, h):
        # GrabCut needs background samples (plain OpenCV asserts without them): inset a whole-image box by
        # 1 % of the longer side, as COCO-MVal-100's README says (on GrabCut-50, a departure on one image: cross).
        i = max(1, round(0.01 * max(h, w)))
        x0, y0, x1, y1 = i, i, w - i, h - i
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def score(pred: np.ndarray, truth: np.ndarray, box: Box) -> tuple[float, float]:
    """(IoU, error rate inside the box), both over the pixels whose truth is not 128."""
    known = truth != UNKNOWN
    fg, gt = pred >= 0.5, truth == 255
    inter = (fg & gt & known).sum()
    union = ((fg | gt) & known).sum()
    x, y, w, h = box
    inside = np.zeros_like(known)
    inside[y:y + h, x:x + w] = True
    wrong = ((fg != gt) & known & inside).sum()
    return float(inter / max(union, 1)), float(wrong / max((known & inside).sum(), 1))


def evaluate(samples: list[Sample], segment: Callable[[np.ndarray, Box], np.ndarray]) -> dict:
    """Run ``segment(image, box) -> mask`` over the samples; mIoU, median, worst, error rate, wall and CPU
    seconds per image, and the images where ``segment`` returned no mask, by raising or as an empty mask."""
    rows = []
    for s in samples:
        box = protocol_box(s.truth)
        t, cpu = time.perf_counter(), time.process_time()
        try:
            pred = segment(s.image, box)
            failed = not (pred >= 0.5).any()  # plain OpenCV returns an empty mask where ours raises
        except SegmentationError:  # an empty result scores as one, it does not stop the benchmark
            pred, failed = np.zeros(s.truth.shape, np.float32), True
        seconds, cpu_seconds = time.perf_counter() - t, time.process_time() - cpu
        iou, err = score(pred, s.truth, box)
        row = {"name": s.name, "iou": iou, "error": err, "seconds": seconds, "cpu_seconds": cpu_seconds,
               "failed": failed}
        rows.append(row)
    ious = np.array([r["iou"] for r in rows])
    worst = rows[int(np.argmin(ious))]
    return {"images": len(rows), "miou": float(ious.mean()), "median_iou": float(np.median(ious)),
            "worst": {"name": worst["name"], "iou": worst["iou"]},
            "failed": [r["name"] for r in rows if r["failed"]],
            "error_rate": float(np.mean([r["error"] for r in rows])),
            "seconds_per_image": float(np.mean([r["seconds"] for r in rows])),
            # CPU time of this process: what an image costs on an idle machine, whatever the load (all the
            # OpenCV work here runs on one thread, so it is not inflated by threads either)
            "cpu_seconds_per_image": float(np.mean([r["cpu_seconds"] for r in rows])), "rows": rows}
