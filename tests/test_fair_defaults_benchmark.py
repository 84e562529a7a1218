"""benchmarks/fair_defaults.py: tiny runs write runs and a page rendered from
them, on synthetic faces and on fake UTKFace files; the committed page is the
rendering of its committed JSON."""

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import fair_defaults

ROOT = Path(__file__).resolve().parents[1]


def test_predictions_survive_packing():
    values = np.random.default_rng(0).integers(0, 2, 1001)
    np.testing.assert_array_equal(fair_defaults.unpack(fair_defaults.pack(values), 1001), values)


@pytest.mark.usefixtures("eager_functions")
def test_quick_run_records_every_arm_and_renders_paired_intervals(tmp_path):
    paths = ["--json", str(tmp_path / "r.json"), "--markdown", str(tmp_path / "r.md")]
    fair_defaults.main(["--quick", "--seeds", "0", "--arms", "erm,dfr", *paths])
    fair_defaults.main(["--quick", "--seeds", "0", "--arms", "erm", *paths])  # the same run replaces the first
    results = json.loads((tmp_path / "r.json").read_text())
    assert [(r["data"], r["arm"], r["seed"]) for r in results["runs"]] == [("synthetic", "erm", 0),
                                                                          ("synthetic", "dfr", 0)]
    dfr = results["runs"][1]
    assert dfr["dfr"] and dfr["C"] in (1.0, 0.7, 0.3, 0.1, 0.07, 0.03, 0.01)
    assert dfr["n_train"] == 200 and dfr["n_test"] == 300
    # ERM against itself differs by exactly nothing on every resample
    erm = results["runs"][0]
    assert fair_defaults.paired_difference([erm], [erm])[:2] == (0.0, 0.0)
    text = (tmp_path / "r.md").read_text()
    assert text == fair_defaults.render(results)
    # the arms measured before the training defaults changed spell out the defaults they ran with
    earlier = "learning_rate=0.001, n_iter_no_change=1, threshold=0.5"
    assert f"| erm | {earlier} | 0 |" in text and "(reference)" in text
    assert f"| dfr | DeepFeatureReweighting(FaceCNNClassifier({earlier})) | 0 |" in text


def test_unknown_arm_is_refused_before_any_work(capsys):
    with pytest.raises(SystemExit):
        fair_defaults.main(["--arms", "erm,nope"])
    assert "unknown ['nope']" in capsys.readouterr().err


def test_committed_page_is_the_rendering_of_its_json():
    results = json.loads(Path(fair_defaults.JSON_PATH).read_text())
    assert Path(fair_defaults.MD_PATH).read_text() == fair_defaults.render(results)
    arms = {(r["data"], r["arm"]) for r in results["runs"]}
    # the defaults that the guide quotes: ERM, Group DRO at its defaults and DFR, on both kinds of faces
    for data in ("synthetic", "utkface"):
        assert {(data, "erm"), (data, "group_dro"), (data, "dfr")} <= arms
