"""``styleseg``: the command-line entry point, a thin layer over the package.

Each subcommand lives in ``toolkit/commands/<name>.py`` with ``register(subparsers)``; heavy libraries
(PyTorch, TensorFlow, Captum, OpenCV, even NumPy) are imported inside the functions that run a command, so that
``--help`` and ``--version`` are instant (tests/test_cli.py checks that building the parser imports none of them).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager

from . import __version__
from .errors import StyleSegError

#: Subcommands, in the order ``--help`` lists them; each is toolkit/commands/<name, - as _>.py.
COMMANDS = ("demo", "lesson", "run", "pdf", "segment", "stylize", "audit", "audit-set", "bench", "doctor")

log = logging.getLogger("styleseg")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="styleseg",
        description="Region-aware neural style transfer (PyTorch and TensorFlow) and a VGG-19 audit.",
        epilog="Run 'styleseg COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"styleseg {__version__}")
    _add_verbosity(parser, default=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"toolkit.commands.{name.replace('-', '_')}").register(sub)
    for command in sub.choices.values():  # -v/-q also after the command, as users type them
        _add_verbosity(command, default=False)
    return parser


def _add_verbosity(parser: argparse.ArgumentParser, default: bool) -> None:
    # Only the top-level parser sets defaults, so a subcommand's parser never resets what was given before it.
    verbose = {"default": 0} if default else {"default": argparse.SUPPRESS}
    quiet = {"default": False} if default else {"default": argparse.SUPPRESS}
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="count", help="more detail (-vv for debug)", **verbose)
    group.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors", **quiet)


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a message comes: the caller (a test's capture, a notebook) may
    replace it, or close the one there was, after logging was set up."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # StreamHandler's constructor sets it; the property above always wins
        pass


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("styleseg: %(message)s" if verbose < 2 else
                                           "styleseg %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("styleseg")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


#: Set before a command imports PyTorch (the user's own value wins). PyTorch's OpenMP threads otherwise spin after
#: every parallel region; when the cores are shared (2 cores, other processes) the spinning thread steals the core
#: its partner needs: a bare VGG-19 pass took 5x the CPU time and 5x the wall time with 2 threads on a busy machine.
#: A bounded spin instead (GOMP_SPINCOUNT=20000) made 128 px steps about 5 % faster on an idle machine but up to
#: 1.7x slower beside two busy processes, so the threads sleep at once.
THREAD_ENVIRONMENT = {"OMP_WAIT_POLICY": "PASSIVE"}


def _attach_negative_boxes(argv: list[str]) -> list[str]:
    """``--box -5,2,85,94`` → ``--box=-5,2,85,94``: argparse takes a value starting with "-" for an option, and a
    box partly left of or above the image (which is clipped) starts with one."""
    out = []
    for arg in argv:
        if out and out[-1] == "--box" and arg[:1] == "-" and arg[1:2].isdigit():
            out[-1] = f"--box={arg}"
        else:
            out.append(arg)
    return out


def _interrupt(signum, frame):
    raise KeyboardInterrupt


@contextmanager
def _sigterm_interrupts():
    """SIGTERM (a scheduler or `kill` stopping the command) acts as Ctrl-C from the first moment: every command
    then keeps what Ctrl-C keeps (a study's report, the best stylised image) and exits the same way, in one line
    with status 130, rather than dying silently while it starts or writes."""
    if threading.current_thread() is not threading.main_thread():  # main() called from a thread: signals are not ours
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    for name, value in THREAD_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    # a Ctrl-C (or SIGTERM) at any point, e.g. during a command's seconds-long import of PyTorch, is a one-line exit
    with _sigterm_interrupts():
        try:
            args = build_parser().parse_args(_attach_negative_boxes(sys.argv[1:] if argv is None else argv))
            configure_logging(args.verbose, args.quiet)
            return int(args.func(args) or 0)
        except StyleSegError as e:
            print(f"styleseg: error: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("styleseg: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
