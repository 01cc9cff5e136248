"""Run a study: segmentation, both engines on the same inputs (whole image and masked, every seed), the
referee's scores, the comparison figures and the audit. Interrupting keeps what has been computed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import WeightsError
from .metrics import PeakMemory, mean_sd, outside_change, ssim
from .spec import StudySpec

log = logging.getLogger("styleseg")
MODES = ("whole", "masked")


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
        note = f"{spec_weights} weights unavailable ({e}); fell back to random:0"
        log.warning("%s", note)
        return "random:0", [note]


def run_study(spec: StudySpec, weights: str | None = None, *, fallback: bool = False,
              progress: bool = True) -> StudyResult:
    from ..io import read_image, read_mask
    from ..provenance import environment
    from ..segment.grabcut import grabcut
    from ..segment.kmeans import kmeans_segment
    from ..segment.views import blackout_views, label_map, palette_strip
    from ..style import StyleConfig, make_engine, stylize
    from ..style.pyramid import at_level
    from ..style.regions import seam_report
    from ..vgg.weights import load_state_dict, parse_weights
    from .referee import Referee

    t0 = time.perf_counter()
    weights, notes = resolve_weights(weights or spec.weights, fallback)
    source = parse_weights(weights)
    source.warn_if_random()
    result = StudyResult(spec, source.label, source.is_random, notes=notes, environment=environment("cpu"))
    cfg = StyleConfig(size=spec.size, steps=spec.steps, init=spec.init)
    style = at_level(read_image(spec.style), spec.size)
    result.style_image = style
    try:
        built = {e: make_engine(e, source, cfg, "cpu") for e in spec.engines}
        referee = Referee(load_state_dict(source), cfg)
        result.timings["setup"] = time.perf_counter() - t0
        for item in spec.contents:
            entry = {"name": item.image, "region": item.region, "box": item.box, "runs": []}
            result.contents.append(entry)
            t = time.perf_counter()
            full = read_image(item.image)
            if item.mask:
                mask_full = (read_mask(item.mask, full.shape[:2]) >= 0.5).astype(np.float32)
            else:
                seg = grabcut(full, item.box)
                mask_full, entry["box"], entry["grabcut_seconds"] = seg.mask, seg.box, seg.seconds
            content = at_level(full, spec.size)
            mask = (at_level(mask_full, spec.size) >= 0.5).astype(np.float32)
            km = kmeans_segment(content, spec.kmeans_k, seed=0)
            entry.update(image=content, mask=mask, foreground_share=float(mask.mean()),
                         kmeans={"k": km.k, "shares": km.shares.tolist(), "label_map": label_map(km.labels, km.centers),
                                 "palette": palette_strip(km.centers, km.shares, 16, 256),
                                 "blackouts": blackout_views(content, km.labels)})
            result.timings[f"segment {item.image}"] = time.perf_counter() - t
            inside = mask if item.region == "foreground" else 1 - mask
            for mode in MODES:
                for engine in spec.engines:
                    for seed in spec.seeds:
                        run_cfg = replace(cfg, seed=seed)
                        with PeakMemory() as mem:
                            res = stylize(content, style, run_cfg, engine=engine,
                                          mask=mask if mode == "masked" else None,
                                          region=item.region if mode == "masked" else None,
                                          weights=source, progress=progress, built=built[engine])
                        h = res.history
                        step_s = np.diff([0.0] + [r.seconds for r in h])
                        entry["runs"].append({
                            "engine": engine, "mode": mode, "seed": seed, "image": res.image,
                            "history": [(r.seconds, r.total) for r in h], "seconds": res.seconds,
                            "step_ms": 1000 * float(np.median(step_s)), "peak_mb": mem.megabytes,
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
                entry["audit"] = _audit(spec, content, mask, style, source)
                result.timings[f"audit {item.image}"] = time.perf_counter() - t
    except KeyboardInterrupt:
        result.interrupted = True
        log.warning("interrupted: the report will show what was computed so far")
    result.seconds = time.perf_counter() - t0
    return result


def compare(runs: list[dict], spec: StudySpec) -> dict:
    """Per mode and engine, mean ± sd over seeds; and SSIM between the engines' outputs for the same seed."""
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
                "peak_mb": mean_sd(r["peak_mb"] for r in rs),
                "outside_mean_255": mean_sd(r["outside"]["mean_255"] for r in rs) if mode == "masked" else None,
                "leak_mean_255": mean_sd(r["seam"]["leak_mean_255"] for r in rs) if mode == "masked" else None,
                "seam_px": mean_sd(r["seam"]["seam_px"] for r in rs) if mode == "masked" else None,
                "trace_seconds": mean_sd(r["trace_seconds"] for r in rs),
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


def _audit(spec: StudySpec, content, mask, style, source):
    from ..audit import AuditConfig, audit
    from ..audit.saliency import SaliencyConfig

    window = max(8, spec.audit_size // 4)
    cfg = AuditConfig(methods=spec.audit_methods, size=spec.audit_size, sanity_steps=spec.audit_sanity_steps,
                      curve_steps=spec.audit_curve_steps, shortcut=spec.shortcut, shortcut_size=spec.size,
                      shortcut_steps=max(5, spec.steps // 2),
                      saliency=SaliencyConfig(occlusion_window=window, occlusion_stride=window // 2))
    return audit(content, cfg, mask=mask, style=style, weights=source)
