"""Dataset audit on 6 small sample images (plus a corrupt image, a mask of the wrong size and an image with no
mask), random weights: the aggregate against the records on disk, resuming, the local pool, and Ray with a node
lost mid-run."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from toolkit.audit import AuditConfig, audit_dataset
from toolkit.cli import main
from toolkit.io import read_image, save_image

SAMPLES = ("astronaut", "coffee", "chelsea", "rocket", "grace_hopper", "hubble_deep_field")
CFG = AuditConfig(methods=("saliency", "gradcam"), size=64, sanity_steps=0, curve_steps=2, shortcut=True,
                  shortcut_size=64, shortcut_steps=3)  # 1 step would keep the content: nothing restyled
CHEAP = AuditConfig(methods=("saliency",), size=64, sanity_steps=0, curve_steps=0)
GOOD, BAD = 6, 2  # images audited, images with an input error


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> Path:
    """images/, masks/ (a box of a different size and place per image) and labels.csv."""
    root = tmp_path_factory.mktemp("dataset")
    for i, name in enumerate(SAMPLES):
        image = read_image(f"sample:{name}", max_size=80)
        h, w = image.shape[:2]
        mask = np.zeros((h, w), np.float32)
        mask[h // 8: h // 8 + h * (i + 2) // 9, w // 6: w // 6 + w * (i + 2) // 9] = 1
        save_image(root / "images" / f"{name}.png", image)
        save_image(root / "masks" / f"{name}.png", mask)
    (root / "images" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))  # a JPEG cut short
    save_image(root / "masks" / "broken.png", mask)
    save_image(root / "images" / "wrongsize.png", image)
    save_image(root / "masks" / "wrongsize.png", np.ones((20, 30), np.float32))
    save_image(root / "images" / "unmasked.png", image)
    (root / "labels.csv").write_text("image,class\nastronaut.png,0\ncoffee,espresso\nchelsea,tabby\nrocket,0\n")
    return root


def run(folders: Path, out: Path, cfg=CFG, **kw):
    return audit_dataset(folders / "images", folders / "masks", out, config=cfg, style="sample:coffee",
                         labels=folders / "labels.csv", progress=False, **kw)


def records_on_disk(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "records").glob("*.json"))]


@pytest.fixture(scope="module")
def full(folders, tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    return run(folders, out), out


def test_aggregate_is_the_mean_of_the_records_on_disk(full):
    res, out = full
    # the speed says how busy the machine was (before: images/min alone)
    assert f"load average {res.load['start']:.1f}, then {res.load['end']:.1f}" in res.summary()
    agg = json.loads((out / "aggregate.json").read_text())
    recs = records_on_disk(out)
    ok = [r for r in recs if r["status"] == "ok"]
    assert len(recs) == GOOD + BAD and sorted({r["image"] for r in recs}) == sorted(r["image"] for r in recs)
    assert agg["audited"] == len(ok) == GOOD
    for m in CFG.methods:
        ratios = [r["attention"][m]["ratio"] for r in ok]
        assert agg["methods"][m]["ratio"]["mean"]["estimate"] == pytest.approx(np.mean(ratios), rel=1e-12)
        assert agg["methods"][m]["ratio"]["median"]["estimate"] == pytest.approx(np.median(ratios), rel=1e-12)
        assert agg["methods"][m]["below_area"]["estimate"] == pytest.approx(np.mean(np.array(ratios) < 1))
    for probe in ("background", "foreground"):
        flips = [r["shortcut"][probe]["top1_changed"] for r in ok]
        assert agg["shortcut"][probe]["estimate"] == pytest.approx(np.mean(flips)) and agg["shortcut"][probe]["n"] == 6
    controls = [r["shortcut"]["random_region"]["top1_changed"] for r in ok]
    assert all(0.0 <= c <= 1.0 for c in controls)  # a share of the area-matched random regions
    assert agg["shortcut"]["random_region"]["estimate"] == pytest.approx(np.mean(controls))
    labels = {"astronaut.png": 0, "coffee.png": 967, "chelsea.png": 281, "rocket.png": 0}
    top1 = [r["predictions"][0][0] == labels[r["image"]] for r in ok if r["image"] in labels]
    assert agg["accuracy"]["top1"]["estimate"] == pytest.approx(np.mean(top1))
    assert {c["class"]: c["n"] for c in agg["by_class"]} == {0: 2, 967: 1, 281: 1}
    shown = [g["image"] for g in agg["gallery"]["most"] + agg["gallery"]["least"]]
    assert sorted(shown) == sorted(r["image"] for r in ok)  # 6 images: each once, none twice
    assert agg == res.aggregate


def test_bootstrap_intervals_contain_their_estimates(full):
    res, _ = full
    intervals = []

    def walk(node):
        if isinstance(node, dict):
            if {"estimate", "low", "high"} <= set(node) and node["n"] and node["low"] is not None:
                intervals.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(res.aggregate)
    assert len(intervals) > 10 and any(i["low"] < i["high"] for i in intervals)
    for i in intervals:
        assert i["low"] <= i["estimate"] <= i["high"], i


def test_bad_inputs_are_reported_and_the_run_goes_on(full):
    res, _ = full
    errors = {e["image"]: e for e in res.aggregate["errors"]}
    assert set(errors) == {"broken.jpg", "wrongsize.png"} and all(e["kind"] == "input" for e in errors.values())
    assert errors["broken.jpg"]["reason"].startswith("broken.jpg is not an image file")  # named, not a temp path
    assert "mask wrongsize.png is 30×20 pixels" in errors["wrongsize.png"]["reason"]
    assert res.aggregate["skipped"] == [{"image": "unmasked.png", "reason": "no mask and no box"}]


def test_report_is_self_contained_and_says_random_weights(full):
    res, _ = full
    html = res.report.read_text()
    assert 'id="random-weights"' in html and "<script" not in html
    assert "http://" not in html.replace("http://www.w3.org", "") and 'src="http' not in html
    assert html.count('<img src="data:image/png;base64,') == 3 + GOOD  # 3 charts, 6 gallery images
    assert "broken.jpg" in html and "unmasked.png" in html


def test_an_interrupted_run_resumes_to_the_same_aggregate(folders, tmp_path):
    k = 3
    whole = run(folders, tmp_path / "whole", CHEAP, report=False)

    def stop_after_k(record, seen=[]):
        seen.append(record["image"])
        if len(seen) == k:
            raise KeyboardInterrupt

    out = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        run(folders, out, CHEAP, on_record=stop_after_k)
    assert len(records_on_disk(out)) == k and not (out / "aggregate.json").exists()
    resumed = run(folders, out, CHEAP, report=False)
    assert (resumed.reused, resumed.audited) == (k, GOOD + BAD - k)
    assert (out / "aggregate.json").read_bytes() == (tmp_path / "whole" / "aggregate.json").read_bytes()
    again = run(folders, out, CHEAP, report=False)
    assert (again.reused, again.audited) == (GOOD + BAD, 0) and again.aggregate == whole.aggregate


def test_cli_with_a_local_pool(folders, tmp_path, capsys):
    code = main(["audit-set", str(folders / "images"), "--masks", str(folders / "masks"), "-o", str(tmp_path),
                 "--size", "64", "--methods", "saliency", "--curve-steps", "0", "--workers", "2",
                 "--weights", "random:0", "-q"])
    out = capsys.readouterr().out
    assert code == 0 and f"{GOOD} of {GOOD + BAD} images audited" in out and "2 error(s), 1 skipped" in out
    recs = records_on_disk(tmp_path)
    assert len(recs) == GOOD + BAD and os.getpid() not in {r["worker"]["pid"] for r in recs}  # made by the pool
    assert (tmp_path / "report.html").is_file()


def test_an_interrupt_while_the_pool_starts_stops_the_workers_and_exits(folders, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    cmd = [sys.executable, "-m", "toolkit.cli", "audit-set", str(folders / "images"), "--masks", str(folders / "masks"),
           "-o", str(tmp_path), "--size", "32", "--methods", "saliency,occlusion", "--curve-steps", "3",
           "--sanity-steps", "1", "--workers", "2", "--weights", "random:0", "-q"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(6)  # the workers are being spawned (each imports PyTorch and builds VGG-19)
    p.send_signal(signal.SIGINT)  # to the main process only, as `timeout -s INT` or `kill -INT` send it
    try:
        err = p.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError("audit-set did not exit within 30 s of an interrupt (it waited for its workers)")
    assert p.returncode == 130 and "interrupted" in err


def test_bad_labels_are_one_line_errors(folders, tmp_path, capsys):
    (tmp_path / "labels.csv").write_text("image,class\nastronaut.png,not a class\n")
    code = main(["audit-set", str(folders / "images"), "--masks", str(folders / "masks"), "-o", str(tmp_path / "o"),
                 "--labels", str(tmp_path / "labels.csv"), "--weights", "random:0"])
    err = capsys.readouterr().err
    assert code == 2 and "styleseg: error: --labels" in err and "'not a class'" in err


def test_ray_cluster_losing_a_node_mid_run_loses_and_doubles_nothing(folders, tmp_path):
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    nodes = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    seen, removed = [], []

    def remove_a_busy_node(record):
        seen.append(record["worker"]["ray_node"])
        if not removed and len(set(seen)) == 2:  # both nodes have worked; the latest has just taken a new task
            victim = next(n for n in nodes if n.node_id == seen[-1])
            cluster.remove_node(victim)
            removed.append((victim.node_id, len(seen)))

    try:
        ray.init(address=cluster.address, log_to_driver=False)
        res = audit_dataset(folders / "images", folders / "masks", tmp_path, config=CHEAP, progress=False,
                            report=False, ray=cluster.address, on_record=remove_a_busy_node)
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert removed, "Ray never ran tasks on both nodes"
    victim, at = removed[0]
    assert victim not in seen[at:]  # after its removal, nothing came from the lost node
    recs = records_on_disk(tmp_path)
    assert len(recs) == len(seen) == GOOD + BAD and len({r["image"] for r in recs}) == GOOD + BAD
    assert res.aggregate["audited"] == GOOD and len(res.aggregate["errors"]) == BAD


def test_a_probe_that_restyled_nothing_is_counted_but_left_out_of_the_flip_rates(folders, full, tmp_path):
    """1 style step keeps the content, so no pixel is restyled: those images must not count as "top-1 kept"."""
    from dataclasses import replace

    from toolkit.audit.dataset_aggregate import aggregate

    noop = run(folders, tmp_path, replace(CHEAP, shortcut=True, shortcut_size=64, shortcut_steps=1), limit=3)
    recs = [r for r in records_on_disk(tmp_path) if r["status"] == "ok"]
    assert len(recs) == 2 and all("--shortcut-steps" in r["shortcut"]["undefined"] for r in recs)
    assert all(r["shortcut"]["background"]["top1_changed"] is None for r in recs)
    sc = noop.aggregate["shortcut"]
    assert sc["background"]["n"] == sc["leans_on_background"]["n"] == 0 and sc["probed"] == 2
    assert sorted(e["image"] for e in sc["not_restyled"]) == sorted(r["image"] for r in recs)
    assert "2 of 2 probed images" in noop.report.read_text()
    restyled = [r for r in records_on_disk(full[1]) if r["status"] == "ok" and r["image"] not in
                {e["image"] for e in sc["not_restyled"]}]
    assert len(restyled) == 4 and all(r["shortcut"]["undefined"] is None for r in restyled)
    mixed = aggregate(recs + restyled)["shortcut"]
    assert mixed["probed"] == 6 and len(mixed["not_restyled"]) == 2 and mixed["background"]["n"] == 4
    assert mixed["background"]["estimate"] == pytest.approx(
        np.mean([r["shortcut"]["background"]["top1_changed"] for r in restyled]))


def test_no_interval_is_shown_for_fewer_than_two_images_or_all_equal_values(full):
    import re

    from toolkit.audit.dataset_aggregate import estimate

    assert estimate([1.0]) == {"n": 1, "estimate": 1.0, "low": None, "high": None}
    assert estimate([0.0, 0.0, 0.0])["low"] is None and estimate([0.0, 1.0, 1.0])["low"] < 1
    res, _ = full
    single = [c for c in res.aggregate["by_class"] if c["n"] == 1]
    assert single and all(c["top1"]["low"] is None and c["top1"]["high"] is None for c in single)
    html = res.report.read_text()
    assert not re.search(r"\[(-?[\d.]+), \1\]", html), "a zero-width interval is shown"


def test_the_faithfulness_table_has_the_random_map_as_chance(full):
    res, out = full
    ok = [r for r in records_on_disk(out) if r["status"] == "ok"]
    chance = res.aggregate["chance"]
    for k in ("deletion_auc", "insertion_auc"):
        assert chance[k]["n"] == GOOD
        assert chance[k]["estimate"] == pytest.approx(np.mean([r["faithfulness"]["random map"][k] for r in ok]))
    row = re.search(r"<tr><th scope=\"row\">random map \(chance\)</th>(.*?)</tr>", res.report.read_text(), re.DOTALL)
    assert row and f"{chance['deletion_auc']['estimate']:.3f}" in row.group(1)


def test_each_shortcut_figure_says_what_it_is_a_share_of(full):
    res, _ = full
    html = res.report.read_text()
    table = re.search(r'<section id="shortcut">.*?<table>(.*?)</table>', html, re.DOTALL).group(1)
    heads = re.findall(r'<th scope="col">(.*?)</th>', table)
    rows = {re.search(r'<th scope="row">(.*?)</th>', r).group(1): re.findall(r"<td[^>]*>(.*?)</td>", r, re.DOTALL)
            for r in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)[1:]}
    share, mean = heads.index("share of images whose top-1 changed"), heads.index(
        "mean share of the random regions per image whose top-1 changed")
    assert rows["background"][mean - 1] == "–" and rows["random region (area-matched control)"][share - 1] == "–"
    assert "%" in rows["background"][share - 1] and "%" in rows["random region (area-matched control)"][mean - 1]
    assert not any("leans" in name for name in rows)  # a share of verdicts, not a flip rate: stated apart
    assert "judged to lean on the background" in html


def test_each_record_keeps_the_versions_its_audit_ran_with(full):
    # before: records dropped them, and the report gave only the versions of the machine that rendered it (with
    # Ray, the audits ran elsewhere)
    res, out = full
    ok = [r for r in records_on_disk(out) if r["status"] == "ok"]
    assert ok and all(r["versions"]["torch"] and r["versions"]["styleseg"] for r in ok)
    html = (out / "report.html").read_text()
    assert "Versions the audits ran with" in html and ok[0]["versions"]["captum"] in html
