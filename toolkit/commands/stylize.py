"""``styleseg stylize``: style transfer, whole-image or confined to the foreground or background."""

from __future__ import annotations

import argparse
import logging

from .common import add_mask_source, add_vgg_options, mask_from_args

log = logging.getLogger("styleseg")


def register(sub) -> None:
    p = sub.add_parser("stylize", help="Gatys style transfer (PyTorch or TensorFlow), optionally in one region",
                       description="Optimise an image to keep CONTENT's VGG-19 content and take STYLE's texture "
                                   "statistics. With --region, only the foreground or background is stylised "
                                   "(mask from --mask or GrabCut in --box); outside it the content is kept.")
    p.add_argument("content", help="content image (file or sample:NAME)")
    p.add_argument("style", help="style image (file or sample:NAME)")
    p.add_argument("-o", "--output", required=True, help="output .png")
    p.add_argument("--engine", choices=("torch", "tf"), default="torch")
    p.add_argument("--region", choices=("foreground", "background"))
    add_mask_source(p)
    p.add_argument("--mode", choices=("guided", "composite"), default="guided",
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
    p.add_argument("--history-json", help="also write the per-step losses and times as JSON")
    p.add_argument("--explain-losses", action="store_true",
                   help="print each loss term's share of the gradient at step 0 and the style/content ratio")
    add_vgg_options(p)
    p.set_defaults(func=run)


def _fractions(text: str) -> tuple[float, ...]:
    if text.strip().lower() in ("none", "0"):
        return ()
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of fractions, e.g. 0.5 or "
                                         "0.25,0.5") from None


def run(args: argparse.Namespace) -> int:
    from ..device import seed_everything
    from ..io import check_output, read_image, save_image, write_json
    from ..style import StyleConfig, stylize
    from ..style.api import with_overrides

    inputs = [p for p in (args.content, args.style, args.second_style, args.mask) if p]
    check_output(args.output, force=args.force, protect=inputs)  # fail before minutes of work, not after
    content, style = read_image(args.content), read_image(args.style)
    second = read_image(args.second_style) if args.second_style else None
    mask = mask_from_args(args, content)
    if mask is None and args.region:
        from ..errors import ParameterError

        raise ParameterError(f"--region {args.region} needs --mask FILE or --box X,Y,W,H")
    cfg = with_overrides(StyleConfig(), size=args.size, steps=args.steps, optimizer=args.optimizer,
                         style_weight=args.style_weight, content_weight=args.content_weight,
                         tv_weight=args.tv_weight, init=args.init, preserve_colors=args.preserve_colors,
                         seed=args.seed, pyramid=args.pyramid)
    seed_everything(cfg.seed)
    if args.explain_losses:
        _explain(args, cfg, content, style, mask)
    res = stylize(content, style, cfg, engine=args.engine, mask=mask, region=args.region, mode=args.mode,
                  second_style=second, weights=args.weights, device=args.device, progress=not args.quiet)
    meta = {"command": "stylize", "content": args.content, "style": args.style, **res.summary()}
    save_image(args.output, res.image, metadata=meta, force=args.force, protect=inputs)
    if args.history_json:
        write_json(args.history_json, {**meta, "history": res.history}, force=args.force, protect=inputs)
    h = res.history
    note = {"interrupted": " (interrupted: best image so far)", "nan": " (stopped on NaN: last good image)",
            "early": f" (L-BFGS-B ended early: {res.stop_message})"}
    log.info("%s engine: %d of %d steps in %.1f s, loss %.4g → %.4g%s → %s", res.engine, len(h), cfg.steps,
             res.seconds, h[0].total, h[-1].total, note.get(res.stopped, ""), args.output)
    return 130 if res.stopped == "interrupted" else 0


def _explain(args, cfg, content, style, mask) -> None:
    """Print the step-0 gradient balance of the run about to start."""
    from ..segment.masks import region_mask
    from ..style import make_engine
    from ..style.balance import explain_losses

    engine, _ = make_engine(args.engine, args.weights, cfg, args.device)
    region = None if args.region is None or args.mode != "guided" else region_mask(mask, args.region)
    for line in explain_losses(engine, cfg, content, style, region).lines():
        print(line)
