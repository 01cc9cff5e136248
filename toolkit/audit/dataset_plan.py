"""Which images a dataset audit covers: pairing images with masks (or GrabCut boxes), labels, and each image's key.

An image's *key* hashes its bytes, its mask's bytes (or its box) and the audit's settings, so a record on disk
belongs to exactly one (image, mask, settings) triple: a rerun finds it and skips the image, a change to any of
them makes a new record.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ParameterError
from ..io import READABLE

if TYPE_CHECKING:
    from .run import AuditConfig

log = logging.getLogger("styleseg")

#: Bump when a record's layout changes, so old records are not mixed with new ones.
RECORD_VERSION = 1


@dataclass(frozen=True)
class ImageTask:
    """One image to audit. ``name`` is its file name in the images folder (unique there); ``mask_path`` or
    ``box`` (X, Y, W, H for GrabCut) gives the object; ``key`` names its record."""

    name: str
    image_path: str
    mask_path: str | None
    box: tuple[int, int, int, int] | None
    key: str


@dataclass(frozen=True)
class Plan:
    """The tasks in name order, the images left out (name → why), and the settings' digest."""

    tasks: tuple[ImageTask, ...]
    skipped: dict[str, str]
    settings_digest: str


def sha256_file(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def settings_digest(cfg: AuditConfig, weights: str, style_sha: str | None) -> str:
    """Hash of everything besides the inputs that changes a record (the device does not)."""
    text = json.dumps({"config": asdict(cfg), "weights": weights, "style": style_sha, "version": RECORD_VERSION},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def task_key(image_sha: str, mask_sha: str | None, box, digest: str) -> str:
    text = json.dumps([image_sha, mask_sha, list(box) if box else None, digest])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder`` (hidden files left out), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError(f"{folder} is not a folder; give the folder that holds the images")
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in READABLE and not p.name.startswith("."))


def pair_masks(images: list[Path], masks_dir: str | Path | None) -> dict[str, Path]:
    """Image name → its mask: the file in ``masks_dir`` with the same stem (PNG preferred, as in cocomval100
    and GrabCut-50, whose masks are PNG and BMP beside JPEG images)."""
    if masks_dir is None:
        return {}
    by_stem: dict[str, Path] = {}
    for m in list_images(masks_dir):
        if m.stem not in by_stem or m.suffix.lower() == ".png":
            by_stem[m.stem] = m
    return {p.name: by_stem[p.stem] for p in images if p.stem in by_stem}


def read_boxes(path: str | Path | None) -> dict[str, tuple[int, int, int, int]]:
    """A CSV with columns ``image,x,y,w,h`` (image: file name or stem) → name → box."""
    rows = _read_csv(path, ("image", "x", "y", "w", "h"), "--boxes")
    try:
        return {r["image"]: tuple(int(float(r[k])) for k in "xywh") for r in rows}
    except ValueError:
        raise ParameterError(f"--boxes {path}: x, y, w and h must be numbers in pixels") from None


def read_labels(path: str | Path | None, categories: list[str]) -> dict[str, int]:
    """A CSV with columns ``image,class`` (class: an ImageNet index 0-999 or a class name as torchvision spells
    it, e.g. ``tabby``) → image name or stem → class index."""
    lookup = {c.lower(): i for i, c in enumerate(categories)}
    out = {}
    for r in _read_csv(path, ("image", "class"), "--labels"):
        value = r["class"].strip()
        idx = int(value) if value.isdigit() else lookup.get(value.lower())
        if idx is None or not 0 <= idx < len(categories):
            raise ParameterError(f"--labels {path}: {value!r} (for {r['image']}) is neither an ImageNet class index "
                                 f"0-{len(categories) - 1} nor a class name such as {categories[281]!r}")
        out[r["image"]] = idx
    return out


def lookup(table: dict, name: str):
    """A per-image CSV entry by file name, else by stem (None if neither)."""
    return table.get(name, table.get(Path(name).stem))


def make_plan(images_dir: str | Path, masks_dir: str | Path | None, digest: str, *,
              boxes: dict | None = None, limit: int | None = None) -> Plan:
    """Pair every image with its mask, else its box; images with neither are skipped with a warning."""
    images = list_images(images_dir)[:limit]
    if not images:
        raise ParameterError(f"no images ({', '.join(READABLE)}) in {images_dir}")
    masks = pair_masks(images, masks_dir)
    boxes = boxes or {}
    tasks, skipped = [], {}
    for p in images:
        mask, box = masks.get(p.name), lookup(boxes, p.name)
        if mask is None and box is None:
            skipped[p.name] = "no mask and no box"
            continue
        key = task_key(sha256_file(p), sha256_file(mask) if mask else None, None if mask else box, digest)
        tasks.append(ImageTask(p.name, str(p), str(mask) if mask else None, None if mask else box, key))
    if skipped:
        log.warning("skipping %d image(s) with no mask%s: %s", len(skipped), " and no box" if boxes else
                    " (give --boxes for GrabCut)", ", ".join(skipped))
    return Plan(tuple(tasks), skipped, digest)


def _read_csv(path, columns: tuple[str, ...], option: str) -> list[dict]:
    if path is None:
        return []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise ParameterError(f"{option} {path}: cannot read it ({e.strerror}); check the path") from None
    missing = [c for c in columns if rows and c not in rows[0]] or ([] if rows else list(columns))
    if missing:
        raise ParameterError(f"{option} {path}: needs a header row with the columns {','.join(columns)} "
                             f"(missing: {', '.join(missing)})")
    return rows
