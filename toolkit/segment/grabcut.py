"""GrabCut foreground extraction from a box or a hint mask, fast on real photos.

Plain ``cv2.grabCut`` at full resolution costs seconds per photo. Here it runs, with its colour models in Lab,
on a copy whose longer side is ``work_size`` pixels, and full-resolution boundaries are recovered with a guided
filter (He et al., 2010): the upsampled soft mask is filtered with the full-resolution image as guide, so the
edge snaps to the image's own edges. Clean-up keeps the largest foreground component and fills holes. ``styleseg bench segment`` measures
each choice against plain OpenCV on GrabCut-50.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError, SegmentationError
from .masks import feather

Box = tuple[int, int, int, int]
#: Hint values, as OpenCV's GrabCut names them.
BG, FG, PR_BG, PR_FG = 0, 1, 2, 3
MIN_BOX_SIDE = 8
#: A box must leave at least this many pixels outside it, so the background colour model has samples.
MIN_OUTSIDE_PIXELS = 50


@dataclass
class GrabCutResult:
    """A GrabCut segmentation.

    mask : float32 H×W, values 0 or 1 (1 = foreground)
    alpha : float32 H×W in [0, 1], the mask with a feathered edge, for compositing
    box : the (x, y, w, h) box used (None when only hints were given)
    """

    mask: np.ndarray
    alpha: np.ndarray
    box: Box | None
    seconds: float
    params: dict = field(default_factory=dict)

    @property
    def foreground_share(self) -> float:
        return float(self.mask.mean())


def default_box(shape: tuple[int, int], margin: float = 0.1) -> Box:
    """The box used when none is given: centred, leaving ``margin`` of each side as background."""
    h, w = shape
    return round(w * margin), round(h * margin), round(w * (1 - 2 * margin)), round(h * (1 - 2 * margin))


def validate_box(box: Box, shape: tuple[int, int]) -> Box:
    """Clip a box partly outside the image; refuse one wholly outside, too small, or covering the image."""
    h, w = shape
    x, y, bw, bh = (int(v) for v in box)
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + bw, w), min(y + bh, h)
    if x1 <= x0 or y1 <= y0:
        raise ParameterError(f"box {x},{y},{bw},{bh} lies outside the {w}×{h} image; give X,Y,W,H inside it")
    if min(x1 - x0, y1 - y0) < MIN_BOX_SIDE:
        raise ParameterError(f"box {x},{y},{bw},{bh} is smaller than {MIN_BOX_SIDE} pixels inside the image; "
                             f"draw a box around the whole object")
    if w * h - (x1 - x0) * (y1 - y0) < MIN_OUTSIDE_PIXELS:
        raise ParameterError(f"box {x},{y},{bw},{bh} covers (nearly) the whole {w}×{h} image, leaving no "
                             f"background for GrabCut to learn from; leave a margin around the object")
    return x0, y0, x1 - x0, y1 - y0


def grabcut(image: np.ndarray, box: Box | None = None, hints: np.ndarray | None = None, iterations: int = 5,
            seed: int = 0, *, work_size: int | None = 320, refine: bool = True, cleanup: bool = True,
            feather_radius: float = 2.0) -> GrabCutResult:
    """Separate the object from the background.

    Parameters
    ----------
    image : ndarray of float32, shape (H, W, 3), values in [0, 1]
    box : (x, y, w, h), optional
        Pixels outside are background; inside, GrabCut decides. Clipped to the image. Without a box or hints,
        :func:`default_box` (a centred box with a 10 % margin) is used.
    hints : ndarray of uint8, shape (H, W), optional
        0 definite background, 1 definite foreground, 2 probable background, 3 probable foreground. With a box
        too, the hints override the box's labels where they say "definite".
    iterations : int
        GrabCut iterations (1-20).
    seed : int
        OpenCV's random generator seed (its GMM initialisation uses k-means).
    work_size : int or None
        Longer side of the copy GrabCut runs on; None for full resolution (plain OpenCV).
    refine : bool
        Recover full-resolution boundaries with a guided filter (only when working on a smaller copy).
    cleanup : bool
        Keep the largest foreground component and fill its holes.
    feather_radius : float
        Radius in pixels of the soft edge of ``alpha``.
    """
    import cv2

    t0 = time.perf_counter()
    if not 1 <= iterations <= 20:
        raise ParameterError(f"iterations must be between 1 and 20, got {iterations}")
    h, w = image.shape[:2]
    if hints is None and box is None:
        box = default_box((h, w))
    init = _initial_labels((h, w), box, hints)
    scale = 1.0 if work_size is None else min(1.0, work_size / max(h, w))
    small_img, small_init = image, init
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small_img = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small_init = cv2.resize(init, size, interpolation=cv2.INTER_NEAREST)
    if not (np.isin(small_init, (BG, PR_BG)).any() and np.isin(small_init, (FG, PR_FG)).any()):
        raise SegmentationError("GrabCut needs both background and possible foreground pixels; "
                                "give a box with a margin around the object, or hints of both kinds")
    labels = small_init.copy()
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(seed)
    try:
        # GrabCut's colour models see Lab, where distances follow perception (+0.006 mIoU on GrabCut-50 over RGB)
        lab = cv2.cvtColor(np.ascontiguousarray((small_img * 255 + 0.5).astype(np.uint8)), cv2.COLOR_RGB2LAB)
        cv2.grabCut(lab, labels, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error as e:
        raise SegmentationError(f"GrabCut failed ({str(e).strip().splitlines()[-1][:80]}); "
                                f"try a larger box or more varied hints") from None
    soft = np.isin(labels, (FG, PR_FG)).astype(np.float32)
    if scale < 1.0:
        soft = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)
        if refine:
            soft = guided_filter(image, soft, radius=max(2, round(1.5 / scale)), eps=1e-3)
    mask = (soft >= 0.5).astype(np.float32)
    mask[init == BG] = 0.0  # definite labels are the user's, not GrabCut's
    mask[init == FG] = 1.0
    if cleanup:
        mask = clean_mask(mask)
    if mask.sum() == 0:
        raise SegmentationError("GrabCut found no foreground in the box; draw the box tightly around the "
                                "object, or add foreground hints (--hints)")
    params = {"box": box, "iterations": iterations, "seed": seed, "work_size": work_size, "refine": refine,
              "cleanup": cleanup, "feather_radius": feather_radius, "hints": hints is not None}
    return GrabCutResult(mask, feather(mask, feather_radius), box, time.perf_counter() - t0, params)


def plain_grabcut(image: np.ndarray, box: Box, iterations: int = 5) -> np.ndarray:
    """Plain OpenCV GrabCut, the reference: full resolution, RGB, ``GC_INIT_WITH_RECT``, no clean-up.

    Returns the binary float32 H×W mask.
    """
    import cv2

    x, y, w, h = validate_box(box, image.shape[:2])
    labels = np.zeros(image.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    bgr = np.ascontiguousarray((image * 255 + 0.5).astype(np.uint8)[..., ::-1])
    cv2.grabCut(bgr, labels, (x, y, w, h), bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)
    return np.isin(labels, (FG, PR_FG)).astype(np.float32)


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Edge-preserving filter of ``src`` (H×W) guided by the colour image ``guide`` (H×W×3, [0, 1]).

    The colour-guide form of He et al. (2010): locally, ``src`` is fitted as a linear function of the guide's
    three channels, so a blurry upsampled mask takes the sharp edges of the photo.
    """
    import cv2

    def box(x):
        return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)

    I = guide.astype(np.float32)
    p = src.astype(np.float32)
    mean_I, mean_p = box(I), box(p)
    cov_Ip = box(I * p[..., None]) - mean_I * mean_p[..., None]
    var = np.empty(I.shape[:2] + (3, 3), np.float32)
    for i in range(3):
        for j in range(i, 3):
            var[..., i, j] = var[..., j, i] = box(I[..., i] * I[..., j]) - mean_I[..., i] * mean_I[..., j]
    var += eps * np.eye(3, dtype=np.float32)
    a = np.linalg.solve(var, cov_Ip[..., None])[..., 0]
    b = mean_p - (a * mean_I).sum(-1)
    return (box(a) * I).sum(-1) + box(b)


def clean_mask(mask: np.ndarray) -> np.ndarray:
    """Keep the largest connected foreground component and fill the holes inside it."""
    import cv2

    m = (mask >= 0.5).astype(np.uint8)
    n, comp, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 1:
        return m.astype(np.float32)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    m = (comp == largest).astype(np.uint8)
    # holes: background components that do not touch the border
    inv = 1 - m
    n, comp, stats, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    h, w = m.shape
    for k in range(1, n):
        x, y, bw, bh = stats[k, :4]
        if x > 0 and y > 0 and x + bw < w and y + bh < h:
            m[comp == k] = 1
    return m.astype(np.float32)


def _initial_labels(shape: tuple[int, int], box: Box | None, hints: np.ndarray | None) -> np.ndarray:
    h, w = shape
    if box is not None:
        x, y, bw, bh = validate_box(box, shape)
        init = np.full((h, w), BG, np.uint8)
        init[y:y + bh, x:x + bw] = PR_FG
    else:
        init = np.full((h, w), PR_BG, np.uint8)
    if hints is not None:
        hints = np.asarray(hints)
        if hints.shape != (h, w):
            raise ParameterError(f"hints are {hints.shape[1]}×{hints.shape[0]} but the image is {w}×{h}; "
                                 f"draw the hints on the same image")
        if not np.isin(hints, (BG, FG, PR_BG, PR_FG)).all():
            raise ParameterError("hints may only hold 0 (background), 1 (foreground), 2 (probable background) "
                                 "and 3 (probable foreground)")
        if box is None:
            init = hints.astype(np.uint8).copy()
        else:
            definite = np.isin(hints, (BG, FG))
            init[definite] = hints[definite]
    return init


def hints_from_image(rgb: np.ndarray) -> np.ndarray:
    """Read a hint drawing: black = background, white = foreground, dark gray = probable background,
    light gray = probable foreground (levels 0, 255, 64, 192 ± 32).

    Returns uint8 H×W with OpenCV's labels.
    """
    v = (np.asarray(rgb, np.float32).mean(-1) * 255).round()
    out = np.full(v.shape, PR_BG, np.uint8)
    out[v < 32] = BG
    out[(v >= 32) & (v < 128)] = PR_BG
    out[(v >= 128) & (v < 224)] = PR_FG
    out[v >= 224] = FG
    return out
