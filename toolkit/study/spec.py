"""Study files (TOML): what to run. See ``reports/demo.toml`` for a commented example."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ParameterError
from ..segment.masks import REGIONS

ENGINES = ("torch", "tf")


@dataclass(frozen=True)
class ContentSpec:
    image: str
    region: str = "foreground"
    box: tuple[int, int, int, int] | None = None
    mask: str | None = None


@dataclass(frozen=True)
class StudySpec:
    """A study: contents (each with a box or mask and a region), one style, engines, seeds, settings."""

    title: str
    contents: tuple[ContentSpec, ...]
    style: str
    engines: tuple[str, ...] = ENGINES
    seeds: tuple[int, ...] = (0, 1, 2)
    weights: str = "imagenet"
    size: int = 128
    steps: int = 40
    init: str = "content+noise"
    kmeans_k: int = 4
    audit: bool = True
    audit_size: int = 128
    audit_methods: tuple[str, ...] = ("saliency", "integrated_gradients", "smoothgrad", "guided_backprop",
                                      "guided_gradcam", "gradcam", "occlusion")
    audit_sanity_steps: int = 4
    audit_curve_steps: int = 6
    shortcut: bool = True
    source: str = ""


def load_study(path: str | Path) -> StudySpec:
    """Read and check a study file; a one-line error names the file, the key and the fix."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"study file {path} not found; see reports/demo.toml for an example")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ParameterError(f"{path} is not valid TOML ({e}); fix the syntax") from None
    return parse_study(raw, str(path), base=path.parent)


def parse_study(raw: dict, source: str = "<study>", base: Path | None = None) -> StudySpec:
    def fail(msg):
        raise ParameterError(f"{source}: {msg}")

    def resolve(p: str) -> str:
        if p.startswith("sample:") or base is None or Path(p).is_absolute():
            return p
        return str((base / p).resolve())

    known = {"title", "content", "style", "engines", "seeds", "weights", "size", "steps", "init", "kmeans",
             "audit"}
    unknown = set(raw) - known
    if unknown:
        fail(f"unknown key(s) {', '.join(sorted(unknown))}; known keys: {', '.join(sorted(known))}")
    items = raw.get("content")
    if not isinstance(items, list) or not items:
        fail("needs at least one [[content]] table with an image")
    contents = []
    for i, item in enumerate(items):
        if "image" not in item:
            fail(f"[[content]] #{i + 1} has no image")
        region = item.get("region", "foreground")
        if region not in REGIONS:
            fail(f"[[content]] #{i + 1}: region must be foreground or background, not {region!r}")
        box = item.get("box")
        if box is not None and (not isinstance(box, list) or len(box) != 4):
            fail(f"[[content]] #{i + 1}: box must be [x, y, w, h]")
        contents.append(ContentSpec(resolve(item["image"]), region, tuple(int(v) for v in box) if box else None,
                                    resolve(item["mask"]) if item.get("mask") else None))
    style = raw.get("style", {})
    if not isinstance(style, dict) or "image" not in style:
        fail("needs a [style] table with an image")
    engines = tuple(raw.get("engines", ENGINES))
    if not engines or any(e not in ENGINES for e in engines):
        fail(f"engines must be a list drawn from {list(ENGINES)}")
    seeds = tuple(int(s) for s in raw.get("seeds", (0, 1, 2)))
    if len(seeds) < 1:
        fail("needs at least one seed")
    audit = raw.get("audit", {})
    kw = {}
    if isinstance(audit, dict):
        for key in ("size", "methods", "sanity_steps", "curve_steps", "shortcut"):
            if key in audit:
                kw[f"audit_{key}" if key != "shortcut" else "shortcut"] = (
                    tuple(audit[key]) if key == "methods" else audit[key])
    size, steps = int(raw.get("size", 128)), int(raw.get("steps", 40))
    if not 32 <= size <= 1024 or steps < 1:
        fail("size must be 32-1024 pixels and steps at least 1")
    return StudySpec(title=str(raw.get("title", "styleseg study")), contents=tuple(contents),
                     style=resolve(style["image"]), engines=engines, seeds=seeds,
                     weights=str(raw.get("weights", "imagenet")), size=size, steps=steps,
                     init=str(raw.get("init", "content+noise")), kmeans_k=int(raw.get("kmeans", {}).get("k", 4)),
                     audit=bool(audit.get("enabled", True)) if isinstance(audit, dict) else bool(audit),
                     source=source, **kw)
