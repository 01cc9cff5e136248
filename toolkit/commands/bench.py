"""``styleseg bench [TARGET]``: benchmarks that print figures (speed goals live here, not in tests).

Without a target (or with ``all``) every benchmark runs with its defaults and one table gives each figure beside
the bare VGG-19 forward+backward time measured in the same run and the machine's load, since machines (and a
shared machine from one minute to the next) differ several-fold.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
from dataclasses import dataclass
from functools import partial

from .common import add_json

#: Benchmark modules under toolkit.commands, each with ``register(subparsers)``.
BENCHES = ("bench_segment", "bench_style", "bench_converge", "bench_audit", "bench_audit_set")
#: The bare VGG-19 reference: forward+backward of a REFERENCE_SIZE px image, median of REFERENCE_ROUNDS.
REFERENCE_SIZE = 256
REFERENCE_ROUNDS = 5


def register(sub) -> None:
    p = sub.add_parser("bench", help="measure speed and accuracy; prints figures (--json for machines)",
                       description="Benchmarks. Each prints its figures; --json prints them as JSON. Without a "
                                   "TARGET, or with 'all', runs every one and prints one table of all figures "
                                   "with the bare VGG-19 time and the machine load of the same run.")
    targets = p.add_subparsers(dest="target", metavar="TARGET")
    for name in BENCHES:
        importlib.import_module(f"toolkit.commands.{name}").register(targets)
    everything = partial(run_all, parsers=dict(targets.choices))
    names = ", ".join(targets.choices)  # before "all" joins them: it is not a choice of --only
    a = targets.add_parser("all", help="every benchmark with its defaults, in one table (the default)",
                           description="Run every benchmark with its defaults (several minutes to an hour on a "
                                       "busy 2-core CPU) and print one table: each figure, the bare VGG-19 "
                                       f"forward+backward at {REFERENCE_SIZE} px timed just before that "
                                       "benchmark, the figure in bare passes, and the machine load.")
    for parser in (a, p):  # `all` is the default target, so `styleseg bench --only …` means `bench all --only …`
        parser.add_argument("--only", help=f"comma-separated subset of: {names}")
        add_json(parser)
        parser.set_defaults(func=everything)


@dataclass(frozen=True)
class Figure:
    """One benchmark figure with the reference of its run: ``bare_ms`` of a bare VGG-19 pass, 1-minute ``load``."""

    bench: str
    name: str
    value: float | None  # None: not measured, e.g. a quality a run never reached
    bare_ms: float
    load: float

    @property
    def in_bare_passes(self) -> float | None:
        """A time as a number of bare VGG-19 passes (comparable across machines); None if not a time."""
        leaf = self.name.rsplit(".", 1)[-1]
        if self.value is None:
            return None
        if leaf.endswith("_ms"):
            return self.value / self.bare_ms
        if leaf == "seconds" or leaf.startswith("seconds_"):
            return 1000 * self.value / self.bare_ms
        return None


def figures(bench: str, report: dict, bare_ms: float, load: float, prefix: str = "") -> list[Figure]:
    """Every number (or null) in a benchmark's JSON report: nested keys joined with '.'; lists, e.g. curves, and
    text left out."""
    out = []
    for key, value in report.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += figures(bench, value, bare_ms, load, f"{name}.")
        elif value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(Figure(bench, name, None if value is None else float(value), bare_ms, load))
    return out


def run_all(args: argparse.Namespace, parsers: dict) -> int:
    import contextlib
    import io

    from ..errors import ParameterError

    names = [n for n in parsers if n != "all"]
    chosen = names if args.only is None else [n.strip() for n in args.only.split(",") if n.strip()]
    if not chosen:
        raise ParameterError(f"--only {args.only!r} names no benchmark; choose from {', '.join(names)}, or leave "
                             f"--only out for all of them")
    unknown = [n for n in chosen if n not in names]
    if unknown:
        raise ParameterError(f"--only {args.only!r}: unknown benchmark(s) {', '.join(unknown)}; "
                             f"choose from {', '.join(names)}")
    from ..style import StyleConfig, make_engine  # after the check: PyTorch takes seconds to import

    from ..style.reference import reference_ms

    engine = make_engine("torch", "random:0", StyleConfig())[0]
    rows: list[Figure] = []
    for name in chosen:
        bare = reference_ms(engine, REFERENCE_SIZE, REFERENCE_ROUNDS)
        sub = parsers[name].parse_args(["--json"])
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            sub.func(sub)
        rows += figures(name, json.loads(captured.getvalue()), bare, os.getloadavg()[0])
    if args.json:
        print(json.dumps([{**vars(f), "in_bare_passes": f.in_bare_passes} for f in rows], indent=2))
        return 0
    _print_table(rows)
    return 0


def _print_table(rows: list[Figure]) -> None:
    width = max([len(f"{f.bench} {f.name}") for f in rows] + [6])
    print(f"every benchmark; bare = VGG-19 forward+backward at {REFERENCE_SIZE} px (to relu5_1, PyTorch), "
          "timed just before each benchmark; load = 1-minute load average at its end "
          f"({os.cpu_count()} CPUs)")
    print(f"{'figure':<{width}}{'value':>12}{'bare ms':>9}{'in bare passes':>16}{'load':>7}")
    for f in rows:
        passes = f"{f.in_bare_passes:>16.2f}" if f.in_bare_passes is not None else f"{'':>16}"
        value = f"{f.value:>12.4g}" if f.value is not None else f"{'-':>12}"
        print(f"{f.bench + ' ' + f.name:<{width}}{value}{f.bare_ms:>9.0f}{passes}{f.load:>7.2f}")
