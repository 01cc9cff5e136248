"""Bad values on the command line: refused before any work, in one line that names the problem and the fix."""

import pytest

from toolkit.cli import main

from refusals import refused  # noqa: E402 (tests/ is on sys.path, see conftest.py)

BOX = ["sample:astronaut", "--box", "100,20,300,400"]


@pytest.mark.parametrize("argv", [
    ["segment", *BOX, "--seed", "4294967296"],
    ["segment", "sample:coffee", "--method", "kmeans", "-k", "2", "--seed", "-1"],
    ["stylize", "sample:astronaut", "sample:coffee", "--seed", "99999999999999999999", "--weights", "random:0"],
    ["stylize", "sample:astronaut", "sample:coffee", "--weights", "random:-1"],
    ["stylize", "sample:astronaut", "sample:coffee", "--weights", "random:4294967296"],
])
def test_a_seed_outside_0_to_2_to_the_32_is_refused(argv, capsys, tmp_path):
    line = refused([*argv, "-o", str(tmp_path / "out.png")], capsys)
    assert "must be a whole number from 0 to 4294967295" in line
    assert not list(tmp_path.iterdir())


def test_the_largest_seed_reaches_grabcut(capsys, tmp_path):
    out = tmp_path / "mask.png"
    assert main(["segment", *BOX, "--seed", "4294967295", "-o", str(out)]) == 0, capsys.readouterr().err
    assert out.is_file()


@pytest.mark.parametrize("box", ["inf,10,40,30", "10.7,10.2,40.9,30.5", "nan,1,2,3", "1,2,3"])
def test_a_box_that_is_not_four_whole_numbers_is_refused(box, capsys, tmp_path):
    line = refused(["segment", "sample:astronaut", f"--box={box}", "-o", str(tmp_path / "m.png")], capsys)
    assert "is not X,Y,W,H (four whole numbers of pixels" in line


def test_a_box_left_of_the_image_can_be_written_with_a_space(capsys, tmp_path):
    out = tmp_path / "mask.png"
    assert main(["segment", "sample:astronaut", "--box", "-5,2,300,400", "-o", str(out)]) == 0, \
        capsys.readouterr().err
    assert out.is_file()


REPORT = '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta name="generator" content="styleseg">\n</head></html>\n'


@pytest.mark.parametrize("name, content, extra, expected", [
    ("notes.toml", "title = 'x'\n", [], "is not a report or deck written by styleseg"),
    ("page.html", "<html><body>hello</body></html>\n", [], "is not a report or deck written by styleseg"),
    ("empty.html", "", [], "is not a report or deck written by styleseg"),
    ("folder.html", None, [], "is a folder; give the path of a report or deck"),
    ("report.html", REPORT, ["-o", "out.html"], "out.html: a PDF's name must end in .pdf"),
    ("report.html", REPORT, ["--notes"], "--notes is for slide decks"),
])
def test_pdf_refuses_what_it_cannot_print_before_starting_chromium(name, content, extra, expected, tmp_path,
                                                                   capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STYLESEG_CHROMIUM", "/bin/false")  # would fail differently if it were reached
    if content is None:
        (tmp_path / name).mkdir()
    else:
        (tmp_path / name).write_text(content)
    assert expected in refused(["pdf", name, *extra], capsys)
    assert not list(tmp_path.glob("*.pdf"))


@pytest.mark.parametrize("fmt, name", [("pdf", "report.pdf"), ("slides", "slides.html"), ("html", "report.html")])
def test_the_demos_default_output_follows_its_format(fmt, name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STYLESEG_CHROMIUM", "/bin/true")
    assert main(["demo", "--format", fmt, "--check", "--weights", "random:0"]) == 0, capsys.readouterr().err
    assert f"styleseg-demo/{name}" in capsys.readouterr().out


@pytest.mark.parametrize("weights, expected", [("notes.png", "use imagenet, keras-imagenet, random[:SEED]"),
                                               ("missing.pth", "weights file missing.pth not found")])
def test_doctor_refuses_a_malformed_weights_value_before_its_report(weights, expected, capsys, tmp_path,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.png").write_text("not weights")
    assert main(["doctor", "--weights", weights]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and expected in err, (out, err)


@pytest.mark.parametrize("engines, expected", [("torch,torch", "names torch more than once"),
                                               ("pytorch", "unknown engine(s) 'pytorch'"), ("", "names no engine")])
def test_bench_style_refuses_engines_it_cannot_time(engines, expected, capsys):
    assert expected in refused(["bench", "style", "--engines", engines], capsys)


@pytest.mark.parametrize("bench", ["style", "converge", "audit"])
def test_a_benchmarks_help_gives_its_real_default_weights(bench, capsys):
    with pytest.raises(SystemExit):
        main(["bench", bench, "--help"])
    assert "Default: random:0" in " ".join(capsys.readouterr().out.split())


def test_a_weights_override_that_fails_is_named_as_the_option_not_the_study(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = refused(["demo", "--check", "--weights", "nofile.pth"], capsys)
    assert "--weights: weights file nofile.pth not found" in line and "demo.toml" not in line


@pytest.mark.parametrize("argv", [["stylize", "sample:astronaut", "sample:coffee", "-o", "out.png"],
                                  ["bench", "converge", "--size", "32"]])
def test_steps_beyond_the_study_files_bound_are_refused(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = refused([*argv, "--steps", "20000", "--weights", "random:0"], capsys)
    assert "steps must be 1 to 10000, got 20000" in line and not list(tmp_path.iterdir())


@pytest.mark.parametrize("argv", [
    ["run", "reports/demo.toml", "--check", "-o", ""],
    ["run", "reports/demo.toml", "--check", "-o", "r.html", "--assets-dir", ""],
    ["lesson", "-o", "", "--weights", "nofile.pth"],  # a bad -o must be found first: no long run
    ["segment", "sample:coffee", "--method", "kmeans", "-o", ""],
    ["stylize", "sample:coffee", "sample:astronaut", "-o", "s.png", "--history-json", ""],
    ["pdf", "r.html", "-o", ""],
])
def test_an_empty_output_path_is_refused(argv, capsys, tmp_path, monkeypatch):
    from toolkit.resources import reports_dir

    monkeypatch.chdir(tmp_path)
    argv = [str(reports_dir() / "demo.toml") if a == "reports/demo.toml" else a for a in argv]
    assert "the path is empty; give a file or folder name" in refused(argv, capsys)
    assert not list(tmp_path.iterdir())
