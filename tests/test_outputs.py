"""What a study writes, and how it stops: real signals, the report's assets folder, folders that cannot be
written, and each engine's peak memory measured in a fresh process."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest

from toolkit.errors import OutputError, printable
from toolkit.io import read_image
from toolkit.report.render import render_report
from toolkit.study.run import StudyResult
from toolkit.study.spec import parse_study

from tiny import STUDY_FILE  # tests/ is on sys.path, see conftest.py

ROOT = Path(__file__).resolve().parent.parent
SPEC = {"weights": "random:0", "style": {"image": "sample:coffee"}, "content": [{"image": "sample:astronaut"}],
        "audit": False}


def cli(*args, cwd, env=None, **kwargs):
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT), "STYLESEG_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    # A terminal's Ctrl-C: started from a background job (as CI may be), the child would inherit SIGINT ignored
    return subprocess.Popen([sys.executable, "-m", "toolkit.cli", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **kwargs)


def small_result(style: np.ndarray, title: str = "assets") -> StudyResult:
    """A result with no runs, only the style image: enough to render a report with an image."""
    from toolkit.provenance import environment

    spec = parse_study({**SPEC, "title": title})
    return StudyResult(spec, "random:0", True, style_image=style, environment=environment("cpu"))


def image_links(html_path: Path) -> list[Path]:
    srcs = re.findall(r'<img src="([^"]+)"', html_path.read_text())
    return [html_path.parent / unquote(s) for s in srcs]


# ------------------------------------------------------------------------------------------- signals


STUDY = STUDY_FILE.format(seeds="[0, 1, 2]", steps="{steps}")


def test_a_signal_stops_the_whole_study_and_reports_what_finished(tmp_path):
    (tmp_path / "study.toml").write_text(STUDY.format(steps=20))
    (tmp_path / "old.html").write_text("<p>the previous report</p>\n")
    # SIGINT (Ctrl-C) on a new report; SIGTERM with --force over the previous one: both run at the same time
    jobs = {signal.SIGINT: cli("run", "study.toml", "-o", "new.html", cwd=tmp_path),
            signal.SIGTERM: cli("run", "study.toml", "-o", "old.html", "--force", cwd=tmp_path)}
    finished = {}
    for sig, p in jobs.items():
        seen = ""
        while "seed 0:" not in seen:  # the first stylisation finished: interrupt the second
            line = p.stderr.readline()
            assert line, f"the study ended before the first run finished: {seen}"
            seen += line
        p.send_signal(sig)
    for sig, p in jobs.items():
        out, err = p.communicate(timeout=300)
        assert p.returncode == 130, err
        assert "Traceback" not in err
        finished[sig] = out.strip()
    for sig, name in ((signal.SIGINT, "new.html"), (signal.SIGTERM, "old.html")):
        assert finished[sig] == name
        html = (tmp_path / name).read_text()
        assert "This study was interrupted" in html
        runs = html.count('alt="sample:astronaut stylised')
        assert 1 <= runs < 6  # what finished before the signal, and not the 6 runs of a full study


def test_an_interrupted_demo_keeps_its_earlier_report(tmp_path, monkeypatch):
    import toolkit.study.run as study_run
    from toolkit.commands.run import execute

    earlier = tmp_path / "report.html"
    earlier.write_text('<meta name="generator" content="styleseg"> styleseg demo, complete\n')
    spec = parse_study(SPEC, str(tmp_path / "demo.toml"))
    interrupted = small_result(read_image("sample:coffee", max_size=32))
    interrupted.interrupted = True
    monkeypatch.setattr(study_run, "run_study", lambda *args, **kwargs: interrupted)

    class Args:
        output, format, assets_dir, force, check, weights, quiet = str(earlier), "html", None, False, False, None, True

    assert execute(spec, Args, fallback=True, replace_own=True) == 130
    assert "complete" in earlier.read_text()  # the earlier, complete report is kept
    assert "This study was interrupted" in (tmp_path / "report.interrupted.html").read_text()
    # a second interruption keeps the first interrupted report too: nothing is written over without --force
    assert execute(spec, Args, fallback=True, replace_own=True) == 130
    assert "This study was interrupted" in (tmp_path / "report.interrupted-2.html").read_text()
    assert "complete" in earlier.read_text()


def test_the_demo_does_not_announce_replacing_a_report_an_interruption_keeps(tmp_path, capsys):
    from toolkit.cli import configure_logging
    from toolkit.commands.run import replaces_own

    earlier = tmp_path / "report.html"
    earlier.write_text('<meta name="generator" content="styleseg"><title>styleseg demo</title>')
    configure_logging()  # as the command line sets it up: INFO lines to stderr
    assert replaces_own([str(earlier)], "styleseg demo")
    said = capsys.readouterr().err
    # said before the study runs: the replacing happens only if it completes
    assert "replacing" not in said
    assert f"{earlier} will be replaced when the study completes (an interrupted one keeps it)" in said


# -------------------------------------------------------------------------------------------- assets


@pytest.fixture(scope="module")
def style_images():
    base = read_image("sample:coffee", max_size=48)
    return base, np.ascontiguousarray(base[:, ::-1])


@pytest.mark.parametrize("layout", ["relative", "outside", "special-characters"])
def test_assets_dir_links_work_from_anywhere(layout, tmp_path, monkeypatch, style_images):
    monkeypatch.chdir(tmp_path)
    report = Path("reports/2024/report.html")
    assets = {"relative": "reports/img", "outside": str(tmp_path / "elsewhere" / "shared"),
              "special-characters": "reports/a #1?%20 ü"}[layout]
    render_report(small_result(style_images[0]), report, assets_dir=assets)
    links = image_links(report)
    assert links and all(p.is_file() and p.resolve().parent == Path(assets).resolve() for p in links)


def test_reports_sharing_an_assets_dir_keep_their_own_images(tmp_path, style_images):
    assets = tmp_path / "assets"
    render_report(small_result(style_images[0]), tmp_path / "a.html", assets_dir=assets)
    first = {p: p.read_bytes() for p in image_links(tmp_path / "a.html")}
    render_report(small_result(style_images[1]), tmp_path / "b.html", assets_dir=assets, force=True)
    assert {p: p.read_bytes() for p in image_links(tmp_path / "a.html")} == first
    assert set(image_links(tmp_path / "b.html")).isdisjoint(first)


def test_an_asset_is_never_written_over_an_input(tmp_path, style_images):
    from toolkit.io import encode_png
    from toolkit.report.render import ImageSink

    sink = ImageSink(tmp_path, tmp_path)
    target = tmp_path / unquote(sink.png(encode_png(style_images[0])))
    target.write_bytes(b"an input that happens to carry that name")
    with pytest.raises(OutputError, match="input of this run"):
        ImageSink(tmp_path, tmp_path, protect=(str(target),)).png(encode_png(style_images[0]))


# ------------------------------------------------------------------------------------ unwritable folders


def test_a_read_only_output_folder_is_one_line(tmp_path, capsys, monkeypatch):
    from toolkit.cli import main

    (tmp_path / "study.toml").write_text(STUDY.format(steps=2))
    if os.geteuid() == 0:  # root writes into any mode-0555 folder; /proc refuses new files even to root
        out = Path("/proc/styleseg-report.html")
    else:
        (tmp_path / "locked").mkdir(mode=0o555)
        out = tmp_path / "locked" / "report.html"
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--check", "study.toml", "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith(f"styleseg: error: cannot write {out}: the folder {out.parent} is not writable")
    assert not out.exists()


def test_control_characters_are_escaped_in_messages():
    assert printable("a\nb\x1b[31m\x9b\u202ec") == "a\\x0ab\\x1b[31m\\x9b\\u202ec"
    assert str(OutputError("x\r\ny")) == "x\\x0d\\x0ay"
    assert printable("café — ü") == "café — ü"


# ----------------------------------------------------------------------------------------------- memory


def test_peak_memory_is_measured_in_a_fresh_process_with_the_model():
    """The figure covers the engine with its weights: VGG-19's convolutions up to relu5_1 alone are 49 MiB of
    float32, which the old per-run RSS growth (0.0 MB for every run after the first) never counted."""
    from toolkit.style import StyleConfig
    from toolkit.study.memory import start_peaks

    content = read_image("sample:astronaut", max_size=32)
    style = read_image("sample:coffee", max_size=32)
    mask = np.zeros(content.shape[:2], np.float32)
    mask[8:24, 8:24] = 1
    cfg = StyleConfig(size=32, steps=2, init="content+noise")
    m = start_peaks(["torch"], "random:0", cfg, content, style, mask, "background").collect()["torch"]
    assert "error" not in m, m
    assert "fresh process" in m["method"]
    assert m["engine_mb"] >= 49 and m["peak_mb"] == pytest.approx(m["libraries_mb"] + m["engine_mb"])
    assert m["libraries_mb"] > 100  # the interpreter with torch, reported apart from the engine


def test_ready_made_commands_replace_only_their_own_earlier_files(tmp_path):
    from toolkit.commands.run import replaces_own

    title = "Lesson: <b>one</b> region"
    own = '<!DOCTYPE html><html><head><meta name="generator" content="styleseg"><title>Lesson: &lt;b&gt;one&lt;/b&gt; region</title>'
    report, deck = tmp_path / "report.html", tmp_path / "deck.html"
    assert not replaces_own([str(report), str(deck)], title)  # nothing there yet: nothing to replace
    report.write_text(own)
    assert replaces_own([str(report), str(deck)], title)
    deck.write_text("<p>the user's own notes</p>")  # one file that is not ours: --force is needed
    assert not replaces_own([str(report), str(deck)], title)
    deck.write_text(own.replace("Lesson", "Another study"))
    assert not replaces_own([str(report), str(deck)], title)
