"""The arithmetic of VGG-19 passes (toolkit.vgg.flops) and the floor a study sets it against."""

import re

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from toolkit.vgg.flops import Floor, pass_flops, steps_flops, style_step_flops
from toolkit.vgg.passes import PassCounter
from toolkit.vgg.torch_vgg import VGGFeatures


def test_a_pass_is_counted_as_running_it_counts(random_state):
    net = VGGFeatures(random_state, ["relu1_1", "relu2_1", "relu3_1"])
    x = torch.rand(1, 3, 40, 56, requires_grad=True)
    with FlopCounterMode(display=False) as forward:
        out = net(x)
    with FlopCounterMode(display=False) as both:
        sum(v.sum() for v in net(x).values()).backward()
    assert out and pass_flops(net, (3, 40, 56)) == forward.get_total_flops() > 0
    assert pass_flops(net, (3, 40, 56), backward=True) == both.get_total_flops() > forward.get_total_flops()


def test_a_style_step_is_its_convolutions_forward_and_back_to_the_image():
    def conv(cin, cout, h, w):
        return 2 * cin * cout * 9 * h * w

    forward = (conv(3, 64, 40, 56) + conv(64, 64, 40, 56) + conv(64, 128, 20, 28) + conv(128, 128, 20, 28)
               + conv(128, 256, 10, 14))
    assert style_step_flops(("relu3_1", "relu1_1"), (40, 56)) == 2 * forward  # cut after the deepest layer
    assert style_step_flops(("relu4_1",), (40, 56)) > 2 * forward


def test_a_runs_steps_are_the_passes_its_engine_made_back_to_the_image(random_state):
    from skimage import data

    from toolkit.style import StyleConfig, stylize

    cfg = StyleConfig(size=64, steps=5, optimizer="lbfgs", pyramid=(0.5,), seed=0)
    content, style = data.astronaut()[:300] / 255.0, data.coffee() / 255.0  # not square: levels keep the shape
    with PassCounter() as counter:
        res = stylize(content, style, cfg, engine="torch", weights="random:0", progress=False)
    made = sum(pass_flops(p.module, p.shape, True) * p.images for p in counter.passes if p.backward)
    sizes = [r.size for r in res.history]
    assert set(sizes) == {32, 64} and len(sizes) == 5
    assert steps_flops((*cfg.content_layers, *cfg.style_layers), res.image.shape, sizes) == made


def test_the_study_sets_its_passes_arithmetic_beside_the_machines_rate(tiny_result, tmp_path):
    from toolkit.report.render import render_report

    a = tiny_result.arithmetic
    assert set(a.flops) == {"stylisation steps", "audits"} and all(v > 0 for v in a.flops.values())
    runs = [r for c in tiny_result.contents for r in c["runs"]]
    # both engines make the same steps at the same sizes, so the TensorFlow runs are counted alike
    for tf_run in (r for r in runs if r["engine"] == "tf"):
        twin = next(r for r in runs if r["engine"] == "torch" and r["mode"] == tf_run["mode"]
                    and r["seed"] == tf_run["seed"])
        assert tf_run["sizes"] == twin["sizes"]
    assert a.matmul_gflops > 0 and a.bare_gflops > 0 and a.rate == max(a.matmul_gflops, a.bare_gflops)
    assert 0 < a.floor < tiny_result.seconds
    render_report(tiny_result, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    line = re.search(r"Arithmetic: ([\d.]+) ([TG])FLOP of VGG-19 passes .*? they need at least ([\d.]+) s; the "
                     r"study took", html)
    unit = 1e12 if line[2] == "T" else 1e9
    assert float(line[1]) == pytest.approx(sum(a.flops.values()) / unit, abs=0.051)
    assert float(line[3]) == pytest.approx(a.floor, rel=0.05, abs=0.5)


def test_run_vv_prints_the_floor_after_the_stage_table(tmp_path, capsys):
    from tiny import STUDY_FILE

    from toolkit.cli import main

    (tmp_path / "s.toml").write_text(STUDY_FILE.format(seeds="[0]", steps=2))
    assert main(["-vv", "run", str(tmp_path / "s.toml"), "-o", str(tmp_path / "r.html")]) == 0
    err = capsys.readouterr().err
    assert re.search(r"arithmetic: [\d.]+ GFLOP of VGG-19 passes \(stylisation steps [\d.]+ GFLOP\)", err)
    assert err.index("whole study") < err.index("arithmetic:")


def test_a_floor_is_its_arithmetic_at_the_faster_rate():
    f = Floor({"steps": 3 * 10**12, "audits": 10**12}, matmul_gflops=150.0, bare_gflops=200.0, seconds=60.0)
    assert f.rate == 200.0 and f.floor == pytest.approx(20.0)
    line = f.sentence()
    assert "4.0 TFLOP" in line and "at least 20 s" in line and "took 60 s, 3× that floor" in line
