"""Run a study: segmentation, both engines on the same inputs (whole image and masked, every seed), the
referee's scores, the comparison figures, each engine's peak memory and the audit. Interrupting stops the whole
study and keeps what has been computed."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from itertools import combinations
from pathlib import Path

import numpy as np

from ..errors import StyleSegError, WeightsError, in_context
from ..style.reference import BARE  # the timing every other time in the report is read against
from .metrics import mean_sd, outside_change, ssim
from .spec import StudySpec

if TYPE_CHECKING:
    from ..style.config import StyleConfig
    from ..vgg.flops import Floor

log = logging.getLogger("styleseg")
MODES = ("whole", "masked")
#: The timings row of the rest of a study's time: its stylisations, their scoring, the comparison.
REST = "stylisation, scoring and the rest"


@dataclass
class StudyResult:
    spec: StudySpec
    weights: str
    random_weights: bool
    contents: list[dict] = field(default_factory=list)
    style_image: np.ndarray | None = None
    interrupted: bool = False
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: engine → its peak memory measured in a fresh process (see :mod:`toolkit.study.memory`); empty if not measured
    memory: dict = field(default_factory=dict)
    #: seconds of one bare VGG-19 forward+backward at 256 px timed in this run (0 if the study stopped first)
    bare_pass: float = 0.0
    #: the 1-minute load average at the start and at the end of the run: how busy the machine was
    load: dict = field(default_factory=dict)
    #: the StyleConfig every run started from (each run's seed and resolved optimiser are in its own record)
    config: StyleConfig | None = None
    #: the FLOPs of its stylisation steps and audits against this machine's float32 rate (None: stopped first)
    arithmetic: Floor | None = None


def resolve_weights(spec_weights: str, fallback: bool) -> tuple[str, list[str]]:
    """The weights to use: the study's, or (with ``fallback``) random:0 when they cannot be had, with a note."""
    from ..vgg.weights import load_state_dict, parse_weights

    source = parse_weights(spec_weights)
    if source.is_random or not fallback:
        return spec_weights, []
    try:
        load_state_dict(source)
        return spec_weights, []
    except WeightsError as e:
        # the note goes into the report, which gets shared: the cache path is shown from "~", not the user's home
        note = f"{spec_weights} weights unavailable ({e}); fell back to random:0".replace(str(Path.home()), "~")
        log.warning("%s", note)
        return "random:0", [note]


def run_study(spec: StudySpec, weights: str | None = None, *, fallback: bool = False,
              progress: bool = True) -> StudyResult:
    """Run every stage of ``spec``. Segmentation (and its checks) runs for every content image before any
    stylisation, so a bad mask or box stops the study before minutes of work.

    Ctrl-C (or SIGTERM turned into KeyboardInterrupt by the caller) stops the whole study: the runs that finished
    are kept, the one cut short is dropped, and the result is marked ``interrupted``.
    """
    from ..provenance import environment
    from ..style import StyleConfig, make_engine, stylize
    from ..style.reference import reference_ms
    from ..style.regions import seam_report
    from ..vgg.flops import Floor, matmul_gflops, steps_flops, style_step_flops
    from ..vgg.passes import PassCounter
    from ..vgg.weights import load_state_dict, parse_weights
    from .memory import start_peaks
    from .referee import Referee

    t0 = time.perf_counter()
    load_start = os.getloadavg()[0]
    weights, notes = resolve_weights(weights or spec.weights, fallback)
    source = parse_weights(weights)
    source.warn_if_random()
    result = StudyResult(spec, source.label, source.is_random, notes=notes, environment=environment("cpu"))
    cfg = StyleConfig(size=spec.size, steps=spec.steps, init=spec.init, optimizer=spec.optimizer)
    result.config = cfg
    measuring, rates = None, None
    layers = (*cfg.content_layers, *cfg.style_layers)
    flops = {"stylisation steps": 0, "audits": 0}
    try:
        style = style_image(spec)
        result.style_image = style
        result.contents = [segment_content(spec, i, item, result.timings) for i, item in enumerate(spec.contents, 1)]
        if spec.measure_memory:  # fresh processes, measuring while this one builds its engines
            first = result.contents[0]
            measuring = start_peaks(spec.engines, source.label, replace(cfg, seed=spec.seeds[0]), first["image"],
                                    style, first["mask"], first["region"])
        built = {e: make_engine(e, source, cfg, "cpu") for e in spec.engines}
        referee = Referee(load_state_dict(source), cfg)
        if measuring is not None:  # collected before any timing, so that they do not share the cores with it
            result.memory = measuring.collect()
            for engine, m in result.memory.items():
                log.info("peak memory of %s in a fresh process: %s", engine,
                         m.get("error") or f"{m['peak_mb']:.0f} MB")
        # the yardstick for every time in the report: machines and their load differ by up to 8x
        result.bare_pass = reference_ms(next(iter(built.values()))[0], 256, 3) / 1000
        log.info("%s: %.0f ms (load average %.1f)", BARE, 1000 * result.bare_pass, os.getloadavg()[0])
        # and the rate that pass and a large matrix product reach: the least time the study's passes could take
        rates = (matmul_gflops(), style_step_flops(layers, (256, 256)) / result.bare_pass / 1e9)
        # setup: the rest of the time so far, the yardstick's timing included (the segmentation has rows of its
        # own; each stage is counted once)
        result.timings["setup"] = time.perf_counter() - t0 - sum(
            v for k, v in result.timings.items() if k.startswith("segment "))
        for number, (item, entry) in enumerate(zip(spec.contents, result.contents), start=1):
            content, mask = entry["image"], entry["mask"]
            inside = mask if item.region == "foreground" else 1 - mask
            for mode in MODES:
                for engine in spec.engines:
                    for seed in spec.seeds:
                        res = stylize(content, style, replace(cfg, seed=seed), engine=engine,
                                      mask=mask if mode == "masked" else None,
                                      region=item.region if mode == "masked" else None,
                                      weights=source, progress=progress, built=built[engine])
                        if res.stopped == "interrupted":  # the optimiser keeps its best image; the study stops
                            raise KeyboardInterrupt
                        h = res.history
                        flops["stylisation steps"] += steps_flops(layers, content.shape, [r.size for r in h])
                        step_s = np.diff([0.0] + [r.seconds for r in h])
                        full = [r.size == cfg.size for r in h]  # a pyramid's coarse steps are cheaper
                        entry["runs"].append({
                            "engine": engine, "mode": mode, "seed": seed, "image": res.image,
                            "optimizer": res.config.optimizer,
                            "history": [(r.seconds, r.total) for r in h], "sizes": [r.size for r in h],
                            "seconds": res.seconds,
                            "step_ms": 1000 * float(np.median(step_s[full])) if any(full) else None,
                            "referee": referee.score(res.image, content, style,
                                                     inside if mode == "masked" else None),
                            "outside": outside_change(res.image, content, inside) if mode == "masked" else None,
                            "seam": seam_report(res.before_blend, res.image, content, inside)
                            if mode == "masked" else None,
                            "trace_seconds": res.trace_seconds, "stopped": res.stopped,
                            "stop_message": res.stop_message})
                        log.info("%s: %s %s seed %d: %.1f s", item.image, engine, mode, seed, res.seconds)
            entry["comparison"] = compare(entry["runs"], spec)
            if spec.audit:
                t = time.perf_counter()
                with PassCounter() as counter:
                    entry["audit"] = audit_content(spec, *entry["photo"], style, source, _first_whole(entry["runs"]))
                result.timings[f"audit {content_label(spec, number)}"] = time.perf_counter() - t
                flops["audits"] += counter.flops()
    except KeyboardInterrupt:
        result.interrupted = True
        for entry in result.contents:
            if entry["runs"] and "comparison" not in entry:
                entry["comparison"] = compare(entry["runs"], spec)
        log.warning("interrupted: the report will show the %d stylisation(s) that finished",
                    sum(len(e["runs"]) for e in result.contents))
    finally:
        if measuring is not None:
            measuring.stop()
    result.seconds = time.perf_counter() - t0
    result.timings[REST] = result.seconds - sum(result.timings.values())
    result.load = {"start": load_start, "end": os.getloadavg()[0]}
    if rates is not None and any(flops.values()):
        result.arithmetic = Floor({k: v for k, v in flops.items() if v}, *rates, result.seconds, "the study")
    return result


def style_image(spec: StudySpec) -> np.ndarray:
    from ..io import read_image
    from ..style.pyramid import at_level

    return at_level(read_image(spec.style), spec.size)


def segment_content(spec: StudySpec, number: int, item, timings: dict) -> dict:
    """Read content image ``number`` (from 1), make its mask (file or GrabCut) and k-means view; refuse a mask
    without pixels on both sides. Errors name the study file and the [[content]] table."""
    try:
        return _segment_one(spec, number, item, timings)
    except StyleSegError as e:
        raise in_context(e, f"{spec.source}: [[content]] #{number} ({item.image})") from None


def content_label(spec: StudySpec, number: int) -> str:
    """How stage timings name content image ``number`` (from 1): its path as the study file wrote it, with
    ``#number`` when the study gives the same image more than once (each then keeps a row of its own)."""
    image = spec.contents[number - 1].image
    return spec.show(image) if sum(c.image == image for c in spec.contents) == 1 else f"#{number} {spec.show(image)}"


def _segment_one(spec: StudySpec, number: int, item, timings: dict) -> dict:
    from ..errors import SegmentationError
    from ..io import read_image, read_mask
    from ..segment.grabcut import NO_FOREGROUND_FIX, grabcut
    from ..segment.kmeans import kmeans_segment
    from ..segment.views import blackout_views, label_map, palette_strip
    from ..style.pyramid import at_level

    t = time.perf_counter()
    entry = {"name": item.image, "region": item.region, "box": item.box, "mask_file": item.mask, "runs": []}
    full = read_image(item.image)
    if item.mask:
        mask_full = (read_mask(item.mask, full.shape[:2]) >= 0.5).astype(np.float32)
    else:
        try:
            seg = grabcut(full, item.box)
        except SegmentationError as e:  # the library's fix names --hints, which a study does not have
            raise SegmentationError(str(e).replace(NO_FOREGROUND_FIX, "draw the box tightly around the object, "
                                                   "or give a mask file (mask = \"...\")")) from None
        mask_full, entry["box"], entry["grabcut_seconds"] = seg.mask, seg.box, seg.seconds
    content = at_level(full, spec.size)
    mask = (at_level(mask_full, spec.size) >= 0.5).astype(np.float32)
    if mask.all() or not mask.any():
        raise SegmentationError(f"the mask is all {'object' if mask.all() else 'background'} at {spec.size} px; "
                                f"draw the box (or the mask) around the object only")
    km = kmeans_segment(content, spec.kmeans_k, seed=0)
    # the audit crops its square from the photo itself: the study's size would cap (and blur) its resolution
    entry.update(image=content, mask=mask, foreground_share=float(mask.mean()), photo=(full, mask_full),
                 kmeans={"k": km.k, "shares": km.shares.tolist(), "label_map": label_map(km.labels, km.centers),
                         "palette": palette_strip(km.centers, km.shares, 16, 256),
                         "blackouts": list(blackout_views(content, km.labels))})
    timings[f"segment {content_label(spec, number)}"] = time.perf_counter() - t
    return entry


def compare(runs: list[dict], spec: StudySpec) -> dict:
    """Per mode: per engine, mean ± sd over seeds of each figure, and the SSIM between the outputs of different
    seeds (how much the seed changes the result); the SSIM between the two engines' outputs for the same seed
    (how closely the two implementations agree: same start, same optimiser)."""
    out = {}
    for mode in MODES:
        table = {}
        for engine in spec.engines:
            rs = [r for r in runs if r["mode"] == mode and r["engine"] == engine]
            if not rs:
                continue
            table[engine] = {
                "content_loss": mean_sd(r["referee"]["content"] for r in rs),
                "style_loss": mean_sd(r["referee"]["style"] for r in rs),
                "seconds": mean_sd(r["seconds"] for r in rs),
                "step_ms": mean_sd(r["step_ms"] for r in rs),
                "ssim_between_seeds": mean_sd(ssim(a["image"], b["image"]) for a, b in combinations(rs, 2)),
                "outside_mean_255": mean_sd(r["outside"]["mean_255"] for r in rs) if mode == "masked" else None,
                "leak_mean_255": mean_sd(r["seam"]["leak_mean_255"] for r in rs) if mode == "masked" else None,
                "seam_px": mean_sd(r["seam"]["seam_px"] for r in rs) if mode == "masked" else None,
                # a one-off cost (the first run traces, the others reuse the graphs): its total, not a spread;
                # PyTorch traces nothing
                "trace_seconds": sum(r["trace_seconds"] for r in rs) if engine == "tf" else None,
            }
        pairs = []
        if len(spec.engines) == 2:
            a, b = spec.engines
            for seed in spec.seeds:
                ra = [r for r in runs if r["mode"] == mode and r["engine"] == a and r["seed"] == seed]
                rb = [r for r in runs if r["mode"] == mode and r["engine"] == b and r["seed"] == seed]
                if ra and rb:
                    pairs.append(ssim(ra[0]["image"], rb[0]["image"]))
        out[mode] = {"engines": table, "ssim_between_engines": mean_sd(pairs)}
    return out


def _first_whole(runs: list[dict]) -> tuple[np.ndarray, str] | None:
    """The study's first whole-image stylisation, for the audit's shortcut probe to reuse (and how it was made)."""
    run = next((r for r in runs if r["mode"] == "whole"), None)
    return None if run is None else (run["image"], f"the study's {run['engine']} whole-image run, seed {run['seed']}")


def audit_content(spec: StudySpec, content, mask, style, source, styled=None):
    """Audit ``content`` (the photo at its own size) and its mask; ``styled``, a stylisation at the study's size,
    is scaled to the photo for the shortcut probe to paste from."""
    from ..audit import AuditConfig, audit
    from ..io import resize_to

    if styled is not None:
        styled = (resize_to(styled[0], content.shape[:2]), styled[1])

    cfg = AuditConfig(methods=spec.audit_methods, layers=spec.audit_layers, size=spec.audit_size,
                      sanity_steps=spec.audit_sanity_steps, curve_steps=spec.audit_curve_steps, shortcut=spec.shortcut,
                      shortcut_size=spec.size, shortcut_steps=max(5, spec.steps // 2))
    return audit(content, cfg, mask=mask, style=style, weights=source, styled=styled)
