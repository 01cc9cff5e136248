"""Ctrl-C and SIGTERM at the moments a user is unlucky enough to pick: while the command starts, while it works,
and while it writes what it made. Real signals to real processes; each process patches one function to send the
signal at an exact moment, so no test depends on timing."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tiny import STUDY_FILE  # tests/ is on sys.path, see conftest.py

ROOT = Path(__file__).resolve().parent.parent
STUDY = STUDY_FILE.format(seeds="[0]", steps=2)

#: The child: sends itself COUNT signals SIG (a signal name) at the NTH call of MODULE.FUNCTION (or when MODULE is
#: imported, for FUNCTION "import"), then runs PRELUDE (Python) and `styleseg ARGS...`.
CHILD = """\
import builtins, importlib, os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal (a background job's is ignored)
module, function, nth, sig, count, prelude, *args = sys.argv[1:]
calls = []
exec(prelude)

def send():
    for _ in range(int(count)):
        os.kill(os.getpid(), getattr(signal, sig))

if function == "import":  # the signal arrives during a command's slow import of a library
    real_import = builtins.__import__
    def importing(name, *a, **k):
        if name == module:
            builtins.__import__ = real_import
            send()
        return real_import(name, *a, **k)
    builtins.__import__ = importing
else:
    target = importlib.import_module(module)
    real = getattr(target, function)
    def patched(*a, **k):
        calls.append(1)
        if len(calls) == int(nth):
            setattr(target, function, real)
            send()
        return real(*a, **k)
    setattr(target, function, patched)

from toolkit.cli import main
sys.exit(main(args))
"""


def styleseg_signalled(at: str, sig: str, *args: str, cwd: Path, count: int = 1, nth: int = 1,
                       prelude: str = "") -> subprocess.CompletedProcess:
    """Run ``styleseg ARGS`` in a fresh process that gets ``count`` signals ``sig`` ("SIGINT", "SIGTERM") when
    ``at`` ("module.function", or "module:import") is reached for the ``nth`` time; ``prelude`` runs first."""
    module, _, function = at.rpartition(":") if ":" in at else at.rpartition(".")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STYLESEG_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    child = [sys.executable, "-c", CHILD, module, function, str(nth), sig, str(count), prelude, *args]
    # a session of its own, to end every process it leaves behind
    p = subprocess.Popen(child, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=60)  # until every process holding its output has ended
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise AssertionError(f"styleseg {args[0]} or a process it started was still running 60 s after {sig}")
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def assert_one_line_stop(p: subprocess.CompletedProcess) -> None:
    assert p.returncode == 130, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr, p.stderr


def no_temporary_files(folder: Path) -> bool:
    return not [p for p in folder.rglob(".*.tmp")]


@pytest.fixture
def study(tmp_path) -> Path:
    (tmp_path / "study.toml").write_text(STUDY)
    return tmp_path


# ------------------------------------------------------------------------------------------ start-up


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_while_a_study_starts_is_one_line_and_status_130(sig, study):
    # while the study file is read and checked (NumPy's import: the first library a command loads), before the
    # study starts: nothing was done, so nothing to report; but a signal then stops the run as one a moment later
    p = styleseg_signalled("numpy:import", sig, "run", "study.toml", "-o", "out.html", cwd=study)
    assert_one_line_stop(p)
    assert p.stderr.strip().splitlines()[-1] == "styleseg: interrupted"
    assert not (study / "out.html").exists()  # nothing was done: nothing to report


# ------------------------------------------------------------------------------------------ mid-work


def test_sigterm_during_stylize_keeps_the_best_image_like_ctrl_c(tmp_path):
    from toolkit.io import read_png_metadata

    # the signal comes at the fifth step; Ctrl-C there keeps the best image so far
    p = styleseg_signalled("toolkit.style.losses.tv_loss", "SIGTERM", "stylize", "sample:astronaut", "sample:coffee",
                           "-o", "out.png", "--history-json", "h.json", "--size", "32", "--steps", "50",
                           "--weights", "random:0", "-q", cwd=tmp_path, nth=5)
    assert_one_line_stop(p)
    with Image.open(tmp_path / "out.png") as im:
        im.load()  # a whole PNG
    assert read_png_metadata(tmp_path / "out.png")["stopped"] == "interrupted"
    assert json.loads((tmp_path / "h.json").read_text())["stopped"] == "interrupted"


def dataset(folder: Path, names=("astronaut", "coffee", "chelsea")) -> None:
    """images/ and masks/ in ``folder``: the samples at 48 px, each with a mask of its bright pixels."""
    from toolkit.io import read_image, save_image

    for name in names:
        image = read_image(f"sample:{name}", max_size=48)
        save_image(folder / "images" / f"{name}.png", image)
        save_image(folder / "masks" / f"{name}.png", (image.mean(axis=2) > 0.5).astype("float32"))


def test_sigterm_during_audit_set_stops_its_workers(tmp_path):
    dataset(tmp_path)
    # sent once the pool's first tasks are submitted (the workers start): without the pool's clean-up, the
    # workers outlive the command and keep auditing (they hold its output open, so this waits for them)
    p = styleseg_signalled("concurrent.futures.wait", "SIGTERM", "audit-set", "images", "--masks", "masks", "-o",
                           "out", "--size", "32", "--methods", "saliency", "--curve-steps", "0", "--workers", "2",
                           "--weights", "random:0", "-q", cwd=tmp_path)
    assert_one_line_stop(p)
    assert p.stderr.strip().splitlines()[-1] == "styleseg: interrupted"


# ------------------------------------------------------------------------------------------ writing


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_while_the_report_is_written_keeps_the_report(sig, study):
    # the study is done: the signal must not throw its work away; the report is written whole, then the exit
    p = styleseg_signalled("toolkit.report.formats.render", sig, "run", "study.toml", "-o", "out.html", cwd=study)
    assert_one_line_stop(p)
    assert p.stdout.strip() == "out.html"
    html = (study / "out.html").read_text()
    assert html.rstrip().endswith("</html>") and "This study was interrupted" not in html  # it was not
    for run in ("whole, seed 0", "masked (foreground only), seed 0"):
        assert f'alt="sample:astronaut stylised by the torch engine, {run}"' in html
    assert no_temporary_files(study)


def test_a_second_signal_while_the_report_is_written_abandons_it(study):
    # the first one is absorbed (it would lose the study), the second is the user insisting: the command stops,
    # and the atomic write leaves no part of a report behind
    p = styleseg_signalled("toolkit.report.formats.render", "SIGINT", "run", "study.toml", "-o", "out.html",
                           cwd=study, count=2)
    assert_one_line_stop(p)
    assert "interrupt again" in p.stderr
    assert not (study / "out.html").exists() and no_temporary_files(study)


def test_a_signal_while_the_lesson_is_written_writes_its_report_and_its_deck(study):
    # the lesson writes two files: a signal while the first is written still gives both, whole
    (study / "lesson.toml").write_text(STUDY)
    prelude = f"import pathlib, toolkit.resources; toolkit.resources.reports_dir = lambda: pathlib.Path({str(study)!r})"
    p = styleseg_signalled("toolkit.report.formats.render", "SIGTERM", "lesson", "-o", "lesson", cwd=study,
                           prelude=prelude)
    assert_one_line_stop(p)
    for name in ("report.html", "deck.html"):
        assert (study / "lesson" / name).read_text().rstrip().endswith("</html>")


@pytest.mark.parametrize("command", [
    ["audit", "sample:astronaut", "--box", "20,10,450,500", "-o", "aud", "--size", "32", "--methods",
     "saliency,gradcam", "--layers", "relu1_1", "--sanity-steps", "0", "--curve-steps", "0", "--weights",
     "random:0"],
    ["segment", "sample:astronaut", "--method", "grabcut", "--box", "20,10,450,500", "-o", "aud/mask.png",
     "--alpha", "aud/alpha.png", "--overlay", "aud/overlay.png"],
    ["stylize", "sample:astronaut", "sample:coffee", "-o", "aud/out.png", "--history-json", "aud/history.json",
     "--size", "32", "--steps", "2", "--weights", "random:0"],
], ids=["audit", "segment", "stylize"])
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_while_outputs_are_written_writes_the_whole_set(command, sig, tmp_path):
    # a set written by halves (or, with --force, half this run and half the last) would be read as one run's
    p = styleseg_signalled("toolkit.io.save_image", sig, *command, cwd=tmp_path)
    assert_one_line_stop(p)
    written = sorted(f.name for f in (tmp_path / "aud").iterdir())
    expected = {"segment": ["alpha.png", "mask.png", "overlay.png"], "stylize": ["history.json", "out.png"],
                "audit": ["audit.json", "features_relu1_1.png", "overlay_gradcam.png", "overlay_saliency.png",
                          "saliency_gradcam.png", "saliency_saliency.png"]}[command[0]]
    assert written == expected


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_while_audit_set_writes_its_aggregate_writes_its_report_too(sig, tmp_path):
    # aggregate.json and report.html describe the same records: one without the other (or beside the last run's)
    # would disagree with it
    dataset(tmp_path, names=("coffee",))
    p = styleseg_signalled("toolkit.io.write_json", sig, "audit-set", "images", "--masks", "masks", "-o", "out",
                           "--size", "32", "--methods", "saliency", "--curve-steps", "0", "--workers", "0",
                           "--weights", "random:0", "-q", cwd=tmp_path, nth=2)  # 1: the image's record
    assert_one_line_stop(p)
    aggregate = json.loads((tmp_path / "out" / "aggregate.json").read_text())
    assert aggregate["audited"] == 1
    assert (tmp_path / "out" / "report.html").read_text().rstrip().endswith("</html>")
