"""``styleseg bench TARGET``: benchmarks that print figures (speed goals live here, not in tests)."""

from __future__ import annotations

import importlib

#: Benchmark modules under toolkit.commands, each with ``register(subparsers)``.
BENCHES = ("bench_segment", "bench_style", "bench_audit_set")


def register(sub) -> None:
    p = sub.add_parser("bench", help="measure speed and accuracy; prints figures (--json for machines)",
                       description="Benchmarks. Each prints its figures; --json prints them as JSON.")
    targets = p.add_subparsers(dest="target", metavar="TARGET", required=True)
    for name in BENCHES:
        importlib.import_module(f"toolkit.commands.{name}").register(targets)
