"""benchmarks/inferred_groups.py: its committed page renders its committed
JSON, and a tiny run on synthetic and fake UTKFace faces writes both."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skface.datasets import make_faces

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not part of the installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import inferred_groups  # noqa: E402


def test_committed_page_is_the_rendering_of_its_json():
    results = json.loads((ROOT / "docs" / inferred_groups.JSON_NAME).read_text())
    assert (ROOT / "docs" / inferred_groups.MD_NAME).read_text() == inferred_groups.render(results)
    for data in results["datasets"].values():
        assert len(data["seeds"]) == 3
        for seed in data["seeds"]:
            assert set(seed["arms"]) == {key for key, _ in inferred_groups.ARMS}
            assert seed["n_test"] >= 3000


@pytest.mark.usefixtures("eager_functions")
def test_quick_run_measures_both_data_sets(tmp_path):
    faces = make_faces(240, image_size=24, random_state=3)
    folder = tmp_path / "utk"
    folder.mkdir()
    for i, (image, target, gender) in enumerate(zip(faces.images, faces.target, faces.gender)):
        age = 55 if target == 1 else 25
        utk_gender = 1 if gender == -1 else 0
        Image.fromarray(image).save(folder / f"{age}_{utk_gender}_{i % 5}_2017011{i:09d}.jpg.chip.jpg", "JPEG")
    out = tmp_path / "out"
    inferred_groups.main(["--quick", "--utkface", str(folder), "--out", str(out)])
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


def test_stratified_parts_are_disjoint_and_sized():
    rng = np.random.default_rng(0)
    y, g = rng.integers(0, 2, 500), rng.choice([-1, 1], 500)
    parts = inferred_groups.stratified_parts(y, g, [300, 100, 100], seed=0)
    assert [len(p) for p in parts] == [300, 100, 100]
    assert len(np.unique(np.concatenate(parts))) == 500
