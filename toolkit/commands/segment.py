"""``styleseg segment``: GrabCut masks from a box or hints, or k-means cluster maps."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .common import add_force, add_seed, output_path, parse_box

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
    p.add_argument("-o", "--output", required=True, type=output_path,
                   help="mask (grabcut) or cluster map (kmeans), .png")
    g = p.add_argument_group("grabcut")
    g.add_argument("--box", help="X,Y,W,H of a box around the object (default without --hints: centred, 10%% "
                                 "margin; with --hints and no box, the hints alone mark object and background)")
    g.add_argument("--hints", help="hint drawing the size of the image: strokes on a transparent or mid-gray "
                                   "canvas, black = background, white = foreground, dark/light gray = probable "
                                   "background/foreground; unmarked pixels keep the box's label")
    g.add_argument("--iterations", type=int, help="GrabCut iterations, 1 to 20 (default: 5)")
    g.add_argument("--alpha", type=output_path, help="also write the feathered alpha matte here")
    g.add_argument("--overlay", type=output_path, help="also write the image with the mask overlaid here")
    g.add_argument("--full-resolution", action="store_true",
                   help="run GrabCut on the box region at full resolution instead of a copy whose longer side "
                        "is at most 320 px (slower on large boxes)")
    k = p.add_argument_group("kmeans")
    k.add_argument("-k", help="number of clusters, 2 to 64, or 'auto' (silhouette) (default: 3)")
    k.add_argument("--color-space", choices=("lab", "rgb"), help="default: lab")
    k.add_argument("--xy-weight", type=float,
                   help="weight of pixel position next to colour, 0 to 100 (default: 0, colour only)")
    k.add_argument("--blackout-dir", type=output_path, help="write one image per cluster, that cluster blacked out")
    add_seed(p)
    add_force(p)
    # Each method's options default to None (--full-resolution to False), so that one given with the other method
    # is refused rather than ignored; run() fills in the defaults below.
    p.set_defaults(func=run)


#: Options of one method only (their ``args`` attribute, as typed), with their defaults.
GRABCUT_OPTIONS = {"box": ("--box", None), "hints": ("--hints", None), "iterations": ("--iterations", 5),
                   "alpha": ("--alpha", None), "overlay": ("--overlay", None),
                   "full_resolution": ("--full-resolution", False)}
KMEANS_OPTIONS = {"k": ("-k", "3"), "color_space": ("--color-space", "lab"), "xy_weight": ("--xy-weight", 0.0),
                  "blackout_dir": ("--blackout-dir", None)}


def run(args: argparse.Namespace) -> int:
    from ..io import read_image
    from ..provenance import environment

    # Everything the command line says is checked before the image is read: nothing is segmented, and nothing
    # written, for a run that would then fail.
    _check_options(args)
    protect = [args.image] + ([args.hints] if args.hints else [])
    _check_outputs(args, protect)
    image = read_image(args.image)
    meta = {"command": "segment", "input": args.image, "method": args.method, **environment()}
    if args.method == "grabcut":
        _grabcut(args, image, meta, protect)
    else:
        _kmeans(args, image, meta, protect)
    return 0


def _check_options(args: argparse.Namespace) -> None:
    """Refuse the other method's options, and values out of range; fill in this method's defaults."""
    from ..errors import ParameterError

    mine, theirs, other = ((GRABCUT_OPTIONS, KMEANS_OPTIONS, "kmeans") if args.method == "grabcut"
                           else (KMEANS_OPTIONS, GRABCUT_OPTIONS, "grabcut"))
    given = [flag for attr, (flag, _) in theirs.items() if getattr(args, attr) is not None
             and getattr(args, attr) is not False]  # identity: --xy-weight 0 and --iterations 0 were given
    if given:
        them = ", ".join(given)
        raise ParameterError(f"{them} {'is a' if len(given) == 1 else 'are'} --method {other} option"
                             f"{'' if len(given) == 1 else 's'}, not for --method {args.method}; drop "
                             f"{'it' if len(given) == 1 else 'them'} or use --method {other}")
    for attr, (_, default) in mine.items():
        if getattr(args, attr) is None:
            setattr(args, attr, default)
    if args.method == "grabcut":
        from ..segment.grabcut import MAX_ITERATIONS, MIN_ITERATIONS

        if not MIN_ITERATIONS <= args.iterations <= MAX_ITERATIONS:
            raise ParameterError(f"--iterations {args.iterations}: give {MIN_ITERATIONS} to {MAX_ITERATIONS} "
                                 f"(default: 5; more than 5 changes little)")
        parse_box(args.box)  # a malformed box is refused now; one that misses the image once it is read
    else:
        from ..segment.kmeans import check_k, check_xy_weight

        args.k = check_k(args.k, "-k")
        args.xy_weight = check_xy_weight(args.xy_weight, "--xy-weight")


def _outputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """Every file the run may write, as (the option that names it, path)."""
    from ..segment.kmeans import AUTO_KS

    files = [("-o", Path(args.output))]
    if args.method == "grabcut":
        files += [(flag, Path(path)) for flag, path in (("--alpha", args.alpha), ("--overlay", args.overlay)) if path]
    elif args.blackout_dir:
        # k = auto may pick any of AUTO_KS: every view it could write is checked
        k = max(AUTO_KS) if args.k == "auto" else args.k
        files += [("--blackout-dir", Path(args.blackout_dir) / _view_name(c)) for c in range(k)]
    return files


def _view_name(cluster: int) -> str:
    return f"cluster{cluster}_blacked_out.png"


def _check_outputs(args: argparse.Namespace, protect: list[str]) -> None:
    """Refuse, before any work, an output that would be lost or would destroy something: two outputs that are the
    same file (or one inside another), an input, a folder, an existing file without --force, an unknown image type,
    a --blackout-dir that is a file, a folder that cannot be written."""
    import os

    from ..errors import OutputError
    from ..io import check_image_output, check_writable, same_file

    files = _outputs(args)
    real = [Path(os.path.realpath(path)) for _, path in files]
    for i, (flag, path) in enumerate(files):
        for other_flag, other in files[:i]:
            if same_file(path, other):
                raise OutputError(f"{flag} {path} is the same file as {other_flag} {other}; give each output "
                                  f"its own file name")
    for i, (flag, path) in enumerate(files):
        for j, (other_flag, other) in enumerate(files):
            if real[i] != real[j] and real[i].is_relative_to(real[j]):
                raise OutputError(f"{flag} {path} would be inside {other_flag} {other}, which is written as a "
                                  f"file; choose another path")
    if args.method == "kmeans" and args.blackout_dir:
        folder = Path(args.blackout_dir)
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"--blackout-dir {folder} is a file, not a folder; give the name of a folder (it is "
                              f"made if missing)")
    for _, path in files:
        check_image_output(path, force=args.force, protect=protect)  # an input, a folder, an existing file, a type
    for folder in dict.fromkeys(path.parent for _, path in files):
        check_writable(folder, next(path for _, path in files if path.parent == folder))


def _grabcut(args, image, meta, protect) -> None:
    from ..io import save_image, writing
    from ..segment.grabcut import grabcut, hints_from_image
    from ..segment.views import overlay

    hints = hints_from_image(_read_hint_drawing(args.hints, image.shape[:2])) if args.hints else None
    res = grabcut(image, parse_box(args.box), hints, args.iterations, args.seed,
                  work_size=None if args.full_resolution else 320)
    from ..segment.separability import separability

    sep = separability(image, res.box) if res.box is not None else None
    meta.update(params=res.params, seconds=res.seconds, foreground_share=res.foreground_share, separability=sep)
    with writing(args.output):  # the mask, its alpha and its overlay: all of one run
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
    from ..io import save_image, writing
    from ..segment.kmeans import kmeans_segment
    from ..segment.views import blackout_views, label_map

    res = kmeans_segment(image, args.k, args.color_space, args.xy_weight, seed=args.seed)
    meta.update(params=res.params, seconds=res.seconds, shares=res.shares, centers=res.centers,
                silhouette=res.silhouette)
    with writing(args.output):  # the cluster map and its views: all of one run
        save_image(args.output, label_map(res.labels, res.centers), metadata=meta, force=args.force,
                   protect=protect)
        if args.blackout_dir:
            for c, view in enumerate(blackout_views(image, res.labels)):
                save_image(Path(args.blackout_dir) / _view_name(c), view, metadata=meta, force=args.force,
                           protect=protect)
    shares = ", ".join(f"{100 * s:.0f}%" for s in res.shares)
    log.info("k=%d clusters (%s) in %.2f s → %s", res.k, shares, res.seconds, args.output)
