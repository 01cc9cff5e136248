"""``styleseg stylize``: bad input is refused in one line before any work, and no input is ever written over."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import toolkit.segment.grabcut
import toolkit.style
from toolkit.cli import main

from refusals import refused  # noqa: E402 (tests/ is on sys.path, see conftest.py)

FAST = ["--weights", "random:0", "--size", "32", "--steps", "2", "-q"]


def png(path, array) -> str:
    Image.fromarray(np.asarray(array, np.uint8)).save(path)
    return str(path)


def square_mask(path, top, side, *, white_object=True) -> str:
    """A 96×96 mask with a ``side``-px square object at (top, top): white on black, or black on white."""
    m = np.zeros((96, 96), np.uint8)
    m[top:top + side, top:top + side] = 255
    return png(path, m if white_object else 255 - m)


@pytest.fixture
def files(tmp_path):
    """Tiny inputs: a 96 px content, a 64 px style, an init image, a mask and a (fake) weights file."""
    rng = np.random.default_rng(0)
    return {
        "content": png(tmp_path / "astro.png", rng.integers(0, 256, (96, 96, 3))),
        "style": png(tmp_path / "coffee.png", rng.integers(0, 256, (64, 64, 3))),
        "init": png(tmp_path / "init.png", rng.integers(0, 256, (96, 96, 3))),
        "second": png(tmp_path / "second.png", rng.integers(0, 256, (64, 64, 3))),
        "mask": square_mask(tmp_path / "amask.png", 20, 50),
        "weights": str(_write(tmp_path / "vgg.pth", b"not loaded: refused before")),
    }


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the command starts stylising or segmenting."""
    def work(*args, **kwargs):
        raise AssertionError("work started before the input was refused")

    monkeypatch.setattr(toolkit.style, "stylize", work)
    monkeypatch.setattr(toolkit.segment.grabcut, "grabcut", work)


def stylize(files, *extra):
    return ["stylize", files["content"], files["style"], *extra]


# ------------------------------------------------------------------------------------ 1: inputs are protected


@pytest.mark.parametrize("name, extra", [
    ("init", ["--init", "{init}"]),
    ("content", []),
    ("style", []),
    ("mask", ["--region", "foreground", "--mask", "{mask}"]),
    ("second", ["--region", "foreground", "--mask", "{mask}", "--second-style", "{second}"]),
    ("weights", ["--weights", "{weights}"]),
])
@pytest.mark.parametrize("option", ["-o", "--history-json"])
def test_no_input_is_written_over_even_with_force(files, name, extra, option, capsys, tmp_path, no_work):
    before = {k: Path(p).read_bytes() for k, p in files.items()}
    extra = [e.format(**files) for e in extra]
    out = files[name] if option == "-o" else str(tmp_path / "s.png")
    history = [] if option == "-o" else ["--history-json", files[name]]
    line = refused(stylize(files, "-o", out, *history, *FAST, *extra, "--force"), capsys)
    assert "it is an input of this run" in line and files[name] in line
    assert {k: Path(p).read_bytes() for k, p in files.items()} == before
    assert not (tmp_path / "s.png").exists()


# ------------------------------------------------------------------------ 2, 3: every output, before any work


@pytest.mark.parametrize("spelling", ["o/s.png", "o/./s.png", "o/../o/s.png"])
@pytest.mark.parametrize("exists", [False, True])
def test_image_and_history_on_one_file_are_refused(files, spelling, exists, capsys, tmp_path, no_work):
    (tmp_path / "o").mkdir()
    out = tmp_path / "o" / "s.png"
    if exists:
        out.write_bytes(b"earlier output")
    line = refused(stylize(files, "-o", str(out), "--history-json", str(tmp_path / spelling), *FAST, "--force"),
                   capsys)
    assert "-o and --history-json" in line and "s.json" in line  # names the clash and a file that would do
    assert out.read_bytes() == b"earlier output" if exists else not out.exists()


def test_a_history_path_that_cannot_be_written_is_refused_before_the_image(files, capsys, tmp_path, no_work):
    (tmp_path / "o").mkdir()
    line = refused(stylize(files, "-o", str(tmp_path / "o" / "s2.png"), "--history-json", str(tmp_path / "o"),
                           *FAST), capsys)
    assert "is a folder" in line
    assert list((tmp_path / "o").iterdir()) == []


@pytest.mark.parametrize("bad, expected", [
    ("{tmp}/notes.txt/h.json", "is a file, not a folder"),   # its parent is a file
    ("{tmp}/taken.json", "already exists"),                  # an earlier file, no --force
])
def test_every_history_path_problem_is_found_before_any_work(files, bad, expected, capsys, tmp_path, no_work):
    (tmp_path / "notes.txt").write_text("notes\n")
    (tmp_path / "taken.json").write_text("{}\n")
    line = refused(stylize(files, "-o", str(tmp_path / "s.png"), "--history-json", bad.format(tmp=tmp_path),
                           *FAST), capsys)
    assert expected in line
    assert not (tmp_path / "s.png").exists()


def test_an_image_type_that_cannot_be_written_is_refused_before_any_work(files, capsys, tmp_path, no_work):
    line = refused(stylize(files, "-o", str(tmp_path / "s.txt"), "--history-json", str(tmp_path / "h.json"),
                           *FAST), capsys)
    assert "s.txt" in line and ".png" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.rsplit("/", 1)[1] for p in files.values())


# --------------------------------------------------------------------------------- 4: float options in range


@pytest.mark.parametrize("option", ["--style-weight", "--content-weight", "--tv-weight"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308", "1e400", "-1", "-0.5"])
def test_a_loss_weight_out_of_range_is_refused(files, option, value, capsys, tmp_path, no_work):
    line = refused(stylize(files, "-o", str(tmp_path / "s.png"), *FAST, f"{option}={value}"), capsys)
    assert f"loss weights must be finite numbers from 0 to 1,000,000; got {option[2:].replace('-', '_')}" in line
    assert not (tmp_path / "s.png").exists()


@pytest.mark.parametrize("engine", ["torch", "tf"])
def test_the_refusal_comes_before_either_engine(files, engine, capsys, tmp_path, no_work):
    line = refused(stylize(files, "-o", str(tmp_path / "s.png"), *FAST, "--engine", engine,
                           "--style-weight", "nan"), capsys)
    assert "loss weights must be finite numbers from 0 to 1,000,000; got style_weight nan" in line


def test_style_and_content_weights_both_zero_are_refused(files, capsys, tmp_path, no_work):
    line = refused(stylize(files, "-o", str(tmp_path / "s.png"), *FAST, "--style-weight", "0",
                           "--content-weight", "0"), capsys)
    assert "--style-weight" in line and "--content-weight" in line
    assert not (tmp_path / "s.png").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "0.5,nan", "1.5", "-0.5"])
def test_a_pyramid_fraction_out_of_range_is_refused(files, value, capsys, tmp_path, no_work):
    line = refused(stylize(files, "-o", str(tmp_path / "s.png"), *FAST, f"--pyramid={value}"), capsys)
    assert "--pyramid" in line and "between 0 and 1" in line


@pytest.mark.parametrize("engine", ["torch", "tf"])
def test_the_largest_weights_run_with_a_finite_loss(files, engine, capsys, tmp_path):
    out, history = tmp_path / "s.png", tmp_path / "s.json"
    code = main(stylize(files, "-o", str(out), "--history-json", str(history), *FAST, "--engine", engine,
                        "--style-weight", "1e6", "--content-weight", "1e6", "--tv-weight", "1e6",
                        "--init", files["init"]))
    assert code == 0, capsys.readouterr().err
    record = json.loads(history.read_text())
    assert record["stopped"] is None and np.isfinite(record["final_loss"]) and out.is_file()


# --------------------------------------------------------------------------- 5: region options need --region


@pytest.mark.parametrize("extra, named", [
    (["--mask", "{mask}"], "--mask"),
    (["--box", "10,10,40,40"], "--box"),                                   # GrabCut must not run for nothing
    (["--mode", "composite"], "--mode"),
    (["--mode", "guided"], "--mode"),
    (["--second-style", "{second}"], "--second-style"),
    (["--mask", "{mask}", "--mode", "composite"], "--mask and --mode"),
])
def test_region_options_without_a_region_are_refused(files, extra, named, capsys, tmp_path, no_work):
    line = refused(stylize(files, "-o", str(tmp_path / "s.png"), *FAST, *[e.format(**files) for e in extra]),
                   capsys)
    assert f"{named} need" in line and "--region foreground" in line and "--region background" in line
    assert not (tmp_path / "s.png").exists()


# -------------------------------------------------------------- 6: a region that vanishes at the working size


@pytest.mark.parametrize("region, white_object, colour", [
    ("foreground", True, "all black (no object) at 32 px"),
    ("background", False, "all white (all object) at 32 px"),
])
def test_a_region_that_vanishes_at_the_working_size_is_refused(files, region, white_object, colour, capsys,
                                                                tmp_path, no_work):
    tiny = square_mask(tmp_path / "tinymask.png", 40, 2, white_object=white_object)  # 2 px in 96: < 1 px at 32
    line = refused(stylize(files, "-o", str(tmp_path / "t.png"), *FAST, "--region", region, "--mask", tiny),
                   capsys)
    assert f"mask {tiny} is {colour}; a mask needs object (white) and background (black) pixels" in line
    assert "--size 48" in line  # a size at which it is there
    assert not (tmp_path / "t.png").exists()


def test_a_region_that_vanishes_at_a_coarse_pyramid_level_is_refused(files, capsys, tmp_path, no_work):
    tiny = square_mask(tmp_path / "tinymask.png", 40, 2)  # there at 64 px, gone at the 32 px level before it
    line = refused(stylize(files, "-o", str(tmp_path / "t.png"), *FAST, "--size", "64", "--optimizer", "lbfgs",
                           "--region", "foreground", "--mask", tiny), capsys)
    assert "all black (no object) at 32 px" in line and "--pyramid none" in line
    assert not (tmp_path / "t.png").exists()


def test_a_region_visible_at_every_level_is_stylised(files, capsys, tmp_path):
    tiny = square_mask(tmp_path / "tinymask.png", 40, 2)
    out = tmp_path / "t.png"
    code = main(stylize(files, "-o", str(out), *FAST, "--size", "48", "--region", "foreground", "--mask", tiny))
    assert code == 0, capsys.readouterr().err
    assert out.is_file()


@pytest.mark.parametrize("stopped, code", [("nan", 2), ("interrupted", 130)])
def test_a_run_without_one_finished_step_ends_without_a_traceback(files, stopped, code, monkeypatch, capsys,
                                                                   tmp_path):
    from toolkit.style import StyleConfig
    from toolkit.style.api import StyleResult

    def no_step(content, style, cfg, **kwargs):
        return StyleResult(content[:32, :32], [], StyleConfig(size=32), "torch", "random:0", "cpu", 0.0, stopped)

    monkeypatch.setattr(toolkit.style, "stylize", no_step)
    out = tmp_path / "s.png"
    assert main(stylize(files, "-o", str(out), *FAST)) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and "IndexError" not in err
    if stopped == "nan":  # no finite step: no image to keep, said in one line
        assert err.count("error:") == 1 and "NaN or infinite from the first step" in err and not out.exists()
