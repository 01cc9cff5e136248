"""``styleseg audit``: what VGG-19 looks at: predictions, feature maps, saliency, attention, sanity, probes."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from ..errors import ParameterError
from .common import add_mask_source, add_vgg_options, mask_from_args, output_path, parse_names

log = logging.getLogger("styleseg")


def register(sub) -> None:
    from ..audit.methods import METHODS

    p = sub.add_parser("audit", help="Captum audit of VGG-19: saliency, attention on the object, sanity check",
                       description="Audit what VGG-19 attends to in IMAGE: top-5 predictions, feature maps, "
                                   "saliency maps, the share of attention on the object (with --mask or --box), "
                                   "a model-randomisation sanity check, deletion/insertion curves, and (with "
                                   "--shortcut --style) how predictions change when only the background or only "
                                   "the object is restyled. Writes PNGs and audit.json to DIR.")
    p.add_argument("image", help="image file, or sample:NAME")
    p.add_argument("-o", "--output", required=True, metavar="DIR", type=output_path,
                   help="folder for the PNGs and audit.json")
    add_mask_source(p)
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, from: {', '.join(METHODS)}")
    p.add_argument("--layers", default="relu1_1,relu3_1,relu5_1", help="feature-map layers, comma-separated")
    p.add_argument("--target", type=int, help="ImageNet class index to explain (default: the top-1 class)")
    p.add_argument("--size", type=int, default=224,
                   help="audit size in pixels: a square around the object is cropped (aspect ratio kept) and "
                        "resized to SIZE×SIZE (default: 224)")
    p.add_argument("--sanity-steps", type=int, default=4,
                   help="stages of the randomisation cascade: classifier, block5, block4, block3, block2, block1 "
                        "(default: 4, through block3; 0: skip)")
    p.add_argument("--curve-steps", type=int, default=10, help="points on deletion/insertion curves (0: skip)")
    p.add_argument("--deletion-baseline", choices=("black", "mean"),  # None: not given (see check_baseline)
                   help="what deleted pixels become (default: black); insertion starts from a blurred copy")
    p.add_argument("--shortcut", action="store_true", help="run the shortcut probe (needs --style and a mask)")
    p.add_argument("--style", help="style image for the shortcut probe")
    add_vgg_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..audit import audit
    from ..audit.dataset_image import require_object_at_size
    from ..audit.model import load_model
    from ..audit.render import gray_to_rgb, heatmap, overlay
    from ..audit.timing import bare_vgg_seconds
    from ..device import choose_device
    from ..io import check_output, read_image, save_image, write_json, writing
    from ..style.reference import BARE
    from .common import parse_box

    cfg = config_from_args(args)  # every setting checked before any file is read
    if args.style and not args.shortcut:
        raise ParameterError("--style is only used by the shortcut probe; add --shortcut (or leave out --style)")
    if args.shortcut and not args.style:
        raise ParameterError("--shortcut needs a style image: add --style IMG (a file or sample:NAME)")
    if args.shortcut and not (args.mask or args.box):
        raise ParameterError("--shortcut needs the object: add --mask FILE or --box X,Y,W,H")
    parse_box(args.box)
    out = Path(args.output)
    inputs = [p for p in (args.image, args.mask, args.style) if p]  # never written over, even with --force
    names = ["audit.json", *(f"{kind}_{m}.png" for m in cfg.methods for kind in ("saliency", "overlay")),
             *(f"features_{layer}.png" for layer in cfg.layers)]
    for name in names:
        check_output(out / name, force=args.force, protect=inputs)
    image = read_image(args.image)
    style = read_image(args.style) if args.style else None
    if style is not None:
        from ..style.pyramid import require_fit

        require_fit(style.shape, cfg.shortcut_size, f"the style image {args.style}",
                    f"crop it to a less elongated shape (the shortcut probe stylises at {cfg.shortcut_size} px)")
    mask = mask_from_args(args, image)
    require_object_at_size(mask, image.shape[:2], cfg.size, f"mask {args.mask}" if args.mask else
                           f"the GrabCut mask of --box {args.box}")
    load = os.getloadavg()[0]
    res = audit(image, cfg, mask=mask, style=style, weights=args.weights, device=choose_device(args.device))
    # the yardstick of the audit's time (machines and their load differ by up to 8x): the audit's own warm model
    bare = bare_vgg_seconds(load_model(args.weights, res.device))
    run = {**res.to_json(), "reference": {"bare_pass_s": bare, "load": {"start": load, "end": os.getloadavg()[0]}}}
    meta = {"command": "audit", "input": args.image,
            **{k: run[k] for k in ("weights", "random_weights", "config", "device", "seconds", "timings",
                                   "environment")}}
    opts = {"metadata": meta, "force": args.force, "protect": inputs}
    # the audit is done: all its files, as a folder cut in half (with --force, half the last run's) reads as one
    with writing(f"the audit's files in {out}"):
        for method, a in res.maps.items():
            save_image(out / f"saliency_{method}.png", heatmap(a), **opts)
            save_image(out / f"overlay_{method}.png", overlay(res.image, a), **opts)
        for layer, grid in res.feature_grids.items():
            save_image(out / f"features_{layer}.png", gray_to_rgb(grid), **opts)
        write_json(out / "audit.json", run, force=args.force, protect=inputs)
    top, busy = res.predictions[0], run["reference"]["load"]
    log.info("top-1: %s (%.1f%%), %d methods, %.1f s (%.0f passes of %s: %.0f ms; load average %.1f, then %.1f) → %s",
             top[1], 100 * top[2], len(res.maps), res.seconds, res.seconds / bare, BARE, 1000 * bare, busy["start"],
             busy["end"], out)
    if res.attention:
        log.info("attention on the object (%.0f%% of the image; ratio = share ÷ area, 1 = uniform map)%s:",
                 100 * next(iter(res.attention.values()))["object_area"],
                 "; RANDOM weights: an untrained network's verdicts mean nothing" if res.random_weights else "")
        for method, a in res.attention.items():
            if a["verdict"] is None:
                log.info("  %-22s no positive attribution anywhere: nothing to share out, no verdict", method)
                continue
            log.info("  %-22s %5.1f%% of attention, ratio %.2f (95%% CI %.2f–%.2f): %s", method,
                     100 * a["inside_share"], a["ratio"], *a["ratio_ci"], a["verdict"])
    if res.sanity and res.sanity["unfaithful"]:
        log.warning("maps that barely change when the model is randomised (not faithful to the model): %s",
                    ", ".join(res.sanity["unfaithful"]))
    if log.isEnabledFor(logging.DEBUG):
        _stage_table(res, bare)
    return 0


def config_from_args(args: argparse.Namespace):
    """The audit's settings from the command line, every one checked (one line naming the option)."""
    from ..audit import AuditConfig
    from ..audit.methods import METHODS, STAGES
    from ..limits import MAX_CURVE_STEPS
    from ..vgg.layers import LAYERS

    methods = parse_names(args.methods, "--methods", METHODS, "saliency method",
                          f"choose from {', '.join(METHODS)}")
    layers = parse_names(args.layers, "--layers", LAYERS, "VGG-19 layer",
                         "use names like relu1_1, conv3_2 or pool5 (blocks 1-5)")
    check_range(args.sanity_steps, "--sanity-steps", 0, len(STAGES),
                f"stages of the randomisation cascade: {', '.join(STAGES)}; 0 skips it")
    check_range(args.curve_steps, "--curve-steps", 0, MAX_CURVE_STEPS,
                "points on the deletion/insertion curves, as in study files; 0 skips them")
    check_baseline(args.deletion_baseline, args.curve_steps)
    return AuditConfig(methods=methods, layers=layers, target=args.target, size=args.size,
                       sanity_steps=args.sanity_steps, curve_steps=args.curve_steps,
                       deletion_baseline=args.deletion_baseline or "black", shortcut=args.shortcut, seed=args.seed)


def check_range(value: int, option: str, low: int, high: int, what: str) -> None:
    if not low <= value <= high:
        raise ParameterError(f"{option} must be {low} to {high} ({what}), got {value}")


def check_baseline(baseline: str | None, curve_steps: int) -> None:
    """Refuse a --deletion-baseline that 0 curve steps would silently ignore (no deletion curve to start)."""
    if baseline is not None and curve_steps == 0:
        raise ParameterError(f"--deletion-baseline {baseline} has no effect with --curve-steps 0 (no "
                             f"deletion/insertion curves); drop --deletion-baseline or give --curve-steps 1 or more")


def _stage_table(res, bare: float) -> None:
    """Per-stage seconds, beside the bare VGG-19 forward+backward at 256 px (``bare`` s) timed in this process."""
    log.debug("%-32s%10s%10s", "audit stage", "wall s", "CPU s")
    for stage, seconds in res.timings.items():
        log.debug("%-32s%10.1f%10.1f", stage, seconds, res.cpu_timings[stage])
    log.debug("%-32s%10.1f%10.1f", "total", res.seconds, sum(res.cpu_timings.values()))
    log.debug("%-32s%10.2f", "bare VGG-19 fwd+bwd 256 px", bare)
    log.debug("%-32s%10s", "load average (1, 5, 15 min)", " ".join(f"{v:.1f}" for v in os.getloadavg()))
