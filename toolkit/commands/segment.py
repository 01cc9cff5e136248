"""``styleseg segment``: GrabCut masks from a box or hints, or k-means cluster maps."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .common import add_force, add_seed, parse_box

log = logging.getLogger("styleseg")
#: On GrabCut-50, boxes scoring below this averaged IoU 0.79 with our GrabCut, those above it 0.92.
LOW_SEPARABILITY = 0.4


def register(sub) -> None:
    p = sub.add_parser("segment", help="GrabCut foreground mask, or k-means colour clusters",
                       description="Segment an image. GrabCut: a binary mask of the object in --box (or a "
                                   "centred box when none is given). k-means: a cluster map and, with "
                                   "--blackout-dir, the image with each cluster blacked out.")
    p.add_argument("image", help="image file, or sample:NAME (e.g. sample:astronaut)")
    p.add_argument("--method", choices=("grabcut", "kmeans"), default="grabcut")
    p.add_argument("-o", "--output", required=True, help="mask (grabcut) or cluster map (kmeans), .png")
    g = p.add_argument_group("grabcut")
    g.add_argument("--box", help="X,Y,W,H of a box around the object (default: centred, 10%% margin)")
    g.add_argument("--hints", help="hint drawing the size of the image: strokes on a transparent or mid-gray "
                                   "canvas, black = background, white = foreground, dark/light gray = probable "
                                   "background/foreground; unmarked pixels keep the box's label")
    g.add_argument("--iterations", type=int, default=5)
    g.add_argument("--alpha", help="also write the feathered alpha matte here")
    g.add_argument("--overlay", help="also write the image with the mask overlaid here")
    g.add_argument("--full-resolution", action="store_true",
                   help="run GrabCut on the box region at full resolution instead of a copy whose longer side "
                        "is at most 320 px (slower on large boxes)")
    k = p.add_argument_group("kmeans")
    k.add_argument("-k", default="3", help="number of clusters, or 'auto' (silhouette) (default: 3)")
    k.add_argument("--color-space", choices=("lab", "rgb"), default="lab")
    k.add_argument("--xy-weight", type=float, default=0.0, help="weight of pixel position next to colour")
    k.add_argument("--blackout-dir", help="write one image per cluster, that cluster blacked out")
    add_seed(p)
    add_force(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io import read_image
    from ..provenance import environment

    image = read_image(args.image)
    meta = {"command": "segment", "input": args.image, "method": args.method, **environment()}
    protect = [args.image] + ([args.hints] if args.hints else [])
    if args.method == "grabcut":
        _grabcut(args, image, meta, protect)
    else:
        _kmeans(args, image, meta, protect)
    return 0


def _grabcut(args, image, meta, protect) -> None:
    from ..io import save_image
    from ..segment.grabcut import grabcut, hints_from_image
    from ..segment.views import overlay

    hints = hints_from_image(_read_hint_drawing(args.hints, image.shape[:2])) if args.hints else None
    res = grabcut(image, parse_box(args.box), hints, args.iterations, args.seed,
                  work_size=None if args.full_resolution else 320)
    from ..segment.separability import separability

    sep = separability(image, res.box) if res.box is not None else None
    meta.update(params=res.params, seconds=res.seconds, foreground_share=res.foreground_share, separability=sep)
    save_image(args.output, res.mask, metadata=meta, force=args.force, protect=protect)
    if args.alpha:
        save_image(args.alpha, res.alpha, metadata=meta, force=args.force, protect=protect)
    if args.overlay:
        save_image(args.overlay, overlay(image, res.mask), metadata=meta, force=args.force, protect=protect)
    log.info("foreground: %.1f%% of the image, box %s, %.2f s → %s", 100 * res.foreground_share, res.box,
             res.seconds, args.output)
    if sep is not None:
        log.info("colour separability of the box: %.2f%s", sep,
                 " (low: object and surroundings share colours; check the mask, or add --hints)"
                 if sep < LOW_SEPARABILITY else "")


def _read_hint_drawing(path: str, shape: tuple[int, int]):
    """The hint drawing as RGBA float32 H×W×4 in [0, 1], its transparency kept (it means "no hint")."""
    import numpy as np
    from PIL import Image, ImageOps

    from ..errors import ParameterError
    from ..io import read_image

    rgb = read_image(path)  # refuses a missing, damaged or non-image file with one line
    if rgb.shape[:2] != shape:
        raise ParameterError(f"--hints {path} is {rgb.shape[1]}×{rgb.shape[0]} but the image is "
                             f"{shape[1]}×{shape[0]}; draw the hints on the same image")
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGBA"), np.float32) / 255.0


def _kmeans(args, image, meta, protect) -> None:
    from ..io import save_image
    from ..segment.kmeans import kmeans_segment
    from ..segment.views import blackout_views, label_map

    res = kmeans_segment(image, args.k if args.k == "auto" else args.k, args.color_space, args.xy_weight,
                         seed=args.seed)
    meta.update(params=res.params, seconds=res.seconds, shares=res.shares, centers=res.centers,
                silhouette=res.silhouette)
    save_image(args.output, label_map(res.labels, res.centers), metadata=meta, force=args.force, protect=protect)
    if args.blackout_dir:
        for c, view in enumerate(blackout_views(image, res.labels)):
            save_image(Path(args.blackout_dir) / f"cluster{c}_blacked_out.png", view, metadata=meta,
                       force=args.force, protect=protect)
    shares = ", ".join(f"{100 * s:.0f}%" for s in res.shares)
    log.info("k=%d clusters (%s) in %.2f s → %s", res.k, shares, res.seconds, args.output)
