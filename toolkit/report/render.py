"""Render a study into one self-contained HTML file.

Images are PNG data URIs (or, with ``assets_dir``, files beside the HTML); CSS is inline; there is no script and
no external request; every user-supplied string is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import logging
import os
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

import numpy as np

from ..io import atomic_write_bytes, check_output, encode_png
from ..resources import templates_dir
from ..style.reference import BARE
from . import figures
from .paths import check_assets_dir

log = logging.getLogger("styleseg")


class ImageSink:
    """Turns images into ``src`` values: data URIs, or PNG files in ``assets_dir`` linked from the HTML.

    Asset files are named by their content (``<sha256 prefix>.png``), so a folder shared by several reports
    never has one report's images replaced by another's: an existing file of that name already holds the same
    bytes and is left alone. Links are relative to the HTML file's folder (the assets may be anywhere; ``..``
    is used as needed) and URL-encoded, so a folder named ``a #1?`` still works.
    """

    def __init__(self, assets_dir: Path | None = None, html_dir: Path | None = None,
                 protect: tuple[str, ...] = ()):
        self.assets_dir = Path(os.path.abspath(assets_dir)) if assets_dir is not None else None
        self.html_dir = Path(os.path.abspath(html_dir)) if html_dir is not None else None
        self.protect = protect
        self.count = 0

    def png(self, data: bytes) -> str:
        self.count += 1
        if self.assets_dir is None:
            return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        path = self.assets_dir / f"{hashlib.sha256(data).hexdigest()[:24]}.png"
        if not (path.is_file() and path.read_bytes() == data):
            atomic_write_bytes(path, data, force=True, protect=self.protect)
        return _link(path, self.html_dir)

    def image(self, array: np.ndarray) -> str:
        return self.png(encode_png(array))


def _link(path: Path, html_dir: Path | None) -> str:
    """A URL for ``path`` as seen from a page in ``html_dir``: relative when possible, percent-encoded."""
    if html_dir is None:
        return path.as_uri()
    try:
        rel = os.path.relpath(path, html_dir)
    except ValueError:  # another drive (Windows): no relative path exists
        return path.as_uri()
    return quote(Path(rel).as_posix())


def environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(templates_dir())),
                      autoescape=select_autoescape(["html", "j2", "html.j2"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = lambda v, spec=".3g": "–" if v is None or (isinstance(v, float) and v != v) \
        else format(v, spec)
    env.filters["pm"] = _mean_sd
    counters = defaultdict(lambda: itertools.count(1))  # one environment per rendering: ids restart with each file
    env.globals["uid"] = lambda prefix: f"{prefix}{next(counters[prefix])}"  # unique ids for figures and slides
    return env


def _mean_sd(d: dict | None, spec: str = ".3g") -> str:
    """A :func:`toolkit.study.metrics.mean_sd` figure as "mean ± sd": "–" for no value, the value alone for one
    (one value has no spread)."""
    if not d or d.get("n", 0) == 0:
        return "–"
    if d["n"] == 1:
        return format(d["mean"], spec)
    return f"{format(d['mean'], spec)} ± {format(d['sd'], spec)}"


def build_context(result, sink: ImageSink) -> dict:
    """Everything the templates show, with images already turned into ``src`` values."""
    from ..audit.render import gray_to_rgb, heatmap, overlay

    spec = result.spec
    contents = []
    for c in result.contents:
        name = spec.show(c["name"])
        item = {"name": name, "label": _label(name), "region": c["region"], "box": c.get("box"),
                "mask_file": spec.show(c["mask_file"]) if c.get("mask_file") else None,
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
                "time": sink.png(figures.bars(comp[mode]["engines"], "step_ms", f"ms per step at {spec.size} px")),
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
    style_name = spec.show(spec.style)
    weights_file = result.weights.removeprefix("file:")
    weights = result.weights if weights_file == result.weights else f"file:{spec.show(weights_file)}"
    return {"title": spec.title, "spec": spec, "result": result, "contents": contents, "weights": weights,
            "reference": yardstick(result),
            "style_src": sink.image(result.style_image) if result.style_image is not None else None,
            "style_name": style_name, "style_label": _label(style_name),
            "settings": settings(spec, result, weights)}


def settings(spec, result, weights: str) -> dict:
    """Every parameter of the study's runs, as the reproducibility table shows them."""
    cfg = result.config
    rows = {"study file": spec.show(spec.source), "weights": weights, "engines": ", ".join(spec.engines),
            "seeds": ", ".join(map(str, spec.seeds)), "size": f"{spec.size} px", "steps": spec.steps,
            "optimiser": _optimisers(spec.optimizer, result.contents), "initialisation": spec.init}
    if cfg is not None:
        rows.update({
            "pyramid": "the optimiser's own (none for Adam, half size first for L-BFGS-B)" if cfg.pyramid is None
            else ", ".join(f"{f:g}" for f in cfg.pyramid) or "none",
            "steps on coarse levels": f"{cfg.level_share:.0%}",
            "loss weights": f"content {cfg.content_weight:g}, style {cfg.style_weight:g}, "
                            f"total variation {cfg.tv_weight:g}",
            "content layers": ", ".join(cfg.content_layers),
            "style layers": ", ".join(f"{n} ×{w:.2f}" for n, w in zip(cfg.style_layers, cfg.layer_weights)),
            "Adam learning rate": f"{cfg.lr:g}", "L-BFGS-B memory": f"{cfg.history} pairs",
            "region blend feather": f"{cfg.feather:g} px"})
    rows["k-means k"] = spec.kmeans_k
    rows["audit"] = (f"{spec.audit_size} px; methods {', '.join(spec.audit_methods)}; sanity cascade "
                     f"{spec.audit_sanity_steps} stage(s); curve steps {spec.audit_curve_steps}; shortcut probe "
                     f"{'on' if spec.shortcut else 'off'}") if spec.audit else "off"
    return rows


def yardstick(result) -> str:
    """What every time in the report is to be read against: the bare VGG-19 pass of the same run and the load
    (machines differ by up to 8x, and a busy one by as much again)."""
    if not result.bare_pass:
        return "no bare VGG-19 pass was timed: the study stopped first"
    load = result.load
    busy = f"; load average {load['start']:.1f} at the start, {load['end']:.1f} at the end" if load else ""
    return f"{BARE}: {1000 * result.bare_pass:.0f} ms in this run{busy}"


def _label(name: str) -> str:
    """An image's name as the slides show it: a file's name without its folders (a long path would crowd the
    slide; the alt texts keep the whole path), ``sample:NAME`` as it is."""
    return name if name.startswith("sample:") else Path(name).name


def _optimisers(chosen: str, contents: list[dict]) -> str:
    """The study's optimiser setting and, per mode, the optimiser its runs used (e.g. "auto (whole: adam, ...)")."""
    ran = dict.fromkeys((r["mode"], r["optimizer"]) for c in contents for r in c["runs"])
    return f"{chosen} ({', '.join(f'{mode}: {opt}' for mode, opt in ran)})" if ran else chosen


def render_report(result, output: str | Path, *, assets_dir: str | Path | None = None,
                  force: bool = False, protect: tuple[str, ...] = (), template: str = "report.html.j2") -> dict:
    """Write the HTML report (or, with ``template="slides.html.j2"``, the deck) atomically; returns
    {"path", "bytes", "seconds"} (render time of the report alone).

    ``assets_dir``: write the images there (relative to the current folder, or absolute) instead of inside the
    HTML; ``protect``: the run's inputs, which neither the report nor an image may replace.
    """
    t = time.perf_counter()
    output = Path(output)
    check_output(output, force=force, protect=protect)  # before writing any image
    check_assets_dir(output, assets_dir)
    sink = ImageSink(assets_dir, output.parent if assets_dir is not None else None, protect)
    html = environment().get_template(template).render(**build_context(result, sink))
    atomic_write_bytes(output, html.encode("utf-8"), force=force, protect=protect)
    seconds = time.perf_counter() - t
    log.info("report: %s (%.1f MB, rendered in %.1f s)", output, len(html) / 1e6, seconds)
    return {"path": str(output), "bytes": len(html.encode()), "seconds": seconds}
