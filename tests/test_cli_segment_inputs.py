"""``styleseg segment`` and ``styleseg bench segment``: bad options and outputs are refused in one line, before the
image is read or anything segmented, and nothing written or lost."""

import numpy as np
import pytest
from PIL import Image

from toolkit.cli import main
from toolkit.errors import ParameterError

from refusals import refused, snapshot  # noqa: E402 (tests/ is on sys.path, see conftest.py)

BOX = "--box=5,2,85,94"


def bands_png(path, colours=((230, 25, 25), (25, 200, 50), (25, 50, 230)), size=(48, 48)):
    """A small PNG of vertical bands, one per colour: exactly len(colours) distinct colours."""
    h, w = size
    idx = np.arange(w) * len(colours) // w
    img = np.asarray(colours, np.uint8)[idx][None].repeat(h, 0)
    Image.fromarray(img).save(path)
    return path


@pytest.fixture
def image(tmp_path):
    """A 48×48 three-band PNG in its own folder, beside the outputs (so the outputs' folder holds only it)."""
    return str(bands_png(tmp_path / "in.png"))


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the command reads its image or segments: a refusal must come before either."""
    from toolkit import io
    from toolkit.segment import grabcut, kmeans

    def fail(*args, **kwargs):
        raise AssertionError("work started before the command line was checked")

    monkeypatch.setattr(io, "read_image", fail)
    monkeypatch.setattr(grabcut, "grabcut", fail)
    monkeypatch.setattr(kmeans, "kmeans_segment", fail)


# ------------------------------------------------------------------------------- 1. two outputs, one file


@pytest.mark.parametrize("other", ["--overlay", "--alpha"])
@pytest.mark.parametrize("spelling", ["o/g.png", "o/../o/g.png", "o//./g.png"])
def test_two_outputs_of_one_run_that_are_the_same_file_are_refused(other, spelling, image, tmp_path, capsys,
                                                                    no_work):
    line = refused(["segment", image, BOX, "-o", str(tmp_path / "o/g.png"), other, str(tmp_path / spelling),
                    "--force"], capsys)
    assert "same file" in line and "-o" in line and other in line
    assert not (tmp_path / "o").exists()


def test_the_cluster_map_may_not_be_one_of_the_blacked_out_views(image, tmp_path, capsys, no_work):
    line = refused(["segment", image, "--method", "kmeans", "-k", "3", "-o",
                    str(tmp_path / "v/cluster1_blacked_out.png"), "--blackout-dir", str(tmp_path / "v"), "--force"],
                   capsys)
    assert "same file" in line and "--blackout-dir" in line
    assert not (tmp_path / "v").exists()


# ------------------------------------------------------------------------------- 2. outputs checked first


def test_an_overlay_over_the_mask_is_refused_before_the_mask_is_written(image, tmp_path, capsys, no_work):
    line = refused(["segment", image, BOX, "-o", str(tmp_path / "o/g2.png"), "--overlay", str(tmp_path / "o/g2.png")],
                   capsys)
    assert "same file" in line
    assert not (tmp_path / "o").exists()


def test_an_existing_overlay_is_refused_before_the_mask_is_written(image, tmp_path, capsys, no_work):
    (tmp_path / "old.png").write_bytes(b"keep me")
    before = snapshot(tmp_path)
    line = refused(["segment", image, BOX, "-o", str(tmp_path / "new.png"), "--overlay", str(tmp_path / "old.png")],
                   capsys)
    assert "old.png already exists" in line and "--force" in line
    assert snapshot(tmp_path) == before


def test_a_blackout_dir_that_is_a_file_is_refused_before_the_map_is_written(image, tmp_path, capsys, no_work):
    (tmp_path / "ok.png").write_bytes(b"keep me")
    before = snapshot(tmp_path)
    line = refused(["segment", image, "--method", "kmeans", "-o", str(tmp_path / "k.png"),
                    "--blackout-dir", str(tmp_path / "ok.png")], capsys)
    assert "--blackout-dir" in line and "is a file" in line and "folder" in line
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("k", ["3", "auto"])
def test_existing_blacked_out_views_are_refused_before_the_map_is_written(k, image, tmp_path, capsys, no_work):
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "cluster2_blacked_out.png").write_bytes(b"keep me")
    before = snapshot(tmp_path)
    line = refused(["segment", image, "--method", "kmeans", "-k", k, "-o", str(tmp_path / "k.png"),
                    "--blackout-dir", str(tmp_path / "views")], capsys)
    assert "cluster2_blacked_out.png already exists" in line and "--force" in line
    assert snapshot(tmp_path) == before


def test_an_output_of_unknown_type_is_refused_before_segmenting(image, tmp_path, capsys, no_work):
    line = refused(["segment", image, BOX, "-o", str(tmp_path / "mask.png"), "--alpha", str(tmp_path / "a.xyz")],
                   capsys)
    assert "unknown image type '.xyz'" in line
    assert not (tmp_path / "mask.png").exists()


def test_an_output_over_the_input_is_refused_before_segmenting(image, tmp_path, capsys, no_work):
    before = snapshot(tmp_path)
    line = refused(["segment", image, BOX, "-o", str(tmp_path / "m.png"), "--overlay", image, "--force"], capsys)
    assert "input of this run" in line
    assert snapshot(tmp_path) == before


def test_valid_outputs_are_all_written(image, tmp_path, capsys):
    views = tmp_path / "views"
    assert main(["segment", image, "--method", "kmeans", "-k", "3", "-o", str(tmp_path / "k.png"),
                 "--blackout-dir", str(views)]) == 0, capsys.readouterr().err
    assert (tmp_path / "k.png").is_file()
    assert sorted(p.name for p in views.iterdir()) == [f"cluster{c}_blacked_out.png" for c in range(3)]
    # --force replaces them all
    assert main(["segment", image, "--method", "kmeans", "-k", "3", "-o", str(tmp_path / "k.png"),
                 "--blackout-dir", str(views), "--force"]) == 0, capsys.readouterr().err


def test_grabcut_with_every_output_still_works(tmp_path, capsys):
    out = {name: tmp_path / f"{name}.png" for name in ("mask", "alpha", "overlay")}
    argv = ["segment", "sample:astronaut", "--box", "100,20,300,400", "-o", str(out["mask"]),
            "--alpha", str(out["alpha"]), "--overlay", str(out["overlay"])]
    assert main(argv) == 0, capsys.readouterr().err
    assert all(p.is_file() for p in out.values())


# ------------------------------------------------------------------------------- 3. --xy-weight


@pytest.mark.parametrize("weight", ["inf", "-inf", "1e308", "nan", "-1", "100.5"])
def test_an_xy_weight_outside_0_to_100_is_refused(weight, image, tmp_path, capsys, no_work):
    line = refused(["segment", image, "--method", "kmeans", f"--xy-weight={weight}", "-o", str(tmp_path / "k.png")],
                   capsys)
    assert "--xy-weight" in line and "from 0 to 100" in line
    assert not (tmp_path / "k.png").exists()


@pytest.mark.parametrize("weight", ["0", "100"])
def test_the_xy_weights_bounds_are_accepted(weight, image, tmp_path, capsys):
    out = tmp_path / "k.png"
    assert main(["segment", image, "--method", "kmeans", "-k", "2", "--xy-weight", weight, "-o", str(out)]) == 0, \
        capsys.readouterr().err
    assert out.is_file()


def test_the_library_refuses_a_non_finite_xy_weight():
    from toolkit.segment.kmeans import kmeans_segment

    img = np.random.default_rng(0).random((20, 20, 3), dtype=np.float32)
    for weight in (float("nan"), float("inf"), 1e308):
        with pytest.raises(ParameterError, match="from 0 to 100"):
            kmeans_segment(img, 2, xy_weight=weight)


# ------------------------------------------------------------------------------- 4. k and the colours


def test_too_large_a_k_states_the_real_limit(tmp_path, capsys, no_work):
    line = refused(["segment", "sample:coffee", "--method", "kmeans", "-k", "100", "-o", str(tmp_path / "k.png")],
                   capsys)
    assert "at most 64" in line and "distinct colours" not in line
    assert not (tmp_path / "k.png").exists()


@pytest.mark.parametrize("k", ["1", "0", "-3", "2.5", "many"])
def test_a_k_that_is_not_2_to_64_or_auto_is_refused_before_reading_the_image(k, image, tmp_path, capsys, no_work):
    line = refused(["segment", image, "--method", "kmeans", f"-k={k}", "-o", str(tmp_path / "k.png")], capsys)
    assert "-k" in line
    assert not (tmp_path / "k.png").exists()


def test_k_above_the_images_colours_names_their_true_number(image, tmp_path, capsys):
    line = refused(["segment", image, "--method", "kmeans", "-k", "5", "-o", str(tmp_path / "k.png")], capsys)
    assert "only 3 distinct colours" in line and "k ≤ 3" in line
    assert not (tmp_path / "k.png").exists()


def test_count_colors_counts_past_64():
    from toolkit.segment.kmeans import count_colors

    rng = np.random.default_rng(0)
    codes = rng.choice(1 << 24, 5000, replace=False)
    rgb = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], -1).astype(np.float32) / 255
    assert count_colors(rgb.reshape(50, 100, 3)) == 5000
    assert count_colors(np.repeat(rgb, 300, 0).reshape(1500, 1000, 3)) == 5000  # the large-image path


def test_k_as_large_as_the_colours_of_a_large_image_with_a_rare_one():
    from toolkit.segment.kmeans import kmeans_segment

    # 3 colours, one of them a single pixel of a million: the 20,000 fitted pixels miss it, and say so
    img = np.zeros((1000, 1000, 3), np.float32)
    img[:, 500:] = (0.2, 0.8, 0.2)
    img[7, 7] = (0.9, 0.1, 0.1)
    with pytest.raises(ParameterError, match="only 2 of the image's 3 distinct colours"):
        kmeans_segment(img, 3)
    assert kmeans_segment(img, 2).k == 2


# ------------------------------------------------------------------------------- 5. an output that is a folder


@pytest.mark.parametrize("option", ["-o", "--alpha", "--overlay"])
def test_an_output_that_is_a_folder_is_refused(option, image, tmp_path, capsys, no_work):
    (tmp_path / "o").mkdir()
    outputs = {"-o": str(tmp_path / "m.png"), option: str(tmp_path / "o")}
    argv = ["segment", image, BOX] + [x for kv in outputs.items() for x in kv]
    line = refused(argv, capsys)
    assert f"{tmp_path / 'o'} is a folder; give a file name" in line
    assert not (tmp_path / "m.png").exists() and not any((tmp_path / "o").iterdir())


# ------------------------------------------------------------------------------- 6. the other method's options


@pytest.mark.parametrize("option", [["--box", "100,20,300,400"], ["--hints", "h.png"], ["--iterations", "5"],
                                    ["--alpha", "a.png"], ["--overlay", "ov.png"], ["--full-resolution"]])
def test_grabcut_options_with_kmeans_are_refused(option, image, tmp_path, capsys, no_work):
    line = refused(["segment", image, "--method", "kmeans", *option, "-o", str(tmp_path / "k.png")], capsys)
    assert option[0] in line and "grabcut" in line.lower() and "kmeans" in line
    assert not (tmp_path / "k.png").exists()


@pytest.mark.parametrize("option", [["-k", "3"], ["-k", "auto"], ["--color-space", "lab"], ["--color-space", "rgb"],
                                    ["--xy-weight", "0"], ["--blackout-dir", "views"]])
def test_kmeans_options_with_grabcut_are_refused(option, image, tmp_path, capsys, no_work):
    line = refused(["segment", image, *option, "-o", str(tmp_path / "m.png")], capsys)
    assert option[0] in line and "kmeans" in line and "grabcut" in line
    assert not (tmp_path / "m.png").exists()


def test_every_misplaced_option_is_named_in_one_line(image, tmp_path, capsys, no_work):
    line = refused(["segment", image, "--method", "kmeans", BOX, "--full-resolution", "-o", str(tmp_path / "k.png")],
                   capsys)
    assert "--box" in line and "--full-resolution" in line


@pytest.mark.parametrize("iterations", ["0", "-1", "21"])
def test_iterations_outside_1_to_20_are_refused_before_reading_the_image(iterations, image, tmp_path, capsys,
                                                                          no_work):
    line = refused(["segment", image, f"--iterations={iterations}", "-o", str(tmp_path / "m.png")], capsys)
    assert "--iterations" in line and "1 to 20" in line


# ------------------------------------------------------------------------------- 7. bench segment


@pytest.fixture
def no_loading(monkeypatch):
    from toolkit.segment import benchmark

    def fail(*args, **kwargs):
        raise AssertionError("the benchmark loaded a dataset before checking its options")

    monkeypatch.setattr(benchmark, "load_dataset", fail)


@pytest.mark.parametrize("option", [["--limit", "0"], ["--limit", "-1"], ["--limit=-48"], ["--seeds", "0"],
                                    ["--seeds=-2"]])
def test_bench_segment_refuses_a_limit_or_seeds_under_1_before_loading(option, tmp_path, capsys, no_loading):
    line = refused(["bench", "segment", "--data", str(tmp_path), *option], capsys)
    assert option[0].split("=")[0] in line and "at least 1" in line


def test_bench_segment_refuses_a_missing_folder_before_scoring_the_others(tmp_path, capsys, no_loading):
    (tmp_path / "set" / "images").mkdir(parents=True)
    (tmp_path / "set" / "masks").mkdir()
    line = refused(["bench", "segment", "--data", str(tmp_path / "set"), str(tmp_path / "nope")], capsys)
    assert "nope" in line and "images/ and masks/" in line
