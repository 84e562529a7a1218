"""Smoke test of benchmarks/fairness.py: a --quick run, the structure of its JSON, the rendering.

The numbers of a quick run (tiny data, tiny network, one epoch) mean
nothing; only that every arm and seed is there and that the markdown says
what the JSON holds is checked.
"""

import copy
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not part of the installed package
    sys.path.insert(0, str(ROOT))

fb = pytest.importorskip("benchmarks.fairness")

PM = re.compile(r"^(-?\d+\.\d+) ± (\d+\.\d+)$")
CI = re.compile(r"^\[(-?\d+\.\d+), (-?\d+\.\d+)\]$")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("fairness_benchmark")
    results = fb.main(["--quick", "--n-boot", "50", "--out", str(out)])
    return out, results


def _table(text, heading):
    """The first markdown table after ``heading``, as a list of rows of cells (header first)."""
    lines = text[text.index(heading):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    assert set(rows[1][0]) == {"-"}  # the separator row
    return [rows[0]] + rows[2:]


def _r(value, digits=3):
    """A JSON number as the table shows it."""
    return float(f"{value:.{digits}f}")


def _pm(cell):
    match = PM.match(cell)
    assert match, cell
    return float(match.group(1)), float(match.group(2))


def _ci(cell):
    match = CI.match(cell)
    assert match, cell
    return float(match.group(1)), float(match.group(2))


def test_json_has_every_arm_seed_and_field(quick):
    out, results = quick
    data = json.loads((out / fb.JSON_NAME).read_text())
    assert data == json.loads(json.dumps(results))
    assert data["schema"] == fb.SCHEMA and data["quick"] is True
    assert {"cpu_model", "cpu_count", "cores_available", "load_average_start",
            "load_average_end", "versions"} <= set(data["machine"])
    assert {"tensorflow", "keras", "sklearn", "fairlearn", "skface"} <= set(data["machine"]["versions"])
    assert data["precision_"] in ("float32", "mixed_bfloat16", "mixed_float16")
    assert data["date"] and data["arguments"]["n_samples"] == 400
    assert data["arguments"]["seeds"] == 2 and data["arguments"]["filters"] == [4, 8]

    assert [arm["key"] for arm in data["arms"]] == fb.ARM_KEYS
    for arm in data["arms"]:
        assert [r["seed"] for r in arm["seeds"]] == [0, 1]
        for r in arm["seeds"]:
            assert set(fb.SEED_FIELDS) <= set(r)
            acc = (r["accuracy_women"], r["accuracy_men"])
            assert r["fair_metric"] == pytest.approx(np.mean(acc) - 2 * abs(acc[0] - acc[1]))
            assert r["worst_cell_accuracy"] == min(r["cell_accuracy"].values())
            assert 0 <= r["positive_rate"] <= 1 and r["train_seconds"] > 0
            assert r["fair_metric_ci"][0] <= r["fair_metric_ci"][1]
        for field in fb.SUMMARY_FIELDS:
            values = [r[field] for r in arm["seeds"]]
            assert arm["summary"][field]["mean"] == pytest.approx(np.mean(values))
            assert arm["summary"][field]["std"] == pytest.approx(np.std(values, ddof=1))
        assert len(arm["summary"]["fair_metric_ci"]) == 2
    arms = {arm["key"]: arm for arm in data["arms"]}
    # the ERM network is trained once per seed and reused by the post-processing arms
    for key in ("fair_threshold", "threshold_optimizer_dp", "threshold_optimizer_eo", "expgrad_features"):
        for erm, post in zip(arms["erm"]["seeds"], arms[key]["seeds"]):
            assert post["train_seconds"] == erm["train_seconds"] and post["post_seconds"] > 0
    # the undersampled arms train on fewer faces
    for key in ("undersample_gender", "undersample_cells"):
        for erm, under in zip(arms["erm"]["seeds"], arms[key]["seeds"]):
            assert under["n_train_images"] < erm["n_train_images"]

    baselines = data["baseline"]["seeds"]
    assert [b["seed"] for b in baselines] == [0, 1]
    for base, split in zip(baselines, data["splits"]):
        assert base["majority_label"] == 0  # about a fifth of the faces are positive
        assert base["positive_rate"] == 0.0
        assert base["accuracy"] == pytest.approx(1 - split["test_positive_rate"])
        assert {"fair_metric", "accuracy_women", "accuracy_men"} <= set(base)
        assert split["n_train"] == 240 and split["n_validation"] == 80 and split["n_test"] == 80


def test_markdown_table_matches_json(quick):
    out, results = quick
    text = (out / fb.MD_NAME).read_text()
    assert "quick smoke run" in text
    table = _table(text, "## Results")
    assert tuple(table[0]) == fb.TABLE_HEADER
    rows = table[1:]
    assert [row[0] for row in rows] == [arm["title"] for arm in results["arms"]] + ["majority-class baseline"]
    columns = {name: i for i, name in enumerate(fb.TABLE_HEADER)}
    fields = {"accuracy": "accuracy", "women": "accuracy_women", "men": "accuracy_men",
              "Fair_Metric": "fair_metric", "worst gender x class": "worst_cell_accuracy",
              "positive rate": "positive_rate"}
    for row, arm in zip(rows, results["arms"]):
        s = arm["summary"]
        for column, field in fields.items():
            mean, std = _pm(row[columns[column]])
            assert (mean, std) == (_r(s[field]["mean"]), _r(s[field]["std"])), (arm["key"], column)
        assert _ci(row[columns["Fair_Metric 95 % CI"]]) == tuple(_r(v) for v in s["fair_metric_ci"])
        assert _pm(row[columns["train s"]])[0] == _r(s["train_seconds"]["mean"], 1)
    base = results["baseline"]["summary"]
    assert _pm(rows[-1][columns["accuracy"]])[0] == _r(base["accuracy"]["mean"])
    assert _pm(rows[-1][columns["Fair_Metric"]])[0] == _r(base["fair_metric"]["mean"])

    seeds = _table(text, "## Every seed")[1:]
    assert len(seeds) == 2 * (len(results["arms"]) + 1)
    for row in seeds:
        if row[1].startswith("majority baseline"):
            base = results["baseline"]["seeds"][int(row[0])]
            assert float(row[2]) == _r(base["accuracy"])
            continue
        arm = next(a for a in results["arms"] if a["title"] == row[1])
        r = arm["seeds"][int(row[0])]
        assert (float(row[2]), float(row[3])) == (_r(r["accuracy"]), _r(r["fair_metric"]))
    # one generated finding per arm, and the baseline
    assert len([line for line in text.splitlines() if line.startswith("- **")]) == len(results["arms"])


def test_render_reproduces_markdown_and_figure(quick, tmp_path):
    out, _ = quick
    figure = tmp_path / "figure.png"
    fb.main(["--render", str(out / fb.JSON_NAME), "--out", str(tmp_path), "--figure", str(figure)])
    first = (out / fb.MD_NAME).read_text().replace("_static/" + fb.FIGURE_NAME, "_static/figure.png")
    assert (tmp_path / fb.MD_NAME).read_text() == first
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "_static" / fb.FIGURE_NAME).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_findings_follow_the_numbers(quick):
    _, results = quick
    results = copy.deepcopy(results)
    results["baseline"]["summary"]["accuracy"]["mean"] = 0.5
    arms = results["arms"]
    arms[0]["summary"]["accuracy_ci"] = [0.6, 0.7]  # ERM above the baseline
    arms[1]["summary"]["fair_metric_minus_erm_ci"] = [0.01, 0.05]
    arms[1]["summary"]["accuracy_ci"] = [0.4, 0.6]  # within the baseline
    arms[2]["summary"]["fair_metric_minus_erm_ci"] = [-0.05, -0.01]
    arms[3]["summary"]["fair_metric_minus_erm_ci"] = [-0.05, 0.05]
    lines = fb.findings(results)
    assert "is above the majority baseline's 0.500" in lines[0]
    assert "higher than ERM's" in lines[1] and "is NOT above the majority baseline's 0.500" in lines[1]
    assert "LOWER than ERM's" in lines[2] and "it does not help" in lines[2]
    assert "not distinguishable from ERM's" in lines[3] and "no evidence that it helps" in lines[3]


def test_quick_run_refuses_to_write_docs(quick):
    out, _ = quick
    with pytest.raises(SystemExit, match="from a --quick smoke run"):
        fb.main(["--render", str(out / fb.JSON_NAME)])
    with pytest.raises(SystemExit):
        fb.parse_args(["--quick"])
    with pytest.raises(SystemExit):
        fb.parse_args(["--quick", "--seeds", "1", "--out", "/tmp/x"])
