"""The dataset audit's HTML report: one self-contained file (inline CSS, data-URI images, no script) rendered
from ``aggregate.json``'s dict and the per-image records, with the project's Jinja2 environment."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

from ..io import atomic_write_bytes
from . import figures
from .render import ImageSink, environment

log = logging.getLogger("styleseg")


def ratio_histograms(records: list[dict], methods: list[str]) -> bytes:
    """One histogram per saliency method of the attention ratio over the images, with the line ratio = 1."""
    import numpy as np

    plt = figures.plt
    fig, axes = plt.subplots(1, len(methods), figsize=(3.2 * len(methods), 2.6), squeeze=False)
    for ax, m in zip(axes[0], methods):
        x = [r["attention"][m]["ratio"] for r in records
             if r["status"] == "ok" and m in r["attention"] and r["attention"][m]["ratio"] is not None]
        ax.hist(x, bins=np.histogram_bin_edges(x, bins="auto") if x else 10, color="#1971c2", alpha=0.85)
        ax.axvline(1.0, color="#c92a2a", lw=1.2, ls="--")
        ax.set_title(m, fontsize=9)
        ax.set_xlabel("attention ratio (1 = object's area)", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("images")
    return figures._png(fig)


def interval_plot(rows: list[tuple[str, dict]], title: str) -> bytes:
    """Estimates with their 95 % intervals, one row per (label, estimate dict); rows with no data are left out,
    and an estimate with no interval (n < 2 or all values alike) is a point alone, its label says so."""
    rows = [(label if e["low"] is not None else f"{label}, no interval", e) for label, e in rows if e["n"]]
    plt = figures.plt
    fig, ax = plt.subplots(figsize=(5.2, 0.45 * max(len(rows), 1) + 0.9))
    for i, (label, e) in enumerate(rows):
        if e["low"] is not None:
            ax.plot([e["low"], e["high"]], [i, i], color="#1971c2", lw=2)
        ax.plot([e["estimate"]], [i], "o", color="#d9480f")
    ax.set_yticks(range(len(rows)), [f"{label} (n={e['n']})" for label, e in rows], fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return figures._png(fig)


def build_context(agg: dict, records: list[dict], sink: ImageSink) -> dict:
    by_name = {r["image"]: r for r in records}
    methods = list(agg["methods"])
    shortcut = agg["shortcut"]

    def thumbs(entries):
        return [{**e, "src": sink.png(base64.b64decode(by_name[e["image"]]["thumbnail"]["png_base64"]))}
                for e in entries]

    charts = {}
    if methods:
        charts["histograms"] = sink.png(ratio_histograms(records, methods))
        charts["below_area"] = sink.png(interval_plot([(m, agg["methods"][m]["below_area"]) for m in methods],
                                                      "share of images: object gets less attention than its area"))
    if shortcut["background"]["n"]:  # the random regions' figure is a mean of per-image shares: labelled apart
        charts["flips"] = sink.png(interval_plot(
            [("background restyled", shortcut["background"]), ("object restyled", shortcut["foreground"]),
             ("random regions (mean per image)", shortcut["random_region"])],
            "shortcut probe: share whose top-1 changed"))
    from ..provenance import versions

    settings = agg["settings"]
    return {"title": "Dataset audit of VGG-19", "agg": agg, "methods": methods, "charts": charts,
            "gallery": {"method": agg["gallery"]["method"], "most": thumbs(agg["gallery"]["most"]),
                        "least": thumbs(agg["gallery"]["least"])},
            "versions": versions(), "devices": sorted({r["device"] for r in records if r["status"] == "ok"}),
            "audit_versions": _audit_versions(records),
            # the shared banner's fields (templates/_banner.html.j2)
            "weights": settings["weights"],
            "result": {"random_weights": settings["random_weights"], "interrupted": False, "notes": []}}


def _audit_versions(records: list[dict]) -> dict[str, str]:
    """Each library's version(s) in the records of the audits (made by workers that may be other machines)."""
    seen: dict[str, set] = {}
    for r in (r for r in records if r["status"] == "ok"):
        for lib, v in r.get("versions", {}).items():
            seen.setdefault(lib, set()).add(str(v))
    return {lib: ", ".join(sorted(vs)) for lib, vs in seen.items()}


def render_audit_set(agg: dict, records: list[dict], output: str | Path) -> Path:
    """Write the report atomically (replacing the previous run's) and return its path."""
    output = Path(output)
    html = environment().get_template("audit_set.html.j2").render(**build_context(agg, records, ImageSink()))
    atomic_write_bytes(output, html.encode("utf-8"), force=True)
    log.info("report: %s (%.1f MB)", output, len(html) / 1e6)
    return output
