"""The benchmarks measured on UTKFace (benchmarks/inferred_groups.py,
benchmarks/fairness_criteria.py, benchmarks/default_learns_real.py): their committed pages render their
committed JSON, and tiny runs on fake UTKFace files (made here: the tests
never need the real folder) write both."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks import common, default_learns_real, fair_defaults, fairness_criteria, inferred_groups
from skface.datasets import make_faces

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fake_utkface(tmp_path_factory):
    """240 synthetic faces under UTKFace names: aged 55 where the class is 1, else 25."""
    faces = make_faces(240, image_size=24, random_state=3)
    folder = tmp_path_factory.mktemp("utk")
    for i, (image, target, gender) in enumerate(zip(faces.images, faces.target, faces.gender)):
        age = 55 if target == 1 else 25
        utk_gender = 1 if gender == -1 else 0
        Image.fromarray(image).save(folder / f"{age}_{utk_gender}_{i % 5}_2017011{i:09d}.jpg.chip.jpg", "JPEG")
    return folder


def test_committed_page_is_the_rendering_of_its_json():
    results = json.loads((ROOT / "benchmarks" / "results" / inferred_groups.JSON_NAME).read_text())
    assert (ROOT / "docs" / inferred_groups.MD_NAME).read_text() == inferred_groups.render(results)
    for data in results["datasets"].values():
        assert len(data["seeds"]) == 3
        for seed in data["seeds"]:
            assert set(seed["arms"]) == {key for key, _ in inferred_groups.ARMS}
            assert seed["n_test"] >= 3000


@pytest.mark.usefixtures("eager_functions")
@pytest.mark.slow  # a benchmark's smoke run
def test_quick_run_measures_both_data_sets(tmp_path, fake_utkface):
    out = tmp_path / "out"
    inferred_groups.main(["--quick", "--utkface", str(fake_utkface), "--out", str(out)])
    results = json.loads((out / inferred_groups.JSON_NAME).read_text())
    assert set(results["datasets"]) == {"synthetic", "utkface"}
    assert results["datasets"]["utkface"]["n_faces"] == 240
    for data in results["datasets"].values():
        assert len(data["seeds"]) == 2
        for seed in data["seeds"]:
            none = seed["arms"]["none"]
            assert none["paired_vs_none"] == [0.0, 0.0]
            for arm in seed["arms"].values():
                assert arm["fair_metric_ci"][0] <= arm["fair_metric_ci"][1]
                assert 0.0 <= arm["accuracy"] <= 1.0
            assert set(seed["thresholds"]["inferred_groups"]) == {"-1", "1"}
            assert 0.0 <= seed["gender_accuracy"]["test"] <= 1.0
    text = (out / inferred_groups.MD_NAME).read_text()
    assert text == inferred_groups.render(results)
    assert "## UTKFace adults, class age >= 40" in text and "| thresholds on inferred groups |" in text


def test_committed_criteria_page_is_the_rendering_of_its_json():
    results = json.loads((ROOT / "benchmarks" / "results" / fairness_criteria.JSON_NAME).read_text())
    assert (ROOT / "docs" / fairness_criteria.MD_NAME).read_text() == fairness_criteria.render(results)
    assert set(results["datasets"]) == {"synthetic", "utkface"}
    for data in results["datasets"].values():
        assert len(data["seeds"]) == 3
        assert data["seeds"][0]["frontier"]


@pytest.mark.usefixtures("eager_functions")
@pytest.mark.slow  # a benchmark's smoke run
def test_criteria_quick_run_judges_every_criterion_on_test_faces(tmp_path, fake_utkface):
    out = tmp_path / "out"
    fairness_criteria.main(["--quick", "--utkface", str(fake_utkface), "--out", str(out)])
    results = json.loads((out / fairness_criteria.JSON_NAME).read_text())
    assert set(results["datasets"]) == {"synthetic", "utkface"}
    for data in results["datasets"].values():
        assert len(data["seeds"]) == 2
        for seed in data["seeds"]:
            assert set(seed["criteria"]) == {key for key, _, _ in fairness_criteria.CRITERIA}
            assert seed["criteria"]["none"]["fair_metric_vs_none"] == [0.0, 0.0]
            for key, measure in fairness_criteria.CONSTRAINTS.items():
                entry = seed["criteria"][key]
                # met on the validation faces, or refused: never a silent violation
                assert not entry["feasible"] or entry["validation"][measure] <= results["bound"] + 1e-9
            for entry in seed["criteria"].values():
                if entry["feasible"]:
                    low, high = entry["test_ci"]["fair_metric"]
                    assert low <= entry["test"]["fair_metric"] <= high or high - low < 1e-9
        frontier = data["seeds"][0]["frontier"]
        assert 1 <= len(frontier) <= fairness_criteria.FRONTIER_POINTS
        accuracies = [p["validation"]["accuracy"] for p in frontier]
        assert accuracies == sorted(accuracies, reverse=True)
    text = (out / fairness_criteria.MD_NAME).read_text()
    assert text == fairness_criteria.render(results)
    assert "## UTKFace photographs of adults, class age >= 40" in text
    assert (out / fairness_criteria.FIGURE_NAME).is_file()


def test_stratified_parts_are_disjoint_and_sized():
    rng = np.random.default_rng(0)
    y, g = rng.integers(0, 2, 500), rng.choice([-1, 1], 500)
    parts = common.stratified_parts(y, g, [300, 100, 100], seed=0)
    assert [len(p) for p in parts] == [300, 100, 100]
    assert len(np.unique(np.concatenate(parts))) == 500


def test_default_learns_real_page_is_the_rendering_of_its_json():
    results = json.loads(Path(default_learns_real.JSON_PATH).read_text())
    assert Path(default_learns_real.MD_PATH).read_text() == default_learns_real.render(results)
    defaults = [r for r in results["runs"] if r["label"] == "default"]
    assert sorted((r["size"], r["seed"]) for r in defaults) == [(64, 0), (64, 1), (64, 2), (80, 0), (80, 1), (80, 2)]


@pytest.mark.usefixtures("eager_functions")
def test_default_learns_real_records_runs_as_they_finish(tmp_path, fake_utkface):
    paths = ["--json", str(tmp_path / "r.json"), "--markdown", str(tmp_path / "r.md")]
    tiny = '{"epochs": 1, "filters": [4], "dense_units": 8}'
    args = ["--utkface", str(fake_utkface), "--sizes", "16", "--n-train", "120", "--params", tiny, *paths]
    default_learns_real.main([*args, "--seeds", "0"])
    default_learns_real.main([*args, "--seeds", "0,1", "--label", "other"])
    default_learns_real.main([*args, "--seeds", "0"])  # the same run again replaces the first
    results = json.loads((tmp_path / "r.json").read_text())
    assert [(r["label"], r["seed"]) for r in results["runs"]] == [("default", 0), ("other", 0), ("other", 1)]
    for run in results["runs"]:
        assert run["n_train"] == 120 and run["n_test"] == 120 and run["epochs_run"] == 1
        assert run["params"] == {"epochs": 1, "filters": [4], "dense_units": 8}
    text = (tmp_path / "r.md").read_text()
    assert text == default_learns_real.render(results)
    assert "| other | 16 px | 1 | 1 | " in text


def test_default_learns_real_verdict():
    run = dict(accuracy=0.83, predicted_positive_rate=0.35, true_positive_rate=0.37)
    assert default_learns_real.verdict([run] * 3) == "**Target met.**"
    low = dict(run, accuracy=0.79, predicted_positive_rate=0.30)
    assert default_learns_real.verdict([run, run, low]) == (
        "**Target missed** (mean accuracy 0.817 < 0.82; a seed at 0.790 < 0.80; positive rate off by 0.070 > 0.04).")


@pytest.mark.usefixtures("eager_functions")
@pytest.mark.slow  # a benchmark's smoke run
def test_fairness_benchmark_on_utkface_audits_gender_x_race(tmp_path, fake_utkface):
    from benchmarks import fairness

    out = tmp_path / "out"
    results = fairness.main(["--quick", "--utkface", str(fake_utkface), "--mitigations-only", "--n-boot", "50",
                             "--out", str(out)])
    assert "group_aware" not in results
    assert results["data"]["n_samples"] == 240 and "UTKFace" in results["data"]["source"]
    for arm in results["arms"]:
        for seed in arm["seeds"]:
            cells = seed["gender_race_accuracy"]
            assert seed["worst_gender_race_accuracy"] == min(c["accuracy"] for c in cells.values())
            assert sum(c["n"] for c in cells.values()) == results["splits"][0]["n_test"]
    text = (out / "real_faces.md").read_text()
    assert text.startswith("# Fairness benchmark on real faces (UTKFace)")
    assert "## Audit by gender x race" in text and "| women, White (" in text
    assert (out / "real_faces.json").is_file() and (out / "_static" / "real_faces.png").is_file()
    # --render writes the same page from the JSON alone
    again = tmp_path / "again"
    fairness.main(["--render", str(out / "real_faces.json"), "--out", str(again),
                   "--figure", str(again / "_static" / "real_faces.png")])
    assert (again / "real_faces.md").read_text() == text


def test_committed_real_faces_page_is_the_rendering_of_its_json(tmp_path):
    from benchmarks import fairness

    committed = ROOT / "benchmarks" / "results" / "real_faces.json"
    results = fairness.main(["--render", str(committed), "--out", str(tmp_path),
                             "--figure", str(tmp_path / "_static" / "real_faces.png")])
    assert (tmp_path / "real_faces.md").read_text() == (ROOT / "docs" / "real_faces.md").read_text()
    assert results["quick"] is False and len(results["baseline"]["seeds"]) == 3
    assert all(split["n_test"] >= 3000 for split in results["splits"])


@pytest.mark.usefixtures("eager_functions")
def test_fair_defaults_on_fake_utkface(tmp_path, fake_utkface):
    paths = ["--json", str(tmp_path / "r.json"), "--markdown", str(tmp_path / "r.md")]
    fair_defaults.main(["--utkface", str(fake_utkface), "--quick", "--n-train", "120", "--seeds", "0",
                        "--arms", "erm,group_dro", *paths])
    results = json.loads((tmp_path / "r.json").read_text())
    assert [(r["data"], r["arm"]) for r in results["runs"]] == [("utkface", "erm"), ("utkface", "group_dro")]
    assert all(r["n_train"] == 120 and r["n_test"] == 120 for r in results["runs"])
    assert results["runs"][1]["settings"]["fairness"] == "group_dro"
    text = (tmp_path / "r.md").read_text()
    assert text == fair_defaults.render(results) and "## Real faces (UTKFace)" in text


@pytest.mark.usefixtures("eager_functions")
def test_cache_photos_times_both_ways_and_renders(tmp_path, fake_utkface):
    from benchmarks import cache_photos

    tiny = '{"filters": [4], "dense_units": 8}'
    results = cache_photos.main(["--utkface", str(fake_utkface), "--n", "40", "--size", "16", "--epochs", "2",
                                 "--rounds", "2", "--params", tiny, "--out", str(tmp_path)])
    (run,) = results["runs"]
    assert run["epochs"] == 2
    assert [(r["setup"], r["cache_images"]) for r in run["rows"]] == [("cached", True), ("streamed", False)]
    for row in run["rows"]:
        assert len(row["rounds"]) == 2 and all(len(timed["epoch_seconds"]) == 2 for timed in row["rounds"])
    text = (tmp_path / cache_photos.MD_NAME).read_text()
    assert "| whole fit |" in text and "| later epochs (mean) |" in text
    assert cache_photos.main(["--render", "--out", str(tmp_path)]) == results
    assert (tmp_path / cache_photos.MD_NAME).read_text() == text


def test_committed_cache_photos_page_is_the_rendering_of_its_json():
    from benchmarks import cache_photos

    results = json.loads((ROOT / "benchmarks" / "results" / cache_photos.JSON_NAME).read_text())
    assert (ROOT / "docs" / cache_photos.MD_NAME).read_text() == cache_photos.render(results)
