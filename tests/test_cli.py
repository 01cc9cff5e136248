"""The ``styleseg`` command line: help, version, doctor, and one-line errors instead of tracebacks."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from toolkit import __version__
from toolkit.cli import COMMANDS, main


def styleseg(*args, env=None):
    """Run the installed entry point as a user would; return (exit code, stdout, stderr)."""
    full_env = {**os.environ, **(env or {})}
    p = subprocess.run([sys.executable, "-m", "toolkit.cli", *args], capture_output=True, text=True,
                       env=full_env, timeout=300)
    return p.returncode, p.stdout, p.stderr


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and __version__ in capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    assert f"styleseg {command}" in capsys.readouterr().out


def test_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["doctor", "--no-such-option"])
    assert e.value.code == 2


def test_doctor_reports_parity_with_random_weights():
    code, out, err = styleseg("doctor", "--weights", "random:0", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["parity"]["max"] <= 1e-4 and report["parity"]["weights"] == "random:0"
    assert {"torch", "tensorflow-cpu", "numpy"} <= set(report["versions"])
    assert "RANDOM WEIGHTS" in err  # said loudly on the console


def test_doctor_without_imagenet_weights_says_how_to_add_them(tmp_path):
    code, out, err = styleseg("doctor", "--weights", "imagenet",
                              env={"TORCH_HOME": str(tmp_path), "STYLESEG_OFFLINE": "1"})
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith("styleseg: error:")]
    assert len(lines) == 1
    assert str(tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth") in lines[0]
    assert "Traceback" not in out + err


@pytest.mark.parametrize("content, expected", [
    (None, "no such file"),
    (b"just some text\n", "not an image"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x40\x00\x00\x00\x40\x08\x02", "damaged or truncated"),
])
def test_bad_images_give_one_line_not_a_traceback(tmp_path, content, expected):
    path = tmp_path / "input.png"
    if content is not None:
        path.write_bytes(content)
    code, out, err = styleseg("segment", str(path), "-o", str(tmp_path / "mask.png"))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("styleseg: error:") and expected in err
    assert not (tmp_path / "mask.png").exists()


def test_segment_writes_mask_with_metadata_and_refuses_to_overwrite(tmp_path):
    from toolkit.io import read_mask, read_png_metadata

    out = tmp_path / "mask.png"
    args = ("segment", "sample:coffee", "--box", "60,40,480,320", "-o", str(out), "--alpha", str(tmp_path / "a.png"))
    code, _, err = styleseg(*args)
    assert code == 0, err
    mask = read_mask(out)
    assert 0.1 < mask.mean() < 0.9 and set(np.unique(mask)) <= {0.0, 1.0}
    meta = read_png_metadata(out)
    assert meta["params"]["box"] == [60, 40, 480, 320] and "torch" in meta["versions"]
    code, _, err = styleseg(*args)
    assert code == 2 and "--force" in err


def test_every_help_text_prints_as_written():
    import argparse

    from toolkit.cli import build_parser

    def parsers(p):
        yield p
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    yield from parsers(child)

    texts = {p.prog: p.format_help() for p in parsers(build_parser())}
    assert len(texts) > 15  # every command and every benchmark
    # argparse formats help= strings with %, not descriptions: a "%%" there reaches the user as written
    assert not [prog for prog, text in texts.items() if "%%" in text]


#: Libraries that take from a tenth of a second to seconds to import: none may load before a command runs.
HEAVY = ("torch", "tensorflow", "keras", "captum", "cv2", "skimage", "sklearn", "matplotlib", "scipy", "numpy")


def test_building_the_parser_imports_no_heavy_library():
    # A fresh interpreter: this test process has long imported them all.
    code = ("import sys; from toolkit.cli import build_parser; build_parser(); "
            f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert p.stdout.strip() == "", f"building the parser imports {p.stdout.strip()}: slow --help and --version"


@pytest.mark.parametrize("interrupted", ["torch", "toolkit.commands.bench"])
def test_ctrl_c_during_a_slow_import_is_one_line(interrupted, monkeypatch, capsys):
    """Ctrl-C while a command imports PyTorch, or while the parser loads the commands: one line, exit 130."""
    import builtins
    import importlib

    def interrupting(real):
        def load(name, *args, **kwargs):
            if name == interrupted:
                raise KeyboardInterrupt  # what Ctrl-C does in the seconds a heavy import takes
            return real(name, *args, **kwargs)
        return load

    monkeypatch.setattr(builtins, "__import__", interrupting(builtins.__import__))
    monkeypatch.setattr(importlib, "import_module", interrupting(importlib.import_module))
    assert main(["doctor", "--weights", "random:0"]) == 130
    assert capsys.readouterr().err == "styleseg: interrupted\n"


def test_logging_follows_stderr_when_it_is_replaced(monkeypatch):
    """Messages go to the stderr of the moment: one bound at set-up wrote into a closed capture later on."""
    import io
    import logging

    from toolkit.cli import configure_logging

    configure_logging()
    later = io.StringIO()
    monkeypatch.setattr("sys.stderr", later)
    logging.getLogger("styleseg").warning("after the swap")
    assert later.getvalue() == "styleseg: after the swap\n"


def test_time_to_quality_is_the_first_point_within_tolerance_of_the_best_loss():
    from toolkit.commands.bench_converge import time_to_quality

    curves = {"slow": [(1.0, 10.0), (2.0, 5.0), (3.0, 4.1), (4.0, 4.0)],
              "fast": [(0.5, 6.0), (1.5, 4.19), (2.5, 4.5)],  # the loss may rise again (a line search trial)
              "never": [(1.0, 9.0)]}
    target, reached = time_to_quality(curves, tolerance=1.05)
    assert target == pytest.approx(4.2)
    assert reached == {"slow": (3.0, 3), "fast": (1.5, 2), "never": None}


def test_catch_up_times_the_default_to_each_other_runs_best_loss():
    from toolkit.commands.bench_converge import catch_up

    curves = {"default": [(1.0, 6.0), (2.0, 4.5), (3.0, 3.0)],
              "other": [(1.0, 8.0), (4.0, 4.5), (6.0, 5.0)],  # best 4.5 at 4 s; the default gets there at 2 s
              "better": [(1.0, 2.0)]}
    out = catch_up(curves, "default")
    assert out["other"] == {"loss": 4.5, "seconds": 4.0, "lead_seconds": 2.0, "speedup": 2.0}
    assert out["better"]["lead_seconds"] is None and out["better"]["speedup"] is None and "default" not in out


def test_the_step_ratio_interval_is_as_wide_as_the_timing_noise():
    from toolkit.commands.bench_style import ratio_interval

    assert ratio_interval([110.0] * 7, [100.0] * 7) == pytest.approx((1.1, 1.1))
    low, high = ratio_interval([110, 150, 104, 116, 90, 112, 108], [100, 96, 103, 99, 100, 101, 97])
    assert low < 1.1 < high and high - low > 0.04  # a single noisy pass does not make a figure certain
    # one slow pair moves the median little, so the interval stays near the steady ratio
    assert ratio_interval([110] * 6 + [400], [100] * 6 + [300]) == pytest.approx((1.1, 1.1))


def test_bench_all_gives_every_number_with_its_reference():
    from toolkit.commands.bench import figures

    report = {"weights": "random:0", "steps": {"torch@128": {"step_ms": 50.0, "ratio": 1.2}},
              "runs": {"whole": {"seconds": 2.0, "seconds_to_target": None}}, "rows": [{"iou": 0.9}], "ok": True}
    rows = {f.name: f for f in figures("style", report, bare_ms=200.0, load=1.5)}
    assert set(rows) == {"steps.torch@128.step_ms", "steps.torch@128.ratio", "runs.whole.seconds",
                         "runs.whole.seconds_to_target"}
    assert rows["runs.whole.seconds_to_target"].value is None  # never reached: shown, not dropped
    assert rows["steps.torch@128.step_ms"].in_bare_passes == pytest.approx(0.25)
    assert rows["runs.whole.seconds"].in_bare_passes == pytest.approx(10.0)
    assert rows["steps.torch@128.ratio"].in_bare_passes is None  # not a time
    assert rows["runs.whole.seconds_to_target"].in_bare_passes is None
    assert all(f.bare_ms == 200.0 and f.load == 1.5 and f.bench == "style" for f in rows.values())


@pytest.mark.parametrize("command", [["bench", "all"], ["bench"]])  # `all` is the default: --only works without it
@pytest.mark.parametrize("only, expected", [("style,nosuch", "unknown benchmark(s) nosuch"),
                                            ("", "names no benchmark"), (" , ", "names no benchmark")])
def test_bench_all_refuses_an_unknown_or_empty_choice(command, only, expected, capsys):
    assert main([*command, "--only", only]) == 2  # "" used to start every benchmark, up to an hour
    err = capsys.readouterr().err
    assert err.startswith("styleseg: error:") and expected in err and "converge" in err


@pytest.mark.parametrize("given, expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_openmp_threads_wait_passively_unless_the_user_says_otherwise(given, expected):
    # In a fresh interpreter: the setting only works if it is made before PyTorch loads.
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | ({"OMP_WAIT_POLICY": given} if given else {})
    code = ("import os, sys; from toolkit.cli import main; main(['bench', 'all', '--only', 'nosuch']); "
            "print(os.environ['OMP_WAIT_POLICY'], 'torch' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert p.stdout.split() == [expected, "False"], p.stderr


def test_the_stage_table_accounts_for_the_whole_study():
    from toolkit.commands.run import stage_table
    from toolkit.study.run import REST

    table = stage_table({"setup": 2.0, "audit sample:astronaut": 3.0, REST: 5.0}, 10.0).splitlines()
    assert table[0].split()[-4:] == ["2.0", "s", "20", "%"] and table[1].split()[-4:] == ["3.0", "s", "30", "%"]
    assert table[2].split()[-4:] == ["5.0", "s", "50", "%"] and len(table) == 4
    assert table[-1].split()[-2:] == ["10.0", "s"]
    assert stage_table({}, 0.0).splitlines()[-1].split()[-2:] == ["0.0", "s"]  # stopped before any work
    # with the bare VGG-19 pass timed, every row is also given in such passes (comparable across machines)
    table = stage_table({"audit sample:astronaut": 3.0, REST: 7.0}, 10.0, bare=0.5).splitlines()
    assert table[0].split()[-5:] == ["30", "%", "6", "bare", "passes"]
    assert table[-1].split()[-5:] == ["10.0", "s", "20", "bare", "passes"]
