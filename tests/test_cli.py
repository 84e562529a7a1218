"""The ``skface`` command line: demo, train, predict, evaluate, exit codes, the report."""

import contextlib
import html.parser
import io
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skface import cli
from skface.cli import main
from skface.datasets import write_faces

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# a tiny, fast network; every command that trains gets these
TINY = ["--image-size", "16", "--epochs", "1", "--filters", "4,8", "--dense-units", "8",
        "--random-state", "0", "--verbose", "0"]
# the command line has no run_eagerly: run its tiny fits eagerly (see conftest)
pytestmark = pytest.mark.usefixtures("eager_functions")


TRAIN_OUTPUT = {}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """48 synthetic 16-pixel faces in the reference layout filename,gender,class."""
    return write_faces(tmp_path_factory.mktemp("faces"), 48, image_size=16, random_state=0)


@pytest.fixture(scope="module")
def model(data, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("model") / "model.keras")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        argv = ["train", "--csv", data, "--weights", "balanced", "--balance", "undersample", *TINY, "--model", path]
        assert main(argv) == 0
    TRAIN_OUTPUT[path] = out.getvalue()
    return path


def _error_line(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("skface: error: ")
    return lines[0]


class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def _check_report(directory, expected_pngs):
    page = os.path.join(directory, "report.html")
    text = open(page, encoding="utf-8").read()
    assert '<table id="summary">' in text and "Fair_Metric" in text
    assert "http://" not in text and "https://" not in text and "<script" not in text
    parser = _Images()
    parser.feed(text)
    assert set(expected_pngs) <= set(parser.sources)
    for source in parser.sources:
        assert "/" not in source  # relative, beside report.html
        path = os.path.join(directory, source)
        assert os.path.getsize(path) > 1000
        with open(path, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    return page, parser.sources


# ------------------------------------------------------------------- help, usage
def test_help_does_not_import_tensorflow():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "skface", "--help"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert result.returncode == 0
    assert "demo" in result.stdout and "evaluate" in result.stdout
    imported = [line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    assert not [m for m in imported if m.split(".")[0] in ("tensorflow", "keras", "numpy", "pandas")]


@pytest.mark.parametrize("command", ["demo", "train", "predict", "evaluate"])
def test_each_command_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: skface {command}")
    assert "exit status" in out


def test_pyproject_declares_the_console_script():
    text = open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8").read()
    assert '[project.scripts]\nskface = "skface.cli:main"' in text


def test_backbones_match_the_classifier():
    from skface import _model

    assert set(cli.BACKBONES) == {"cnn", *_model.BACKBONES}


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["train", "--model", "m.keras"], "one of the arguments --csv --celeba is required"),
        (["train", "--csv", "d.csv"], "the following arguments are required: --model"),
        (["train", "--csv", "d.csv", "--model", "m.h5"], "the model file must end in '.keras', got 'm.h5'"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--weights", "women=heavy"],
         "expected 'balanced', 'none' or GROUP=WEIGHT pairs such as -1=1,1=0.1"),
        (["train", "--csv", "d.csv", "--celeba", "root", "--model", "m.keras"],
         "argument --celeba: not allowed with argument --csv"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--epochs", "0"],
         "argument --epochs: expected a positive integer, got '0'"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--filters", "4,x"],
         "expected comma-separated positive integers"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--backbone", "vgg"], "invalid choice: 'vgg'"),
        (["predict", "--model", "m.keras", "--images", "d", "--csv", "c.csv", "--output", "p.csv"],
         "argument --csv: not allowed with argument --images"),
        (["predict", "--model", "m.keras", "--images", "d"], "the following arguments are required: --output"),
        (["predict", "--model", "m.keras", "--images", "d", "--output", "p.csv", "--threshold", "1.5"],
         "argument --threshold: expected a number in [0, 1], got '1.5'"),
        (["evaluate", "--model", "m.keras", "--csv", "t.csv"], "the following arguments are required: --report"),
        (["demo", "--n-samples", "many"], "argument --n-samples: expected a positive integer, got 'many'"),
        (["demo", "--image-size", "4"], "argument --image-size: expected an integer >= 8"),
        (["demo", "--weights", "none"], "'none' would train the same model twice"),
        (["demo", "--n-samples", "20"], "argument --n-samples: 20 faces are too few"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: skface")
    assert message in err
    assert "Traceback" not in err


# ----------------------------------------------------------------- data errors
def test_missing_csv_exits_1_naming_it(tmp_path, capsys):
    missing = str(tmp_path / "nope.csv")
    assert main(["train", "--csv", missing, "--model", str(tmp_path / "m.keras")]) == 1
    assert _error_line(capsys) == f"skface: error: --csv {missing!r} does not exist or is not a file."


@pytest.mark.parametrize("weights", [["--weights", "-1=1,1=0.1"], ["--weights=-1=1,1=0.1"]])
def test_weights_may_start_with_a_minus(weights, tmp_path, capsys):
    # parsed (no usage error): the run then stops at the missing CSV
    argv = ["train", "--csv", str(tmp_path / "nope.csv"), *weights, "--model", str(tmp_path / "m.keras")]
    assert main(argv) == 1
    assert "--csv" in _error_line(capsys)


def test_missing_image_exits_1_naming_it(data, tmp_path, capsys):
    frame = pd.read_csv(data)
    frame.loc[3, "filename"] = "face_gone.jpg"
    csv = tmp_path / "labels.csv"
    frame.to_csv(csv, index=False)
    image_dir = os.path.dirname(data)
    assert main(["train", "--csv", str(csv), "--image-dir", image_dir, "--model", str(tmp_path / "m.keras")]) == 1
    line = _error_line(capsys)
    assert "1 of the 48 image files listed in labels.csv do not exist" in line
    assert "face_gone.jpg" in line


def test_missing_output_folder_fails_before_training(data, tmp_path, capsys):
    out = str(tmp_path / "no" / "m.keras")
    assert main(["train", "--csv", data, "--model", out]) == 1
    assert "the folder of --model" in _error_line(capsys)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns="class"), "has no column 'class' (--label class)"),
        (lambda f: f.assign(gender=np.nan), "column 'gender' of"),
        (lambda f: f.assign(**{"class": "blond"}), "must hold binary labels 0/1 or -1/1; found ['blond']"),
        (lambda f: f.assign(**{"class": 1}), "holds one class only"),
    ],
)
def test_bad_csv_exits_1(change, message, data, tmp_path, capsys):
    csv = tmp_path / "labels.csv"
    change(pd.read_csv(data)).to_csv(csv, index=False)
    argv = ["train", "--csv", str(csv), "--image-dir", os.path.dirname(data), "--model", str(tmp_path / "m.keras")]
    assert main(argv) == 1
    assert message in _error_line(capsys)


def test_bad_weights_group_exits_1(data, tmp_path, capsys):
    argv = ["train", "--csv", data, "--weights", "0=1,1=0.1", *TINY, "--model", str(tmp_path / "m.keras")]
    assert main(argv) == 1
    assert "weights has no entry for the groups [-1]" in _error_line(capsys)


def test_missing_model_exits_1(data, tmp_path, capsys):
    missing = str(tmp_path / "gone.keras")
    argv = ["predict", "--model", missing, "--csv", data, "--output", str(tmp_path / "p.csv")]
    assert main(argv) == 1
    assert _error_line(capsys) == f"skface: error: --model {missing!r} does not exist or is not a file."


def test_not_a_model_exits_1(data, tmp_path, capsys):
    fake = tmp_path / "fake.keras"
    fake.write_text("not a zip")
    argv = ["predict", "--model", str(fake), "--csv", data, "--output", str(tmp_path / "p.csv")]
    assert main(argv) == 1
    assert "is not a skface model file" in _error_line(capsys)


def test_empty_image_folder_exits_1(model, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("no images here")
    argv = ["predict", "--model", model, "--images", str(tmp_path), "--output", str(tmp_path / "p.csv")]
    assert main(argv) == 1
    assert "holds no image files" in _error_line(capsys)


def test_undecodable_image_exits_1_naming_it(model, data, tmp_path, capsys):
    images = tmp_path / "images"
    shutil.copytree(os.path.dirname(data), images)
    (images / "face_00007.jpg").write_bytes(b"this is not a JPEG")
    argv = ["predict", "--model", model, "--images", str(images), "--output", str(tmp_path / "p.csv")]
    assert main(argv) == 1
    line = _error_line(capsys)
    assert "1 of 48 image files cannot be decoded" in line and "face_00007.jpg" in line
    assert not (tmp_path / "p.csv").exists()


def test_a_bug_is_not_hidden(monkeypatch, tmp_path):
    def broken(args):
        raise ValueError("a bug outside skface's validation")

    monkeypatch.setattr(cli, "_run_predict", broken)
    with pytest.raises(ValueError, match="a bug outside"):
        main(["predict", "--model", "m.keras", "--images", str(tmp_path), "--output", "p.csv"])


def test_python_m_skface_exit_status(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "skface", "predict", "--model", "missing.keras", "--images",
         str(tmp_path), "--output", str(tmp_path / "p.csv")],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("skface: error: --images")
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------ train
def test_train_saves_a_model(model):
    from skface import load

    clf = load(model)
    assert clf.classes_.tolist() == [-1, 1]
    assert clf.get_params()["image_size"] == 16
    assert clf.get_params()["filters"] == (4, 8)
    assert len(clf.history_["loss"]) == 1
    assert not [f for f in os.listdir(os.path.dirname(model)) if f.startswith(".skface-")]


def test_train_reports_weights_and_balance(model):
    from skface import load

    out = TRAIN_OUTPUT[model]
    assert "weights: balanced" in out and "balance: undersample" in out
    # equal group sizes after undersampling
    counts = [int(line.split(": ")[1].split()[0]) for line in out.splitlines() if line.startswith("  gender = ")]
    assert len(counts) == 2 and counts[0] == counts[1]
    assert len(load(model).history_["loss"]) == 1
    assert "Saved the model to" in out


# ---------------------------------------------------------------------- predict
def test_predict_images_folder(model, data, tmp_path):
    from skface import load

    image_dir = os.path.dirname(data)
    out = tmp_path / "predictions.csv"
    out.write_text("old file\n")  # replaced
    assert main(["predict", "--model", model, "--images", image_dir, "--output", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["filename", "label"]
    expected = sorted(f for f in os.listdir(image_dir) if f.endswith(".jpg"))
    assert frame["filename"].tolist() == expected  # labels.csv is not an image
    assert set(frame["label"]) <= {-1, 1}
    clf = load(model)
    proba = clf.predict_proba([os.path.join(image_dir, f) for f in expected])[:, 1]
    assert frame["label"].tolist() == np.where(proba > 0.5, 1, -1).tolist()
    assert sorted(os.listdir(tmp_path)) == ["predictions.csv"]  # no temporary file left


@pytest.mark.parametrize("threshold, label", [("0", 1), ("1", -1)])
def test_predict_threshold(threshold, label, model, data, tmp_path):
    out = tmp_path / "p.csv"
    argv = ["predict", "--model", model, "--csv", data, "--output", str(out), "--threshold", threshold]
    assert main(argv) == 0
    assert set(pd.read_csv(out)["label"]) == {label}


def test_predict_csv_keeps_its_order_and_names(model, data, tmp_path):
    frame = pd.read_csv(data).sample(frac=1, random_state=0).iloc[:20]
    frame["filename"] = [os.path.join(os.path.dirname(data), f) if i % 2 else f
                         for i, f in enumerate(frame["filename"])]
    csv = tmp_path / "some.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "p.csv"
    argv = ["predict", "--model", model, "--csv", str(csv), "--image-dir", os.path.dirname(data),
            "--output", str(out)]
    assert main(argv) == 0
    assert pd.read_csv(out)["filename"].tolist() == frame["filename"].tolist()


# --------------------------------------------------------------------- evaluate
@pytest.fixture(scope="module")
def evaluated(model, data, tmp_path_factory):
    report = str(tmp_path_factory.mktemp("evaluate") / "report")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["evaluate", "--model", model, "--csv", data, "--report", report]) == 0
    return report, out.getvalue()


def test_evaluate_prints_metrics_and_writes_report(evaluated):
    report, printed = evaluated
    assert "Fair_Metric" in printed and "true_positive_rate" in printed and "overall" in printed
    _, sources = _check_report(report, ["fair_metric.png", "misclassified.png"])
    assert any(s.startswith("training_") for s in sources)
    assert any(s.startswith("confusion_") for s in sources)
    assert any(s.startswith("fairness_") for s in sources)
    text = open(os.path.join(report, "report.html"), encoding="utf-8").read()
    for section in ("Training curves", "Metrics per group", "Confusion matrices per group",
                    "Most confidently misclassified faces", "Data", "Parameters"):
        assert f"<h2>{section}</h2>" in text


def test_evaluate_fair_metric_is_the_models(evaluated, model, data):
    from skface import load
    from skface.metrics import fair_metric

    printed = float(evaluated[1].split("Fair_Metric ")[1].split()[0])
    frame = pd.read_csv(data)
    paths = [os.path.join(os.path.dirname(data), f) for f in frame["filename"]]
    y_pred = np.where(load(model).predict_proba(paths)[:, 1] > 0.5, 1, -1)
    y_true = np.where(frame["class"] == 1, 1, -1)
    assert printed == pytest.approx(fair_metric(y_true, y_pred, sensitive_features=frame["gender"]), abs=5e-4)


# ------------------------------------------------------------------------- demo
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("demo") / "out")
    argv = ["demo", "--n-samples", "80", "--output", out, *TINY]
    return out, argv


def test_demo(demo, capsys):
    out, argv = demo
    assert main(argv) == 0
    printed = capsys.readouterr().out
    for row in ("unweighted", "weighted", "weighted + thresholds", "Fair_Metric", "women (-1)", "men (1)"):
        assert row in printed
    predictions = pd.read_csv(os.path.join(out, "predictions.csv"))
    test = pd.read_csv(os.path.join(out, "faces", "test.csv"))
    assert list(predictions.columns) == ["filename", "label"]
    assert predictions["filename"].tolist() == test["filename"].tolist()
    assert len(predictions) == 16  # 20 % of 80
    assert set(predictions["label"]) <= {-1, 1}
    sizes = [len(pd.read_csv(os.path.join(out, "faces", f"{s}.csv"))) for s in ("train", "valid", "test")]
    assert sizes == [48, 16, 16]
    assert all(os.path.isfile(os.path.join(out, "faces", f)) for f in test["filename"])
    assert os.path.isfile(os.path.join(out, "model.keras"))
    _, sources = _check_report(out, [
        "fair_metric.png", "training_unweighted.png", "training_weighted.png",
        "fairness_unweighted.png", "fairness_weighted.png", "fairness_weighted_thresholds.png",
        "confusion_unweighted.png", "confusion_weighted.png", "confusion_weighted_thresholds.png",
    ])
    # the saved weighted model and 'evaluate' agree with the demo's own table
    text = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    assert "<td>weighted + thresholds</td>" in text




# ------------------------------------------------------ the report in a browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(evaluated, tmp_path):
    report = evaluated[0]
    page, sources = _check_report(report, ["fair_metric.png", "misclassified.png"])
    # a copy of the page that records which images the browser decoded
    probe = os.path.join(report, "probe.html")
    text = open(page, encoding="utf-8").read()
    script = (
        "<script>window.addEventListener('load', function () {"
        "var ok = Array.prototype.filter.call(document.images, function (i) {"
        " return i.complete && i.naturalWidth > 0; }).length;"
        "document.body.setAttribute('data-images', ok + '/' + document.images.length); });</script>"
    )
    with open(probe, "w", encoding="utf-8") as handle:
        handle.write(text.replace("</body>", script + "</body>"))
    flags = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
    ]
    result = subprocess.run([*flags, "--dump-dom", "file://" + probe], capture_output=True, text=True, timeout=120)
    os.remove(probe)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert '<table id="summary">' in dom and "Fair_Metric" in dom
    assert f'data-images="{len(sources)}/{len(sources)}"' in dom

    shot = tmp_path / "page.png"
    result = subprocess.run([*flags, "--window-size=1200,2000", f"--screenshot={shot}", "file://" + page],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.stat().st_size > 10_000


# ----------------------------------------------------------------------- CelebA
def _fake_celeba(root, data):
    """The official CelebA layout with the synthetic faces: 000001.jpg, ..."""
    frame = pd.read_csv(data)
    images = root / "img_align_celeba"
    images.mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(len(frame))]
    for name, source in zip(names, frame["filename"]):
        shutil.copy(os.path.join(os.path.dirname(data), source), images / name)
    blond = np.where(frame["class"] == 1, 1, -1)
    male = frame["gender"].to_numpy()
    rows = [f"{n} {b:2d} {-1:2d} {m:2d}" for n, b, m in zip(names, blond, male)]
    (root / "list_attr_celeba.txt").write_text(
        f"{len(names)}\nBlond_Hair Eyeglasses Male\n" + "\n".join(rows) + "\n")
    split = [0 if i < len(names) // 2 else 2 for i in range(len(names))]
    (root / "list_eval_partition.txt").write_text(
        "".join(f"{n} {s}\n" for n, s in zip(names, split)))
    return len(names) - len(names) // 2


def test_evaluate_celeba_test_split(model, data, tmp_path, capsys):
    n_test = _fake_celeba(tmp_path / "celeba", data)
    report = tmp_path / "report"
    argv = ["evaluate", "--model", model, "--celeba", str(tmp_path / "celeba"), "--report", str(report)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"on {n_test} images from CelebA at" in out and "(test split)" in out
    assert (report / "report.html").is_file()


def test_missing_celeba_exits_1(tmp_path, capsys):
    root = str(tmp_path / "celeba")
    assert main(["train", "--celeba", root, "--model", str(tmp_path / "m.keras")]) == 1
    line = _error_line(capsys)
    assert f"root {root!r} does not exist" in line and "CelebA is not downloaded by skface" in line
