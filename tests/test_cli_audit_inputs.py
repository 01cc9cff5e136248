"""Bad input to ``styleseg audit``, ``audit-set`` and ``bench audit-set``: one line naming the problem and the fix,
refused before any work, and no input ever overwritten. Random weights and 32 px audits throughout."""

import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from toolkit.cli import main

TINY = ["--size", "32", "--sanity-steps", "0", "--curve-steps", "0", "--methods", "saliency",
        "--weights", "random:0"]


def _png(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Dark noise with a bright object in the middle half (where :func:`_mask` puts the object)."""
    image = np.random.default_rng(seed).integers(0, 60, (h, w, 3), dtype=np.uint8)
    image[h // 4: 3 * h // 4, w // 4: 3 * w // 4] += np.array([180, 150, 40], np.uint8)
    return image


def _mask(h: int, w: int, box=None) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    y0, y1, x0, x1 = box or (h // 4, 3 * h // 4, w // 4, 3 * w // 4)
    m[y0:y1, x0:x1] = 255
    return m


@pytest.fixture
def data(tmp_path) -> Path:
    """astro.png (64×64) with amask.png, and ds/images + ds/masks (two 96×64 images with their masks)."""
    _png(tmp_path / "astro.png", _image(64, 64))
    _png(tmp_path / "amask.png", _mask(64, 64))
    for i, name in enumerate("ab"):
        _png(tmp_path / "ds" / "images" / f"{name}.png", _image(64, 96, i + 1))
        _png(tmp_path / "ds" / "masks" / f"{name}.png", _mask(64, 96))
    return tmp_path


def error_line(capsys) -> str:
    """The one error line on stderr (the random-weights warning and the device line may precede it)."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("styleseg: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def audit_set(data: Path, *extra: str) -> list[str]:
    return ["audit-set", str(data / "ds" / "images"), "--masks", str(data / "ds" / "masks"), "--workers", "0",
            "--size", "32", "--weights", "random:0", "-q", *extra]


# --------------------------------------------------------------------------------- 1: inputs are never written


@pytest.mark.parametrize("which", ["mask", "style", "image"])
def test_audit_never_overwrites_an_input_even_with_force(data, capsys, which):
    out = data / "o" / "c"
    victim = {"mask": out / "overlay_saliency.png", "style": out / "saliency_saliency.png",
              "image": out / "features_relu1_1.png"}[which]
    _png(victim, _image(64, 64, 7) if which != "mask" else _mask(64, 64))
    before = victim.read_bytes()
    inputs = {"image": str(data / "astro.png"), "mask": str(data / "amask.png"), "style": None}
    inputs[which] = str(victim)
    argv = ["audit", inputs["image"], "-o", str(out), "--mask", inputs["mask"], "--force", *TINY]
    if which == "style":
        argv += ["--shortcut", "--style", inputs["style"]]
    assert main(argv) == 2
    line = error_line(capsys)
    assert "input" in line and victim.name in line
    assert victim.read_bytes() == before and not (out / "audit.json").exists()


def test_audit_set_never_overwrites_its_csv_inputs(data, capsys):
    out = data / "o" / "s"
    labels = out / "report.html"
    labels.parent.mkdir(parents=True)
    labels.write_text("image,class\na.png,0\n")
    before = labels.read_bytes()
    assert main(audit_set(data, "-o", str(out), "--labels", str(labels), "--methods", "saliency")) == 2
    assert "input" in error_line(capsys) and labels.read_bytes() == before
    assert not (out / "records").exists() and not (out / "aggregate.json").exists()


# ------------------------------------------------------------------------------------------ 2, 3: empty lists


@pytest.mark.parametrize("option,value", [("--methods", ""), ("--methods", ",,"), ("--layers", ""),
                                          ("--layers", " , "), ("--layers", "relu1_1,nope")])
def test_audit_refuses_empty_or_unknown_lists_before_work(data, capsys, option, value):
    out = data / "o" / "a"
    argv = ["audit", str(data / "astro.png"), "-o", str(out), *TINY, option, value]
    assert main(argv) == 2
    line = error_line(capsys)
    assert option in line and not out.exists()


def test_audit_set_refuses_empty_methods(data, capsys):
    out = data / "o" / "sz"
    assert main(audit_set(data, "-o", str(out), "--methods", "")) == 2
    assert "--methods" in error_line(capsys) and not out.exists()


# ------------------------------------------------------------------------------------- 4: output is not a folder


def test_audit_set_output_that_is_a_file_is_refused(data, capsys):
    ok = _png(data / "ok.png", _image(20, 20))
    before = ok.read_bytes()
    assert main(audit_set(data, "-o", str(ok), "--methods", "saliency")) == 2
    line = error_line(capsys)
    assert "ok.png is a file" in line and "folder" in line and ok.read_bytes() == before


# ---------------------------------------------------------------------------------------- 5: malformed CSVs


@pytest.mark.parametrize("option,content,expected", [
    ("--boxes", "image,x,y,w,h\na.png,1,1,30,30\nb.png,inf,1,30,30\n", "line 3"),
    ("--boxes", "image,x,y,w,h\nb.png,1,1\n", "line 2"),
    ("--boxes", "image,x,y,w,h\nb.png,1.5,1,30,30\n", "whole"),
    ("--boxes", "image,x,y,w,h\nb.png,0,0,0,0\n", "zero width"),
    ("--boxes", "image,x,y,w,h\nb.png,1,1,30,30\nb.png,2,2,30,30\n", "twice"),
    ("--labels", "image,class\na.png\n", "line 2"),
    ("--labels", "image,class\na.png,0\nb.png,1000\n", "line 3"),
    ("--labels", b"image,class\na.png,caf\xe9\n", "UTF-8"),
    ("--labels", "", "empty"),
])
def test_malformed_csv_rows_are_one_line_errors(data, capsys, option, content, expected):
    csv = data / "table.csv"
    csv.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = data / "o" / "csv"
    masks = ["--masks", str(data / "ds" / "masks")] if option == "--labels" else []
    argv = ["audit-set", str(data / "ds" / "images"), *masks, "-o", str(out), "--workers", "0", "--size", "32",
            "--weights", "random:0", "--methods", "saliency", "-q", option, str(csv)]
    assert main(argv) == 2
    line = error_line(capsys)
    assert f"{option} {csv}" in line and expected in line, line
    assert not (out / "records").exists()


# --------------------------------------------------------------------------------------------- 6: --limit


@pytest.mark.parametrize("limit", ["-1", "0"])
def test_audit_set_limit_must_be_positive(data, capsys, limit):
    out = data / "o" / "lim"
    assert main(audit_set(data, "-o", str(out), "--methods", "saliency", f"--limit={limit}")) == 2
    assert "--limit" in error_line(capsys) and not out.exists()


# ------------------------------------------------------------------------------- 7: options that would be ignored


def test_audit_style_without_shortcut_is_refused(data, capsys):
    out = data / "o" / "st"
    argv = ["audit", str(data / "astro.png"), "-o", str(out), "--mask", str(data / "amask.png"), *TINY,
            "--style", "sample:coffee"]
    assert main(argv) == 2
    line = error_line(capsys)
    assert "--style" in line and "--shortcut" in line and not out.exists()


def test_audit_shortcut_without_style_is_refused_before_work(data, capsys):
    out = data / "o" / "st"
    argv = ["audit", str(data / "astro.png"), "-o", str(out), "--mask", str(data / "amask.png"), *TINY, "--shortcut"]
    assert main(argv) == 2
    assert "--style" in error_line(capsys) and not out.exists()


@pytest.mark.parametrize("extra", [["--shortcut-steps", "5"], ["--style", "sample:coffee"]])
def test_audit_set_shortcut_options_need_shortcut(data, capsys, extra):
    out = data / "o" / "ss"
    assert main(audit_set(data, "-o", str(out), "--methods", "saliency", *extra)) == 2
    line = error_line(capsys)
    assert extra[0] in line and "--shortcut" in line and not out.exists()


# ----------------------------------------------------------------------------------------- 8: --curve-steps


def _study_curve_bound() -> int:
    from toolkit.study.spec import AuditTable

    return next(m.le for m in AuditTable.model_fields["curve_steps"].metadata if hasattr(m, "le"))


@pytest.mark.parametrize("command", ["audit", "audit-set"])
@pytest.mark.parametrize("steps", ["100000", "-1"])
def test_curve_steps_are_bounded_as_in_study_files(data, capsys, command, steps):
    out = data / "o" / "cs"
    if command == "audit":
        argv = ["audit", str(data / "astro.png"), "-o", str(out), *TINY, "--curve-steps", steps]
    else:
        argv = audit_set(data, "-o", str(out), "--methods", "saliency", f"--curve-steps={steps}")
    assert main(argv) == 2
    line = error_line(capsys)
    assert "--curve-steps" in line and f"0 to {_study_curve_bound()}" in line and not out.exists()


# ----------------------------------------------------------------------------------------- 9: bench audit-set


def test_bench_audit_set_refuses_bad_settings_before_starting(data, capsys, monkeypatch):
    import toolkit.audit

    def never(*a, **k):
        raise AssertionError("an audit started")

    monkeypatch.setattr(toolkit.audit, "audit_dataset", never)
    for bad in (["--shortcut-steps", "0"], ["--limit", "0"], ["--size", "8"], ["--data", str(data / "nowhere")],
                ["--weights", "bogus"]):
        assert main(["bench", "audit-set", "--data", str(data / "ds"), *bad]) == 2, bad
        error_line(capsys)


def test_bench_audit_set_gives_no_speed_verdict_when_audits_failed(data, capsys, monkeypatch):
    import toolkit.audit

    fake_ray = types.SimpleNamespace(init=lambda **k: None, shutdown=lambda: None)
    monkeypatch.setitem(sys.modules, "ray", fake_ray)

    def failing(images, masks, out, **kw):
        errors = [{"image": "a.png", "kind": "input", "reason": "a.png: broken"}]
        agg = {"images": 1, "audited": 0, "errors": errors}
        return types.SimpleNamespace(audited=1, seconds=1.0, images_per_minute=60.0, aggregate=agg)

    monkeypatch.setattr(toolkit.audit, "audit_dataset", failing)
    assert main(["bench", "audit-set", "--data", str(data / "ds"), "--limit", "1", "--size", "32"]) == 2
    captured = capsys.readouterr()
    assert "images/min" not in captured.out and "goal" not in captured.out
    lines = [line for line in captured.err.splitlines() if line.startswith("styleseg: error:")]
    assert len(lines) == 1 and "1 of 1" in lines[0] and "failed" in lines[0], captured.err


# ------------------------------------------------------------------------------------ 10: every image failed


def test_audit_set_seed_is_checked_by_argparse(data):
    with pytest.raises(SystemExit) as e:
        main(audit_set(data, "-o", str(data / "o" / "seed"), "--seed", "-1"))
    assert e.value.code == 2


def test_audit_set_exits_non_zero_when_every_image_failed(data, capsys):
    for name in "ab":  # masks of the wrong size: every image is an input error
        _png(data / "ds" / "masks" / f"{name}.png", _mask(20, 30))
    out = data / "o" / "fail"
    assert main(audit_set(data, "-o", str(out), "--methods", "saliency", "--curve-steps", "0")) == 2
    line = error_line(capsys)
    assert "2 of 2" in line and "failed" in line and (out / "aggregate.json").is_file()


def test_audit_set_with_no_mask_and_no_box_for_any_image_is_refused(data, capsys):
    out = data / "o" / "none"
    argv = ["audit-set", str(data / "ds" / "images"), "-o", str(out), "--weights", "random:0", "-q"]
    assert main(argv) == 2
    assert "--masks" in error_line(capsys) and not out.exists()


def test_audit_set_with_good_boxes_and_labels_runs(data, capsys):
    (data / "boxes.csv").write_text("image,x,y,w,h\na.png,20,10,50,40\n b.png , 20 , 10 , 50 , 40 \n\n")
    (data / "labels.csv").write_text("\ufeffimage , class\na.png,tabby\nb,281\n")
    out = data / "o" / "good"
    argv = ["audit-set", str(data / "ds" / "images"), "-o", str(out), "--boxes", str(data / "boxes.csv"),
            "--labels", str(data / "labels.csv"), "--workers", "0", "--size", "32", "--curve-steps", "0",
            "--methods", "saliency", "--weights", "random:0", "-q"]
    assert main(argv) == 0
    assert "2 of 2 images audited" in capsys.readouterr().out


# ----------------------------------------------------------------------------- 11: a mask that vanishes at --size


def test_audit_names_the_size_when_the_mask_vanishes(data, capsys):
    dot = _png(data / "dot.png", _mask(64, 64, (30, 31, 30, 31)))  # one pixel: a quarter of one at 32 px
    out = data / "o" / "dot"
    argv = ["audit", str(data / "astro.png"), "-o", str(out), "--mask", str(dot), *TINY]
    assert main(argv) == 2
    line = error_line(capsys)
    assert "--size 32" in line and "larger" in line and not (out / "audit.json").exists()


def test_audit_refuses_an_empty_mask(data, capsys):
    empty = _png(data / "empty.png", np.zeros((64, 64), np.uint8))
    assert main(["audit", str(data / "astro.png"), "-o", str(data / "o" / "e"), "--mask", str(empty), *TINY]) == 2
    assert "empty.png" in error_line(capsys)


@pytest.mark.parametrize("value", [255, 128])  # all white, all light gray: all object either way
def test_audit_refuses_a_mask_with_no_background(data, capsys, value):
    full = _png(data / "full.png", np.full((64, 64), value, np.uint8))
    assert main(["audit", str(data / "astro.png"), "-o", str(data / "o" / "f"), "--mask", str(full), *TINY]) == 2
    assert "no background to compare the object with" in error_line(capsys)
    assert not (data / "o" / "f").exists()


def test_a_map_with_no_positive_attribution_is_said_to_have_no_verdict(data, capsys, monkeypatch):
    import toolkit.audit.run as audit_run
    from toolkit.audit.attention import attention_share

    # a map that is zero or negative everywhere (as occlusion can be on a flat image) has nothing to share out
    monkeypatch.setattr(audit_run, "attention_share", lambda a, m, seed: attention_share(-np.abs(a), m, seed))
    assert main(["audit", str(data / "astro.png"), "-o", str(data / "o" / "n"), "--mask", str(data / "amask.png"),
                 *TINY]) == 0
    err = capsys.readouterr().err
    assert "saliency               no positive attribution anywhere: nothing to share out, no verdict" in err
    assert "nan%" not in err and "None" not in err


def test_a_style_too_thin_for_the_shortcut_probe_names_a_fix_the_audit_has(data, capsys):
    wide = _png(data / "wide.png", _image(40, 1000))
    assert main(["audit", str(data / "astro.png"), "-o", str(data / "o" / "w"), "--mask", str(data / "amask.png"),
                 "--shortcut", "--style", str(wide), *TINY]) == 2
    line = error_line(capsys)
    assert "wide.png is 1000×40" in line and "crop it to a less elongated shape (the shortcut probe" in line
    assert "--size" not in line and not (data / "o" / "w").exists()


# ------------------------------------------------------------------------- 12: strict JSON, undefined is null


def _strict_json(text: str):
    """Parse as strict JSON (RFC 8259, JavaScript's JSON.parse): NaN and Infinity are not JSON."""
    import json

    def refuse(name):
        raise ValueError(f"{name} is not valid JSON")

    return json.loads(text, parse_constant=refuse)


def test_audit_json_is_strict_json_when_a_map_has_no_verdict(data, monkeypatch):
    import toolkit.audit.run as audit_run
    from toolkit.audit.attention import attention_share

    monkeypatch.setattr(audit_run, "attention_share", lambda a, m, seed: attention_share(-np.abs(a), m, seed))
    out = data / "o" / "strict"
    assert main(["audit", str(data / "astro.png"), "-o", str(out), "--mask", str(data / "amask.png"), *TINY]) == 0
    attention = _strict_json((out / "audit.json").read_text())["attention"]["saliency"]
    assert attention["verdict"] is None and attention["ratio"] is None and attention["inside_share"] is None
    assert attention["ratio_ci"] == [None, None] and attention["object_area"] == pytest.approx(0.25)


def test_json_writer_refuses_nan_rather_than_writing_invalid_json(tmp_path):
    from toolkit.io import write_json

    with pytest.raises(ValueError):
        write_json(tmp_path / "x.json", {"ratio": np.float32("nan")})
    assert not list(tmp_path.iterdir())  # not even a temporary file left behind


# ------------------------------------------------------------------------ 13: images in subfolders are named


def test_audit_set_warns_about_images_in_subfolders_and_audits_the_top_level(data, capsys):
    images = data / "ds" / "images"
    _png(images / "sub" / "c.png", _image(64, 96, 3))
    _png(images / "sub" / "deeper" / "d.jpg", _image(64, 96, 4))
    _png(images / ".cache" / "e.png", _image(64, 96, 5))  # hidden, as at the top level: not an image to audit
    (images / "sub" / "notes.txt").write_text("not an image")
    assert main(audit_set(data, "-o", str(data / "o" / "sub"), "--methods", "saliency", "--curve-steps", "0")) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "subfolder" in line]
    expected = ("styleseg: warning: 2 images in subfolders are not audited (e.g. sub/c.png, sub/deeper/d.jpg); "
                "audit-set reads only the folder's top level")
    assert warnings == [expected], captured.err
    assert "2 of 2 images audited" in captured.out


def test_audit_set_says_nothing_of_subfolders_without_images(data, capsys):
    (data / "ds" / "images" / "empty").mkdir()
    assert main(audit_set(data, "-o", str(data / "o" / "nosub"), "--methods", "saliency", "--curve-steps", "0")) == 0
    assert "subfolder" not in capsys.readouterr().err


# ------------------------------------------------------------------ 14: --deletion-baseline without curves


@pytest.mark.parametrize("baseline", ["mean", "black"])
def test_audit_deletion_baseline_without_curves_is_refused_before_work(data, capsys, baseline):
    from refusals import refused, snapshot

    before = snapshot(data)
    line = refused(["audit", str(data / "astro.png"), "-o", str(data / "o" / "db"), *TINY,
                    "--deletion-baseline", baseline], capsys)
    assert line.startswith("styleseg: error: --deletion-baseline") and "--curve-steps 0" in line
    assert "drop --deletion-baseline" in line and "--curve-steps 1" in line
    assert snapshot(data) == before


def test_audit_deletion_baseline_with_curves_is_used(data):
    out = data / "o" / "dbm"
    argv = ["audit", str(data / "astro.png"), "-o", str(out), *TINY, "--curve-steps", "1",
            "--deletion-baseline", "mean"]
    assert main(argv) == 0
    report = _strict_json((out / "audit.json").read_text())
    assert report["faithfulness"]["deletion_baseline"] == "mean" and report["config"]["deletion_baseline"] == "mean"


def test_random_weights_verdicts_say_they_mean_nothing(data, capsys):
    # before: "saliency ... ratio 1.31 ...: on the object" with no word that an untrained network gave it, and an
    # audit.json that said so only through its weights string
    out = data / "o" / "random"
    assert main(["audit", str(data / "astro.png"), "-o", str(out), "--mask", str(data / "amask.png"), *TINY]) == 0
    header = next(line for line in capsys.readouterr().err.splitlines()
                  if line.startswith("styleseg: attention on the object"))
    assert "RANDOM weights" in header and "mean nothing" in header
    assert _strict_json((out / "audit.json").read_text())["random_weights"] is True


def test_audit_pngs_carry_the_runs_parameters(data):
    # before: {command, input, weights} only, though the README says PNG outputs carry seed, settings, versions
    # and timings
    from toolkit.io import read_png_metadata

    out = data / "o" / "meta"
    assert main(["audit", str(data / "astro.png"), "-o", str(out), *TINY]) == 0
    meta = read_png_metadata(out / "saliency_saliency.png")
    assert meta["config"]["size"] == 32 and meta["config"]["methods"] == ["saliency"] and meta["random_weights"]
    assert meta["seconds"] > 0 and "torch" in meta["environment"]["versions"]


def test_an_audits_time_comes_with_the_bare_pass_and_the_load(data, capsys):
    # before: "top-1: ..., 276.7 s" and audit.json's seconds with no yardstick: a time that cannot be compared
    out = data / "o" / "ref"
    assert main(["audit", str(data / "astro.png"), "-o", str(out), *TINY]) == 0
    ref = _strict_json((out / "audit.json").read_text())["reference"]
    assert ref["bare_pass_s"] > 0 and set(ref["load"]) == {"start", "end"}
    line = next(x for x in capsys.readouterr().err.splitlines() if x.startswith("styleseg: top-1"))
    assert f"bare VGG-19 forward+backward at 256 px: {1000 * ref['bare_pass_s']:.0f} ms" in line and "load" in line
