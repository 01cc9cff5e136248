"""Study files (TOML): what to run. See ``reports/demo.toml`` for a commented example.

The file is described by pydantic models, one per table (:class:`StudyFile`, :class:`ContentTable`,
:class:`StyleTable`, :class:`KMeansTable`, :class:`AuditTable`): every key is typed and bounded, types are strict
(``"2"`` is not an integer, ``1.7`` is not a seed, ``"false"`` is not a boolean), unknown keys are refused with a
"did you mean" suggestion, and lists that must not repeat (seeds, engines, methods) are checked. A failure is one
line naming the file, the table, the key and the fix. The README's reference of the format is generated from
these models (:mod:`toolkit.study.reference`), so the two cannot drift.

After validation the study becomes a flat, frozen :class:`StudySpec` that the rest of the code trusts.
"""

from __future__ import annotations

import difflib
import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from ..audit.methods import METHODS, STAGES
from ..errors import ParameterError, printable
from ..limits import MAX_CURVE_STEPS, MAX_STEPS
from ..seeds import MAX_SEED, parse_seed
from ..vgg.layers import LAYERS

ENGINES = ("torch", "tf")
INITS = ("content", "content+noise", "random")
OPTIMIZERS = ("auto", "adam", "lbfgs")  # toolkit.style.config's (a test keeps them equal): --help stays light
#: Longer paths are typos or pastes gone wrong; Linux refuses paths over 4,096 bytes anyway.
MAX_PATH = 1024
#: How the reference and the error messages describe the string formats below.
HINTS = {"image": "an image file (relative to the study file) or sample:NAME",
         "weights": f"imagenet, random:SEED (SEED from 0 to {MAX_SEED}) or a .pth/.safetensors file"}


# ------------------------------------------------------------------------------------------- field types


def _fail(kind: str, message: str) -> NoReturn:
    raise PydanticCustomError(kind, message)


def _path_text(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        _fail("path_control", "must be a path without control characters (newline, tab, NUL, escape)")
    if len(os.fsencode(value)) > MAX_PATH:
        _fail("path_long", f"must be a path of at most {MAX_PATH} bytes")
    if any(len(os.fsencode(part)) > 255 for part in value.split("/")):
        _fail("path_long", "must be a path whose folder and file names have at most 255 bytes each")
    return value


def _distinct(values: list) -> list:
    twice = sorted({repr(v) for v in values if values.count(v) > 1})
    if twice:
        _fail("distinct", f"must not repeat a value ({', '.join(twice)} given twice): each would be compared "
                          f"with itself")
    return values


def _weights(value: str) -> str:
    if value == "imagenet":
        return value
    if value == "keras-imagenet":
        _fail("weights", "cannot be keras-imagenet in a study: the PyTorch engine and the referee need "
                         "torchvision weights; use imagenet")
    if value == "random" or value.startswith("random:"):
        try:
            parse_seed(value.partition(":")[2] or "0")
        except ParameterError:
            _fail("weights", f"must be random:SEED with SEED a whole number from 0 to {MAX_SEED}")
        return value
    if Path(value).suffix.lower() not in (".pth", ".pt", ".safetensors"):
        _fail("weights", "must be imagenet, random[:SEED] or a .pth/.safetensors file")
    return _path_text(value)


Text = Annotated[str, Field(min_length=1, max_length=200)]
Weights = Annotated[str, Field(min_length=1, json_schema_extra={"format": "weights"}), AfterValidator(_weights)]
ImagePath = Annotated[str, Field(min_length=1, json_schema_extra={"format": "image"}), AfterValidator(_path_text)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]


def _distinct_list(item, default, description: str, *, max_items: int):
    """A field holding a non-empty list of distinct ``item`` values."""
    return Annotated[list[item], Field(default_factory=lambda: list(default), min_length=1, max_length=max_items,
                                       description=description, json_schema_extra={"uniqueItems": True}),
                     AfterValidator(_distinct)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# ------------------------------------------------------------------------------------------------ tables


class ContentTable(_Table):
    """One ``[[content]]`` table: an image, where its object is (a box for GrabCut, or a mask), which region
    to stylise."""

    image: ImagePath = Field(description="the content image")
    region: Literal["foreground", "background"] = Field(
        "foreground", description="the region that gets the style; the other keeps the content's pixels")
    box: Annotated[list[Annotated[int, Field(ge=-100_000, le=100_000)]], Field(min_length=4, max_length=4)] | None \
        = Field(None, description="x, y, width, height around the object in the image's pixels: GrabCut makes the "
                                  "mask (default: a centred box with a 10 % margin)")
    mask: ImagePath | None = Field(None, description="a mask file instead of a box: white = object (foreground)")

    @model_validator(mode="after")
    def _box_or_mask(self):
        if self.box is not None and self.mask is not None:
            _fail("box_and_mask", "has both box and mask; keep one (the mask is used as it is, the box runs GrabCut)")
        if self.box is not None and min(self.box[2:]) < 1:
            _fail("box_size", f"box {self.box} needs a positive width and height: [x, y, width, height]")
        return self


class StyleTable(_Table):
    """The ``[style]`` table."""

    image: ImagePath = Field(description="the style image")


class KMeansTable(_Table):
    """The ``[kmeans]`` table: the colour clustering shown in the report."""

    k: Annotated[int, Field(ge=2, le=16)] | Literal["auto"] = Field(
        4, description='number of clusters, or "auto" (the best silhouette score for k = 2…8)')


class AuditTable(_Table):
    """The ``[audit]`` table: the Captum audit of VGG-19 on each content image."""

    enabled: bool = Field(True, description="run the audit")
    size: Annotated[int, Field(ge=32, le=1024)] = Field(128, description="side of the square the audit works at, "
                                                                         "in pixels")
    methods: _distinct_list(Literal[METHODS], METHODS, "saliency methods", max_items=len(METHODS))
    layers: _distinct_list(Literal[LAYERS], ("relu1_1", "relu3_1", "relu5_1"), "layers whose feature maps are "
                           "shown", max_items=len(LAYERS))
    sanity_steps: Annotated[int, Field(ge=0, le=len(STAGES))] = Field(
        4, description=f"stages of the model-randomisation cascade, from the top ({', '.join(STAGES)}; "
                       f"0 skips it)")
    curve_steps: Annotated[int, Field(ge=0, le=MAX_CURVE_STEPS)] = Field(
        6, description="points on the deletion and insertion curves (0 skips them)")
    shortcut: bool = Field(True, description="run the shortcut probe (restyle the background, then the object)")


class StudyFile(_Table):
    """The top level of a study file."""

    title: Text = Field("styleseg study", description="the report's title")
    weights: Weights = Field(
        "imagenet", description="VGG-19 weights; random weights are for tests and offline use (results mean nothing)")
    engines: _distinct_list(Literal[ENGINES], ENGINES, "style engines to compare", max_items=len(ENGINES))
    seeds: _distinct_list(Seed, (0, 1, 2), "seeds of the initialisation; figures are mean ± sd over them",
                          max_items=50)
    size: Annotated[int, Field(ge=32, le=1024)] = Field(128, description="longer side of every stylised image, "
                                                                         "in pixels")
    steps: Annotated[int, Field(ge=1, le=MAX_STEPS)] = Field(40, description="optimisation steps (loss + gradient "
                                                                          "evaluations) per stylisation")
    init: Literal[INITS] = Field("content+noise", description="the starting image: the content, the content "
                                                              "plus seeded noise, or seeded noise")
    optimizer: Literal[OPTIMIZERS] = Field("auto", description="auto: Adam for whole images, L-BFGS-B (with a 0.5 "
                                                               "pyramid) for regions; or one of them for every run")
    measure_memory: bool = Field(True, description="measure each engine's peak memory in a fresh process "
                                                   "(a short stylisation per engine, started together)")
    content: list[ContentTable] = Field(min_length=1, max_length=50, description="one [[content]] table per "
                                                                                 "content image")
    style: StyleTable = Field(description="the style image")
    kmeans: KMeansTable = Field(KMeansTable(), description="colour clustering")
    audit: AuditTable = Field(AuditTable(), description="the VGG-19 audit")

    @model_validator(mode="before")
    @classmethod
    def _audit_switch(cls, data: Any) -> Any:
        # `audit = false` (a TOML boolean) is a natural way to say "no audit"; a string is not.
        if isinstance(data, dict) and isinstance(data.get("audit"), bool):
            return {**data, "audit": {"enabled": data["audit"]}}
        return data


# ------------------------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class ContentSpec:
    image: str
    region: str
    box: tuple[int, int, int, int] | None
    mask: str | None


@dataclass(frozen=True)
class StudySpec:
    """A validated study: contents (each with a box or mask and a region), one style, engines, seeds, settings.
    Made by :func:`parse_study` only (the defaults live in the schema above).

    Paths are absolute (relative ones are taken from the study file's folder); ``sample:NAME`` stays as it is.
    ``written`` maps each resolved path back to the text of the study file, for :meth:`show`.
    """

    title: str
    contents: tuple[ContentSpec, ...]
    style: str
    engines: tuple[str, ...]
    seeds: tuple[int, ...]
    weights: str
    size: int
    steps: int
    init: str
    optimizer: str
    kmeans_k: int | str
    audit: bool
    audit_size: int
    audit_methods: tuple[str, ...]
    audit_layers: tuple[str, ...]
    audit_sanity_steps: int
    audit_curve_steps: int
    shortcut: bool
    measure_memory: bool
    source: str
    written: tuple[tuple[str, str], ...] = ()

    def show(self, path: str) -> str:
        """How reports name an input: as the study file wrote it, the study file by its name, anything else as it
        is. Reports are shared, and an absolute path would carry this machine's folders (often a user's name)."""
        if path == self.source:
            return Path(path).name
        return dict(self.written).get(path, path)

    @property
    def stylisations(self) -> int:
        """How many stylisations the study runs (every content × whole/masked × engine × seed)."""
        return len(self.contents) * 2 * len(self.engines) * len(self.seeds)


def load_study(path: str | os.PathLike) -> StudySpec:
    """Read and check a study file; a one-line error names the file, the table, the key and the fix."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except (OSError, ValueError) as e:
        what = "not found" if isinstance(e, FileNotFoundError) else "cannot be read" + (
            f" ({e.strerror})" if isinstance(e, OSError) and e.strerror else "")
        raise ParameterError(f"study file {path} {what}; see reports/demo.toml for an example") from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ParameterError(f"{path} is not UTF-8 text; save the study file as UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise ParameterError(f"{path} is not valid TOML ({e}); fix the syntax") from None
    return parse_study(raw, str(path), base=path.absolute().parent)


def parse_study(raw: dict, source: str = "<study>", base: Path | None = None) -> StudySpec:
    """Validate a parsed TOML document (a dict) into a :class:`StudySpec`; relative paths are taken from ``base``."""
    try:
        study = StudyFile.model_validate(raw)
    except ValidationError as e:
        raise ParameterError(f"{source}: {explain(e)}") from None

    written = {}

    def resolve(p: str | None) -> str | None:
        if p is None or p.startswith("sample:") or base is None or os.path.isabs(p):
            return p
        full = os.path.normpath(os.path.join(base, p))  # no symlink resolution here: a loop is the reader's error
        written[full] = p
        return full

    weights = study.weights if study.weights == "imagenet" or study.weights.startswith("random") \
        else resolve(study.weights)
    a = study.audit
    return StudySpec(
        title=study.title, style=resolve(study.style.image), engines=tuple(study.engines), seeds=tuple(study.seeds),
        contents=tuple(ContentSpec(resolve(c.image), c.region, tuple(c.box) if c.box else None, resolve(c.mask))
                       for c in study.content),
        weights=weights, size=study.size, steps=study.steps, init=study.init, optimizer=study.optimizer,
        kmeans_k=study.kmeans.k,
        audit=a.enabled, audit_size=a.size, audit_methods=tuple(a.methods), audit_layers=tuple(a.layers),
        audit_sanity_steps=a.sanity_steps, audit_curve_steps=a.curve_steps, shortcut=a.shortcut,
        measure_memory=study.measure_memory, source=source, written=tuple(written.items()))


def check_weights_override(value: str) -> str:
    """Validate a ``--weights`` given on the command line with the same rule as the study's ``weights`` key."""
    try:
        return TypeAdapter(Weights).validate_python(value, strict=True)
    except ValidationError as e:
        raise ParameterError(f"--weights {printable(repr(value))} {e.errors()[0]['msg']}") from None


# ---------------------------------------------------------------------------------- one-line explanations


def explain(error: ValidationError) -> str:
    """The first problem of a validation error as "<table> <key> <what is wrong>; <fix>" (one line)."""
    problems = error.errors(include_url=False)
    rest = len({_locate(p["loc"])[::2] for p in problems}) - 1
    return _explain_one(problems[0]) + (f" (and {rest} more problem{'s' * (rest > 1)})" if rest > 0 else "")


def _explain_one(problem: dict) -> str:
    from .reference import describe

    table, model, key, item = _locate(problem["loc"])
    kind, value = problem["type"], problem.get("input")
    label = " ".join(filter(None, [table, key, f"item {item + 1}" if item is not None else None]))
    if kind == "extra_forbidden":
        known = list(model.model_fields)
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        return f"{table + ' ' if table else ''}unknown key {printable(repr(key))}; {hint}"
    if kind in _CUSTOM:
        return f"{label} {problem['msg']}"
    if key is None:  # the table itself is wrong (e.g. [[content]] #1 is not a table)
        return f"{label} must be a table of keys, not {_shown(value)}; see reports/demo.toml"
    if kind == "missing":
        what = describe(model, key) if table_model(model.model_fields[key]) else f"{key} = …, {describe(model, key)}"
        return f"{table + ' ' if table else ''}needs {what}"
    if key in _TABLES and kind == "model_type":
        return f"{label} must be a table: write [{key}] on a line of its own with its keys below, not {_shown(value)}"
    return f"{label} must be {describe(model, key, item=item is not None)}, not {_shown(value)}"


#: Error kinds raised by this module's validators, whose message already says what to do.
_CUSTOM = {"path_control", "path_long", "distinct", "weights", "box_and_mask", "box_size"}
_TABLES = {"style", "kmeans", "audit"}


def _locate(loc: tuple) -> tuple[str, type[BaseModel], str | None, int | None]:
    """(table label, model, key, list item index) of a pydantic error location; key None: the table itself."""
    model, table, parts = StudyFile, "", list(loc)
    while parts:
        key = parts.pop(0)
        sub = table_model(model.model_fields.get(key)) if isinstance(key, str) else None
        if sub is None or not parts or (key == "content" and not isinstance(parts[0], int)):
            return table, model, str(key), next((p for p in parts if isinstance(p, int)), None)
        table = f"[[content]] #{parts.pop(0) + 1}" if key == "content" else f"[{key}]"
        model = sub
    return table, model, None, None


def table_model(field) -> type[BaseModel] | None:
    """The model of a field that holds a table (or a list of tables), else None."""
    if field is None:
        return None
    ann = field.annotation
    for t in (ann, *getattr(ann, "__args__", ())):
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
    return None
def _shown(value: Any) -> str:
    """How a wrong value is shown in a message: its TOML type and (shortened, escaped) value."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "…"
        return f"the string {printable(repr(text))}"
    if isinstance(value, float):
        return f"the number {value}" if math.isfinite(value) else f"{value} (not a finite number)"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, list):
        return "an empty list" if not value else f"a list of {len(value)} value{'s' * (len(value) != 1)}"
    if isinstance(value, dict):
        return "a table"
    return printable(type(value).__name__)
