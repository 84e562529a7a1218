"""Smoke test of benchmarks/fairness.py: a --quick run, the structure of its JSON, the rendering.

The numbers of a quick run (tiny data, tiny network, one epoch) mean
nothing; only that every arm and seed is there, the mitigation arms' and the
group-aware ones, and that the markdown says what the JSON holds is checked.
"""

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest

import benchmarks.fairness as fb  # a broken import fails these tests, never skips them

ROOT = Path(__file__).resolve().parents[1]

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


@pytest.mark.slow  # the quick run: 34 tiny networks
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
        assert split["n_train"] == 240 and split["n_validation"] == 100 and split["n_test"] == 300  # drawn apart


@pytest.mark.slow  # the quick run: 34 tiny networks
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
    mitigations = text[:text.index("## Group-aware training")]
    assert len([line for line in mitigations.splitlines() if line.startswith("- **")]) == len(results["arms"])


@pytest.mark.slow  # the quick run: 34 tiny networks
def test_render_reproduces_markdown_and_figure(quick, tmp_path):
    out, _ = quick
    figure = tmp_path / "figure.png"
    fb.main(["--render", str(out / fb.JSON_NAME), "--out", str(tmp_path), "--figure", str(figure)])
    first = (out / fb.MD_NAME).read_text().replace("_static/" + fb.FIGURE_NAME, "_static/figure.png")
    assert (tmp_path / fb.MD_NAME).read_text() == first
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "_static" / fb.FIGURE_NAME).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_docs_page_is_rendered_from_its_json(tmp_path):
    """docs/fairness_benchmark.md is what --render makes of benchmarks/results/fairness_benchmark.json, to the byte."""
    docs, results = ROOT / "docs", ROOT / "benchmarks" / "results"
    figure = tmp_path / "figure.png"
    fb.main(["--render", str(results / fb.JSON_NAME), "--out", str(tmp_path), "--figure", str(figure)])
    page = (docs / fb.MD_NAME).read_text().replace("_static/" + fb.FIGURE_NAME, "_static/figure.png")
    assert (tmp_path / fb.MD_NAME).read_text() == page
    assert json.loads((results / fb.JSON_NAME).read_text())["quick"] is False


@pytest.mark.slow  # the quick run: 34 tiny networks
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


@pytest.mark.slow  # the quick run: 34 tiny networks
def test_quick_run_refuses_to_write_docs(quick):
    out, _ = quick
    with pytest.raises(SystemExit, match="from a --quick smoke run"):
        fb.main(["--render", str(out / fb.JSON_NAME), "--out", str(ROOT / "docs")])
    with pytest.raises(SystemExit):
        fb.parse_args(["--quick"])
    with pytest.raises(SystemExit):
        fb.parse_args(["--quick", "--seeds", "1", "--out", "/tmp/x"])


# ------------------------------------------------------- group-aware training
@pytest.mark.slow  # the quick run: 34 tiny networks
def test_group_aware_json_has_every_arm_seed_and_field(quick):
    out, results = quick
    group = json.loads((out / fb.JSON_NAME).read_text())["group_aware"]
    assert {"cpu_model", "cores_available", "load_average_start", "load_average_end",
            "versions"} <= set(group["machine"])
    assert group["wall_seconds"] > 0 and group["date"] and group["target"] == fb.TARGET
    assert group["arguments"] == results["arguments"]
    assert [arm["key"] for arm in group["arms"]] == [
        "erm", "erm_balanced", "group_dro_0.01", "group_dro_0.01_balanced", "gap_penalty_1",
        "gap_penalty_1_balanced"]
    assert group["arguments"]["dro_step_sizes"] == [0.01] and group["arguments"]["gap_weights"] == [1.0]
    arms = {arm["key"]: arm for arm in group["arms"]}
    for arm in group["arms"]:
        assert [r["seed"] for r in arm["seeds"]] == [0, 1]
        balanced = arm["key"].endswith("_balanced")
        assert (arm["parameters"].get("group_sampling") == "balanced") is balanced
        assert (arm["parameters"].get("scoring") == "fair_metric") is balanced
        for r, erm in zip(arm["seeds"], arms["erm"]["seeds"]):
            assert set(fb.GROUP_SEED_FIELDS) <= set(r)
            acc = (r["accuracy_women"], r["accuracy_men"])
            assert r["fair_metric"] == pytest.approx(np.mean(acc) - 2 * abs(acc[0] - acc[1]))
            assert r["worst_cell_accuracy"] == min(r["cell_accuracy"].values())
            assert r["seconds_per_epoch"] == pytest.approx(r["train_seconds"] / r["epochs_run"])
            assert r["seconds_per_epoch_vs_erm"] == pytest.approx(r["seconds_per_epoch"] / erm["seconds_per_epoch"])
            assert len(r["epoch_seconds"]) == r["epochs_run"] and sum(r["epoch_seconds"]) < r["train_seconds"]
            assert r["n_train_images"] == 240
            if arm["family"] == "group_dro":
                weights = r["group_weights"]
                assert set(weights) == {f"{g}, class {c}" for g in ("women", "men") for c in (0, 1)}
                assert sum(weights.values()) == pytest.approx(1, abs=1e-5)
            else:
                assert "group_weights" not in r
        for field in fb.GROUP_SUMMARY_FIELDS:
            values = [r[field] for r in arm["seeds"]]
            assert arm["summary"][field]["mean"] == pytest.approx(np.mean(values))
            assert arm["summary"][field]["std"] == pytest.approx(np.std(values, ddof=1))
    assert arms["erm"]["summary"]["fair_metric_minus_erm_ci"] == [0.0, 0.0]
    assert all(r["seconds_per_epoch_vs_erm"] == 1 for r in arms["erm"]["seeds"])

    assert [row["family"] for row in group["selected"]] == ["erm", "group_dro", "gap_penalty"]
    for row in group["selected"]:
        members = [arm for arm in group["arms"] if arm["family"] == row["family"]]
        for i, r in enumerate(row["seeds"]):
            best = max(arm["seeds"][i]["validation_fair_metric"] for arm in members)
            chosen = arms[r["selected"]]
            assert chosen["family"] == row["family"]
            assert chosen["seeds"][i]["validation_fair_metric"] == best
            assert {k: v for k, v in r.items() if k != "selected"} == chosen["seeds"][i]
        assert row["summary"]["fair_metric"]["mean"] == pytest.approx(np.mean([r["fair_metric"] for r in row["seeds"]]))


def test_full_run_grid_is_three_strengths_per_family_plain_and_balanced():
    args = fb.parse_args([])
    keys = [key for key, *_ in fb.group_arms(args.dro_step_sizes, args.gap_weights)]
    assert len(keys) == 14 and keys[:2] == ["erm", "erm_balanced"]
    assert keys[2::2] == ["group_dro_0.001", "group_dro_0.01", "group_dro_0.1",
                          "gap_penalty_0.3", "gap_penalty_1", "gap_penalty_3"]
    assert all(b == a + "_balanced" for a, b in zip(keys[::2], keys[1::2]))
    docs = json.loads((ROOT / "benchmarks" / "results" / fb.JSON_NAME).read_text())
    assert [arm["key"] for arm in docs["group_aware"]["arms"]] == keys
    assert fb.parse_args(["--gap-weights", "0.5,2", "--out", "/tmp/x"]).gap_weights == (0.5, 2.0)
    with pytest.raises(SystemExit):
        fb.parse_args(["--dro-step-sizes", "0,0.1", "--out", "/tmp/x"])


@pytest.mark.slow  # the quick run: 34 tiny networks
def test_group_aware_markdown_matches_json(quick):
    out, results = quick
    group = results["group_aware"]
    text = (out / fb.MD_NAME).read_text()
    table = _table(text, "## Group-aware training")
    assert tuple(table[0]) == fb.GROUP_TABLE_HEADER
    rows = table[1:]
    shown = group["arms"] + group["selected"]
    assert [row[0] for row in rows] == [arm["title"] for arm in shown] + ["majority-class baseline"]
    columns = {name: i for i, name in enumerate(fb.GROUP_TABLE_HEADER)}
    fields = {"accuracy": ("accuracy", 3), "women": ("accuracy_women", 3), "men": ("accuracy_men", 3),
              "Fair_Metric": ("fair_metric", 3), "worst gender x class": ("worst_cell_accuracy", 3),
              "positive rate": ("positive_rate", 3), "epochs": ("epochs_run", 1),
              "s per epoch": ("seconds_per_epoch", 2), "x ERM per epoch": ("seconds_per_epoch_vs_erm", 2),
              "x ERM, median epoch": ("median_epoch_vs_erm", 2)}
    for row, arm in zip(rows, shown):
        s = arm["summary"]
        for column, (field, digits) in fields.items():
            assert _pm(row[columns[column]]) == (_r(s[field]["mean"], digits), _r(s[field]["std"], digits)), \
                (arm["key"], column)
        assert _ci(row[columns["Fair_Metric 95 % CI"]]) == tuple(_r(v) for v in s["fair_metric_ci"])
        assert _ci(row[columns["Fair_Metric - ERM, paired 95 % CI"]]) == tuple(
            _r(v) for v in s["fair_metric_minus_erm_ci"])
    assert _pm(rows[-1][columns["Fair_Metric"]])[0] == _r(results["baseline"]["summary"]["fair_metric"]["mean"])
    for row in group["selected"]:
        assert ", ".join(f"seed {r['seed']} `{r['selected']}`" for r in row["seeds"]) in text

    seeds = _table(text, "### Group-aware training, every seed")[1:]
    assert len(seeds) == 2 * len(group["arms"])
    for row in seeds:
        arm = next(a for a in group["arms"] if a["title"] == row[1])
        r = arm["seeds"][int(row[0])]
        assert (float(row[2]), float(row[3]), float(row[5])) == (
            _r(r["accuracy"]), _r(r["fair_metric"]), _r(r["validation_fair_metric"]))
    findings = text[text.index("## Group-aware training"):]
    assert ("**Target met**" in findings) != ("**Target NOT met**" in findings)
    # the target line, one per family, the cost, the two ERMs, Group DRO's weights, one per arm but the reference
    lines = [line for line in findings.splitlines() if line.startswith("- ")]
    assert len(lines) == 1 + 2 + 1 + 1 + 1 + len(group["arms"]) - 1


@pytest.mark.slow  # the quick run: 34 tiny networks
def test_group_findings_follow_the_numbers(quick):
    _, results = quick
    results = copy.deepcopy(results)
    group = results["group_aware"]
    erm = group["arms"][0]["summary"]
    erm["fair_metric"]["mean"], erm["accuracy"]["mean"] = 0.80, 0.90
    selected = {row["family"]: row["summary"] for row in group["selected"]}

    def set_row(s, fair, acc, cost):
        s["fair_metric"]["mean"], s["accuracy"]["mean"] = fair, acc
        s["seconds_per_epoch_vs_erm"]["mean"] = cost

    set_row(selected["group_dro"], 0.84, 0.885, 1.10)  # +0.04 for 1.5 points at 1.10x: met
    set_row(selected["gap_penalty"], 0.84, 0.87, 1.0)  # 3 points of accuracy: not met
    selected["group_dro"]["fair_metric_minus_erm_ci"] = [-0.01, 0.09]
    results["arms"][0]["summary"]["fair_metric"]["mean"] = 0.83  # the mitigations' ERM
    lines = fb.group_findings(results)
    assert lines[0].startswith("- **Target met** by Group DRO:")
    assert "[-0.010, 0.090], contains 0" in lines[0]
    assert "against the mitigations' ERM above (Fair_Metric 0.830) Group DRO's gain is +0.010" in lines[0]
    selected["group_dro"]["fair_metric_minus_erm_ci"] = [0.01, 0.09]
    results["arms"][0]["summary"]["fair_metric"]["mean"] = 0.80
    assert "; but" not in fb.group_findings(results)[0]
    assert "the target is met" in lines[1] and "the target is NOT met" in lines[2]
    set_row(selected["group_dro"], 0.84, 0.885, 1.20)  # too slow
    assert fb.group_findings(results)[0].startswith("- **Target NOT met**")
    set_row(selected["group_dro"], 0.82, 0.90, 1.0)  # too small a gain
    assert fb.group_findings(results)[0].startswith("- **Target NOT met**")

    arm = group["arms"][2]
    arm["summary"]["fair_metric_minus_erm_ci"] = [-0.05, -0.01]
    arm["summary"]["accuracy_ci"] = [0.0, 0.1]
    arm["seeds"][1]["positive_rate"] = 0.0
    line = next(line for line in fb.group_findings(results) if line.startswith(f"- {arm['title']}:"))
    assert "LOWER than ERM's" in line and "it does not help" in line
    assert "NOT above the majority baseline" in line and "on seed 1 it predicts (almost) one class only" in line

    dro = [arm for arm in group["arms"] if arm["family"] == "group_dro"]
    cells = list(dro[0]["seeds"][0]["group_weights"])
    for r in (r for arm in dro for r in arm["seeds"]):
        r["group_weights"] = dict.fromkeys(cells, 1 / len(cells))
    line = next(line for line in fb.group_findings(results) if "final weights q" in line)
    assert "close to the plain mean of the cells' losses" in line
    dro[0]["seeds"][0]["group_weights"] = {cell: 0.7 if i == 1 else 0.1 for i, cell in enumerate(cells)}
    line = next(line for line in fb.group_findings(results) if "final weights q" in line)
    assert f"the largest is {cells[1]}'s with {dro[0]['title']} on seed 0" in line


@pytest.mark.slow  # the quick run: 34 tiny networks
def test_group_aware_merge(quick, tmp_path):
    out, results = quick
    data = json.loads((out / fb.JSON_NAME).read_text())
    group = data.pop("group_aware")
    assert fb.merge_group_aware(data, group) == {**data, "group_aware": group}
    with pytest.raises(ValueError, match="n_samples"):
        fb.merge_group_aware(data, {**group, "arguments": {**group["arguments"], "n_samples": 300}})
    # a run on other data is refused before it trains anything
    with pytest.raises(SystemExit, match="image_size"):
        fb.main(["--quick", "--group-aware", "--merge", str(out / fb.JSON_NAME), "--image-size", "24",
                 "--out", str(tmp_path)])
    assert not (tmp_path / fb.JSON_NAME).exists()
    for argv in (["--quick", "--group-aware", "--out", str(tmp_path)],
                 ["--quick", "--merge", str(out / fb.JSON_NAME), "--out", str(tmp_path)]):
        with pytest.raises(SystemExit):
            fb.parse_args(argv)
    # the JSON of a run before the group-aware arms still renders, without their section
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    fb.main(["--render", str(old), "--out", str(tmp_path / "old")])
    assert "## Group-aware training" not in (tmp_path / "old" / fb.MD_NAME).read_text()
