"""The report side used carelessly: odd output paths and assets folders, a PDF printer that fails, input files that
is a FIFO, ready-made commands next to the user's own reports, a study that repeats an image, and long titles and
paths in the slide deck."""

import os
import shutil
import stat
import threading
from pathlib import Path

import numpy as np
import pytest

from refusals import refused, snapshot  # noqa: E402 (tests/ is on sys.path, see conftest.py)

STUDY = """\
title = "{title}"
weights = "random:0"
engines = ["torch"]
seeds = [0]
size = 32
steps = 1
measure_memory = false
audit = false
[style]
image = "sample:coffee"
{contents}
"""


def study_file(folder: Path, contents=("sample:astronaut",), title="careless") -> Path:
    tables = "\n".join(f'[[content]]\nimage = "{c}"' for c in contents)
    path = folder / "study.toml"
    path.write_text(STUDY.format(title=title, contents=tables))
    return path


def no_study(monkeypatch):
    """Make running the study itself fail loudly: a refusal must come before it."""
    import toolkit.study.run as study_run

    def must_not_run(*args, **kwargs):
        raise AssertionError("the study ran before the refusal")

    monkeypatch.setattr(study_run, "run_study", must_not_run)


def empty_result(title: str = "empty"):
    """A result with no runs, only the style image (random weights): enough to render a report."""
    from toolkit.io import read_image
    from toolkit.provenance import environment
    from toolkit.study.run import StudyResult
    from toolkit.study.spec import parse_study

    spec = parse_study({"title": title, "weights": "random:0", "style": {"image": "sample:coffee"},
                        "content": [{"image": "sample:astronaut"}], "audit": False})
    return StudyResult(spec, "random:0", True, style_image=read_image("sample:coffee", max_size=32),
                       environment=environment("cpu"))


# ----------------------------------------------------------------------------------------------- assets folder


@pytest.mark.parametrize("assets", ["out/report.html", "out/report.html/img", "./out/../out/report.html"])
def test_an_assets_dir_at_or_under_the_report_is_refused_before_the_study(tmp_path, capsys, monkeypatch, assets):
    """The images would make a folder where the report goes, and the report would then fail after the study."""
    monkeypatch.chdir(tmp_path)
    study = study_file(tmp_path)
    before = snapshot(tmp_path)
    no_study(monkeypatch)
    line = refused(["run", str(study), "-o", "out/report.html", "--assets-dir", assets], capsys)
    assert "--assets-dir" in line and "report" in line
    assert snapshot(tmp_path) == before


def test_render_refuses_an_assets_dir_at_the_report_before_writing_an_image(tmp_path):
    from toolkit.errors import OutputError
    from toolkit.report.render import render_report

    out = tmp_path / "report.html"
    with pytest.raises(OutputError, match="assets"):
        render_report(empty_result(), out, assets_dir=out)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------------------- PDF


def _failing_chromium(tmp_path: Path) -> Path:
    exe = tmp_path / "bin" / "chromium"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 1\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_a_pdf_that_chromium_cannot_print_keeps_the_study_as_html(tmp_path, capsys, monkeypatch):
    """Minutes of study must not be lost because the printer failed at the very end: the HTML stays beside the
    PDF's path, and the error says where and how to print it later."""
    import toolkit.study.run as study_run

    monkeypatch.setenv("STYLESEG_CHROMIUM", str(_failing_chromium(tmp_path)))
    monkeypatch.setattr(study_run, "run_study", lambda *a, **k: empty_result("kept"))
    study = study_file(tmp_path)
    out = tmp_path / "out" / "report.pdf"
    line = refused(["run", str(study), "-o", str(out), "--format", "pdf"], capsys)
    kept = out.with_suffix(".html")
    assert not out.exists() and kept.is_file()
    assert '<meta name="generator" content="styleseg">' in kept.read_text() and "kept" in kept.read_text()
    assert str(kept) in line and "styleseg pdf" in line and "styleseg-report-" not in line  # no deleted temp file


def test_the_kept_html_never_replaces_an_existing_file(tmp_path, monkeypatch):
    from toolkit.errors import StyleSegError
    from toolkit.report.formats import render

    monkeypatch.setenv("STYLESEG_CHROMIUM", str(_failing_chromium(tmp_path)))
    (tmp_path / "report.html").write_text("the user's own page")
    with pytest.raises(StyleSegError, match="kept"):
        render(empty_result(), tmp_path / "report.pdf", "pdf")
    assert (tmp_path / "report.html").read_text() == "the user's own page"
    kept = [p for p in tmp_path.iterdir() if p.suffix == ".html" and p.name != "report.html"]
    assert len(kept) == 1 and "styleseg" in kept[0].read_text()


def _blocks(fn, fifo: Path, seconds: float = 10.0) -> bool:
    """Whether ``fn()`` is still waiting after ``seconds`` (it is then released by opening the FIFO's other end)."""
    errors = []
    worker = threading.Thread(target=lambda: errors.append(fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        worker.join(5)
        return True
    return False


def test_a_fifo_given_as_the_report_to_print_is_refused_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "report.html"
    os.mkfifo(fifo)
    lines = []
    assert not _blocks(lambda: lines.append(refused(["pdf", str(fifo)], capsys)), fifo), "styleseg pdf waits"
    assert lines and "regular file" in lines[0]


def test_a_ready_made_command_does_not_wait_on_a_fifo_where_its_report_goes(tmp_path):
    from toolkit.commands.run import replaces_own

    fifo = tmp_path / "report.html"
    os.mkfifo(fifo)
    answer = []
    assert not _blocks(lambda: answer.append(replaces_own([str(fifo)], "styleseg demo")), fifo)
    assert answer == [False]  # not its own: check_output then refuses the FIFO in one line


# ---------------------------------------------------------------------------------- ready-made commands


def test_a_ready_made_command_replaces_only_a_report_of_exactly_its_title(tmp_path):
    from toolkit.commands.run import replaces_own

    title = "styleseg demo: <b>one</b> region"
    head = '<!DOCTYPE html><html><head><meta name="generator" content="styleseg">\n<title>{}</title>'
    report = tmp_path / "report.html"
    report.write_text(head.format("styleseg demo: &lt;b&gt;one&lt;/b&gt; region"))
    assert replaces_own([str(report)], title)
    report.write_text(head.format("styleseg demo: &lt;b&gt;one&lt;/b&gt; region (slides)"))
    assert replaces_own([str(report)], title)  # the demo's own deck
    # the user's study, copied from the demo with a longer title: theirs, not the demo's
    report.write_text(head.format("My styleseg demo: &lt;b&gt;one&lt;/b&gt; region, with my cat"))
    assert not replaces_own([str(report)], title)


# --------------------------------------------------------------------------------- a study that repeats an image


#: How long the fixture's k-means takes, at least: the segmentation then clearly outweighs the study's setup.
SLOW_KMEANS = 2.0


@pytest.fixture(scope="module")
def repeated(tmp_path_factory):
    """One real, small study: the same image (at a long path) as both contents, with an unbroken long title; its
    k-means is slowed down so that the segmentation's share of the time is unmistakable."""
    import time

    from PIL import Image

    import toolkit.segment.kmeans as kmeans
    from toolkit.study.run import run_study
    from toolkit.study.spec import load_study

    folder = tmp_path_factory.mktemp("repeated")
    deep = folder / ("d" * 120) / ("x" * 200 + ".png")
    deep.parent.mkdir()
    rng = np.random.default_rng(0)
    pixels = np.zeros((48, 48, 3), np.uint8)
    pixels[12:36, 12:36] = (220, 60, 40)
    Image.fromarray(np.clip(pixels + rng.integers(0, 30, pixels.shape), 0, 255).astype(np.uint8)).save(deep)
    spec = load_study(study_file(folder, contents=(str(deep), str(deep)), title="W" * 200))
    real = kmeans.kmeans_segment

    def slow(*args, **kwargs):
        time.sleep(SLOW_KMEANS)
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kmeans, "kmeans_segment", slow)
        return run_study(spec, progress=False)


def test_a_repeated_image_gets_each_of_its_timings(repeated):
    segments = {k: v for k, v in repeated.timings.items() if k.startswith("segment")}
    assert len(segments) == 2 and len(repeated.contents) == 2
    assert all(v >= SLOW_KMEANS for v in segments.values())


def test_stage_timings_do_not_count_the_segmentation_twice(repeated):
    """`setup` used to include the segmentation, which has rows of its own: the stages then added up to more than
    the whole study took, and "the rest" (the stylisation) shrank by as much."""
    segmentation = sum(v for k, v in repeated.timings.items() if k.startswith("segment"))
    assert segmentation >= 2 * SLOW_KMEANS
    assert repeated.timings["setup"] < segmentation  # setup alone: reading the style, building the engine


browser = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")


@pytest.mark.browser
@browser
def test_a_long_title_and_long_paths_stay_on_every_slide(repeated, tmp_path):
    """An unbroken 200-character title pushed the footer's "random weights" badge off every slide, and a long
    image path pushed the summary table off the last one."""
    from browser import open_page
    from test_deck import OVERFLOW_JS, SLIDE_H, SLIDE_W

    from toolkit.report.formats import render

    deck = tmp_path / "deck.html"
    render(repeated, deck, "slides")
    overflowing = {}
    with open_page(deck, SLIDE_W, SLIDE_H) as page:
        n = page.evaluate("document.querySelectorAll('section.slide').length")
        for i in range(n):
            page.evaluate(f"window.scrollTo(0, {i * SLIDE_H})")
            page.wait_still(0.2)
            out = page.evaluate(OVERFLOW_JS % i)["out"]
            if out:
                overflowing[i + 1] = out[:3]
        badges = page.evaluate("[...document.querySelectorAll('footer .badge')].filter(b => b.checkVisibility())"
                               ".length")
    assert n >= 4 and overflowing == {}
    assert badges == n  # the random-weights warning is on every slide


@pytest.mark.parametrize("name", ["lesson.html", "lesson.PDF"])
def test_lesson_refuses_an_output_that_looks_like_a_file(tmp_path, monkeypatch, capsys, name):
    # the lesson writes report.html and deck.html into a folder: -o lesson.html made a folder of that name
    no_study(monkeypatch)
    monkeypatch.chdir(tmp_path)
    line = refused(["lesson", "-o", name, "--weights", "random:0"], capsys)
    assert name in line and "folder" in line and "-o lesson" in line
    assert not list(tmp_path.iterdir())
