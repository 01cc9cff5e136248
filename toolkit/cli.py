"""``styleseg``: the command-line entry point, a thin layer over the package.

Each subcommand lives in ``toolkit/commands/<name>.py`` with ``register(subparsers)``; heavy libraries
(torch, TensorFlow, Captum) are imported inside the commands so that ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from . import __version__
from .errors import StyleSegError

#: Subcommand modules under toolkit.commands, in the order ``--help`` lists them.
COMMANDS = ("demo", "run", "segment", "stylize", "audit", "bench", "doctor")

log = logging.getLogger("styleseg")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="styleseg",
        description="Region-aware neural style transfer (PyTorch and TensorFlow) and a VGG-19 audit.",
        epilog="Run 'styleseg COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"styleseg {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="count", default=0, help="more detail (-vv for debug)")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"toolkit.commands.{name}").register(sub)
    return parser


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("styleseg: %(message)s" if verbose < 2 else
                                           "styleseg %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("styleseg")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose, args.quiet)
    try:
        return int(args.func(args) or 0)
    except StyleSegError as e:
        print(f"styleseg: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("styleseg: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
