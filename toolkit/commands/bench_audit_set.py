"""``styleseg bench audit-set``: images per minute of the dataset audit, local pool against Ray, and Ray's cost."""

from __future__ import annotations

import argparse
import json

from .common import add_json

DEFAULT_DATA = "../shared/datasets/cocomval100"
#: The shortcut probe's style image.
STYLE = "sample:hubble_deep_field"


def register(targets) -> None:
    p = targets.add_parser("audit-set", help="dataset audit: images/min, local pool vs Ray with 1 and 2 workers",
                           description="Audit the first N images of DATA (images/ and masks/) at 128 px with "
                                       "saliency, Grad-CAM and the shortcut probe, with a local process pool and "
                                       "with Ray tasks, 1 and 2 workers each, every run from scratch. Prints "
                                       "images per minute, Ray's overhead per task against the pool at equal "
                                       "workers (goal: at most 10 % of the pool's time) and Ray's start-up time, "
                                       "and checks that every runner gives the same aggregate.")
    p.add_argument("--data", default=DEFAULT_DATA, help=f"dataset folder (default: {DEFAULT_DATA})")
    p.add_argument("--limit", type=int, default=8, help="images per run (default: 8)")
    p.add_argument("--size", type=int, default=128, help="audit size in pixels (default: 128)")
    p.add_argument("--shortcut-steps", type=int, default=10, help="style steps in the shortcut probe (default: 10)")
    p.add_argument("--weights", default="random:0", help="VGG-19 weights (default: random:0; speed only)")
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import tempfile
    import time
    from pathlib import Path

    from ..audit import AuditConfig, audit_dataset
    from ..audit.dataset import check_settings
    from ..audit.dataset_plan import list_images
    from ..errors import ParameterError, StyleSegError
    from ..vgg.weights import parse_weights

    # every setting and the data are checked before Ray starts or any image is audited
    cfg = AuditConfig(methods=("saliency", "gradcam"), size=args.size, sanity_steps=0, curve_steps=0,
                      shortcut=True, shortcut_size=args.size, shortcut_steps=args.shortcut_steps)
    check_settings(cfg, workers=2, limit=args.limit, style=STYLE)
    parse_weights(args.weights)
    data = Path(args.data)
    for folder in ("images", "masks"):
        if not list_images(data / folder):
            raise ParameterError(f"--data {data}: {data / folder} holds no images; give a dataset folder with "
                                 f"images/ and masks/ (such as {DEFAULT_DATA})")
    try:
        import ray
    except ImportError:
        raise ParameterError("this benchmark needs Ray: pip install 'styleseg[ray]'") from None

    rows = []
    for runner in ("pool", "ray"):
        for workers in (1, 2):
            startup = None
            if runner == "ray":
                t = time.perf_counter()
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
                startup = time.perf_counter() - t
            try:
                with tempfile.TemporaryDirectory(prefix="styleseg-bench-") as out:
                    res = audit_dataset(data / "images", data / "masks", out, config=cfg, weights=args.weights,
                                        style=STYLE, workers=workers, ray=runner == "ray", limit=args.limit,
                                        progress=False, report=False)
            finally:
                if runner == "ray":
                    ray.shutdown()
            errors = res.aggregate["errors"]
            if errors:  # the time of failed audits says nothing about the speed of the audit: no figures
                raise StyleSegError(f"{len(errors)} of {res.aggregate['images']} audits failed on the {runner} "
                                    f"with {workers} worker(s) (first: {errors[0]['image']}: "
                                    f"{errors[0]['reason']}); no speed figures; fix the data or the settings")
            rows.append({"runner": runner, "workers": workers, "images": res.audited, "seconds": res.seconds,
                         "images_per_minute": res.images_per_minute, "startup_seconds": startup,
                         "aggregate": res.aggregate})
    report = {"settings": {"size": args.size, "images": args.limit, "methods": list(cfg.methods),
                           "shortcut_steps": args.shortcut_steps, "weights": args.weights}, "runs": [],
              "ray_overhead": []}
    for r in rows:
        report["runs"].append({k: v for k, v in r.items() if k != "aggregate"})
    for workers in (1, 2):
        pool, on_ray = (next(r for r in rows if r["runner"] == n and r["workers"] == workers) for n in ("pool", "ray"))
        extra = on_ray["seconds"] - pool["seconds"]
        report["ray_overhead"].append({"workers": workers, "seconds_per_task": extra / max(1, on_ray["images"]),
                                       "share_of_pool_time": extra / pool["seconds"],
                                       "same_aggregate": on_ray["aggregate"] == pool["aggregate"]})
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    s = report["settings"]
    print(f"dataset audit, {s['images']} images at {s['size']} px: {', '.join(s['methods'])}, shortcut probe "
          f"({s['shortcut_steps']} style steps), weights {s['weights']}")
    print(f"{'runner':<8}{'workers':>8}{'images/min':>12}{'seconds':>10}{'start-up s':>12}")
    for r in report["runs"]:
        up = f"{r['startup_seconds']:.1f}" if r["startup_seconds"] is not None else "–"
        print(f"{r['runner']:<8}{r['workers']:>8}{r['images_per_minute']:>12.2f}{r['seconds']:>10.1f}{up:>12}")
    for o in report["ray_overhead"]:
        verdict = "meets" if o["share_of_pool_time"] <= 0.10 else "misses"
        print(f"Ray overhead, {o['workers']} worker(s): {o['seconds_per_task']:+.2f} s per task, "
              f"{100 * o['share_of_pool_time']:+.1f}% of the pool's time ({verdict} the 10% goal); "
              f"same aggregate as the pool: {'yes' if o['same_aggregate'] else 'no'}")
    return 0
