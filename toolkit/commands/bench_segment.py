"""``styleseg bench segment``: our GrabCut against plain OpenCV on GrabCut-50 and COCO-MVal-100, in the same run."""

from __future__ import annotations

import argparse
import json
import os

from .common import add_json

DEFAULT_DATA = ("../shared/datasets/grabcut50", "../shared/datasets/cocomval100")
LABELS = {"ours": "styleseg (GrabCut or OneCut, region)", "opencv": "plain cv2.grabCut, 5 it, full"}


def register(targets) -> None:
    p = targets.add_parser("segment", help="GrabCut-50 / COCO-MVal-100: mIoU, error rate and speed, ours vs plain "
                                           "OpenCV",
                           description="Score GrabCut on benchmark folders (images/ and masks/) with the box "
                                       "protocol of their READMEs (tight box + 5 % of the longer side): mIoU, "
                                       "median, worst image, error rate inside the box, seconds per image and "
                                       "images without a mask; the same for plain cv2.grabCut (5 iterations, "
                                       "full resolution) in the same run; and the separability score's Spearman "
                                       "correlation with IoU. With --seeds N, both are also scored with GrabCut's "
                                       "random seeds 0 to N-1 (the k-means start of its colour models), to show "
                                       "how much of a difference the seed alone makes.")
    p.add_argument("--data", nargs="+", default=list(DEFAULT_DATA),
                   help=f"one or more benchmark folders (default: {' '.join(DEFAULT_DATA)})")
    p.add_argument("--limit", type=int, help="only the first N images of each folder, N ≥ 1 (default: all)")
    p.add_argument("--no-baseline", action="store_true", help="skip plain OpenCV (it takes ~1-6 s per image)")
    p.add_argument("--seeds", type=int, default=1,
                   help="score with GrabCut seeds 0 to N-1 and print each method's mIoU per seed (default: 1, "
                        "seed 0 only; the table is always seed 0's)")
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ParameterError
    from ..segment.benchmark import check_dataset, load_dataset

    # Every option and folder is checked before any folder is loaded: a typo in the last folder would otherwise
    # surface only after minutes of scoring the first.
    if args.seeds < 1:
        raise ParameterError(f"--seeds {args.seeds}: give at least 1 (seeds 0 to N-1 are scored)")
    if args.limit is not None and args.limit < 1:
        raise ParameterError(f"--limit {args.limit}: give at least 1 image per folder, or leave --limit out for "
                             f"all of them")
    for folder in args.data:
        check_dataset(folder)

    reports = {}
    for folder in args.data:
        data = load_dataset(folder, args.limit)
        reports[data.name] = report = _bench(data.samples, not args.no_baseline, args.seeds)
        if not args.json:
            _print(data.name, report)
    if args.json:
        print(json.dumps(reports, indent=2))
    return 0


def _bench(samples, baseline: bool, seeds: int = 1) -> dict:
    from scipy.stats import spearmanr

    from ..segment import grabcut as gc
    from ..segment.benchmark import evaluate, protocol_box
    from ..segment.separability import separability

    scores = {s.name: separability(s.image, protocol_box(s.truth)) for s in samples}
    methods = {"ours": lambda seed: lambda im, box: gc.grabcut(im, box, seed=seed).mask}
    if baseline:
        methods["opencv"] = lambda seed: lambda im, box: gc.plain_grabcut(im, box, seed=seed)
    report = {}
    for key, method in methods.items():
        runs = [evaluate(samples, method(seed)) for seed in range(seeds)]
        report[key] = r = runs[0]
        r["miou_by_seed"] = [run["miou"] for run in runs]
        sep, iou = [scores[x["name"]] for x in r["rows"]], [x["iou"] for x in r["rows"]]
        # undefined (NaN) when either is constant, e.g. every image of a tiny set segmented perfectly
        r["separability_spearman_vs_iou"] = (float(spearmanr(sep, iou)[0]) if min(len(set(sep)), len(set(iou))) > 1
                                             else float("nan"))
    report["load_average"] = os.getloadavg()[0]
    return report


def _print(name: str, report: dict) -> None:
    n = report["ours"]["images"]
    print(f"{name} ({n} images, box protocol: tight box + 5% of the longer side)")
    print(f"{'method':<36}{'mIoU':>7}{'median':>8}{'worst':>30}{'err in box':>12}{'s/image':>9}{'CPU s':>7}"
          f"{'no mask':>9}")
    for key in ("ours", "opencv"):
        if key in report:
            r = report[key]
            worst = f"{r['worst']['name'][:22]} {r['worst']['iou']:.3f}"
            print(f"{LABELS[key]:<36}{r['miou']:>7.3f}{r['median_iou']:>8.3f}{worst:>30}"
                  f"{100 * r['error_rate']:>11.1f}%{r['seconds_per_image']:>9.3f}{r['cpu_seconds_per_image']:>7.3f}"
                  f"{len(r['failed']):>9}")
    if "opencv" in report:
        print(f"ours - plain: mIoU {report['ours']['miou'] - report['opencv']['miou']:+.3f}")
    for key in ("ours", "opencv"):
        by_seed = report.get(key, {}).get("miou_by_seed", [])
        if len(by_seed) > 1:
            print(f"{LABELS[key]}: mIoU with seeds 0-{len(by_seed) - 1}: {' '.join(f'{v:.3f}' for v in by_seed)} "
                  f"(mean {sum(by_seed) / len(by_seed):.3f}, range {min(by_seed):.3f}-{max(by_seed):.3f})")
    rhos = ", ".join(f"{report[k]['separability_spearman_vs_iou']:.2f} ({k})" for k in ("ours", "opencv")
                     if k in report)
    print(f"separability vs IoU: Spearman rho = {rhos} (higher separability, better GrabCut)")
    print(f"load average (1 min) at the end: {report['load_average']:.1f} on {os.cpu_count()} cores; wall seconds "
          f"per image grow with it, CPU seconds (this process's) do not")
    print()
