"""GrabCut foreground extraction from a box or a hint mask, fast on real photos.

Plain ``cv2.grabCut`` at full resolution costs seconds per photo. Here it runs, with its colour models in Lab,
on the box and its surroundings only (so the background model describes what is next to the object), on a copy
whose longer side is at most ``work_size`` pixels: a small box is worked on at full resolution, so small objects
survive. Full-resolution boundaries are recovered with a guided filter (He et al., 2010): the upsampled soft mask
is filtered with the full-resolution image as guide, so the edge snaps to the image's own edges. Then the outline is
redrawn by one more GrabCut iteration at full resolution in a band around it (:func:`refine_boundary`), so thin
parts that the copy lost come back. With a box alone,
GrabCut starts the box's pixels that the background outside reaches without crossing an edge (:mod:`.reach`: the
floor under a person, the table under a banana) as probable background rather than probable foreground, so its
foreground colour model learns the object, not the surface it stands on. Clean-up keeps every substantial
foreground component and fills holes, except those whose colours are the background's. When that leaves nothing,
plain OpenCV GrabCut (whole image, full resolution) is run instead, so there is a mask wherever OpenCV gives one.
``styleseg bench segment`` measures each choice against plain OpenCV on GrabCut-50 and COCO-MVal-100.

With a box (no hints), OneCut (:mod:`.onecut`) also segments a small copy, and its mask replaces GrabCut's when
it fits the box better and has not collapsed (:func:`_prefer_onecut`). Choosing by boundary edge strength alone:
GrabCut-50 mIoU 0.827 -> 0.842 and error in the box 8.7 -> 7.4 %, COCO-MVal-100 0.591 -> 0.601, for +0.03 s per
image. Choosing by the box fit (:func:`.tightness.box_fit`: edge strength × the share of the box's edge left
uncovered × the share of the box's inner rows and columns reached, the box tightness prior): 0.856 / 6.6 % and
0.609 / 16.5 %, at no cost. Starting what the outside reaches within :data:`BACKGROUND_REACH` as probable
background, with the box fit choosing: 0.872 / 5.6 % and 0.631 / 16.0 % (and 2 images without a mask on
COCO-MVal-100 instead of 3), for +0.06 s per image as first measured (its path search started from every outside
pixel, each set up in Python by scikit-image; starting from those next to the box only gives the same distances
and took GrabCut-50 from 0.46 to 0.33 s per image); the reach limit at 35 gives 0.864 and 0.620, at 70 0.871 and
0.622 (with a path-length term, 0.02 × the mean gradient per pixel, at 40, 50, 60 and 80: 0.867 and 0.633, 0.865
and 0.618, 0.873 and 0.624, 0.865 and 0.628). It fixes banana1 (0.44 -> 0.92) and 37073 (0.68 -> 0.89). GrabCut
started this way as a third candidate instead (with the length term; limit 40 or 80): 0.859 and 0.635, 0.857 and
0.631, as the box fit picks it where the reached region was part of the object (the oracle of the current mask and
such candidates at 40, 80 and 150: 0.886 on GrabCut-50). Also measured with the reach limit at 50: a gradient
blurred by 2 px instead of 1, 0.872 and 0.624; the image's median gradient subtracted from each step (so texture
does not add up), 0.781 and 0.518, as the reach then leaks into the object; OneCut given the box less what the
outside reaches as its inside, 0.858 / 5.9 % and 0.626. The reach over SLIC superpixels (their mean Lab, as
geodesic saliency computes it, so texture inside a superpixel does not add up), limit 30: 400 superpixels 0.868 and
0.626, 800 0.874 / 5.3 % and 0.630 (it fixes bool, 0.38 -> 0.54, and person4, 0.78 -> 0.94, but loses remote06 on
COCO-MVal-100, 0.85 -> 0.04); limit 15 or 60 at 400: 0.870 and 0.624, 0.842 and 0.596; what either the pixel or
the superpixel reach takes: 0.874 and 0.624; what both take: 0.868 and 0.635.

Measured with holes judged by colour (:data:`HOLE_LOG_ODDS`; 0.876 / 5.4 % and 0.631), full sets. The minimum
barrier distance from outside the box (Strand et al. 2013, Zhang et al. 2015's raster scans; a path's cost is the
range of each Lab channel along it, so texture does not add up) in place of the reach, limit 20, 35, 50: 0.863,
0.871 and 0.864 on GrabCut-50, 0.626 on COCO-MVal-100 at 35 (it fixes bool and person4 but leaks into pale objects
on pale ground: remote06 0.85 -> 0.04, oven02 0.89 -> 0.54); what it or the reach takes (limit 40): 0.875 and
0.615; the barrier only where the reach is under 100: 0.875 and 0.628. The superpixel reach again (limit 30), with
GrabCut re-run from the pixel reach when it keeps under a quarter of the box the superpixel reach left (remote06):
0.879 / 5.2 % and 0.638 with 800 superpixels, but 0.872 and 0.644 with 600, 0.867 and 0.636 with 1000, 0.873 and
0.630 at limit 25, 0.859 and 0.634 at 35: a peak of a rough landscape, not a robust gain. The mean of the
superpixel reaches with 600, 800 and 1000 superpixels: 0.876 and 0.636, 0.46 s per image. Removing mask pixels
whose colours (blurred by 2 % of the object's size) are e^2.5 or e^4 more likely outside the box: 0.876 and 0.631.
The reach with each step's gradient weighted by how much its colour belongs inside the box rather than outside
(min(1, 2 × P_in / (P_in + P_out)), 8 Lab levels per channel, to the power 1 or 2; Bai and Sapiro 2007 take the
likelihood's own gradient): 0.872 and 0.623, 0.874 and 0.627.
GrabCut's seed (the k-means start of its colour models) alone moves the figures: seeds 0-4 give 0.869-0.877 and
0.620-0.631 (``styleseg bench segment --seeds 5``; seed 0, the default, is at the top on both); the pixel-wise
majority of GrabCut with seeds 0, 1 and 2: 0.876 and 0.625, at 0.84 CPU s per image.

Measured and not adopted (full sets, mIoU / error in box, against this module without OneCut or the reach prior,
before they were adopted): each gain on
GrabCut-50 came with a loss on COCO-MVal-100's photos. The first three ran on the same region and 320 px copy
without the plain-OpenCV fallback (worth about +0.01 on COCO-MVal-100).
- Dense-CRF refinement (DenseCut, pydensecrf2; unary from GrabCut's GMM posteriors, bilateral + Gaussian kernels):
  0.833 / 7.7 % and 0.556 / 18.3 % (thin and small objects are smoothed away).
- OneCut alone, on the 320 px copy: 0.795 / 10.0 % and 0.541 / 18.6 %. It fixes GrabCut's failures where the
  foreground model absorbs background colours (fullmoon 0.74 -> 0.99, banana1 0.44 -> 0.90) but collapses to
  (nearly) nothing on others (24077, 209070, 304074). Even the better of GrabCut and OneCut per image (an oracle)
  gives only 0.864 and 0.621; choosing by the larger colour separation of the two masks: 0.815 and 0.535.
- GrabCut's GMMs plus OneCut's L1 colour-overlap term in one graph cut (beta' 0.9): 0.817 / 8.3 % and 0.549.
- Within 0.003 on both sets, not worth their cost: 10 iterations (0.829 / 8.5 %, 0.594 / 16.9 %, 40 % more
  time), a probable-background band along the inside of the box (0.827, 0.589).
- Worse on at least one set (every 3rd image of each): a 480 or 256 px working copy, smoothing the copy (median,
  bilateral, Gaussian), OneCut's mask as GrabCut's start, keeping whichever of GrabCut, OneCut and OneCut-started
  GrabCut has the lowest GrabCut energy (+0.007 and +0.001, at 2-3 times the time).
- The tightness prior enforced by pinpointing (Lempitsky et al. 2009: while a row or column of the box's inner
  85 % holds no foreground, its pixel of highest smoothed GMM likelihood ratio becomes definite foreground and the
  cut is re-run with frozen models): GrabCut alone 0.827 -> 0.829 and 0.591 -> 0.592 for +0.08 s (inner 84 %:
  0.830, 0.587; inner 50 %: 0.827, 0.597); with OneCut chosen by edge strength 0.840 / 7.5 % and 0.602 / 17.5 %;
  with the box fit 0.851 and 0.604 (without it: 0.856 and 0.609). It restores a person's lost head (person4
  0.78 -> 0.86) but its pins grow wrong blobs elsewhere (truck04 0.91 -> 0.49), and the benchmarks' boxes are not
  tight: their margin is 5 % of the image's side, so a small object spans only the middle half of its box.
- With the box fit choosing: GrabCut started from OneCut's mask as a third candidate, 0.853 and 0.611 on OneCut's
  160 px copy, 0.856 and 0.608 on GrabCut's copy (another GrabCut run; the best of the three per image would give
  0.872 and 0.640, but the fit cannot pick it); OneCut's colour bins joined with 2 or 3 levels of local texture
  (the 5×5 grey standard deviation, split at its quantiles): 0.855 and 0.609, 0.854 and 0.606; OneCut on 224 px:
  0.846 and 0.609, +0.07 s; the intersection or the union of the two masks as a third candidate: 0.856 and 0.608,
  0.856 and 0.607; OneCut's bins in Lab instead of RGB: 0.837 and 0.605. Every 3rd image of each set (box fit
  alone: 0.812 and 0.704): our own GrabCut (scikit-learn GMMs on Lab + position, PyMaxflow cut) on the 160 px
  copy as a third candidate, 0.771 and 0.708 with position at half the weight of colour, 0.805 and 0.711 without
  position, at 1.8 times the time; in place of OneCut and GrabCut: 0.636 and 0.596.
- Shape priors in OneCut's graph (full sets, mIoU / error in box; OneCut alone on its 160 px copy: 0.787 / 9.9 %
  and 0.556 / 19.3 %). Star convexity about the box's centre (Veksler, ECCV 2008: an infinite edge from each box
  pixel to the next pixel of its digital ray to the centre): OneCut alone 0.776 / 12.6 % and 0.591 / 20.6 %
  (4 images without a mask, GrabCut's 3); box-fit choice 0.840 / 7.8 % and 0.617 / 15.9 %. Geodesic star
  convexity (Gulshan et al., CVPR 2010: each pixel hangs on its predecessor on the shortest path from the centre
  inside the box, skimage's MCP_Geometric, step cost 1 + 10 × Lab gradient / its mean): alone 0.778 / 13.7 % and
  0.597 / 20.2 %; box-fit choice 0.831 / 8.4 % and 0.619 / 15.9 % (gradient weight 30: 0.829 and 0.623; with
  OneCut on 224 px: 0.834 and 0.621, +0.1 s; the collapse guard at 0 or 0.1 changes nothing, as star masks no
  longer collapse). It ends the collapses (304074 0.03 -> 0.61, 209070 0.07 -> 0.91, 106024 0.61 -> 0.93) but
  fills the box when the centre is off the object (banana3 0.97 -> 0.36, 69020 0.69 -> 0.29) and the worst
  images do not move (153093, bool, banana1, 271008: background colours inside the box, not fragments). The
  better of GrabCut and star OneCut per image (an oracle) gives 0.844 and 0.648 (with plain OneCut: 0.860 and
  0.632), so a star candidate cannot reach 0.88 on GrabCut-50. As a third candidate beside OneCut: 0.848 / 6.9 %
  and 0.613 (weight 30: 0.847 and 0.616; centred on the deepest pixel where GrabCut's and OneCut's masks agree,
  straight rays: 0.854 / 6.7 % and 0.611; geodesic: 0.848 and 0.605), +0.05 s; the oracle of all three 0.861.
- Against the box-fit choice (0.856 / 6.6 % and 0.609 / 16.5 %), full sets: no hole filling 0.859 / 6.6 % and
  0.608; filling only holes under 2 % of the object 0.858 and 0.608; the guided filter's eps 1e-4 or 1e-2, its
  radius halved or doubled: within 0.0015 on both; the box fit ignoring box sides on the image's border (an
  object cut by the frame may run along them) 0.846 / 7.2 % and 0.609; a 480 px working copy 0.830 / 8.5 % and
  0.599, 1.9 s per image. Every 3rd image of each set (0.812 and 0.704): GrabCut in RGB or HSV on the same copy
  as a third candidate, 0.811 and 0.674, 0.812 and 0.708; a MILCut-like candidate (Wu et al. 2014: SLIC
  superpixels, a random forest on their Lab mean, spread and gradient trained on the outside against one
  witness per row and column of the box, a superpixel graph cut) 0.540 and 0.420 alone, 0.811 and 0.705 as a
  third candidate, and the better of it and the current mask per image (an oracle) 0.813 on GrabCut-50. The
  pixel-wise majority of GrabCut in Lab, GrabCut in RGB and OneCut: 0.789 and 0.632 alone, 0.810 and 0.678 as a
  candidate.
  GrabCut on texture as well as colour (Lab and the 5×5 and 11×11 standard deviations of L, projected on
  their first three principal components, as OpenCV's GrabCut takes 3 channels): 0.801 and 0.623 in place of the
  Lab GrabCut; as a third candidate 0.823 and 0.705 (person4 0.78 -> 0.94), but on the full sets 0.853 / 6.7 %
  and 0.613 / 16.0 %, at 0.69 s per image.
  OneCut's colour bins 16 or 4 levels wide per channel instead of 8 (fewer, denser bins for its 160 px copy, or
  more): 0.838 / 7.9 % and 0.608, 0.847 / 7.0 % and 0.594.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError, SegmentationError
from ..io import as_image
from .masks import feather

Box = tuple[int, int, int, int]
#: Hint values, as OpenCV's GrabCut names them.
BG, FG, PR_BG, PR_FG = 0, 1, 2, 3
#: Hint value of an unmarked pixel: it keeps the box's label.
NO_HINT = 255
#: What to do when GrabCut finds nothing (a study has no hints: it says its own).
NO_FOREGROUND_FIX = "draw the box tightly around the object, or add foreground hints (--hints)"
#: GrabCut's iterations: past 5 little changes, past 20 only time is spent.
MIN_ITERATIONS, MAX_ITERATIONS = 1, 20
#: GrabCut sees the box grown by this share of its longer side: on COCO-MVal-100 (every 3rd image) mIoU 0.656 at
#: 0.25 against 0.592 on the whole image (0.1: 0.640, 0.5: 0.644, 1.0: 0.623); neutral on GrabCut-50.
CONTEXT = 0.25
#: ...and at least grown until the background around the box is this share of the box's area (a box at the
#: image's edge): on COCO-MVal-100's every 3rd image, mIoU over plain OpenCV +0.047 without, +0.060 at 1.0, +0.031
#: at 2.0; neutral on GrabCut-50.
BACKGROUND_SHARE = 1.0
#: Foreground components at least this share of the largest are kept (the largest only: -0.005 mIoU on
#: COCO-MVal-100's every 3rd image, 0.03: the same as 0.1; no change on GrabCut-50).
KEEP_SHARE = 0.1
#: OneCut runs on a copy whose longer side is at most this: +0.03 s per image (mIoU over GrabCut alone, without the
#: fallback: GrabCut-50 +0.014, COCO-MVal-100 +0.016; at 224 px +0.007 and +0.019 for +0.1 s; at 320 px +0.012
#: and +0.009 for +0.3 s).
ONECUT_SIZE = 160
#: OneCut's mask is not taken when its share of the box is under this share of GrabCut's: it has collapsed onto a
#: few high-contrast fragments (measured as above: 0.5 gives +0.008 and +0.010; no guard -0.031 and -0.005). With
#: the reach prior (full sets, 0.872 / 0.631 at 0.3): 0.15 gives 0.872 / 0.624, 0.5 0.865 / 0.626.
ONECUT_COLLAPSE = 0.3
#: GrabCut starts the box's pixels that the outside reaches with less colour change than this (:mod:`.reach`,
#: OpenCV's 8-bit Lab units) as probable background, not probable foreground.
BACKGROUND_REACH = 50.0
MIN_BOX_SIDE = 8
#: A box must leave at least this many pixels outside it, so the background colour model has samples.
MIN_OUTSIDE_PIXELS = 50
#: A hole in the mask stays open when its colours are on average e^3 (20) times more likely under the colour
#: histogram of the background next to the box than under the object's (:func:`clean_mask`). Full sets, against
#: filling every hole (0.872 / 5.6 % and 0.631): 0.876 / 5.4 % and 0.631, the same from 2.0 to 3.0 (scissors
#: 0.71 -> 0.87, 227092, grave, 37073 +0.02; scissors02 on COCO-MVal-100 -0.02), 0.876 / 5.5 % and 0.631 at 3.5.
#: The holes seen lie at 3.0-6.6 (background through scissors' handles, between a grave's letters) and 0.6-2.6 (a
#: fire hydrant's shadowed side, a phone's screen, the astronaut's navy name patch beside a flag's navy). Filling
#: no hole: 0.875 and 0.629 (21077 -0.09, cell_phone06 -0.12).
HOLE_LOG_ODDS = 3.0
#: A mask from a smaller copy has its outline redrawn at full resolution within this many of the copy's pixels
#: (:func:`refine_boundary`). Full sets, mIoU / error in box, against the guided filter alone (GrabCut-50 0.876 /
#: 5.4 %, COCO-MVal-100 0.631 / 16.0 %): band 6, 7 and 8 give 0.881 / 5.3 % and 0.632, 0.882 / 5.2 % and 0.633,
#: 0.882 / 5.2 % and 0.633, for +0.1 s per image. Also measured: in place of the guided filter (band 6, 7 and 8:
#: 0.881, 0.882, 0.881 and 0.632-0.633), but the holes' outlines are then redrawn too and the astronaut's navy name
#: patch opens as a hole; a band of 8, 10, 12 or 16 full-resolution pixels whatever the scale: 0.880, 0.881,
#: 0.881, 0.880 and 0.632; the band cut also where no copy was made: no gain; 3 iterations in a 4 px band: 0.878;
#: a band measured in OneCut's (smaller) copy's pixels where its mask is kept: 0.881 / 5.3 % and 0.633.
BOUNDARY_BAND = 7.0
#: Levels per RGB channel of the colour histograms that judge holes.
HOLE_LEVELS = 8


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
    x, y, bw, bh = _box_numbers(box)
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


def _box_numbers(box) -> Box:
    """``box`` as four whole numbers (floats rounded to the nearest pixel), or a one-line ParameterError."""
    try:
        values = [float(v) for v in box] if not isinstance(box, (str, bytes)) else []
    except (TypeError, ValueError):
        values = []
    if len(values) != 4:
        raise ParameterError(f"box {box!r} is not 4 numbers; give the box as (x, y, w, h) in pixels")
    if not all(np.isfinite(values)):
        raise ParameterError(f"box {box!r} holds {', '.join(str(v) for v in values if not np.isfinite(v))}; give "
                             f"(x, y, w, h) as whole numbers of pixels")
    x, y, bw, bh = (int(round(v)) for v in values)
    return x, y, bw, bh


def _check_settings(iterations, work_size, feather_radius, keep_share=KEEP_SHARE, context=None) -> None:
    """GrabCut's numeric settings, refused in one line before any work."""
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)):
        raise ParameterError(f"iterations must be a whole number from {MIN_ITERATIONS} to {MAX_ITERATIONS}, got "
                             f"{iterations!r}")
    if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise ParameterError(f"iterations must be between {MIN_ITERATIONS} and {MAX_ITERATIONS}, got {iterations}")
    if work_size is not None and (isinstance(work_size, bool) or not isinstance(work_size, (int, np.integer))
                                  or work_size < 1):
        raise ParameterError(f"work_size must be a positive whole number of pixels (or None: full resolution), got "
                             f"{work_size!r}")
    if not np.isfinite(feather_radius):
        raise ParameterError(f"feather_radius must be a finite number of pixels (0: a hard edge), got "
                             f"{feather_radius!r}")
    if not 0 <= keep_share <= 1:  # above 1 no part is kept, and plain OpenCV would quietly take over
        raise ParameterError(f"keep_share must be 0 to 1 (the share of the largest part a part needs to be kept), "
                             f"got {keep_share!r}")
    if context is not None and not 0 <= context < np.inf:
        raise ParameterError(f"context must be 0 or more (the box's growth, a share of its longer side; None: the "
                             f"whole image), got {context!r}")


def grabcut(image: np.ndarray, box: Box | None = None, hints: np.ndarray | None = None, iterations: int = 5,
            seed: int = 0, *, work_size: int | None = 320, context: float | None = CONTEXT, refine: bool = True,
            cleanup: bool = True, keep_share: float = KEEP_SHARE, feather_radius: float = 2.0,
            onecut: bool = True) -> GrabCutResult:
    """Separate the object from the background.

    Parameters
    ----------
    image : ndarray of float32, shape (H, W, 3), values in [0, 1]
    box : (x, y, w, h), optional
        Pixels outside are background; inside, GrabCut decides. Clipped to the image. Without a box or hints,
        :func:`default_box` (a centred box with a 10 % margin) is used.
    hints : ndarray of uint8, shape (H, W), optional
        0 definite background, 1 definite foreground, 2 probable background, 3 probable foreground,
        :data:`NO_HINT` (255) unmarked. With a box, every marked pixel overrides the box's label and unmarked
        pixels keep it; without a box, unmarked pixels are probable background.
    iterations : int
        GrabCut iterations (1-20).
    seed : int
        OpenCV's random generator seed (its GMM initialisation uses k-means).
    work_size : int or None
        Longer side of the region GrabCut works on, in pixels; a smaller region (a small box) is worked on at full
        resolution. None: always full resolution.
    context : float or None
        With a box, GrabCut sees only the box grown by this fraction of its longer side (and any hints): its
        background model then describes the object's surroundings, not the whole photo. None: the whole image.
    refine : bool
        Recover full-resolution boundaries with a guided filter, then redraw the outline at full resolution
        (:func:`refine_boundary`); only when working on a smaller copy.
    cleanup : bool
        Drop foreground specks (components under ``keep_share`` of the largest one) and fill holes.
    keep_share : float
        Components at least this share of the largest component's area are kept (an object in several parts).
    feather_radius : float
        Radius in pixels of the soft edge of ``alpha``.
    onecut : bool
        With a box and no hints, also segment with OneCut (:mod:`.onecut`) and keep its mask instead of GrabCut's
        when it fits the box better (:func:`.tightness.box_fit`) and it has not collapsed.
    """
    t0 = time.perf_counter()
    _check_settings(iterations, work_size, feather_radius, keep_share, context)
    image = as_image(image)
    h, w = image.shape[:2]
    if hints is None and box is None:
        box = default_box((h, w))
    init = _initial_labels((h, w), box, hints)
    if not (np.isin(init, (BG, PR_BG)).any() and np.isin(init, (FG, PR_FG)).any()):
        raise SegmentationError("GrabCut needs both background and possible foreground pixels; "
                                "give a box with a margin around the object, or hints of both kinds")
    y0, y1, x0, x1 = region_of_interest(init, box, hints, context)
    fallback = kept_onecut = False
    try:
        roi_mask, kept_onecut = _fast_grabcut(image[y0:y1, x0:x1], init[y0:y1, x0:x1], iterations, seed, work_size,
                                              refine, onecut)
        mask = np.zeros((h, w), np.float32)
        mask[y0:y1, x0:x1] = roi_mask
        mask = _apply_definite(mask, init)
        if cleanup:
            # the background sample: what the box or the hints say is background, around the part worked on
            known = np.zeros((h, w), bool)
            known[y0:y1, x0:x1] = init[y0:y1, x0:x1] == BG
            mask = clean_mask(mask, keep_share, image, known)
    except SegmentationError:
        mask = np.zeros((h, w), np.float32)
    if mask.sum() == 0:
        # A region too small or too uniform for the fast path (a few dozen pixels of object, a near-empty
        # background sample): plain OpenCV's setting, so there is a mask wherever plain OpenCV gives one.
        fallback = True
        mask = _apply_definite(_opencv_grabcut(image, init, iterations, seed), init)
    if mask.sum() == 0:
        raise SegmentationError(f"GrabCut found no foreground in the box {box}; {NO_FOREGROUND_FIX}")
    params = {"box": box, "iterations": iterations, "seed": seed, "work_size": work_size, "context": context,
              "refine": refine, "cleanup": cleanup, "keep_share": keep_share, "feather_radius": feather_radius,
              "hints": hints is not None, "fallback": fallback, "onecut": onecut, "kept_onecut": kept_onecut,
              "background_reach": BACKGROUND_REACH if hints is None else None,
              "boundary_band": BOUNDARY_BAND if refine else None}
    return GrabCutResult(mask, feather(mask, feather_radius), box, time.perf_counter() - t0, params)


def region_of_interest(init: np.ndarray, box: Box | None, hints: np.ndarray | None,
                       context: float | None) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1) of the part of the image GrabCut works on.

    The box grown by ``context`` × its longer side, and further while the background around the box is under
    ``BACKGROUND_SHARE`` × the box's area (a box at the image's edge), then enlarged to take in every marked
    hint; the whole image when there is no box or ``context`` is None. Pixels beyond it are background whatever
    GrabCut would say, as they are outside the box.
    """
    h, w = init.shape
    if box is None or context is None:
        return 0, h, 0, w
    x, y, bw, bh = validate_box(box, (h, w))
    m = max(2, round(context * max(bw, bh)))
    while True:
        y0, y1, x0, x1 = max(y - m, 0), min(y + bh + m, h), max(x - m, 0), min(x + bw + m, w)
        # a box at the image's edge gets its background sample from the other sides: grow until it is as large
        # as the box (as a free-standing box's is) or the region is the whole image
        if (y1 - y0) * (x1 - x0) >= (1 + BACKGROUND_SHARE) * bw * bh or (y0, y1, x0, x1) == (0, h, 0, w):
            break
        m = round(m * 1.5) + 1
    if hints is not None:
        ys, xs = np.nonzero(np.asarray(hints) != NO_HINT)
        if len(ys):
            y0, y1, x0, x1 = min(y0, ys.min()), max(y1, ys.max() + 1), min(x0, xs.min()), max(x1, xs.max() + 1)
    return int(y0), int(y1), int(x0), int(x1)


def _fast_grabcut(image: np.ndarray, init: np.ndarray, iterations: int, seed: int, work_size: int | None,
                  refine: bool, onecut: bool) -> tuple[np.ndarray, bool]:
    """GrabCut in Lab on a copy whose longer side is at most ``work_size``, or OneCut's mask when it is better
    (see :func:`_prefer_onecut`); (binary float32 mask of ``image``, whether OneCut's mask was kept)."""
    import cv2

    h, w = image.shape[:2]
    scale = 1.0 if work_size is None else min(1.0, work_size / max(h, w))
    small_img, small_init = image, init
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small_img = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small_init = cv2.resize(init, size, interpolation=cv2.INTER_NEAREST)
    rgb = np.ascontiguousarray((small_img * 255 + 0.5).astype(np.uint8))
    # GrabCut's colour models see Lab, where distances follow perception (+0.006 mIoU on GrabCut-50 over RGB)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    box_only = np.isin(small_init, (BG, PR_FG)).all()  # a box without hints: the user said nothing more
    soft = _run_opencv(lab, _reached_as_background(lab, small_init) if box_only else small_init, iterations, seed)
    kept = False
    if onecut and box_only:
        soft, kept = _prefer_onecut(rgb, small_init == PR_FG, soft, scale)
    if scale < 1.0:
        soft = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)
        if refine:
            soft = guided_filter(image, soft, radius=max(2, round(1.5 / scale)), eps=1e-3)
            soft = refine_boundary(image, init, (soft >= 0.5).astype(np.float32), max(2, round(BOUNDARY_BAND / scale)),
                                   seed)
    return (soft >= 0.5).astype(np.float32), kept


def refine_boundary(image: np.ndarray, init: np.ndarray, mask: np.ndarray, band: int, seed: int = 0) -> np.ndarray:
    """``mask`` with its outline redrawn at full resolution: one GrabCut iteration (in Lab) in which only the
    pixels within ``band`` px of the outline are open (probable foreground or background, as ``mask`` says), its
    colour models learnt from all of ``image``; the definite labels of ``init`` stay. Holes keep their outlines,
    as clean-up judges them by colour later.

    ``image`` float32 H×W×3 in [0, 1], ``init`` uint8 H×W labels, ``mask`` binary float32 H×W (an upsampled mask
    from a smaller copy). Returns the binary float32 H×W mask, or ``mask`` itself when the cut cannot run (no
    pixels of one kind) or takes everything away.
    """
    import cv2
    from scipy import ndimage as ndi

    inside = mask >= 0.5
    filled = ndi.binary_fill_holes(inside).astype(np.uint8)
    near = np.where(filled > 0, cv2.distanceTransform(filled, cv2.DIST_L2, 3),
                    cv2.distanceTransform(1 - filled, cv2.DIST_L2, 3)) <= band
    labels = np.where(inside, FG, BG).astype(np.uint8)
    labels[near & inside], labels[near & ~inside] = PR_FG, PR_BG
    labels[init == BG], labels[init == FG] = BG, FG
    rgb = np.ascontiguousarray((image * 255 + 0.5).astype(np.uint8))
    try:
        out = _run_opencv(cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB), labels, 1, seed)
    except SegmentationError:
        return mask
    return out if out.any() else mask


def _reached_as_background(lab: np.ndarray, init: np.ndarray) -> np.ndarray:
    """A box's labels ``init`` (uint8 H×W, BG outside, PR_FG inside) with the box's pixels that the outside reaches
    within :data:`BACKGROUND_REACH` (:func:`.reach.reach` on the Lab image ``lab``) as probable background; as they
    were if that would leave no probable foreground."""
    from .reach import reach

    inside = init == PR_FG
    if inside.all() or not inside.any():
        return init
    near = inside & (reach(lab, ~inside) < BACKGROUND_REACH)
    if near.sum() == inside.sum():
        return init
    start = init.copy()
    start[near] = PR_BG
    return start


def _prefer_onecut(image: np.ndarray, inside: np.ndarray, grabcut_mask: np.ndarray,
                   scale: float) -> tuple[np.ndarray, bool]:
    """OneCut's mask of the box ``inside`` if it is the better of it and ``grabcut_mask``, else ``grabcut_mask``.

    GrabCut's foreground model can absorb background colours (a dark sky around the moon, the table around a
    banana), then its boundary runs straight through flat background or along the box; OneCut's colour-overlap
    term prevents that but it can collapse onto a few fragments. So OneCut's mask (on a copy of at most
    :data:`ONECUT_SIZE` px) is kept when it fits the box better than GrabCut's (:func:`.tightness.box_fit`,
    compared on that copy) and it covers at least :data:`ONECUT_COLLAPSE` of GrabCut's share of the box.
    ``image`` is uint8 RGB H×W×3, scaled by ``scale`` from full resolution; masks are float32 H×W.
    """
    import cv2

    from .onecut import SMOOTHNESS, onecut
    from .tightness import box_fit

    h, w = inside.shape
    t = min(1.0, ONECUT_SIZE / max(h, w))
    img, box, grab = image, inside, grabcut_mask
    if t < 1.0:
        size = (max(1, round(w * t)), max(1, round(h * t)))
        img = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        box = cv2.resize(inside.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        grab = (cv2.resize(grabcut_mask, size, interpolation=cv2.INTER_AREA) >= 0.5).astype(np.float32)
    if not box.any() or box.all():
        return grabcut_mask, False
    one = onecut(img, box, SMOOTHNESS * scale * t)
    ys, xs = np.nonzero(box)
    rect = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
    if one[box].mean() < ONECUT_COLLAPSE * grab[box].mean() or box_fit(img, one, rect) <= box_fit(img, grab, rect):
        return grabcut_mask, False
    if t < 1.0:
        one = (cv2.resize(one, (w, h), interpolation=cv2.INTER_LINEAR) >= 0.5).astype(np.float32) * inside
    return one, True


def _opencv_grabcut(image: np.ndarray, init: np.ndarray, iterations: int, seed: int) -> np.ndarray:
    """OpenCV's GrabCut as is: whole image, full resolution, RGB (OpenCV reads BGR); binary float32 mask."""
    bgr = np.ascontiguousarray((image * 255 + 0.5).astype(np.uint8)[..., ::-1])
    return _run_opencv(bgr, init, iterations, seed)


def _run_opencv(image_u8: np.ndarray, init: np.ndarray, iterations: int, seed: int) -> np.ndarray:
    """``cv2.grabCut`` from the labels ``init``; float32 mask, 1 where it says (probable) foreground."""
    import cv2

    if not (np.isin(init, (BG, PR_BG)).any() and np.isin(init, (FG, PR_FG)).any()):
        raise SegmentationError("GrabCut needs both background and possible foreground pixels")
    labels = init.copy()
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(seed % 2**31)  # a C int: our seeds run to 2**32 - 1
    try:
        cv2.grabCut(image_u8, labels, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error as e:
        raise SegmentationError(f"GrabCut failed ({str(e).strip().splitlines()[-1][:80]}); "
                                f"try a larger box or more varied hints") from None
    return np.isin(labels, (FG, PR_FG)).astype(np.float32)


def _apply_definite(mask: np.ndarray, init: np.ndarray) -> np.ndarray:
    """Definite labels are the user's, not GrabCut's."""
    mask = mask.copy()
    mask[init == BG] = 0.0
    mask[init == FG] = 1.0
    return mask


def plain_grabcut(image: np.ndarray, box: Box, iterations: int = 5, seed: int = 0) -> np.ndarray:
    """Plain OpenCV GrabCut, the reference: full resolution, RGB, the box's labels (as ``GC_INIT_WITH_RECT``
    sets them), no clean-up; ``seed`` seeds OpenCV's random generator (the k-means start of its colour models).

    Returns the binary float32 H×W mask.
    """
    _check_settings(iterations, None, 0.0)
    image = as_image(image)
    return _opencv_grabcut(image, _initial_labels(image.shape[:2], box, None), iterations, seed)


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
    # Where the window holds a constant src (most of a mask), cov_Ip = 0 and so a = 0: solve only in
    # the band along the edge of a [0, 1] mask (faster on a full-resolution mask; changes it by < 1e-3).
    a = np.zeros_like(cov_Ip)
    edge = (mean_p > 1e-4) & (mean_p < 1 - 1e-4)
    a[edge] = np.linalg.solve(var[edge], cov_Ip[edge][..., None])[..., 0]
    b = mean_p - (a * mean_I).sum(-1)
    return (box(a) * I).sum(-1) + box(b)


def clean_mask(mask: np.ndarray, keep_share: float = KEEP_SHARE, image: np.ndarray | None = None,
               background: np.ndarray | None = None) -> np.ndarray:
    """Drop foreground components smaller than ``keep_share`` × the largest one, then fill holes.

    An object in several parts (a person and the racket they hold) keeps its parts; specks go. A hole is a
    background component that does not touch the image border. Given the ``image`` (float32 H×W×3 in [0, 1]) and
    a sample of known ``background`` (bool H×W, at least :data:`MIN_OUTSIDE_PIXELS`), a hole whose colours are on
    average e^:data:`HOLE_LOG_ODDS` times more likely under the background's colour histogram than under the
    object's stays open: the background seen through scissors' handles, not a highlight a colour model left out.
    """
    import cv2

    from .masks import colour_bins, colour_log_odds

    m = (mask >= 0.5).astype(np.uint8)
    n, comp, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 1:
        return m.astype(np.float32)
    areas = stats[:, cv2.CC_STAT_AREA]
    keep = areas >= keep_share * areas[1:].max()
    keep[0] = False
    m = keep[comp]
    n, comp, stats, _ = cv2.connectedComponentsWithStats((~m).astype(np.uint8), connectivity=4)
    h, w = m.shape
    x, y, bw, bh = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    hole = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h)
    hole[0] = False
    if hole.any() and image is not None and background is not None and background.sum() >= MIN_OUTSIDE_PIXELS:
        odds = colour_log_odds(colour_bins(image, HOLE_LEVELS), background, m, HOLE_LEVELS ** 3)
        mean_odds = np.bincount(comp.ravel(), odds.ravel(), n) / np.maximum(np.bincount(comp.ravel(), None, n), 1)
        hole &= mean_odds < HOLE_LOG_ODDS
    return (m | hole[comp]).astype(np.float32)


def _initial_labels(shape: tuple[int, int], box: Box | None, hints: np.ndarray | None) -> np.ndarray:
    """OpenCV's labels: the box's (background outside, probable foreground inside), then the hints on top."""
    h, w = shape
    if box is not None:
        x, y, bw, bh = validate_box(box, shape)
        init = np.full((h, w), BG, np.uint8)
        init[y:y + bh, x:x + bw] = PR_FG
    else:
        init = np.full((h, w), PR_BG, np.uint8)
    if hints is not None:
        hints = np.asarray(hints)
        if hints.ndim == 3:
            raise ParameterError(f"hints have {hints.shape[2]} channels; give one label per pixel (H×W), or read a "
                                 f"hint drawing with hints_from_image")
        if hints.shape != (h, w):
            raise ParameterError(f"hints are {hints.shape[1]}×{hints.shape[0]} but the image is {w}×{h}; "
                                 f"draw the hints on the same image")
        if not np.isin(hints, (BG, FG, PR_BG, PR_FG, NO_HINT)).all():
            raise ParameterError(f"hints may only hold 0 (background), 1 (foreground), 2 (probable background), "
                                 f"3 (probable foreground) and {NO_HINT} (no hint)")
        marked = hints != NO_HINT
        init[marked] = hints[marked]
    return init


#: Grey levels of a hint drawing (0-255) and what they mean; a pixel takes the nearest level's meaning.
HINT_LEVELS = ((0, BG), (64, PR_BG), (128, NO_HINT), (192, PR_FG), (255, FG))


def hints_from_image(image: np.ndarray) -> np.ndarray:
    """Read a hint drawing: strokes on a transparent or mid-gray (128) canvas.

    Black strokes mark background, white foreground, dark gray (64) probable background, light gray (192)
    probable foreground; mid gray and transparent pixels (alpha < 0.5) are unmarked and keep the box's label.

    Parameters
    ----------
    image : ndarray of float32, shape (H, W, 3) RGB or (H, W, 4) RGBA, values in [0, 1]

    Returns
    -------
    hints : ndarray of uint8, shape (H, W): OpenCV's labels, :data:`NO_HINT` where unmarked
    """
    image = as_image(image, "the hint drawing", alpha=True, min_side=1)  # its image is checked where it is used
    v = image[..., :3].mean(-1) * 255
    levels = np.array([lv for lv, _ in HINT_LEVELS], np.float32)
    labels = np.array([lab for _, lab in HINT_LEVELS], np.uint8)
    out = labels[np.abs(v[..., None] - levels).argmin(-1)]
    if image.shape[-1] == 4:
        out[image[..., 3] < 0.5] = NO_HINT
    return out
