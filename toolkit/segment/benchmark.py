"""GrabCut-50 scoring: the box protocol of the dataset's README, IoU, error rate inside the box.

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
    truth: np.ndarray  # uint8 H×W: 0, 128, 255


def load_grabcut50(folder: str | Path, limit: int | None = None) -> list[Sample]:
    """Images and ground-truth masks of GrabCut-50 (``images/NAME.*`` and ``masks/NAME.bmp``)."""
    from PIL import Image

    from ..io import read_image

    folder = Path(folder)
    if not (folder / "images").is_dir() or not (folder / "masks").is_dir():
        raise ParameterError(f"{folder} is not a GrabCut-50 folder (needs images/ and masks/); "
                             f"pass --data ../shared/datasets/grabcut50")
    samples = []
    for path in sorted((folder / "images").iterdir()):
        mask_path = folder / "masks" / (path.stem + ".bmp")
        if not mask_path.is_file():
            continue
        truth = np.asarray(Image.open(mask_path).convert("L"))
        samples.append(Sample(path.stem, read_image(path), truth))
        if limit and len(samples) >= limit:
            break
    return samples


def protocol_box(truth: np.ndarray, margin: float = 0.05) -> Box:
    """The tight box of the foreground (255), grown by ``margin`` × the longer side, clipped to the image."""
    ys, xs = np.nonzero(truth == 255)
    h, w = truth.shape
    m = round(margin * max(h, w))
    x0, y0 = max(xs.min() - m, 0), max(ys.min() - m, 0)
    x1, y1 = min(xs.max() + 1 + m, w), min(ys.max() + 1 + m, h)
    if (x0, y0, x1, y1) == (0, 0, w, h):
        # GrabCut needs background samples (plain OpenCV asserts without them): inset a whole-image box
        # by 1 % of the longer side. This departs from the README protocol on one image, for both methods.
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


def evaluate(samples: list[Sample], segment: Callable[[np.ndarray, Box], np.ndarray],
             features: Callable[[np.ndarray, Box], float] | None = None) -> dict:
    """Run ``segment(image, box) -> mask`` over the samples; mIoU, median, worst, error rate, seconds/image."""
    rows = []
    for s in samples:
        box = protocol_box(s.truth)
        t = time.perf_counter()
        try:
            pred = segment(s.image, box)
        except SegmentationError:  # an empty result scores as one, it does not stop the benchmark
            pred = np.zeros(s.truth.shape, np.float32)
        seconds = time.perf_counter() - t
        iou, err = score(pred, s.truth, box)
        row = {"name": s.name, "iou": iou, "error": err, "seconds": seconds}
        if features is not None:
            row["separability"] = features(s.image, box)
        rows.append(row)
    ious = np.array([r["iou"] for r in rows])
    worst = rows[int(np.argmin(ious))]
    return {"images": len(rows), "miou": float(ious.mean()), "median_iou": float(np.median(ious)),
            "worst": {"name": worst["name"], "iou": worst["iou"]},
            "error_rate": float(np.mean([r["error"] for r in rows])),
            "seconds_per_image": float(np.mean([r["seconds"] for r in rows])), "rows": rows}
