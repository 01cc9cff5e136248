"""Study files as a new user writes them: a corpus of malformed studies, outputs and options, each of which must
end with one clean line (exit status 2) before any stylisation starts, without touching any input; the schema's
reference in the README; valid shorthands that must work."""

import os
import re
from pathlib import Path

import numpy as np
import pytest

from toolkit.cli import main
from toolkit.errors import ParameterError
from toolkit.io import save_image
from toolkit.study import reference
from toolkit.study.spec import load_study, parse_study

from refusals import snapshot  # noqa: E402 (tests/ is on sys.path, see conftest.py)

STUDY = """\
title = "tiny"
weights = "random:0"
engines = ["torch", "tf"]
seeds = [0, 1]
size = 32
steps = 2
measure_memory = false

[style]
image = "style.png"

[[content]]
image = "content.png"
box = [8, 8, 48, 48]
region = "background"

[kmeans]
k = 3

[audit]
enabled = false
size = 32
methods = ["saliency", "gradcam"]
"""


def edit(old, new):
    """A case that replaces ``old`` by ``new`` in the study text (``old`` must occur)."""
    def apply(text):
        assert old in text, old
        return text.replace(old, new)
    return apply


def append(extra):
    return lambda text: text + extra


def top(line):
    """A case that puts ``line`` at the top level (before the first table)."""
    return lambda text: line + "\n" + text


# (id, change to the study text or None, extra CLI arguments, what the one line must say)
STUDY_CASES = [
    # typos that used to change the study silently
    ("typo-region", edit("region =", "regoin ="), [], "unknown key 'regoin'; did you mean 'region'?"),
    ("typo-enabled", edit("enabled =", "enabeld ="), [], "[audit] unknown key 'enabeld'; did you mean 'enabled'"),
    ("typo-top-key", edit("engines =", "engine ="), [], "did you mean 'engines'"),
    ("typo-kmeans", edit("k = 3", "clusters = 3"), [], "[kmeans] unknown key 'clusters'"),
    ("unknown-top", top("colour = 1"), [], "unknown key 'colour'"),
    ("audit-string", lambda t: "audit = \"no\"\n" + t.split("[audit]")[0], [], "audit must be a table"),
    ("enabled-string", edit("enabled = false", 'enabled = "false"'), [], "true or false"),
    ("enabled-int", edit("enabled = false", "enabled = 0"), [], "true or false"),
    ("shortcut-string", append('shortcut = "yes"\n'), [], "[audit] shortcut must be true or false"),
    ("content-too-thin", edit('image = "content.png"', 'image = "wide.png"'), [],
     "wide.png is 192×64: at 32 px its shorter side would be 11 px, under the 16 px VGG-19 needs; use a size "
     "of 47 px or more"),
    ("style-too-thin", edit('image = "style.png"', 'image = "wide.png"'), [], "[style] image: "),
    # wrong types and values
    ("size-string", edit("size = 32\nsteps", 'size = "32"\nsteps'), [], "size must be an integer from 32 to 1024"),
    ("size-list", edit("size = 32\nsteps", "size = [32]\nsteps"), [], "not a list"),
    ("size-nan", edit("size = 32\nsteps", "size = nan\nsteps"), [], "not a finite number"),
    ("size-inf", edit("size = 32\nsteps", "size = inf\nsteps"), [], "not a finite number"),
    ("size-float", edit("size = 32\nsteps", "size = 32.5\nsteps"), [], "size must be an integer"),
    ("size-small", edit("size = 32\nsteps", "size = 16\nsteps"), [], "from 32 to 1024, not the number 16"),
    ("size-bool", edit("size = 32\nsteps", "size = true\nsteps"), [], "not the boolean true"),
    ("steps-string", edit("steps = 2", 'steps = "two"'), [], "steps must be an integer from 1"),
    ("steps-zero", edit("steps = 2", "steps = 0"), [], "steps must be an integer from 1"),
    ("seeds-int", edit("seeds = [0, 1]", "seeds = 3"), [], "seeds must be a list"),
    ("seeds-strings", edit("seeds = [0, 1]", 'seeds = ["0", "1"]'), [], "seeds item 1 must be an integer"),
    ("seeds-negative", edit("seeds = [0, 1]", "seeds = [-1]"), [], "not the number -1"),
    ("seeds-float", edit("seeds = [0, 1]", "seeds = [1.7]"), [], "not the number 1.7"),
    ("seeds-huge", edit("seeds = [0, 1]", "seeds = [99999999999]"), [], "from 0 to 4294967295"),
    ("seeds-empty", edit("seeds = [0, 1]", "seeds = []"), [], "not an empty list"),
    ("seeds-twice", edit("seeds = [0, 1]", "seeds = [1, 1]"), [], "seeds must not repeat"),
    ("engines-twice", edit('engines = ["torch", "tf"]', 'engines = ["tf", "tf"]'), [], "engines must not repeat"),
    ("engines-string", edit('engines = ["torch", "tf"]', 'engines = "torch"'), [], "engines must be a list"),
    ("engines-unknown", edit('engines = ["torch", "tf"]', 'engines = ["jax"]'), [], 'one of "torch", "tf"'),
    ("init-unknown", top('init = "noise"'), [], 'init must be one of "content"'),
    ("optimizer-unknown", top('optimizer = "sgd"'), [], 'optimizer must be one of "auto", "adam", "lbfgs"'),
    ("title-number", edit('title = "tiny"', "title = 5"), [], "title must be a string"),
    ("box-strings", edit("box = [8, 8, 48, 48]", 'box = ["a", "b", "c", "d"]'), [], "box item 1 must be an integer"),
    ("box-short", edit("box = [8, 8, 48, 48]", "box = [8, 8, 48]"), [], "box must be a list of 4 values"),
    ("box-zero", edit("box = [8, 8, 48, 48]", "box = [8, 8, 0, 48]"), [], "positive width and height"),
    ("box-and-mask", edit("box = [8, 8, 48, 48]", 'box = [8, 8, 48, 48]\nmask = "mask.png"'), [], "both box and mask"),
    ("box-outside", edit("box = [8, 8, 48, 48]", "box = [500, 500, 40, 40]"), [], "lies outside"),
    ("kmeans-string", lambda t: 'kmeans = "4"\n' + t.replace("[kmeans]\nk = 3\n", ""), [], "kmeans must be a table"),
    ("k-one", edit("k = 3", "k = 1"), [], '[kmeans] k must be an integer from 2 to 16 or "auto"'),
    ("k-word", edit("k = 3", 'k = "many"'), [], '[kmeans] k must be'),
    ("audit-size-string", edit("size = 32\nmethods", 'size = "big"\nmethods'), [], "[audit] size must be an integer"),
    ("audit-method", edit('"gradcam"]', '"lime"]'), [], "[audit] methods item 2 must be one of"),
    ("audit-method-twice", edit('["saliency", "gradcam"]', '["gradcam", "gradcam"]'), [], "methods must not repeat"),
    ("audit-layer", append('layers = ["relu9_9"]\n'), [], "[audit] layers item 1 must be one of"),
    ("weights-huge-seed", edit('"random:0"', '"random:99999999999999999999"'), [], "random:SEED with SEED"),
    ("weights-bad-seed", edit('"random:0"', '"random:x"'), [], "random:SEED with SEED"),
    ("weights-unknown", edit('"random:0"', '"vgg.bin"'), [], "must be imagenet, random[:SEED]"),
    ("weights-keras", edit('"random:0"', '"keras-imagenet"'), [], "cannot be keras-imagenet"),
    ("weights-missing-file", edit('"random:0"', '"missing.pth"'), [], "not found"),
    ("weights-number", edit('"random:0"', "0"), [], "weights must be imagenet"),
    ("weights-override", None, ["--weights", "random:abc"], "--weights 'random:abc' must be random:SEED"),
    ("no-style", lambda t: t.replace('[style]\nimage = "style.png"\n', ""), [], "needs the [style] table"),
    ("style-string", lambda t: 'style = "style.png"\n' + t.replace('[style]\nimage = "style.png"\n', ""), [],
     "style must be a table"),
    ("no-content", lambda t: t.replace("[[content]]", "[unused]"), [], "needs a list of 1 to 50 [[content]] tables"),
    ("content-empty", lambda t: "content = []\n" + t.split("[[content]]")[0], [], "content must be a list of 1 to"),
    ("content-no-image", edit('image = "content.png"\n', ""), [], "[[content]] #1 needs image"),
    # paths
    ("image-number", edit('image = "content.png"', "image = 5"), [], "image must be an image file"),
    ("image-nul", edit('"content.png"', r'"content\u0000.png"'), [], "without control characters"),
    ("image-newline", edit('"content.png"', r'"content\nstyleseg: error: forged.png"'), [], "control characters"),
    ("image-escape", edit('"content.png"', r'"\u001b[31mred.png"'), [], "control characters"),
    ("image-long", edit('"content.png"', '"' + "a" * 5000 + '.png"'), [], "at most 1024 bytes"),
    ("image-long-name", edit('"content.png"', '"' + "a" * 300 + '.png"'), [], "at most 255 bytes each"),
    ("image-missing", edit('"content.png"', '"missing.png"'), [], "[[content]] #1 image: "),
    ("second-image-missing", append('[[content]]\nimage = "missing.png"\n'), [], "[[content]] #2 image: "),
    ("image-text", edit('"content.png"', '"notes.png"'), [], "not an image file"),
    ("image-folder", edit('"content.png"', '"folder"'), [], "is a folder"),
    ("image-loop", edit('"content.png"', '"loop.png"'), [], "cannot be read"),
    ("image-fifo", edit('"content.png"', '"fifo.png"'), [], "not a regular file"),
    ("image-sample", edit('"content.png"', '"sample:nothing"'), [], "unknown sample"),
    ("style-missing", edit('"style.png"', '"nostyle.png"'), [], "[style] image: "),
    ("mask-black", edit("box = [8, 8, 48, 48]", 'mask = "black.png"'), [], "all black (no object)"),
    ("mask-white", edit("box = [8, 8, 48, 48]", 'mask = "white.png"'), [], "all white (all object)"),
    ("mask-missing", edit("box = [8, 8, 48, 48]", 'mask = "nomask.png"'), [], "[[content]] #1 mask: "),
    ("unknown-key-escape", top('"\\u001b[2Jevil\\nline" = 1'), [], r"unknown key '\x1b[2Jevil\nline'"),
    # the study file itself
    ("toml-syntax", append("size = \n"), [], "is not valid TOML"),
    ("toml-duplicate-key", top("steps = 3"), [], "is not valid TOML"),
    ("not-utf8", lambda t: t.encode("latin-1") + "# caf\xe9\n".encode("latin-1"), [], "not UTF-8"),
    ("study-missing", "missing.toml", [], "not found"),
    ("study-folder", "folder", [], "cannot be read"),
]

# (id, -o output (relative to the folder), extra arguments, what the one line must say)
OUTPUT_CASES = [
    ("out-study", "study.toml", ["--force"], "it is an input of this run"),
    ("out-content", "content.png", ["--force"], "it is an input of this run"),
    ("out-dotdot", "folder/../style.png", ["--force"], "it is an input of this run"),
    ("out-symlink-to-input", "link.html", ["--force"], "it is an input of this run"),
    ("out-parent-file", "content.png/report.html", [], "is a file, not a folder"),
    ("out-fifo", "fifo.png", ["--force"], "not a regular file"),
    ("out-folder", "folder", ["--force"], "is a folder"),
    ("out-device", "/dev/null", ["--force"], "not a regular file"),
    ("out-exists", "old.html", [], "already exists; pass --force"),
    ("out-loop", "loop.png", ["--force"], "cannot write"),
    ("out-not-html", "report.txt", [], "ending in .html"),
    ("assets-file", "report.html", ["--assets-dir", "notes.png"], "is a file, not a folder"),
    ("assets-parent-file", "report.html", ["--assets-dir", "notes.png/assets"], "is a file, not a folder"),
]


@pytest.fixture
def folder(tmp_path, astronaut64, coffee64):
    save_image(tmp_path / "content.png", astronaut64)
    save_image(tmp_path / "style.png", coffee64)
    save_image(tmp_path / "wide.png", np.tile(astronaut64, (1, 3, 1)))  # 192×64: 11 px tall at the study's 32 px
    save_image(tmp_path / "black.png", np.zeros((64, 64), np.float32))
    save_image(tmp_path / "white.png", np.ones((64, 64), np.float32))
    (tmp_path / "notes.png").write_text("not an image\n")
    (tmp_path / "old.html").write_text("<p>an earlier report</p>\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "loop.png").symlink_to(tmp_path / "loop.png")
    (tmp_path / "link.html").symlink_to(tmp_path / "content.png")
    os.mkfifo(tmp_path / "fifo.png")
    (tmp_path / "study.toml").write_text(STUDY)
    return tmp_path


@pytest.fixture
def no_stylisation(monkeypatch):
    """Fail the test if any engine is built or any stylisation starts."""
    import toolkit.style as style

    def refuse(*args, **kwargs):
        raise AssertionError("stylisation started although the study is invalid")

    monkeypatch.setattr(style, "stylize", refuse)
    monkeypatch.setattr(style, "make_engine", refuse)


def one_clean_line(folder, args, expected, capsys, monkeypatch):
    monkeypatch.chdir(folder)
    before = snapshot(folder)
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("styleseg: error: "), err
    assert "\x1b" not in err and "Traceback" not in err
    assert expected in err, err
    assert snapshot(folder) == before  # no input touched, no report written


@pytest.mark.parametrize("case, change, extra, expected", STUDY_CASES, ids=[c[0] for c in STUDY_CASES])
def test_malformed_study_gives_one_clean_line_before_any_work(case, change, extra, expected, folder, capsys,
                                                                monkeypatch, no_stylisation):
    study = "study.toml"
    if isinstance(change, str):
        study = change
    elif change is not None:
        text = change(STUDY)
        (folder / study).write_bytes(text if isinstance(text, bytes) else text.encode())
    one_clean_line(folder, ["run", study, "-o", "report.html", *extra], expected, capsys, monkeypatch)


@pytest.mark.parametrize("case, output, extra, expected", OUTPUT_CASES, ids=[c[0] for c in OUTPUT_CASES])
def test_unsafe_output_gives_one_clean_line_before_any_work(case, output, extra, expected, folder, capsys,
                                                             monkeypatch, no_stylisation):
    one_clean_line(folder, ["run", "study.toml", "-o", output, *extra], expected, capsys, monkeypatch)


def test_check_without_an_output_prints_one_ok_line(folder, capsys, monkeypatch, no_stylisation):
    monkeypatch.chdir(folder)
    assert main(["run", "--check", "study.toml"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("OK: study.toml: 1 content image(s)") and out.count("\n") == 1 and err == ""
    assert "would write" not in out


def test_check_prints_one_ok_line_and_writes_nothing(folder, capsys, monkeypatch, no_stylisation):
    monkeypatch.chdir(folder)
    before = snapshot(folder)
    assert main(["run", "--check", "study.toml", "-o", "report.html"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("OK: study.toml: 1 content image(s)") and out.count("\n") == 1
    assert "8 stylisations" in out and err == ""
    assert snapshot(folder) == before


def test_valid_shorthands_are_accepted():
    base = {"weights": "random:0", "style": {"image": "sample:coffee"}, "content": [{"image": "sample:astronaut"}]}
    assert parse_study({**base, "kmeans": {"k": "auto"}}).kmeans_k == "auto"
    assert parse_study({**base, "audit": False}).audit is False
    spec = parse_study({**base, "content": [{"image": "a.png", "mask": "../m.png"}]}, base=Path("/data/studies"))
    assert spec.contents[0].image == "/data/studies/a.png" and spec.contents[0].mask == "/data/m.png"


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(STUDY.replace("steps = 2", "steps = -2"))
    with pytest.raises(ParameterError, match=re.escape(f"{path}: steps must be an integer from 1 to 10000")):
        load_study(path)


def test_the_study_offers_the_style_engines_optimisers():
    from toolkit.style.config import OPTIMIZERS as ENGINE_OPTIMIZERS
    from toolkit.study.spec import OPTIMIZERS

    assert OPTIMIZERS == ENGINE_OPTIMIZERS


def test_readme_reference_is_generated_from_the_schema():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert reference.markdown() in readme, "run: python -m toolkit.study.reference --write README.md"
    for key in ("regoin", "enabeld"):
        assert f"`{key}`" not in readme
    for key in ("region", "enabled", "seeds", "measure_memory", "layers"):  # every key is listed
        assert f"| `{key}` |" in reference.markdown()


def test_grabcut_finding_nothing_in_a_study_names_the_studys_fix(folder, capsys, monkeypatch, no_stylisation):
    monkeypatch.chdir(folder)
    (folder / "study.toml").write_text(STUDY.replace('image = "content.png"', 'image = "black.png"'))
    assert main(["run", "study.toml", "-o", "report.html"]) == 2
    err = capsys.readouterr().err
    assert "GrabCut found no foreground in the box" in err and 'give a mask file (mask = "...")' in err, err
    assert "--hints" not in err and not (folder / "report.html").exists()


def test_a_disabled_audit_does_not_judge_the_masks_at_its_size(folder, capsys, monkeypatch, no_stylisation):
    monkeypatch.chdir(folder)
    dot = np.zeros((64, 64), np.float32)
    dot[20, 20] = 1.0  # one pixel: there at the study's 64 px, gone at the (disabled) audit's 32 px
    save_image(folder / "dot.png", dot)
    study = STUDY.replace("box = [8, 8, 48, 48]", 'mask = "dot.png"').replace("size = 32\nsteps", "size = 64\nsteps")
    (folder / "study.toml").write_text(study)
    assert main(["run", "--check", "study.toml"]) == 0, capsys.readouterr().err
    (folder / "study.toml").write_text(study.replace("enabled = false", "enabled = true"))
    assert main(["run", "--check", "study.toml"]) == 2
    assert "dot.png is all black (no object) at 32 px" in capsys.readouterr().err


def test_bench_audit_says_the_studys_audit_is_off(folder, capsys, monkeypatch, no_stylisation):
    monkeypatch.chdir(folder)
    assert main(["bench", "audit", "--study", "study.toml"]) == 2
    assert "study.toml turns its audit off ([audit] enabled = false); set enabled = true" in capsys.readouterr().err
