"""The ``styleseg`` command line: help, version, doctor, and one-line errors instead of tracebacks."""

import json
import os
import subprocess
import sys

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
