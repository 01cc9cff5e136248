"""Dataset audits: the single-image audit over a folder, with spread and controls.

``audit_dataset(images_dir, masks_dir, out_dir, ...)`` audits every image (in this process, a local process
pool, or Ray tasks), writes one record per image to ``OUT/records/<image>.<key>.json`` atomically, then computes
the aggregate **only from the records on disk** and writes ``OUT/aggregate.json`` and ``OUT/report.html``.

A record's key hashes the image, its mask and the settings: a rerun skips images whose record exists, an
interrupted run (Ctrl-C, ``kill -9``, a lost worker) resumes where it stopped, and both end with the same
aggregate as an uninterrupted run. Records of images that crashed (not input errors) are retried on a rerun.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutputError, ParameterError
from ..io import check_output
from .dataset_aggregate import aggregate
from .dataset_image import AuditSetConfig, audit_image, record_from_audit
from .dataset_plan import ImageTask, Plan, check_limit, make_plan, read_boxes, read_labels, settings_digest
from .run import AuditConfig

log = logging.getLogger("styleseg")

__all__ = ["AuditSetConfig", "AuditSetResult", "RecordStore", "audit_dataset", "audit_image", "check_out_dir",
           "check_settings", "record_from_audit"]


@dataclass
class AuditSetResult:
    """A finished dataset audit. ``records`` are the records on disk in name order (the aggregate's input);
    ``audited`` were made by this run, ``reused`` found from an earlier one."""

    out_dir: Path
    aggregate: dict
    records: list[dict]
    skipped: dict[str, str]
    audited: int
    reused: int
    seconds: float
    runner: str
    report: Path | None
    #: the 1-minute load average of this machine at the start and at the end of the audits
    load: dict

    @property
    def images_per_minute(self) -> float:
        return 60 * self.audited / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        agg = self.aggregate
        method = agg["gallery"]["method"]
        median = agg["methods"][method]["ratio"]["median"]["estimate"] if method else None
        focus = f"; median attention ratio ({method}) {median:.2f}" if median is not None else ""
        return (f"audit-set: {agg['audited']} of {agg['images']} images audited ({self.audited} now, {self.reused} "
                f"from earlier runs), {len(agg['errors'])} error(s), {len(self.skipped)} skipped; "
                f"{self.images_per_minute:.1f} images/min on {self.runner} (load average {self.load['start']:.1f}, then "
                f"{self.load['end']:.1f}; `styleseg bench --only audit-set` gives the speed beside a bare VGG-19 pass)"
                f"{focus} → {self.report or self.out_dir}")


class RecordStore:
    """Per-image records as ``OUT/records/<image name>.<key>.json``, each written atomically: a killed run
    leaves whole records or none. ``protect``: files never written over (the run's tables)."""

    def __init__(self, out_dir: str | Path, protect=()):
        self.folder = Path(out_dir) / "records"
        self.protect = tuple(protect)

    def path(self, image: str, key: str) -> Path:
        return self.folder / f"{image}.{key}.json"

    def load(self, task: ImageTask) -> dict | None:
        """The task's record, or None when there is none (or it is not a record: it is made again)."""
        try:
            record = json.loads(self.path(task.name, task.key).read_text())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("status") in ("ok", "error") else None

    def finished(self, task: ImageTask) -> bool:
        """A record exists and is final (a crash is retried)."""
        r = self.load(task)
        return r is not None and not (r["status"] == "error" and r["error"]["kind"] == "crash")

    def write(self, record: dict) -> None:
        from ..io import write_json

        write_json(self.path(record["image"], record["key"]), record, force=True, protect=self.protect)


def check_settings(cfg: AuditConfig, *, workers: int = 0, limit: int | None = None, style=None) -> None:
    """Refuse, before any work, settings a dataset audit cannot carry out or would silently ignore: each problem
    is one line naming the option. (``AuditConfig`` itself checks the size, the methods' names and the sanity
    steps.)"""
    if not cfg.methods:
        raise ParameterError("--methods names no saliency method; give at least one, e.g. --methods saliency")
    if workers < 0:
        raise ParameterError(f"--workers must be 0 (this process) or more, got {workers}")
    check_limit(limit)
    from ..limits import MAX_CURVE_STEPS, MAX_STEPS

    if not 0 <= cfg.curve_steps <= MAX_CURVE_STEPS:
        raise ParameterError(f"--curve-steps must be 0 to {MAX_CURVE_STEPS} (points on the deletion/insertion "
                             f"curves, as in study files; 0 skips them), got {cfg.curve_steps}")
    if cfg.shortcut:
        if style is None:
            raise ParameterError("the shortcut probe needs a style image: add --style IMG (a file or sample:NAME)")
        if not 1 <= cfg.shortcut_steps <= MAX_STEPS:
            raise ParameterError(f"--shortcut-steps must be 1 to {MAX_STEPS} (style steps of the shortcut probe, as "
                                 f"steps in study files), got {cfg.shortcut_steps}")


def check_out_dir(out: Path) -> None:
    """The output folder can hold ``records/``, ``aggregate.json`` and ``report.html``: it is a folder (or can
    be made) and is writable. Checked before any work."""
    from ..io import check_writable

    for folder in (out, out / "records"):
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder} is a file; give a folder for the records, aggregate.json and report.html "
                              f"(-o OUT_DIR)")
    check_writable(out, out / "records")


def audit_dataset(images_dir: str | Path, masks_dir: str | Path | None, out_dir: str | Path, *,
                  config: AuditConfig | None = None, weights: str = "random:0", style: str | None = None,
                  labels: str | Path | None = None, boxes: str | Path | None = None, workers: int = 0,
                  ray: str | bool | None = None, device: str = "auto", limit: int | None = None,
                  progress: bool = True, report: bool = True,
                  on_record: Callable[[dict], None] | None = None) -> AuditSetResult:
    """Audit every image of ``images_dir`` whose mask is in ``masks_dir`` (same stem) or whose box is in the
    ``boxes`` CSV (``image,x,y,w,h``; GrabCut makes the mask); images with neither are skipped with a warning.

    config: the single-image audit's settings (``config.shortcut`` needs ``style``, an image path or
    ``sample:NAME``); labels: a CSV ``image,class`` (ImageNet index or name); workers: 0 audits in this
    process, N > 0 in a pool of N processes (or N Ray tasks at a time); ray: None/False for no Ray, True or
    ``"local"`` for a local Ray instance, else a cluster address; on_record: called with each new record after
    it is written. Returns the result with the aggregate; raises ``KeyboardInterrupt`` untouched (the records
    written so far are kept, and the next run resumes from them).
    """
    from ..io import read_image, write_json, writing
    from ..vgg.torch_vgg import imagenet_categories
    from ..vgg.weights import parse_weights

    cfg = config or AuditConfig()
    check_settings(cfg, workers=workers, limit=limit, style=style)
    if masks_dir is None and not boxes:
        raise ParameterError("give the objects: --masks MASKS_DIR (masks named like the images) and/or --boxes CSV "
                             "(image,x,y,w,h: GrabCut makes the masks)")
    out = Path(out_dir)
    check_out_dir(out)
    tables = [p for p in (labels, boxes, style) if p is not None]  # never written over, even by a record
    for name in ("aggregate.json", "report.html") if report else ("aggregate.json",):
        check_output(out / name, force=True, protect=tables)
    source = parse_weights(weights)
    style_image = read_image(style, max_size=512) if cfg.shortcut else None
    style_sha = hashlib.sha256(style_image.tobytes()).hexdigest() if style_image is not None else None
    categories = imagenet_categories()
    label_map = read_labels(labels, categories) if labels else None
    box_map = read_boxes(boxes)
    plan = make_plan(images_dir, masks_dir, settings_digest(cfg, source.label, style_sha), boxes=box_map,
                     limit=limit)
    if not plan.tasks:
        raise ParameterError(f"none of the {len(plan.skipped)} image(s) in {images_dir} has a mask"
                             f"{f' in {masks_dir}' if masks_dir else ''} (same name) or a box"
                             f"{f' in {boxes}' if boxes else ''}; check --masks and --boxes")
    inputs = [*tables, *(p for t in plan.tasks for p in (t.image_path, t.mask_path) if p)]
    for name in ("aggregate.json", "report.html") if report else ("aggregate.json",):
        check_output(out / name, force=True, protect=inputs)
    store = RecordStore(out_dir, protect=tables)
    source.warn_if_random()
    todo = [t for t in plan.tasks if not store.finished(t)]
    settings = AuditSetConfig(cfg, source.label, device, style_image, _threads(workers, ray))
    runner, records = _runner(todo, settings, workers, ray)
    log.info("%d image(s) to audit, %d already done (%s), %s", len(todo), len(plan.tasks) - len(todo),
             store.folder, runner)
    t0, load = time.perf_counter(), {"start": os.getloadavg()[0]}
    _consume(records, store, len(plan.tasks), len(plan.tasks) - len(todo), progress, on_record)
    seconds, load["end"] = time.perf_counter() - t0, os.getloadavg()[0]
    on_disk = [store.load(t) for t in plan.tasks]
    agg = {**aggregate(on_disk, labels=label_map, class_names=categories),
           **_context(plan, cfg, source.label, style, style_sha, labels)}  # of the records only: no time or load
    path = None
    with writing(f"{out / 'aggregate.json'} and its report"):  # the pair describes the same records
        write_json(out / "aggregate.json", agg, force=True, protect=inputs)
        if report:
            from ..report.audit_set import render_audit_set

            path = render_audit_set(agg, on_disk, out / "report.html")
    return AuditSetResult(out, agg, on_disk, plan.skipped, len(todo), len(plan.tasks) - len(todo), seconds,
                          runner, path, load)


def _runner(todo: list[ImageTask], settings: AuditSetConfig, workers: int, ray):
    from . import dataset_runners as runners

    if ray:
        address = None if ray is True or ray == "local" else ray
        where = "a local Ray instance" if address is None else f"the Ray cluster at {address}"
        return where, runners.ray_tasks(todo, settings, address, workers or None)
    if workers:
        return f"a local pool of {workers} process(es)", runners.local_pool(todo, settings, workers)
    return "this process", runners.in_process(todo, settings)


def _threads(workers: int, ray) -> int | None:
    """PyTorch threads per worker: this machine's cores shared out among the workers. None (the default of each
    process) in this process, whose settings are the caller's, and on a remote cluster, where Ray gives each task
    one thread per CPU it asked for."""
    cpus = os.cpu_count() or 1
    if ray:
        return None if ray is not True and ray != "local" else max(1, cpus // (workers or cpus))
    return max(1, cpus // workers) if workers else None


def _consume(records, store: RecordStore, total: int, done: int, progress: bool, on_record) -> None:
    """Write each record as it arrives, under a progress bar with images per minute and the ETA."""
    from tqdm.auto import tqdm

    t0, new = time.perf_counter(), 0
    with tqdm(total=total, initial=done, desc="audit-set", unit="img", disable=not progress, leave=False,
              bar_format="{l_bar}{bar}| {n}/{total} [{elapsed}<{remaining}{postfix}]") as bar:
        try:
            for record in records:
                store.write(record)
                new += 1
                bar.set_postfix_str(f"{60 * new / (time.perf_counter() - t0):.1f} img/min", refresh=False)
                bar.update()
                if record["status"] == "error":
                    log.warning("%s: %s", record["image"], record["error"]["reason"])
                if on_record:
                    on_record(record)
        finally:
            records.close()  # stops the workers if the loop ends early (Ctrl-C)


def _context(plan: Plan, cfg: AuditConfig, weights: str, style, style_sha, labels) -> dict:
    """What the aggregate was computed over (nothing that varies between runs of the same audit)."""
    from dataclasses import asdict

    return {"skipped": [{"image": n, "reason": r} for n, r in plan.skipped.items()],
            # the config as read back from aggregate.json (lists, not tuples)
            "settings": {"audit": json.loads(json.dumps(asdict(cfg))), "weights": weights,
                         "random_weights": weights.startswith("random"),
                         "style": str(style) if style else None, "style_sha256": style_sha,
                         "labels": str(labels) if labels else None, "settings_digest": plan.settings_digest}}
