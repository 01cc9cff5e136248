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


def level_segments(history: list[tuple[float, float]], sizes: list[int]) -> list[tuple[int, list, list]]:
    """A run's (seconds, loss) history cut where the pyramid moves to the next size: ``[(size, seconds, losses)]``.
    Each level's loss is measured at its own size, so joining them would draw a jump that is no step's work."""
    out = []
    for (t, loss), size in zip(history, sizes):
        if not out or out[-1][0] != size:
            out.append((size, [], []))
        out[-1][1].append(t)
        out[-1][2].append(loss)
    return out


def loss_curves(runs: list[dict], title: str) -> bytes:
    """Total loss against wall time, one line per engine and seed, broken (dotted) where a pyramid level ends."""
    fig, ax = plt.subplots(figsize=(5.2, 3.0))
    for r in runs:
        color = COLORS.get(r["engine"], "gray")
        for k, (size, t, loss) in enumerate(level_segments(r["history"], r["sizes"])):
            ax.plot(t, loss, color=color, alpha=0.8, lw=1.2, label=f"{r['engine']} seed {r['seed']}" if k == 0
                    else None, ls="-" if size == r["sizes"][-1] else ":")
    ax.set_yscale("log")
    ax.set_xlabel("seconds (dotted: a coarse pyramid level, its loss at its own size)")
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
    """Deletion or insertion curves, one line per saliency method and a dashed grey one for a random map; the
    probability is divided by the unperturbed image's, so the areas in brackets are the normalised AUCs."""
    from ..audit.faithfulness import RANDOM

    fig, ax = plt.subplots(figsize=(4.2, 2.8))
    p0 = faithfulness["p_unperturbed"]
    x = faithfulness["fractions"]
    for method, f in faithfulness["methods"].items():
        ax.plot(x, [p / p0 for p in f[kind]], lw=1.2, label=f"{method} ({f[kind + '_auc']:.3g})")
    ref = faithfulness[RANDOM]
    ax.plot(x, [p / p0 for p in ref[kind]], color="gray", ls="--", lw=1.4, label=f"{RANDOM} ({ref[kind + '_auc']:.3g})")
    start = "black" if faithfulness["deletion_baseline"] == "black" else "mean colour"
    ax.set_xlabel(f"share of pixels set to {start}" if kind == "deletion" else "share of pixels put back into "
                                                                               "the blurred image")
    ax.set_ylabel("class probability ÷ unperturbed")
    ax.set_title(f"{kind} ({'lower' if kind == 'deletion' else 'higher'} than the random map is better)",
                 fontsize=10)
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    return _png(fig)


def cascade_chart(sanity: dict) -> bytes:
    """The randomisation cascade: rank correlation with the original map against the stage reached, one line per
    method; the first point is the method's own baseline (itself on the unchanged model)."""
    fig, ax = plt.subplots(figsize=(4.6, 3.0))
    x = ["baseline", *sanity["stages"]]
    for method, rho in sanity["rho"].items():
        flag = " (barely changes)" if method in sanity["unfaithful"] else ""
        ax.plot(x, [sanity["baseline"][method], *rho], marker="o", ms=3, lw=1.2, label=method + flag)
    ax.axhline(0, color="gray", lw=0.8)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("randomised from the top down to")
    ax.set_ylabel("Spearman ρ with the original |map|")
    ax.set_title("model randomisation cascade", fontsize=10)
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    return _png(fig)


def audit_charts(sanity: dict | None, faithfulness: dict | None) -> dict[str, bytes]:
    """The audit's charts, by name: the randomisation cascade and the deletion and insertion curves (when run)."""
    charts = {"randomisation cascade": cascade_chart(sanity)} if sanity else {}
    if faithfulness:
        charts.update({kind: curve_chart(faithfulness, kind) for kind in ("deletion", "insertion")})
    return charts
