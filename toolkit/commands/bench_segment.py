"""``styleseg bench segment``: our GrabCut against plain OpenCV on GrabCut-50, in the same run."""

from __future__ import annotations

import argparse
import json

from .common import add_json

DEFAULT_DATA = "../shared/datasets/grabcut50"


def register(targets) -> None:
    p = targets.add_parser("segment", help="GrabCut-50: mIoU, error rate and speed, ours vs plain OpenCV",
                           description="Score GrabCut on GrabCut-50 with the box protocol of the dataset's README "
                                       "(tight box + 5%% of the longer side): mIoU, median, worst image, error "
                                       "rate inside the box, seconds per image; the same for plain cv2.grabCut "
                                       "(5 iterations, full resolution); and the separability score's Spearman "
                                       "correlation with IoU.")
    p.add_argument("--data", default=DEFAULT_DATA, help=f"GrabCut-50 folder (default: {DEFAULT_DATA})")
    p.add_argument("--limit", type=int, help="only the first N images")
    p.add_argument("--no-baseline", action="store_true", help="skip plain OpenCV (it takes ~1-3 s per image)")
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from scipy.stats import spearmanr

    from ..segment.benchmark import evaluate, load_grabcut50
    from ..segment.grabcut import grabcut, plain_grabcut
    from ..segment.separability import separability

    samples = load_grabcut50(args.data, args.limit)
    ours = evaluate(samples, lambda im, box: grabcut(im, box).mask, separability)
    rho = spearmanr([r["separability"] for r in ours["rows"]], [r["iou"] for r in ours["rows"]])[0]
    ours["separability_spearman_vs_iou"] = float(rho)
    report = {"ours": ours}
    if not args.no_baseline:
        report["opencv"] = evaluate(samples, lambda im, box: plain_grabcut(im, box))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"GrabCut-50 ({len(samples)} images, box protocol: tight box + 5% of the longer side)")
    print(f"{'method':<34}{'mIoU':>7}{'median':>8}{'worst':>18}{'err in box':>12}{'s/image':>9}")
    for name, label in (("ours", "styleseg (320 px Lab + guided)"), ("opencv", "plain cv2.grabCut, 5 it, full")):
        if name in report:
            r = report[name]
            worst = f"{r['worst']['name']} {r['worst']['iou']:.3f}"
            print(f"{label:<34}{r['miou']:>7.3f}{r['median_iou']:>8.3f}{worst:>18}{100 * r['error_rate']:>11.1f}%"
                  f"{r['seconds_per_image']:>9.3f}")
    print(f"separability vs IoU: Spearman rho = {rho:.2f} (higher separability, better GrabCut)")
    return 0
