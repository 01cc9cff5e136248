"""Render a study into one self-contained HTML file.

Images are PNG data URIs (or, with ``assets_dir``, files beside the HTML); CSS is inline; there is no script and
no external request; every user-supplied string is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

import base64
import logging
import time
from pathlib import Path

import numpy as np

from ..io import atomic_write_bytes, encode_png
from ..resources import templates_dir
from . import figures

log = logging.getLogger("styleseg")


class ImageSink:
    """Turns images into ``src`` values: data URIs, or files in ``assets_dir`` referenced relatively."""

    def __init__(self, assets_dir: Path | None = None, html_dir: Path | None = None, force: bool = False):
        self.assets_dir, self.html_dir, self.force = assets_dir, html_dir, force
        self.count = 0

    def png(self, data: bytes) -> str:
        self.count += 1
        if self.assets_dir is None:
            return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        path = self.assets_dir / f"img{self.count:04d}.png"
        atomic_write_bytes(path, data, force=self.force)
        return str(path.relative_to(self.html_dir)) if self.html_dir else str(path)

    def image(self, array: np.ndarray) -> str:
        return self.png(encode_png(array))


def environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(templates_dir())),
                      autoescape=select_autoescape(["html", "j2", "html.j2"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = lambda v, spec=".3g": "–" if v is None or (isinstance(v, float) and v != v) \
        else format(v, spec)
    env.filters["pm"] = lambda d, spec=".3g": "–" if not d or d.get("n", 0) == 0 \
        else f"{format(d['mean'], spec)} ± {format(d['sd'], spec)}"
    return env


def build_context(result, sink: ImageSink) -> dict:
    """Everything the templates show, with images already turned into ``src`` values."""
    from ..audit.render import gray_to_rgb, heatmap, overlay

    contents = []
    for c in result.contents:
        item = {"name": c["name"], "region": c["region"], "box": c.get("box"),
                "foreground_share": c.get("foreground_share"), "grabcut_seconds": c.get("grabcut_seconds")}
        if "image" in c:
            item["image"] = sink.image(c["image"])
            item["mask"] = sink.image(c["mask"])
            km = c["kmeans"]
            item["kmeans"] = {"k": km["k"], "shares": km["shares"], "label_map": sink.image(km["label_map"]),
                              "palette": sink.image(km["palette"]),
                              "blackouts": [sink.image(b) for b in km["blackouts"]]}
        item["runs"] = [{**{k: v for k, v in r.items() if k not in ("image", "history")}, "src": sink.image(r["image"])}
                        for r in c["runs"]]
        if c.get("comparison"):
            comp = c["comparison"]
            item["comparison"] = comp
            item["charts"] = {mode: {
                "curves": sink.png(figures.loss_curves([r for r in c["runs"] if r["mode"] == mode],
                                                       f"{mode}: loss against time")),
                "style": sink.png(figures.bars(comp[mode]["engines"], "style_loss", "referee style loss")),
                "time": sink.png(figures.bars(comp[mode]["engines"], "step_ms", "ms per step")),
            } for mode in comp if comp[mode]["engines"]}
        a = c.get("audit")
        if a is not None:
            item["audit"] = {
                "predictions": a.predictions, "target": a.target, "attention": a.attention, "sanity": a.sanity,
                "faithfulness": a.faithfulness, "shortcut": a.shortcut, "features": a.features,
                "timings": a.timings, "seconds": a.seconds,
                "maps": {m: {"heat": sink.image(heatmap(v)), "overlay": sink.image(overlay(a.image, v))}
                         for m, v in a.maps.items()},
                "grids": {n: sink.image(gray_to_rgb(g)) for n, g in a.feature_grids.items()},
                "framing": a.framing,
                "charts": {k: sink.png(v) for k, v in figures.audit_charts(a.sanity, a.faithfulness).items()},
            }
        contents.append(item)
    spec = result.spec
    return {"title": spec.title, "spec": spec, "result": result, "contents": contents,
            "style_src": sink.image(result.style_image) if result.style_image is not None else None,
            "settings": {"study file": spec.source, "weights": result.weights, "engines": ", ".join(spec.engines),
                         "seeds": ", ".join(map(str, spec.seeds)), "size": f"{spec.size} px",
                         "steps": spec.steps, "initialisation": spec.init, "k-means k": spec.kmeans_k,
                         "audit size": f"{spec.audit_size} px"}}


def render_report(result, output: str | Path, *, assets_dir: str | Path | None = None,
                  force: bool = False) -> dict:
    """Write the HTML report atomically; returns {"path", "bytes", "seconds"} (render time of the report alone)."""
    t = time.perf_counter()
    output = Path(output)
    sink = ImageSink(Path(assets_dir) if assets_dir else None, output.parent.resolve() if assets_dir else None,
                     force)
    html = environment().get_template("report.html.j2").render(**build_context(result, sink))
    atomic_write_bytes(output, html.encode("utf-8"), force=force)
    seconds = time.perf_counter() - t
    log.info("report: %s (%.1f MB, rendered in %.1f s)", output, len(html) / 1e6, seconds)
    return {"path": str(output), "bytes": len(html.encode()), "seconds": seconds}
