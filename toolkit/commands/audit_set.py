"""``styleseg audit-set``: the VGG-19 audit over a folder of images, on this machine or a Ray cluster."""

from __future__ import annotations

import argparse
import logging
import os

from .common import add_device, add_seed, add_weights, output_path

log = logging.getLogger("styleseg")

#: Cheap enough for thousands of images on a CPU; add more with --methods.
DEFAULT_METHODS = "saliency,gradcam"
DEFAULT_SHORTCUT_STEPS = 30


def register(sub) -> None:
    p = sub.add_parser("audit-set", help="audit VGG-19 over a folder of images (local processes or Ray)",
                       description="Audit every image in IMAGES_DIR whose mask (same name) is in MASKS_DIR: "
                                   "attention on the object per saliency method, deletion/insertion areas, "
                                   "top-1/top-5 and (with --shortcut --style) the shortcut probe. One JSON record "
                                   "per image goes to OUT_DIR/records/ (a rerun skips finished images, an "
                                   "interrupted run resumes); OUT_DIR/aggregate.json and OUT_DIR/report.html "
                                   "are computed from the records on disk.")
    p.add_argument("images", metavar="IMAGES_DIR", help="folder of images")
    p.add_argument("--masks", metavar="MASKS_DIR", help="folder of masks named like the images (white = object)")
    p.add_argument("-o", "--output", required=True, metavar="OUT_DIR", type=output_path,
                   help="folder for records/, aggregate.json and report.html (the last two are replaced)")
    p.add_argument("--boxes", metavar="CSV", help="image,x,y,w,h: GrabCut masks for images without a mask file")
    p.add_argument("--labels", metavar="CSV", help="image,class (ImageNet index or name): accuracy and per-class "
                                                   "figures")
    p.add_argument("--methods", default=DEFAULT_METHODS, help=f"saliency methods, comma-separated (default: "
                                                              f"{DEFAULT_METHODS}; see 'styleseg audit --help')")
    p.add_argument("--size", type=int, default=224, help="audit size in pixels (default: 224)")
    p.add_argument("--curve-steps", type=int, default=10, help="points on deletion/insertion curves (0: skip)")
    p.add_argument("--sanity-steps", type=int, default=0, help="layers randomised in the sanity check (default 0: "
                                                               "skip)")
    p.add_argument("--shortcut", action="store_true", help="run the shortcut probe (needs --style)")
    p.add_argument("--style", help="style image for the shortcut probe")
    p.add_argument("--shortcut-steps", type=int, help=f"style steps of the shortcut probe (default: "
                                                      f"{DEFAULT_SHORTCUT_STEPS}; needs --shortcut)")
    default_workers = min(4, os.cpu_count() or 1)
    p.add_argument("--workers", type=int, metavar="N",
                   help=f"processes (or Ray tasks at a time); 0 = in this process (default: {default_workers} "
                        f"locally, every CPU of a Ray cluster)")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run each image as a Ray task: alone, a local Ray instance; with ADDRESS (auto, "
                        "HOST:PORT, ray://HOST:PORT), an existing cluster (needs pip install 'styleseg[ray]')")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N images (by name)")
    add_seed(p)
    add_weights(p)
    add_device(p)
    p.set_defaults(func=run, default_workers=default_workers)


def run(args: argparse.Namespace) -> int:
    from ..audit import AuditConfig, audit_dataset
    from ..audit.dataset import check_settings
    from ..audit.methods import METHODS
    from ..errors import ParameterError, StyleSegError
    from .common import parse_names

    methods = parse_names(args.methods, "--methods", METHODS, "saliency method", f"choose from {', '.join(METHODS)}")
    if not args.shortcut:
        for option, value in (("--style", args.style), ("--shortcut-steps", args.shortcut_steps)):
            if value is not None:
                raise ParameterError(f"{option} is only used by the shortcut probe; add --shortcut (or leave out "
                                     f"{option})")
    steps = DEFAULT_SHORTCUT_STEPS if args.shortcut_steps is None else args.shortcut_steps
    cfg = AuditConfig(methods=methods, size=args.size, sanity_steps=args.sanity_steps,
                      curve_steps=args.curve_steps, shortcut=args.shortcut, shortcut_size=min(128, args.size),
                      shortcut_steps=steps, seed=args.seed)
    workers = args.workers if args.workers is not None else (None if args.ray else args.default_workers)
    check_settings(cfg, workers=workers or 0, limit=args.limit, style=args.style)
    if args.ray:
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ParameterError("--ray needs Ray: pip install 'styleseg[ray]'") from None
    res = audit_dataset(args.images, args.masks, args.output, config=cfg, weights=args.weights, style=args.style,
                        labels=args.labels, boxes=args.boxes, workers=workers or 0, ray=args.ray,
                        device=args.device, limit=args.limit, progress=not args.quiet)
    print(res.summary())
    agg = res.aggregate
    if agg["images"] and not agg["audited"]:
        first = agg["errors"][0]
        raise StyleSegError(f"{agg['images']} of {agg['images']} images failed, none was audited (first: "
                            f"{first['image']}: {first['reason']}); fix the inputs or the settings and run again")
    return 0
