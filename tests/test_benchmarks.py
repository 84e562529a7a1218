"""Smoke test of the benchmark code path: tiny sizes, structure of the outputs only.

Performance is never asserted here: the benchmark itself (``python -m
benchmarks.run``) measures it and writes docs/benchmarks.md.
"""

import json
import os
from pathlib import Path

import pytest

import benchmarks.run as run  # a broken import fails these tests, never skips them

ROOT = Path(__file__).resolve().parents[1]


# slow: it runs the benchmark end to end; its fits run eagerly (see conftest),
# since only the structure of the outputs is tested
@pytest.mark.slow
@pytest.mark.usefixtures("eager_functions")
def test_benchmark_smoke_writes_table_and_json(tmp_path):
    out = tmp_path / "out"
    results = run.main([
        "--smoke", "--out", str(out), "--cache", str(tmp_path / "cache"),
        "--only", "1,4", "--n-train", "16", "--n-test", "8", "--memory-paths", "0", "--whole-epochs", "1,2",
        "--grid-folds", "2",
    ])
    data = json.loads((out / "benchmarks.json").read_text())
    assert data["schema"] == 1
    assert [c["key"] for c in data["cases"]] == ["1", "4"]
    for case in data["cases"]:
        assert case["n_images"] == 16
        assert len(case["train_seconds"]) == len(case["predict_seconds"]) == 1
        assert case["train_images_per_s"] > 0 and case["predict_cpu_images_per_s"] > 0
        assert 0.0 <= case["test_accuracy"] <= 1.0
    assert {"cpu_model", "cpu_flags", "cpu_has_bfloat16", "tensorflow"} <= set(data["machine"])
    assert data["flops"]["macs_per_image"] == sum(layer["macs"] for layer in data["flops"]["layers"])
    statuses = {t["target"]: t["status"] for t in data["targets"]}
    # the status follows from the ratio recorded beside it
    jpeg = next(t for t in data["targets"] if t["target"].startswith("train (4)/(1)"))
    if jpeg["wall"]["value"] >= 0.90:
        assert jpeg["status"] == "met"
    else:
        assert jpeg["status"] == "missed" or jpeg["status"].startswith("not resolved")
    assert statuses["train (3)/(1) >= 0.97"] == "not run"
    assert results["cases"] == data["cases"]
    text = (out / "benchmarks.md").read_text()
    for heading in ("## Machine", "## Speed", "## Targets (issue 6)", "## FLOPs", "## Headline (for the README)"):
        assert heading in text
    assert data["pipeline"]["n_images"] == 16 and data["pipeline"]["cpu_ms_per_image"] > 0
    # whole fits: every set-up at 1 and 2 epochs, one round each, with its epochs timed
    rows = data["whole_fits"]["rows"]
    assert {(r["key"], r["epochs"]) for r in rows} == {(k, e) for k in ("raw", "array", "paths", "paths-stream")
                                                        for e in (1, 2)}
    for row in rows:
        (timed,) = row["rounds"]
        assert len(timed["epoch_seconds"]) == row["epochs"] and 0 <= timed["after_training_seconds"] < timed["seconds"]
    grid = data["grid_search"]
    assert grid["n_fits"] == 16 and grid["search_seconds"] > 0 and grid["raw_seconds"] > 0
    assert data["matmul_peak_gflops_per_s"]["float32"] > 0
    whole = next(t for t in data["targets"] if t["target"].startswith("a whole one-epoch fit"))
    if whole["ratio"]["median"] >= 0.85:
        assert whole["status"] == "met"
    else:
        assert whole["status"] == "missed" or whole["status"].startswith("not resolved")
    for heading in ("## Whole fits", "## A search", "share of the peak"):
        assert heading in text

    # --render rewrites the table from the JSON alone, measuring nothing
    again = tmp_path / "again"
    run.main(["--render", str(out / "benchmarks.json"), "--out", str(again)])
    assert (again / "benchmarks.md").read_text() == text


def test_flops_of_the_reference_cnn():
    from benchmarks.flops import flops_summary

    flops = flops_summary((80, 80))
    # conv 78x78x27x32 + 37x37x288x64 + 16x16x576x128, dense 8192x512 + 512
    assert flops["macs_per_image"] == 5_256_576 + 25_233_408 + 18_874_368 + 4_194_304 + 512
    assert flops["params"] == 4_288_577
    assert flops["train_flops_per_image"] == 3 * flops["forward_flops_per_image"]


def test_memory_child_reports_peak_rss(tmp_path, capsys):
    from benchmarks import memory
    from benchmarks.common import synthetic_faces

    frame = synthetic_faces(tmp_path, 8, image_size=16)
    assert list(frame.columns) == ["filename", "gender", "label", "weight"] and len(frame) == 8
    csv = next(tmp_path.glob("*/labels.csv"))
    memory.main(["--csv", str(csv), "--n-paths", "40", "--steps", "1",
                 "--batch-size", "8", "--image-size", "16"])
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["n_paths"] == 40 and row["steps"] == 1 and not row["full_epoch"]
    assert row["peak_rss_bytes"] >= row["rss_before_fit_bytes"] > 0
    assert row["float32_array_bytes"] == 40 * 16 * 16 * 3 * 4


def test_default_learns_smoke_writes_json_and_markdown(tmp_path, monkeypatch):
    from benchmarks import default_learns

    monkeypatch.setattr(default_learns, "SCALES", {64: {"n_samples": 40, "n_test": 10, "epochs": 1}})
    monkeypatch.setattr(default_learns, "JSON_PATH", str(tmp_path / "default_learns.json"))
    monkeypatch.setattr(default_learns, "MD_PATH", str(tmp_path / "default_learns.md"))
    default_learns.main(["--sizes", "64", "--seeds", "0"])
    runs = json.loads((tmp_path / "default_learns.json").read_text())["runs"]
    assert [(r["arm"], r["min_images"]) for r in runs] == [("before", 0), ("after", 32_000)]
    for one in runs:
        assert one["epochs_run"] == 1 and one["optimizer_steps"] == 1 and one["n_test"] == 10
        assert 0.0 <= one["test_accuracy"] <= 1.0 and one["precision"]
    text = (tmp_path / "default_learns.md").read_text()
    assert "## 64 px: 30 training faces (6 held out" in text and "| after (min_images=32,000) | 0 |" in text


@pytest.mark.usefixtures("eager_functions")
def test_synthetic_task_renders_its_json(tmp_path, monkeypatch):
    from benchmarks import synthetic_task as task

    monkeypatch.setattr(task, "JSON_PATH", str(tmp_path / "synthetic_task.json"))
    monkeypatch.setattr(task, "MD_PATH", str(tmp_path / "synthetic_task.md"))
    args = ["--sizes", "16", "--n-samples", "60", "--epochs", "1", "--seeds"]
    task.main([*args, "0"])
    first = json.loads((tmp_path / "synthetic_task.json").read_text())
    date = first["meta"]["date"]
    assert f"runs started {date} (skface" in (tmp_path / "synthetic_task.md").read_text()
    # a later run of another seed adds its row and keeps the earlier ones
    task.main([*args, "1"])
    later = json.loads((tmp_path / "synthetic_task.json").read_text())
    runs = later["runs"]
    assert [(r["size"], r["seed"], r["n_fit"], r["n_test"]) for r in runs] == [(16, 0, 48, 12), (16, 1, 48, 12)]
    assert runs[0] == first["runs"][0]
    text = (tmp_path / "synthetic_task.md").read_text()
    # two runs within the same second read as one date (a fast machine does that)
    span = (f"runs started {date}" if later["meta"]["date"] == date
            else f"runs from {date} to {later['meta']['date']}")
    assert later["meta"]["first_date"] == date and f"{span} (skface" in text
    for r in runs:
        assert r["epochs_run"] == 1 and 0.0 <= r["clean_accuracy"] <= 1.0
        row = (f"| 16 px | {r['seed']} | 1 | {r['accuracy']:.3f} | {r['accuracy_women']:.3f} | "
               f"{r['accuracy_men']:.3f} | {r['accuracy_men'] - r['accuracy_women']:+.3f} |")
        assert row in text
    assert "| 16 px | " in text.split("Mean ± standard deviation")[1]


@pytest.mark.slow  # a benchmark's smoke run
def test_group_training_cost_quick_run_renders_its_json(tmp_path, eager_functions):
    from benchmarks import group_training_cost

    group_training_cost.main(["--quick", "--out", str(tmp_path)])
    results = json.loads((tmp_path / group_training_cost.JSON_NAME).read_text())
    markdown = (tmp_path / group_training_cost.MD_NAME).read_text()
    assert set(results["arms"]) == {key for key, _ in group_training_cost.ARMS}
    for key, arm in results["arms"].items():
        assert len(arm["ratio_to_erm"]) == 2 and f"| {key} |" in markdown
        assert f"{arm['ratio_median']:.2f}x" in markdown
    assert results["arms"]["erm"]["ratio_median"] == 1.0


def test_committed_speed_pages_are_the_renderings_of_their_json():
    from benchmarks import peers, report
    from benchmarks.common import DOCS, RESULTS

    results = json.loads(open(os.path.join(RESULTS, "benchmarks.json")).read())
    assert open(os.path.join(DOCS, "benchmarks.md")).read() == report.markdown(results)
    results = json.loads(open(os.path.join(RESULTS, peers.JSON_NAME)).read())
    assert open(os.path.join(DOCS, peers.MD_NAME)).read() == peers.render(results)


@pytest.mark.slow  # a child process per set-up
def test_peers_smoke_times_every_backend_installed_and_renders(tmp_path):
    import importlib.util

    from benchmarks import peers

    results = peers.main(["--n", "40", "--size", "16", "--rounds", "1", "--epochs", "1", "--out", str(tmp_path),
                          "--cache", str(tmp_path / "cache")])
    backends = {r["backend"] for r in results["rows"]}
    assert backends == {"tensorflow"} | ({"jax"} if importlib.util.find_spec("jax") else set())
    for row in results["rows"]:
        (timed,) = row["rounds"]
        assert len(timed["epoch_seconds"]) == 1 and timed["predict_seconds"] > 0
    text = (tmp_path / peers.MD_NAME).read_text()
    assert "| Keras" in text and "PyTorch" in text
    assert peers.main(["--render", "--out", str(tmp_path)]) == results
    assert (tmp_path / peers.MD_NAME).read_text() == text
