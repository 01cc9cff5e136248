"""Study files, a tiny real study, its self-contained HTML report, and the report in headless Chromium."""

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest

from toolkit.errors import ParameterError
from toolkit.report.render import render_report
from toolkit.resources import reports_dir
from toolkit.study.run import run_study
from toolkit.study.spec import load_study, parse_study

from tiny import TINY  # noqa: E402 (tests/ is on sys.path, see conftest.py)


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def test_the_demo_study_file_parses():
    spec = load_study(reports_dir() / "demo.toml")
    assert len(spec.seeds) >= 3 and set(spec.engines) == {"torch", "tf"}
    assert all(c.image.startswith("sample:") for c in spec.contents) and spec.style.startswith("sample:")


@pytest.mark.parametrize("change, message", [
    ({"content": []}, r"content must be a list of 1 to \d+ \[\[content\]\] tables"),
    ({"engines": ["jax"]}, "engines"),
    ({"colour": 1}, "unknown key"),
    ({"content": [{"image": "sample:coffee", "region": "middle"}]}, "region"),
])
def test_bad_study_files_are_one_line_errors(change, message):
    with pytest.raises(ParameterError, match=message):
        parse_study({**TINY, **change})


def test_study_measures_both_engines_over_seeds(tiny_result):
    entry = tiny_result.contents[0]
    assert len(entry["runs"]) == 2 * 2 * 2  # modes × engines × seeds
    comp = entry["comparison"]["masked"]
    assert set(comp["engines"]) == {"torch", "tf"} and comp["ssim_between_engines"]["n"] == 2
    # the seed changes the output (content+noise start), so the spread across seeds is a real, separate figure
    for engine in ("torch", "tf"):
        between_seeds = comp["engines"][engine]["ssim_between_seeds"]
        assert between_seeds["n"] == 1 and between_seeds["mean"] < 0.999
    torch_row = comp["engines"]["torch"]
    assert torch_row["style_loss"]["n"] == 2
    # every time is read against a bare VGG-19 pass timed in the same run (well under a 40-step run of its own)
    assert 0 < tiny_result.bare_pass < tiny_result.seconds / 10
    # the engines' own images change outside the region (style leaks); the blend repairs all but a narrow seam
    for row in comp["engines"].values():
        assert row["leak_mean_255"]["mean"] > 3 * row["outside_mean_255"]["mean"]
        assert row["seam_px"]["mean"] <= 5
    assert comp["engines"]["tf"]["trace_seconds"] > 0 and comp["engines"]["torch"]["trace_seconds"] is None
    assert tiny_result.random_weights and entry["audit"].maps["gradcam"].shape == (48, 48)
    # optimizer "auto": Adam for whole images, L-BFGS-B for the guided region
    assert {(r["mode"], r["optimizer"]) for r in entry["runs"]} == {("whole", "adam"), ("masked", "lbfgs")}
    # the audit's shortcut probe pastes the study's own first whole-image run instead of stylising again
    assert entry["audit"].shortcut["stylised"] == "the study's torch whole-image run, seed 0"


def test_the_referee_scores_each_target_with_its_own_losses():
    """The referee reuses targets across the runs it scores; a score must still equal the engine's own loss
    for that content, style and region, and another region must get its own targets."""
    import numpy as np
    import torch

    from toolkit.io import read_image
    from toolkit.style import StyleConfig
    from toolkit.style.engine import Level, StyleTerm
    from toolkit.style.torch_engine import TorchEngine
    from toolkit.study.referee import Referee
    from toolkit.vgg.weights import load_state_dict, parse_weights

    weights, cfg = load_state_dict(parse_weights("random:0")), StyleConfig(size=48)
    content, style = read_image("sample:astronaut", max_size=48), read_image("sample:coffee", max_size=48)
    image = np.clip(content + 0.2, 0, 1).astype(np.float32)
    left, right = np.zeros(content.shape[:2], np.float32), np.zeros(content.shape[:2], np.float32)
    left[:, :20], right[:, 28:] = 1, 1
    referee, engine = Referee(weights, cfg), TorchEngine(weights, cfg, torch.device("cpu"))
    scores = {}
    for name, region in (("whole", None), ("left", left), ("right", right), ("left again", left)):
        scores[name] = referee.score(image, content, style, region)
        parts = engine.objective(Level(content, [StyleTerm(style, region)]))(image.astype(np.float64).ravel())[2]
        assert scores[name] == pytest.approx({"content": parts["content"], "style": parts["style"]}, rel=1e-5)
    assert scores["left"]["style"] != pytest.approx(scores["right"]["style"], rel=1e-3)


def test_report_is_self_contained_escaped_and_accessible(tiny_result, tmp_path):
    out = tmp_path / "report.html"
    info = render_report(tiny_result, out)
    html = out.read_text()
    assert info["bytes"] == len(html.encode())
    assert "<script>" not in html and "&lt;script&gt;" in html  # the title is escaped, and no script at all
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)  # nothing fetched from a network
    assert 'id="random-weights"' in html and "Random weights" in html
    for anchor in ("segmentation", "stylisation", "comparison", "audit", "reproducibility"):
        assert f'href="#{anchor}"' in html and f'id="{anchor}"' in html
    assert "prefers-color-scheme: dark" in html and "@media print" in html
    assert "agreement of the two implementations (SSIM between engines, same seed)" in html
    assert "SSIM between seeds" in html and "Not measured" in html  # memory: measure_memory = false
    assert "auto (whole: adam, masked: lbfgs)" in html  # the optimiser each mode's runs used
    parser = _Images()
    parser.feed(html)
    assert len(parser.images) > 20
    assert all(img.get("alt") and img["src"].startswith("data:image/png;base64,") for img in parser.images)


def test_report_can_write_images_beside_the_html(tiny_result, tmp_path):
    out = tmp_path / "report.html"
    render_report(tiny_result, out, assets_dir=tmp_path / "assets")
    parser = _Images()
    parser.feed(out.read_text())
    assert parser.images and all((tmp_path / unquote(img["src"])).is_file() for img in parser.images)


browser = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")


@pytest.mark.browser
@browser
def test_report_in_headless_chromium(tiny_result, tmp_path):
    from browser import visit

    out = tmp_path / "report.html"
    render_report(tiny_result, out)
    page = visit(out)
    assert page.requests == [] and page.console_errors == []
    assert page.screenshot[:8] == b"\x89PNG\r\n\x1a\n" and len(page.screenshot) > 10_000
    (Path(__file__).parent.parent / "out").mkdir(exist_ok=True)
    (Path(__file__).parent.parent / "out" / "report_screenshot.png").write_bytes(page.screenshot)


@pytest.mark.browser
@browser
def test_the_browser_check_catches_a_network_request(tmp_path):
    from browser import visit

    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png" alt="x"></body></html>')
    assert visit(page).requests == ["http://127.0.0.1:9/x.png"]


def test_an_interrupted_run_stops_the_whole_study_and_reports_what_finished(monkeypatch, tmp_path):
    import toolkit.style as style_api

    real, calls = style_api.stylize, {"n": 0}

    def interrupted_on_third_run(*args, **kwargs):
        calls["n"] += 1
        result = real(*args, **kwargs)
        if calls["n"] == 3:
            result.stopped = "interrupted"  # what the optimiser returns after Ctrl-C: its best image so far
        return result

    monkeypatch.setattr(style_api, "stylize", interrupted_on_third_run)
    result = run_study(parse_study({**TINY, "audit": {"enabled": False}}), progress=False)
    assert calls["n"] == 3  # no run started after the interrupted one
    assert result.interrupted and len(result.contents[0]["runs"]) == 2  # the cut-short run is not reported
    render_report(result, tmp_path / "partial.html")
    html = (tmp_path / "partial.html").read_text()
    assert "interrupted" in html and html.count('alt="sample:astronaut stylised') == 2


def test_a_shared_report_shows_paths_as_the_study_file_wrote_them(tmp_path):
    # reports get shared: the folders above the study (often a user's name) must not travel with them
    import numpy as np

    from toolkit.io import read_image, save_image

    folder = tmp_path / "alice-private" / "study"
    (folder / "photos").mkdir(parents=True)
    save_image(folder / "photos" / "coffee.png", read_image("sample:coffee")[::8, ::8])
    save_image(folder / "photos" / "cat.png", read_image("sample:chelsea")[::8, ::8])
    mask = np.zeros((50, 75), np.float32)
    mask[10:40, 20:60] = 1
    save_image(folder / "photos" / "mask.png", mask)
    (folder / "mine.toml").write_text(
        'weights = "random:0"\nengines = ["torch"]\nseeds = [0]\nsize = 32\nsteps = 1\nmeasure_memory = false\n'
        '[style]\nimage = "photos/cat.png"\n'
        '[[content]]\nimage = "photos/coffee.png"\nmask = "photos/mask.png"\nregion = "foreground"\n'
        '[audit]\nsize = 32\nmethods = ["saliency"]\nsanity_steps = 1\ncurve_steps = 0\nshortcut = false\n')
    result = run_study(load_study(folder / "mine.toml"), progress=False)
    pages = {}
    for template in ("report.html.j2", "slides.html.j2"):
        render_report(result, tmp_path / f"{template}.html", template=template)
        pages[template] = html = (tmp_path / f"{template}.html").read_text()
        assert "alice-private" not in html and str(tmp_path) not in html
        assert "photos/coffee.png" in html and "photos/cat.png" in html
        # the mask came from a file: no caption or note calls it GrabCut's (the explanations of the method may)
        shown = re.sub(r"<details.*?</details>", "", html, flags=re.S)
        assert "GrabCut mask" not in shown and "GrabCut got only a box" not in shown and "photos/mask.png" in shown
    assert "<td>mine.toml</td>" in pages["report.html.j2"]  # the study file, by its name


def test_a_weights_file_is_shown_as_the_study_file_wrote_it(tiny_result, tmp_path):
    from dataclasses import replace

    weights = "/home/alice/models/vgg19.pth"
    spec = replace(tiny_result.spec, weights=weights, written=((weights, "models/vgg19.pth"),))
    render_report(replace(tiny_result, spec=spec, weights=f"file:{weights}"), tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert "/home/alice" not in html and "file:models/vgg19.pth" in html


def test_one_value_has_no_spread_and_the_report_shows_none():
    # before: sd 0.0 for a single value, shown as "0.660 ± 0.000" (two seeds give one SSIM pair between seeds)
    from toolkit.report.render import environment
    from toolkit.study.metrics import mean_sd

    one = mean_sd([0.66])
    assert one["n"] == 1 and one["sd"] != one["sd"]  # NaN: a spread of one value is undefined, not 0
    pm = environment().filters["pm"]
    assert pm(one, ".3f") == "0.660" and pm(mean_sd([0.5, 0.7]), ".1f") == "0.6 ± 0.1"


def test_step_times_are_the_full_size_steps():
    # before: the median over every step, most of them at the pyramid's half size for L-BFGS-B, so masked steps
    # (L-BFGS-B under "auto") read as 2-4x cheaper than whole ones (Adam) at the same size
    study = {**TINY, "engines": ["torch"], "seeds": [0], "size": 64, "steps": 8, "optimizer": "lbfgs",
             "audit": {"enabled": False}}
    for run in run_study(parse_study(study), progress=False).contents[0]["runs"]:
        seconds, sizes = np.diff([0.0] + [s for s, _ in run["history"]]), np.array(run["sizes"])
        assert set(run["sizes"]) == {32, 64}
        assert run["step_ms"] == pytest.approx(1000 * np.median(seconds[sizes == 64]))
        assert run["step_ms"] != pytest.approx(1000 * np.median(seconds))


def test_the_timings_add_up_and_name_their_yardstick_and_load(tiny_result, tmp_path):
    render_report(tiny_result, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    table = html[html.index("<caption>Timings"):]
    table = table[:table.index("</table>")]
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">([\d.]+)</td>', table))
    whole = float(rows.pop("whole study"))
    assert "stylisation, scoring and the rest" in rows and not any("bare" in k for k in rows)
    assert sum(map(float, rows.values())) == pytest.approx(whole, abs=0.05 * len(rows) + 0.01)
    start, end = tiny_result.load["start"], tiny_result.load["end"]
    assert 0 <= start and 0 <= end and tiny_result.bare_pass > 0
    assert f"bare VGG-19 forward+backward at 256 px: {1000 * tiny_result.bare_pass:.0f} ms" in html
    assert f"load average {start:.1f} at the start, {end:.1f} at the end" in html


def test_the_settings_record_every_parameter_of_the_run(tiny_result, tmp_path):
    # before: size, steps, optimiser and seeds only; the loss weights, layers, learning rate, pyramid and the
    # audit's settings were nowhere in the report
    render_report(tiny_result, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    table = html[html.index("<caption>Settings"):]
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td>([^<]*)</td>', table[:table.index("</table>")]))
    assert rows["loss weights"] == "content 1, style 0.2, total variation 0.5"
    assert rows["style layers"].startswith("relu1_1 ×") and "relu5_1" in rows["style layers"]
    assert rows["content layers"] == "relu4_2" and rows["Adam learning rate"] == "0.02"
    assert rows["audit"] == ("48 px; methods saliency, gradcam; sanity cascade 1 stage(s); curve steps 3; "
                             "shortcut probe on")


def test_the_study_audits_the_photo_at_its_own_resolution(tmp_path):
    # before: the audit got the content already shrunk to the study's size, so grace_hopper (600×512) at 48 px was
    # audited from a 41 px crop blown up to 48, and the framing's box was in those 48 px coordinates, unlabelled
    study = {**TINY, "engines": ["torch"], "seeds": [0], "steps": 1,
             "content": [{"image": "sample:grace_hopper", "box": [60, 20, 420, 580], "region": "foreground"}],
             "audit": {"size": 48, "methods": ["saliency"], "sanity_steps": 0, "curve_steps": 0, "shortcut": False}}
    result = run_study(parse_study(study), progress=False)
    a = result.contents[0]["audit"]
    assert a.framing["box"][2] == 512 and a.image.shape == (48, 48, 3)
    render_report(result, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert "side 512 px of the 512×600 photo" in html and "of the audited square" in html


def test_the_loss_chart_breaks_its_line_where_the_pyramid_changes_size():
    # before: one line through both levels, with a jump at the change that looked like the optimiser's doing
    from toolkit.report.figures import level_segments

    history = [(0.1, 5.0), (0.2, 4.0), (0.5, 9.0), (0.7, 8.0), (0.9, 7.5)]
    assert level_segments(history, [32, 32, 64, 64, 64]) == [(32, [0.1, 0.2], [5.0, 4.0]),
                                                              (64, [0.5, 0.7, 0.9], [9.0, 8.0, 7.5])]
    assert level_segments(history[:2], [64, 64]) == [(64, [0.1, 0.2], [5.0, 4.0])]


def test_the_weights_fallback_note_does_not_carry_the_home_folder(monkeypatch, tmp_path):
    # the note is printed in the report (shared): "/home/alice/.cache/torch/..." named the user
    import torch

    from toolkit.study.run import resolve_weights

    monkeypatch.setenv("HOME", str(tmp_path / "alice"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "alice" / ".cache" / "torch" / "hub"))
    weights, notes = resolve_weights("imagenet", fallback=True)
    assert weights == "random:0" and "alice" not in notes[0] and "~/.cache/torch/hub/checkpoints" in notes[0]
