"""Matplotlib charts for the report, returned as PNG bytes (Agg backend: no display needed)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"torch": "#d9480f", "tf": "#1971c2"}


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def loss_curves(runs: list[dict], title: str) -> bytes:
    """Total loss against wall time, one line per engine and seed."""
    fig, ax = plt.subplots(figsize=(5.2, 3.0))
    for r in runs:
        t, loss = zip(*r["history"]) if r["history"] else ((), ())
        ax.plot(t, loss, color=COLORS.get(r["engine"], "gray"), alpha=0.8, lw=1.2,
                label=f"{r['engine']} seed {r['seed']}")
    ax.set_yscale("log")
    ax.set_xlabel("seconds")
    ax.set_ylabel("total loss (each engine's own)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return _png(fig)


def bars(table: dict, key: str, label: str) -> bytes:
    """One bar per engine: mean with a ±1 sd error bar."""
    fig, ax = plt.subplots(figsize=(3.2, 2.6))
    engines = list(table)
    means = [table[e][key]["mean"] for e in engines]
    sds = [table[e][key]["sd"] for e in engines]
    ax.bar(engines, means, yerr=sds, capsize=4, color=[COLORS.get(e, "gray") for e in engines])
    ax.set_ylabel(label)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def curve_chart(faithfulness: dict, kind: str) -> bytes:
    """Deletion or insertion curves, one line per saliency method."""
    fig, ax = plt.subplots(figsize=(4.2, 2.8))
    for method, f in faithfulness.items():
        ax.plot(f["fractions"], f[kind], lw=1.2, label=f"{method} ({f[kind + '_auc']:.3g})")
    ax.set_xlabel("share of pixels " + ("removed" if kind == "deletion" else "inserted"))
    ax.set_ylabel("target class probability")
    ax.set_title(f"{kind} curves (area in brackets)", fontsize=10)
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    return _png(fig)
