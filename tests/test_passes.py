"""Counting VGG-19 passes (toolkit.vgg.passes) and ``styleseg bench audit``, which sets them beside each stage."""

import json
import time

import pytest
import torch
from torch import nn

from toolkit.cli import main
from toolkit.vgg.passes import PassCounter
from toolkit.vgg.torch_vgg import VGGFeatures


def _net(random_state):
    return VGGFeatures(random_state, ["relu1_1", "relu2_1"])


def test_the_counter_tells_passes_with_a_backward_from_forward_only_ones(random_state):
    net, other = _net(random_state), nn.Conv2d(3, 4, 3)
    x = torch.rand(3, 3, 32, 32)
    with PassCounter() as counter:
        with torch.no_grad():
            net(x[:2])
        xg = x.clone().requires_grad_(True)
        torch.autograd.grad(net(xg)["relu2_1"].sum(), xg)
        net(xg[:1])  # a graph that is never followed back is a forward pass only
        out = net(xg[:1])
        torch.autograd.grad(out["relu2_1"].sum(), out["relu1_1"])  # so is one followed back to a layer only
        other(x)  # not VGG-19
    net(x)  # after the block: not counted
    assert counter.images() == {"forward": 4, "forward+backward": 3}
    assert [(p.images, p.backward) for p in counter.passes] == [(2, False), (3, True), (1, False), (1, False)]
    assert all(p.shape == (3, 32, 32) for p in counter.passes)


def test_passes_are_placed_in_time_by_when_they_began(random_state):
    net = _net(random_state)
    with PassCounter() as counter, torch.no_grad():
        net(torch.rand(2, 3, 32, 32))
        middle = time.perf_counter()
        net(torch.rand(5, 3, 32, 32))
    assert counter.images(until=middle) == {"forward": 2}
    assert counter.images(since=middle) == {"forward": 5}


def test_each_kind_of_pass_is_timed_once_without_being_counted(random_state):
    net = _net(random_state)
    with PassCounter() as counter, torch.no_grad():
        for n in (4, 4, 1):
            net(torch.rand(n, 3, 32, 32))
    costs = counter.bare_costs(rounds=1)
    assert len(counter.passes) == 3  # the timing passes are not added
    assert len(costs) == 2  # a batch of 4 twice, and a single image: a kind of its own
    assert counter.cost(costs) == 8 * costs[counter.passes[0].kind] + costs[counter.passes[2].kind] > 0


STUDY = """\
weights = "random:0"
engines = ["torch"]
size = 32
steps = 2
measure_memory = false
[style]
image = "sample:coffee"
[[content]]
image = "sample:astronaut"
box = [20, 10, 450, 500]
[audit]
size = 32
methods = ["saliency", "integrated_gradients"]
sanity_steps = 1
curve_steps = 2
shortcut = false
"""


def test_bench_audit_counts_each_stages_passes(tmp_path, capsys):
    from toolkit.audit.saliency import SaliencyConfig

    (tmp_path / "study.toml").write_text(STUDY)
    assert main(["bench", "audit", "--study", str(tmp_path / "study.toml"), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    stages = r["stages"]
    steps = SaliencyConfig().ig_steps

    def images(stage):
        return stages[stage]["images_forward_backward"], stages[stage]["images_forward"]

    assert images("saliency:saliency") == (1, 0)
    assert images("saliency:integrated_gradients") == (steps, 0)
    assert images("sanity") == (1 + steps, 0)  # one cascade stage: both maps again
    # the untouched, emptied and blurred images, then one point inside each curve for 2 maps and the random one
    assert images("faithfulness") == (0, 3 + 2 * 3)
    assert images("shortcut") == (0, 0)  # off in this study
    assert all((s["seconds_passes"] > 0) == (sum(images(name)) > 0) for name, s in stages.items())
    assert all((s["gflop"] > 0) == (sum(images(name)) > 0) for name, s in stages.items())
    assert stages["saliency:integrated_gradients"]["gflop"] == pytest.approx(
        steps * stages["saliency:saliency"]["gflop"])  # the same pass, once per step
    assert r["bare_vgg_ms"] > 0
    a = r["arithmetic"]
    assert a["flops"]["audit"] == pytest.approx(1e9 * sum(s["gflop"] for s in stages.values()))
    assert 0 < a["floor_seconds"] < r["seconds"]
