"""Options shared by several subcommands, and their parsing into typed values."""

from __future__ import annotations

import argparse
import logging

from ..errors import ParameterError

log = logging.getLogger("styleseg")


def add_weights(p: argparse.ArgumentParser, default: str = "imagenet") -> None:
    p.add_argument("--weights", default=default, metavar="SOURCE",
                   help="VGG-19 weights: 'imagenet' (torchvision, cached or downloaded with its hash check), "
                        "'keras-imagenet' (Keras' own, TensorFlow only), a .pth/.safetensors file, or "
                        f"'random[:SEED]' (offline and tests; results mean nothing). Default: {default}")


def add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                   help="PyTorch device; auto picks CUDA, then MPS, then CPU (default: auto)")


def add_seed(p: argparse.ArgumentParser, default: int = 0) -> None:
    from ..seeds import MAX_SEED

    p.add_argument("--seed", type=_seed, default=default,
                   help=f"random seed, 0 to {MAX_SEED} (default: {default})")


def _seed(text: str) -> int:
    from ..seeds import parse_seed

    try:
        return parse_seed(text)
    except ParameterError as e:  # argparse shows its own message only for ArgumentTypeError
        raise argparse.ArgumentTypeError(str(e)) from None


def output_path(text: str) -> str:
    """An argparse type for an output path: an empty one (``-o ""``) would name the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty; give a file or folder name")
    return text


def add_force(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help="replace existing output files")


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the result as JSON on standard output")


def parse_box(text: str | None) -> tuple[int, int, int, int] | None:
    """``"X,Y,W,H"`` → a tuple of four ints (None passes through)."""
    if text is None:
        return None
    parts = text.replace(" ", "").split(",")
    try:
        x, y, w, h = (int(v) for v in parts)  # int("10.7") and int("inf") fail: a box is whole pixels
    except ValueError:
        raise ParameterError(f"--box {text!r} is not X,Y,W,H (four whole numbers of pixels, e.g. "
                             f"--box 40,30,120,160)") from None
    if w <= 0 or h <= 0:
        raise ParameterError(f"--box {text!r} has a width or height of {min(w, h)}; both must be positive")
    return x, y, w, h


def add_bench_options(p: argparse.ArgumentParser, run) -> None:
    """What every VGG-19 benchmark takes: ``--weights`` (random by default: a benchmark times the network, it does
    not judge what it sees) and ``--json``; ``run`` carries it out."""
    add_weights(p, default="random:0")
    add_json(p)
    p.set_defaults(func=run)


def add_mask_source(p: argparse.ArgumentParser, what: str = "the object") -> None:
    """``--mask FILE`` or ``--box X,Y,W,H`` (GrabCut), mutually exclusive."""
    where = p.add_mutually_exclusive_group()
    where.add_argument("--mask", help=f"mask file of {what}, white = foreground")
    where.add_argument("--box", help=f"X,Y,W,H around {what}: GrabCut makes the mask")


def add_vgg_options(p: argparse.ArgumentParser) -> None:
    """The options every VGG-19 command shares: seed, weights, device, force."""
    add_seed(p)
    add_weights(p)
    add_device(p)
    add_force(p)


def mask_from_args(args: argparse.Namespace, image):
    """The H×W float32 mask from ``--mask`` (resized to the image) or GrabCut in ``--box``; None if neither."""
    if getattr(args, "mask", None):
        from ..io import read_mask

        return read_mask(args.mask, image.shape[:2])
    if getattr(args, "box", None):
        from ..segment.grabcut import grabcut

        return grabcut(image, parse_box(args.box)).mask
    return None


def parse_names(text: str, option: str, choices, what: str, hint: str) -> tuple[str, ...]:
    """A comma-separated list of distinct names from ``choices`` (spaces around names ignored); an empty list,
    an unknown or a repeated name is a one-line error naming ``option``."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise ParameterError(f"{option} {text!r} names no {what}; give at least one ({hint})")
    unknown = [n for n in names if n not in choices]
    if unknown:
        raise ParameterError(f"{option}: unknown {what}(s) {', '.join(map(repr, unknown))}; {hint}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ParameterError(f"{option} names {', '.join(repeated)} more than once; give each {what} once")
    return names
