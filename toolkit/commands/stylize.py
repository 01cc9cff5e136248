"""``styleseg stylize``: style transfer, whole-image or confined to the foreground or background."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path

from .common import add_mask_source, add_vgg_options, mask_from_args, output_path

log = logging.getLogger("styleseg")


def register(sub) -> None:
    p = sub.add_parser("stylize", help="Gatys style transfer (PyTorch or TensorFlow), optionally in one region",
                       description="Optimise an image to keep CONTENT's VGG-19 content and take STYLE's texture "
                                   "statistics. With --region, only the foreground or background is stylised "
                                   "(mask from --mask or GrabCut in --box); outside it the content is kept.")
    p.add_argument("content", help="content image (file or sample:NAME)")
    p.add_argument("style", help="style image (file or sample:NAME)")
    p.add_argument("-o", "--output", required=True, type=output_path, help="output .png")
    p.add_argument("--engine", choices=("torch", "tf"), default="torch")
    p.add_argument("--region", choices=("foreground", "background"))
    add_mask_source(p)
    p.add_argument("--mode", choices=("guided", "composite"),
                   help="guided: masked Gram matrices; composite: stylise all, then blend (default: guided)")
    p.add_argument("--second-style", help="style for the other region")
    p.add_argument("--size", type=int, help="output size, longer side (default 256)")
    p.add_argument("--steps", type=int, help="optimisation steps, all pyramid levels together (default 120)")
    p.add_argument("--pyramid", metavar="FRACTIONS", type=_fractions,
                   help="coarse levels before full size, as fractions of --size, e.g. 0.5; 0 or none: every "
                        "step at full size (default: none with adam, 0.5 with lbfgs)")
    p.add_argument("--optimizer", choices=("auto", "adam", "lbfgs"),
                   help="auto (default): adam for a whole image (the fastest to a given loss in `styleseg bench "
                        "converge`), lbfgs (SciPy's L-BFGS-B, with a 0.5 pyramid) for a guided region, where it "
                        "keeps the outside still and reaches a lower loss")
    p.add_argument("--style-weight", type=float)
    p.add_argument("--content-weight", type=float)
    p.add_argument("--tv-weight", type=float)
    p.add_argument("--init", help="content (default), content+noise, random, or an image path")
    p.add_argument("--preserve-colors", choices=("luminance", "histogram"))
    p.add_argument("--history-json", type=output_path, help="also write the per-step losses and times as JSON")
    p.add_argument("--explain-losses", action="store_true",
                   help="print each loss term's share of the gradient at step 0 and the style/content ratio")
    add_vgg_options(p)
    p.set_defaults(func=run)


#: Sizes tried, in order, for a --size at which a vanishing region is there again.
SIZE_LADDER = (48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)


def _fractions(text: str) -> tuple[float, ...]:
    if text.strip().lower() in ("none", "0"):
        return ()
    try:
        fractions = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of fractions, e.g. 0.5 or "
                                         "0.25,0.5") from None
    if not all(0 < f < 1 for f in fractions):  # False for nan and inf too
        raise argparse.ArgumentTypeError(f"{text!r}: each fraction must be between 0 and 1 (exclusive), e.g. 0.5 "
                                         "or 0.25,0.5; none: every step at full size")
    return fractions


def run(args: argparse.Namespace) -> int:
    from ..device import seed_everything
    from ..errors import ParameterError
    from ..io import read_image, save_image, write_json, writing
    from ..style import StyleConfig, stylize
    from ..style.api import with_overrides
    from ..style.config import INITS
    from ..style.pyramid import require_images_fit

    # Everything that can be refused is refused here, before the images are segmented or stylised.
    _check_region_options(args)
    _check_weights(args)
    cfg = with_overrides(StyleConfig(), size=args.size, steps=args.steps, optimizer=args.optimizer,
                         style_weight=args.style_weight, content_weight=args.content_weight,
                         tv_weight=args.tv_weight, init=args.init, preserve_colors=args.preserve_colors,
                         seed=args.seed, pyramid=args.pyramid)
    inputs = _inputs(args)
    _check_outputs(args, inputs)
    content, style = read_image(args.content), read_image(args.style)
    second = read_image(args.second_style) if args.second_style else None
    if args.init and args.init not in INITS:
        read_image(args.init)  # a damaged --init image is refused now, not at the first step
    require_images_fit(cfg.size, content, style, second)  # before GrabCut runs for a --box
    mask = mask_from_args(args, content)
    if mask is not None:
        _check_region_at_sizes(args, cfg, mask, [image.shape for image in (content, style, second)
                                                 if image is not None])
    seed_everything(cfg.seed)
    if args.explain_losses:
        _explain(args, cfg, content, style, mask)
    res = stylize(content, style, cfg, engine=args.engine, mask=mask, region=args.region, mode=args.mode,
                  second_style=second, weights=args.weights, device=args.device, progress=not args.quiet)
    h = res.history
    if not h and res.stopped == "nan":  # not one finite step: there is no image to keep
        raise ParameterError("the loss was NaN or infinite from the first step, so nothing was written; lower "
                             "--style-weight, --content-weight or --tv-weight, or check the --weights file")
    meta = {"command": "stylize", "content": args.content, "style": args.style, **res.summary()}
    with writing(args.output):  # the image and its history, both of this run
        save_image(args.output, res.image, metadata=meta, force=args.force, protect=inputs)
        if args.history_json:
            write_json(args.history_json, {**meta, "history": res.history}, force=args.force, protect=inputs)
    note = {"interrupted": " (interrupted: best image so far)", "nan": " (stopped on NaN: last good image)",
            "early": f" (L-BFGS-B ended early: {res.stop_message})"}
    losses = f"loss {h[0].total:.4g} → {h[-1].total:.4g}" if h else "no step finished"
    log.info("%s engine: %d of %d steps in %.1f s, %s%s → %s", res.engine, len(h), cfg.steps, res.seconds,
             losses, note.get(res.stopped, ""), args.output)
    return 130 if res.stopped == "interrupted" else 0


def _check_region_options(args: argparse.Namespace) -> None:
    """--mask, --box, --mode and --second-style only mean something with --region: refuse them without it."""
    from ..errors import ParameterError

    given = [opt for opt, value in (("--mask", args.mask), ("--box", args.box), ("--mode", args.mode),
                                    ("--second-style", args.second_style)) if value is not None]
    if args.region is None and given:
        names = " and ".join(given) if len(given) <= 2 else ", ".join(given[:-1]) + " and " + given[-1]
        raise ParameterError(f"{names} need{'s' if len(given) == 1 else ''} --region foreground or --region "
                             f"background (the region that gets the style); without --region the whole image is "
                             f"stylised, so leave "
                             f"{'it' if len(given) == 1 else 'them'} out")
    if args.region is not None and args.mask is None and args.box is None:
        raise ParameterError(f"--region {args.region} needs --mask FILE or --box X,Y,W,H")
    args.mode = args.mode or "guided"


def _check_weights(args: argparse.Namespace) -> None:
    """The style and the content weights are not both 0 (their range is StyleConfig's to check)."""
    from ..errors import ParameterError

    if args.style_weight == 0 and args.content_weight == 0:
        raise ParameterError("--style-weight 0 and --content-weight 0 leave nothing to match (only smoothing); "
                             "give one of them a positive weight")


def _inputs(args: argparse.Namespace) -> list[str]:
    """Every file the run reads, never to be written over: images, mask, --init image, weights file."""
    from ..style.config import INITS
    from ..vgg.weights import imagenet_cache_path, keras_cache_path, parse_weights

    inputs = [p for p in (args.content, args.style, args.second_style, args.mask) if p]
    if args.init and args.init not in INITS:
        inputs.append(args.init)
    source = parse_weights(args.weights)  # a missing weights file is refused here, before any work
    paths = {"file": lambda: source.path, "imagenet": imagenet_cache_path, "keras-imagenet": keras_cache_path}
    if source.kind in paths:
        inputs.append(str(paths[source.kind]()))
    return inputs


def _check_outputs(args: argparse.Namespace, inputs: list[str]) -> None:
    """The image and the history can both be written, to two different files, without touching an input."""
    from ..errors import OutputError
    from ..io import check_image_output, check_output, check_writable, same_file

    if args.history_json and same_file(args.output, args.history_json):
        raise OutputError(f"-o and --history-json are both {args.history_json}: the history would replace the "
                          f"image; give --history-json another file, e.g. {Path(args.output).with_suffix('.json')}")
    check_image_output(args.output, force=args.force, protect=inputs)  # a type save_image cannot write, too
    if args.history_json:
        check_output(args.history_json, force=args.force, protect=inputs)
    for path in filter(None, (args.output, args.history_json)):
        check_writable(Path(path).parent, path)


def _check_region_at_sizes(args: argparse.Namespace, cfg, mask, shapes) -> None:
    """The region (and, as a study requires of its masks, the rest of the image) is still there at every size the
    run optimises or blends at, checked with the study's own check; otherwise a one-line error that names a
    --size (or the pyramid) that keeps it."""
    from ..errors import SegmentationError
    from ..segment.masks import binarize, region_mask
    from ..study.check import both_sides
    from ..style.pyramid import at_level

    inside = region_mask(binarize(mask), args.region)  # what toolkit.style.api carries down to each level
    where, name = ("the", args.mask) if args.mask else ("GrabCut's", f"from --box {args.box}")

    seen = {}

    def check(config) -> None:
        for size in _mask_sizes(args, config, shapes):
            there = binarize(at_level(inside, size)) >= 0.5
            seen["object"] = there if args.region == "foreground" else ~there
            both_sides(where, name, seen["object"], size)

    def fine(config) -> bool:
        try:
            check(config)
        except SegmentationError:
            return False
        return True

    try:
        check(cfg)
    except SegmentationError as e:
        fixes = ["draw a larger object" if not seen["object"].any() else "leave more background around it"]
        if args.mode == "guided" and fine(replace(cfg, pyramid=())):
            fixes.append(f"use --pyramid none (a coarse level of the pyramid before {cfg.size} px loses it)")
        larger = next((c for c in _larger_sizes(cfg) if fine(c)), None)
        if larger is not None:
            fixes.append(f"use --size {larger.size}, where it is there at every level")
        raise SegmentationError(f"{e}: " + (f"{', '.join(fixes[:-1])} or {fixes[-1]}" if len(fixes) > 1 else
                                           fixes[0])) from None


def _mask_sizes(args: argparse.Namespace, cfg, shapes) -> list[int]:
    """The sizes at which the run uses the mask: every pyramid level of a guided run (the masked Gram matrices,
    the levels toolkit.style.api optimises at for these image shapes), only the final size of a composite one
    (the blend)."""
    if args.mode != "guided":
        return [cfg.size]
    return [size for size, _ in cfg.resolved(region=True).levels_for(*shapes)]


def _larger_sizes(cfg):
    """``cfg`` at each size of :data:`SIZE_LADDER` above its own that the configuration accepts."""
    from ..errors import ParameterError

    for size in SIZE_LADDER:
        if size > cfg.size:
            try:
                yield replace(cfg, size=size)
            except ParameterError:
                return


def _explain(args, cfg, content, style, mask) -> None:
    """Print the step-0 gradient balance of the run about to start."""
    from ..segment.masks import region_mask
    from ..style import make_engine
    from ..style.balance import explain_losses

    engine, _ = make_engine(args.engine, args.weights, cfg, args.device)
    region = None if args.region is None or args.mode != "guided" else region_mask(mask, args.region)
    for line in explain_losses(engine, cfg, content, style, region).lines():
        print(line)
