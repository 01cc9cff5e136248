"""Which images a dataset audit covers: pairing images with masks (or GrabCut boxes), labels, and each image's key.

An image's *key* hashes its bytes, its mask's bytes (or its box) and the audit's settings, so a record on disk
belongs to exactly one (image, mask, settings) triple: a rerun finds it and skips the image, a change to any of
them makes a new record.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ParameterError
from ..io import READABLE

if TYPE_CHECKING:
    from .run import AuditConfig

log = logging.getLogger("styleseg")

#: Bump when a record's layout changes, so old records are not mixed with new ones (2: the shortcut probe says
#: whether its stylisation changed the image at all).
RECORD_VERSION = 2


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
    return sorted(p for p in folder.iterdir() if p.is_file() and _image_name(p.name))


def _image_name(name: str) -> bool:
    """Whether a file of this name is audited: a readable image type, not hidden."""
    return Path(name).suffix.lower() in READABLE and not name.startswith(".")


def warn_of_subfolders(folder: str | Path) -> None:
    """One warning line when images sit in subfolders of ``folder``: a dataset laid out by class (``cat/1.jpg``)
    would otherwise be audited as an empty or partial folder without a word."""
    nested = sorted(nested_images(Path(folder)))
    if nested:
        some = "images in subfolders are" if len(nested) > 1 else "image in a subfolder is"
        log.warning("warning: %d %s not audited (e.g. %s); audit-set reads only the folder's top level",
                    len(nested), some, ", ".join(p.as_posix() for p in nested[:2]))


def nested_images(folder: Path):
    """Image files below ``folder``'s top level, relative to it; hidden files and folders left out, as at the top,
    and symbolic links to folders not followed (no loops)."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if Path(root) != folder:
            yield from (Path(root, f).relative_to(folder) for f in files if _image_name(f))


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
    """A CSV with columns ``image,x,y,w,h`` (image: file name or stem; whole numbers of pixels, w and h at least
    1) → name → box. Any malformed row is a one-line error naming the file, the line and the fix."""
    where = f"--boxes {path}"
    out: dict[str, tuple[int, int, int, int]] = {}
    for line, r in _unique_rows(_read_csv(path, ("image", "x", "y", "w", "h"), "--boxes"), where):
        x, y, w, h = (_whole(r[k], k, r["image"], where, line) for k in "xywh")
        if w <= 0 or h <= 0:
            kind = "zero" if min(w, h) == 0 else "negative"
            raise ParameterError(f"{where}: line {line}: the box of {r['image']} has {kind} width or height "
                                 f"(w={w}, h={h}); w and h must be at least 1 pixel")
        out[r["image"]] = (x, y, w, h)
    return out


def read_labels(path: str | Path | None, categories: list[str]) -> dict[str, int]:
    """A CSV with columns ``image,class`` (class: an ImageNet index 0-999 or a class name as torchvision spells
    it, e.g. ``tabby``) → image name or stem → class index."""
    where = f"--labels {path}"
    lookup = {c.lower(): i for i, c in enumerate(categories)}
    out = {}
    for line, r in _unique_rows(_read_csv(path, ("image", "class"), "--labels"), where):
        value = r["class"]
        idx = int(value) if value.isascii() and value.isdigit() else lookup.get(value.lower())
        if idx is None or not 0 <= idx < len(categories):
            raise ParameterError(f"{where}: line {line}: {value!r} (for {r['image']}) is neither an ImageNet class "
                                 f"index 0-{len(categories) - 1} nor a class name such as {categories[281]!r}")
        out[r["image"]] = idx
    return out


def lookup(table: dict, name: str):
    """A per-image CSV entry by file name, else by stem (None if neither)."""
    return table.get(name, table.get(Path(name).stem))


def make_plan(images_dir: str | Path, masks_dir: str | Path | None, digest: str, *,
              boxes: dict | None = None, limit: int | None = None) -> Plan:
    """Pair every image with its mask, else its box; images with neither are skipped with a warning."""
    check_limit(limit)
    images = list_images(images_dir)[:limit]
    warn_of_subfolders(images_dir)
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


def check_limit(limit: int | None) -> None:
    """``--limit``: a number of images, 1 or more (None: every image). A slice would take -1 as "all but the last"."""
    if limit is not None and limit < 1:
        raise ParameterError(f"--limit must be 1 or more (the first N images by name), got {limit}")


def _whole(text: str, key: str, image: str, where: str, line: int) -> int:
    """A box coordinate: a whole number of pixels (``12`` or ``12.0``), within what an image can hold."""
    from ..io import MAX_PIXELS

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value.is_integer() and abs(value) <= MAX_PIXELS):
        raise ParameterError(f"{where}: line {line}: {key} = {text!r} for {image} is not a whole number of pixels; "
                             f"x, y, w and h must be whole numbers (e.g. {image},40,30,120,160)")
    return int(value)


def _unique_rows(rows: list[tuple[int, dict]], where: str):
    """The rows, refusing an image listed twice (the later row would silently win)."""
    seen: dict[str, int] = {}
    for line, r in rows:
        if r["image"] in seen:
            raise ParameterError(f"{where}: line {line}: {r['image']} is listed twice (also on line "
                                 f"{seen[r['image']]}); keep one row per image")
        seen[r["image"]] = line
        yield line, r


def _read_csv(path, columns: tuple[str, ...], option: str) -> list[tuple[int, dict]]:
    """(line number, {column: stripped value}) per non-blank row of a UTF-8 CSV whose header names ``columns``
    (in any order, case and spaces ignored; other columns allowed). Every problem is one line naming the file,
    the line and the fix."""
    if path is None:
        return []
    where = f"{option} {path}"
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ParameterError(f"{where}: cannot read it ({e.strerror}); check the path") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ParameterError(f"{where}: line {line} is not UTF-8 text (byte 0x{data[e.start]:02x}); save the file "
                             f"as a UTF-8 CSV") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    example = f"{','.join(columns)}"
    rows, header = [], None
    try:
        for row in reader:
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if header is None:
                header = [c.lower() for c in cells]
                missing = [c for c in columns if c not in header]
                if missing:
                    raise ParameterError(f"{where}: the first line must be a header row with the columns {example} "
                                         f"(missing: {', '.join(missing)}); add or fix it")
                index = {c: header.index(c) for c in columns}
                needed = max(index.values()) + 1
                continue
            line = reader.line_num
            if len(cells) < needed:
                raise ParameterError(f"{where}: line {line} has only {len(cells)} value(s); each row needs "
                                     f"{example}: complete or remove the row")
            if not cells[index["image"]]:
                raise ParameterError(f"{where}: line {line} has no image name; give the image's file name or "
                                     f"remove the row")
            if len(cells) > len(header) and any(cells[len(header):]):
                raise ParameterError(f"{where}: line {line} has {len(cells)} values but the header names "
                                     f"{len(header)} columns; remove the extra values (or quote a value with a comma)")
            rows.append((line, {c: cells[i] for c, i in index.items()}))
    except csv.Error as e:
        raise ParameterError(f"{where}: line {reader.line_num} is not valid CSV ({e}); fix the row") from None
    if header is None:
        raise ParameterError(f"{where}: the file is empty; it needs a header row {example} and one row per image")
    return rows
