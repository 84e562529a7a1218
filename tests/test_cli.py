"""The ``skface`` command line: demo, train, predict, evaluate, exit codes, the report."""

import contextlib
import html.parser
import io
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skface.cli import _commands, _library, main
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
@pytest.mark.parametrize("command", [[], ["train"]])
def test_help_does_not_import_tensorflow(command):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "skface", *command, "--help"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert result.returncode == 0
    assert ("demo" in result.stdout and "evaluate" in result.stdout) if not command else "--epochs" in result.stdout
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


def test_library_names_are_the_options_modules():
    from skface import _options

    assert _library.backbones() == ("cnn", *_options.BACKBONES)
    assert _library.image_suffixes() == _options.IMAGE_SUFFIXES


def test_options_not_given_are_left_to_the_estimator():
    from skface import FaceCNNClassifier
    from skface.cli._parser import build_parser

    defaults = FaceCNNClassifier().get_params()
    args = build_parser().parse_args(["train", "--csv", "d.csv", "--model", "m.keras", "--epochs", "3"])
    assert _library.given(args.epochs) and args.epochs == 3
    assert not _library.given(args.batch_size) and _library.resolve(args.batch_size) == defaults["batch_size"]
    assert str(args.filters) == ",".join(map(str, defaults["filters"]))


def test_early_stopping_options_are_left_to_the_estimator():
    from skface.cli._parser import build_parser

    for argv in (["demo"], ["train", "--csv", "d", "--model", "m.keras"]):
        args = build_parser().parse_args(argv)
        assert not _library.given(args.n_iter_no_change) and not _library.given(args.min_images)
    args = build_parser().parse_args(["demo", "--min-images", "0"])
    assert args.min_images == 0


def test_group_options_take_the_librarys_names_and_defaults(capsys):
    from skface import FaceCNNClassifier, _options
    from skface.cli._parser import build_parser

    assert main(["train", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for option, values in (("--fairness", _options.FAIRNESS), ("--group-sampling", _options.GROUP_SAMPLING),
                           ("--scoring", tuple(_options.SCORING)), ("--dro-groups", _options.DRO_GROUPS)):
        assert f"{option} {{{','.join(values)}}}" in out
    defaults = FaceCNNClassifier().get_params()
    args = build_parser().parse_args(["train", "--csv", "d.csv", "--model", "m.keras"])
    for name in ("fairness", "group_sampling", "scoring", "dro_groups", "dro_step_size", "dro_adjustment",
                 "gap_weight"):
        value = getattr(args, name)
        assert not _library.given(value) and _library.resolve(value) == defaults[name]
    assert f"update; 0 keeps them equal (default: {defaults['dro_step_size']})" in out
    # the options that go with one objective name the library's values
    library = {"fairness": _options.FAIRNESS, "scoring": tuple(_options.SCORING)}
    for name, wanted in _options.USED_ONLY_WITH.items():
        assert name in defaults
        assert all(set(values) <= set(library[other]) for other, values in wanted.items())


def test_help_shows_the_estimators_defaults(capsys):
    from skface import FaceCNNClassifier

    defaults = FaceCNNClassifier().get_params()
    assert main(["train", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"--epochs N at most N epochs; early stopping on the validation loss may stop sooner (default: " \
           f"{defaults['epochs']})" in out
    assert f"(default: {','.join(map(str, defaults['filters']))})" in out
    assert "{" + ",".join(_library.backbones()) + "}" in out
    assert main(["predict", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert ", ".join(_library.image_suffixes()) in out and ".webp" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["train", "--model", "m.keras"], "one of the arguments --csv --celeba --utkface is required"),
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
        (["train", "--csv", "d.csv", "--split", "test", "--model", "m.keras"],
         "argument --split: only with --celeba; a --csv file lists its images itself"),
        (["evaluate", "--model", "m.keras", "--csv", "d.csv", "--split", "all", "--report", "r"],
         "argument --split: only with --celeba"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--on-bad-image", "ignore"],
         "argument --on-bad-image: invalid choice: 'ignore' (choose from 'raise', 'skip')"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--learning-rate", "0"],
         "argument --learning-rate: expected a positive number such as 0.001, got '0'"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--fairness", "dro"],
         "argument --fairness: invalid choice: 'dro' (choose from 'group_dro', 'gap_penalty')"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--group-sampling", "stratified"],
         "argument --group-sampling: invalid choice: 'stratified' (choose from 'balanced')"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--scoring", "f1"],
         "argument --scoring: invalid choice: 'f1' (choose from 'loss', 'accuracy', 'fair_metric', "
         "'worst_group_accuracy')"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--fairness", "group_dro", "--dro-groups", "gender"],
         "argument --dro-groups: invalid choice: 'gender' (choose from 'sensitive_x_class', 'sensitive')"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--fairness", "group_dro", "--dro-step-size", "-0.1"],
         "argument --dro-step-size: expected a number >= 0 such as 0.01, got '-0.1'"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--fairness", "group_dro", "--dro-adjustment", "nan"],
         "argument --dro-adjustment: expected a number >= 0 such as 0.01, got 'nan'"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--fairness", "gap_penalty", "--gap-weight", "x"],
         "argument --gap-weight: expected a number >= 0 such as 0.01, got 'x'"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--dro-step-size", "0.1"],
         "argument --dro-step-size: only with --fairness group_dro; without, it would change nothing"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--fairness", "gap_penalty", "--dro-adjustment", "1"],
         "argument --dro-adjustment: only with --fairness group_dro"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--fairness", "group_dro", "--gap-weight", "2"],
         "argument --gap-weight: only with --fairness gap_penalty"),
        (["train", "--csv", "d.csv", "--model", "m.keras", "--dro-groups", "sensitive", "--scoring", "fair_metric"],
         "argument --dro-groups: only with --fairness group_dro or --scoring worst_group_accuracy"),
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
    assert line.endswith("Pass --image-dir if the paths are relative to another folder.")  # not image_dir=


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda path: path.write_text("filename,gender,class\n"), "--csv {csv!r} has a header but no rows."),
        (lambda path: path.write_text("name,gender,class\na.jpg,1,0\n"),
         "its columns are ['name', 'gender', 'class']. Name the column of image paths with --image-column."),
    ],
)
def test_library_messages_name_the_options(write, message, tmp_path, capsys):
    csv = tmp_path / "labels.csv"
    write(csv)
    assert main(["train", "--csv", str(csv), "--model", str(tmp_path / "m.keras")]) == 1
    assert _error_line(capsys).endswith(message.format(csv=str(csv)))


@pytest.mark.parametrize(
    "message, expected",
    [
        ("weights has no entry for the groups [-1] of sensitive_features.",
         "--weights has no entry for the groups [-1] of the --sensitive column."),
        ("on_bad_image='skip' left no image to train on", "--on-bad-image 'skip' left no image to train on"),
        ("Use the same image_size, or image_size=(16, 16).", "Use the same --image-size, or --image-size (16, 16)."),
        ("Try a larger epochs=, or n_iter_no_change= so.", "Try a larger --epochs, or --n-iter-no-change so."),
        # English words stay words: only "weights=" or a message that opens with the name is the option
        ("the backbone's weights file and the epochs run", "the backbone's weights file and the epochs run"),
        ("sample_weight is all zeros; X['image_dir'] too", "sample_weight is all zeros; X['image_dir'] too"),
    ],
)
def test_speak_options(message, expected):
    from skface.cli._messages import speak_options

    assert speak_options(message) == expected


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
    assert "--weights has no entry for the groups [-1] of the --sensitive column" in _error_line(capsys)


def test_weights_by_name_say_which_groups_the_column_holds(data, tmp_path, capsys):
    argv = ["train", "--csv", data, "--weights", "women=1", *TINY, "--model", str(tmp_path / "m.keras")]
    assert main(argv) == 1
    assert _error_line(capsys) == (
        "skface: error: --weights has no entry for the groups [1, -1] of the --sensitive column; the mapping "
        "covers ['women'] and the groups are [-1, 1]. Give every group a weight."
    )


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
    assert "1 of the 48 image files cannot be decoded" in line and "face_00007.jpg" in line
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("error", [KeyError("filename"), AttributeError("no attribute"), RuntimeError("bug")])
def test_a_bug_is_not_hidden(error, monkeypatch, tmp_path):
    def broken(args):
        raise error

    monkeypatch.setattr(_commands, "run_predict", broken)
    with pytest.raises(type(error)):
        main(["predict", "--model", "m.keras", "--images", str(tmp_path), "--output", "p.csv"])


@pytest.mark.parametrize("error", [
    ValueError("bad value"), TypeError("bad type"), FileNotFoundError("no file"), PermissionError("read-only"),
    pd.errors.ParserError("Error tokenizing data"), pd.errors.EmptyDataError("No columns to parse"),
    UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
])
def test_user_errors_are_recognised_by_type(error, monkeypatch, tmp_path, capsys):
    from sklearn.utils._param_validation import InvalidParameterError

    def raising(args):
        raise error

    monkeypatch.setattr(_commands, "run_predict", raising)
    assert main(["predict", "--model", "m.keras", "--images", str(tmp_path), "--output", "p.csv"]) == 1
    assert _error_line(capsys).startswith("skface: error: ")
    assert issubclass(InvalidParameterError, ValueError)  # scikit-learn's parameter errors count too


def test_a_corrupt_image_is_one_line_on_stderr(model, data, tmp_path):
    """No TensorFlow log lines (cuInit, Local rendezvous, [[{{node ...}}]]) around the error."""
    images = tmp_path / "images"
    shutil.copytree(os.path.dirname(data), images)
    (images / "face_00007.jpg").write_bytes(b"this is not a JPEG")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the command's own default
    result = subprocess.run(
        [sys.executable, "-m", "skface", "predict", "--model", model, "--images", str(images),
         "--output", str(tmp_path / "p.csv")],
        capture_output=True, text=True, cwd=tmp_path, env={**env, "PYTHONPATH": ROOT},
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("skface: error: 1 of the 48 image files cannot be decoded:")


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
    assert "checked 46 image files: all can be read" in TRAIN_OUTPUT[model]  # after undersampling
    assert "Trained 1 epoch in" in TRAIN_OUTPUT[model]  # not "1 epochs"


def test_train_gives_the_model_the_groups(model):
    from skface import load

    clf = load(model)
    history = clf.history_
    assert clf.sensitive_groups_.tolist() == [-1, 1]
    for key in ("val_accuracy[-1]", "val_accuracy[1]", "val_fair_metric", "val_worst_group_accuracy"):
        assert len(history[key]) == 1
    assert clf.get_params()["fairness"] is None  # the groups alone change no objective
    line = next(x for x in TRAIN_OUTPUT[model].splitlines() if x.startswith("  validation at epoch 1: "))
    assert line == (f"  validation at epoch 1: accuracy women (-1) {history['val_accuracy[-1]'][0]:.3f}, men (1) "
                    f"{history['val_accuracy[1]'][0]:.3f}; Fair_Metric {history['val_fair_metric'][0]:.3f}; "
                    f"worst group x class accuracy {history['val_worst_group_accuracy'][0]:.3f}")
    assert "  fairness: none; group sampling: none; scoring: the validation loss" in TRAIN_OUTPUT[model]


def _train(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return out.getvalue()


def test_train_group_dro_options_reach_the_estimator(data, tmp_path):
    from skface import load

    path = str(tmp_path / "dro.keras")
    printed = _train(["train", "--csv", data, "--fairness", "group_dro", "--dro-step-size", "0.5",
                      "--dro-adjustment", "1", "--dro-groups", "sensitive", "--scoring", "worst_group_accuracy",
                      "--group-sampling", "balanced", *TINY, "--model", path])
    clf = load(path)
    assert {k: clf.get_params()[k] for k in ("fairness", "dro_step_size", "dro_adjustment", "dro_groups",
                                             "scoring", "group_sampling")} == {
        "fairness": "group_dro", "dro_step_size": 0.5, "dro_adjustment": 1.0, "dro_groups": "sensitive",
        "scoring": "worst_group_accuracy", "group_sampling": "balanced"}
    q = clf.group_weights_
    assert q.index.tolist() == [-1, 1]  # dro_groups="sensitive": one weight per gender
    assert [clf.history_[f"group_weight[{g}]"][-1] for g in (-1, 1)] == pytest.approx(q.tolist())
    # q is a distribution, and it was updated (the step and C / sqrt(n) reached it): with 48 faces the two
    # genders' sizes and losses differ little, so q stays near 0.5, but not at it
    assert q.sum() == pytest.approx(1.0, abs=1e-5)
    assert max(abs(w - 0.5) for w in clf.history_["group_weight[-1]"]) > 1e-5
    assert ("  fairness: group_dro (groups sensitive, step size 0.5, adjustment 1); group sampling: balanced; "
            "scoring: the validation worst-group accuracy") in printed
    worst = clf.history_["val_worst_group_accuracy"][0]
    assert f"; best validation worst-group accuracy {worst:.3f} (loss " in printed
    assert f"; worst group accuracy {worst:.3f}" in printed
    assert f"  Group DRO weights after the last epoch: -1 {q[-1]:.3f}, 1 {q[1]:.3f}" in printed


def test_train_gap_penalty_options_reach_the_estimator(data, tmp_path):
    from skface import load

    path = str(tmp_path / "gap.keras")
    printed = _train(["train", "--csv", data, "--fairness", "gap_penalty", "--gap-weight", "2.5",
                      "--scoring", "fair_metric", *TINY, "--model", path])
    clf = load(path)
    assert (clf.fairness, clf.gap_weight, clf.scoring, clf.group_sampling) == ("gap_penalty", 2.5, "fair_metric", None)
    assert "  fairness: gap_penalty (gap weight 2.5); group sampling: none; scoring: the validation Fair_Metric" \
        in printed
    assert f"; best validation Fair_Metric {clf.history_['val_fair_metric'][0]:.3f} (loss " in printed
    assert not any(k.startswith("group_weight") for k in clf.history_)


def test_train_without_the_sensitive_column(data, tmp_path, capsys):
    from skface import load

    csv = tmp_path / "labels.csv"
    pd.read_csv(data).drop(columns="gender").to_csv(csv, index=False)
    argv = ["train", "--csv", str(csv), "--image-dir", os.path.dirname(data), *TINY,
            "--model", str(tmp_path / "m.keras")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "  no column 'gender' (--sensitive): training without groups" in out
    assert "validation at epoch" not in out
    clf = load(tmp_path / "m.keras")
    assert not hasattr(clf, "sensitive_groups_") and "val_fair_metric" not in clf.history_


@pytest.mark.parametrize(
    "options, column, message",
    [
        (["--fairness", "group_dro", "--scoring", "fair_metric"], None,
         "--fairness 'group_dro' and --scoring 'fair_metric' need the group of every image, but {csv!r} has no "
         "column 'gender'; its columns are ['filename', 'class']. Name the column of the groups with --sensitive."),
        (["--weights", "balanced"], None, "--weights needs the group of every image, but {csv!r} has no column"),
        (["--balance", "undersample"], None, "--balance undersample needs the group of every image"),
        (["--group-sampling", "balanced"], 1,
         "--group-sampling 'balanced' needs two groups at least, but column 'gender' of {csv!r} holds one group "
         "only (1). Name the column of the groups with --sensitive."),
        (["--scoring", "worst_group_accuracy"], 1, "--scoring 'worst_group_accuracy' needs two groups at least"),
        (["--sensitive", "gender"], None, "{csv!r} has no column 'gender' (--sensitive gender)"),
    ],
)
def test_group_options_need_groups(options, column, message, data, tmp_path, capsys):
    csv = tmp_path / "labels.csv"
    frame = pd.read_csv(data)
    (frame.drop(columns="gender") if column is None else frame.assign(gender=column)).to_csv(csv, index=False)
    argv = ["train", "--csv", str(csv), "--image-dir", os.path.dirname(data), *options, *TINY,
            "--model", str(tmp_path / "m.keras")]
    assert main(argv) == 1
    assert message.format(csv=str(csv)) in _error_line(capsys)
    assert not (tmp_path / "m.keras").exists()


def test_train_reports_weights_and_balance(model):
    from skface import load

    out = TRAIN_OUTPUT[model]
    assert "weights: balanced" in out and "balance: undersample" in out
    # equal group sizes after undersampling
    counts = [int(line.split(": ")[1].split()[0]) for line in out.splitlines() if line.startswith("  gender = ")]
    assert len(counts) == 2 and counts[0] == counts[1]
    assert len(load(model).history_["loss"]) == 1
    assert "Saved the model to" in out


def test_output_names_are_checked_before_any_work(model, data, tmp_path, capsys):
    """A folder where a file is written, or a file where a folder is: one line, before any work."""
    folder = tmp_path / "a folder.keras"  # a folder whose name looks like a file's
    folder.mkdir()
    taken = tmp_path / "a file"
    taken.write_text("x")
    runs = [
        (["predict", "--model", model, "--csv", data, "--output", str(folder)],
         f"--output {str(folder)!r} is a folder; give the path of the file to write in it."),
        (["train", "--csv", data, *TINY, "--model", str(folder)],
         f"--model {str(folder)!r} is a folder; give the path of the file to write in it."),
        (["evaluate", "--model", model, "--csv", data, "--report", str(taken)],
         f"--report {str(taken)!r} is a file; give a folder (created if missing)."),
        (["demo", "--n-samples", "40", "--output", str(taken), *TINY],
         f"--output {str(taken)!r} is a file; give a folder (created if missing)."),
    ]
    for argv, message in runs:
        assert main(argv) == 1, argv
        assert _error_line(capsys) == f"skface: error: {message}"


# ------------------------------------------------------- per-group thresholds
@pytest.fixture(scope="module")
def threshold_models(data, tmp_path_factory):
    """'train --thresholds', with and without --infer-groups: model path -> train output."""
    folder = tmp_path_factory.mktemp("thresholds")
    made = {}
    for name, extra in (("given", []), ("inferred", ["--infer-groups"])):
        path = str(folder / f"{name}.keras")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main(["train", "--csv", data, "--thresholds", *extra, *TINY, "--model", path]) == 0
        made[name] = (path, printed.getvalue())
    return made


def test_train_thresholds_saves_one_model_with_them(threshold_models, data):
    from skface import load
    from skface.fairness import FairThresholdClassifier

    path, printed = threshold_models["given"]
    clf = load(path)
    assert isinstance(clf, FairThresholdClassifier) and set(clf.thresholds_) == {-1, 1}
    assert "the network trains on 80% of the images, the thresholds are chosen on the other 20%" in printed
    assert "Thresholds chosen on 20% of the images: Fair_Metric" in printed
    assert f"Saved the model to {path}: per-group thresholds (-1: " in printed
    assert "needs each image's group at prediction time" in printed
    path, printed = threshold_models["inferred"]
    clf = load(path)
    assert clf.groups_at_predict_ == "inferred"
    assert "for the groups a second network infers from the images" in printed
    assert "needs no group at prediction time" in printed


def test_predict_applies_per_group_thresholds(threshold_models, data, tmp_path):
    from skface import load

    frame = pd.read_csv(data)
    paths = [os.path.join(os.path.dirname(data), f) for f in frame["filename"]]
    for name in ("given", "inferred"):
        path, _ = threshold_models[name]
        out = tmp_path / f"{name}.csv"
        assert main(["predict", "--model", path, "--csv", data, "--sensitive-column", "gender",
                     "--output", str(out)]) == 0
        clf = load(path)
        expected = np.where(clf.predict(paths, sensitive_features=frame["gender"]) == 1, 1, -1)
        assert pd.read_csv(out)["label"].tolist() == expected.tolist()
    # a model that infers the groups needs no column
    path, _ = threshold_models["inferred"]
    out = tmp_path / "no_column.csv"
    assert main(["predict", "--model", path, "--images", os.path.dirname(data), "--output", str(out)]) == 0
    written = pd.read_csv(out)
    images = [os.path.join(os.path.dirname(data), f) for f in written["filename"]]
    assert written["label"].tolist() == np.where(load(path).predict(images) == 1, 1, -1).tolist()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--images", "{dir}"], "applies per-group thresholds and needs each image's group: give --csv (a folder "
                                "given with --images has no columns) with a column of the groups"),
        (["--csv", "{csv}", "--sensitive-column", "age"], "--sensitive-column 'age' is not a column of {csv}; its "
                                                          "columns are ['filename', 'gender', 'class']."),
        (["--csv", "{csv}", "--sensitive-column", "gender", "--threshold", "0.3"],
         "--threshold replaces one threshold, but {model} applies one per group"),
        (["--images", "{dir}", "--sensitive-column", "gender"],
         "--sensitive-column reads a column of --csv; a folder given with --images has no columns."),
    ],
)
def test_predict_per_group_errors(threshold_models, data, tmp_path, capsys, argv, message):
    path, _ = threshold_models["given"]
    fill = dict(dir=os.path.dirname(data), csv=data, model=path)
    argv = [a.format(**fill) for a in argv]
    assert main(["predict", "--model", path, *argv, "--output", str(tmp_path / "p.csv")]) == 1
    assert message.format(**fill) in _error_line(capsys)


def test_train_thresholds_needs_groups_and_infer_groups_needs_thresholds(data, tmp_path, capsys):
    frame = pd.read_csv(data).drop(columns="gender")
    csv = tmp_path / "no_gender.csv"
    frame.to_csv(csv, index=False)
    for f in frame["filename"]:
        shutil.copy(os.path.join(os.path.dirname(data), f), tmp_path / f)
    assert main(["train", "--csv", str(csv), "--thresholds", *TINY, "--model", str(tmp_path / "m.keras")]) == 1
    assert "--thresholds chooses one threshold per group, but" in _error_line(capsys)
    assert main(["train", "--csv", data, "--infer-groups", *TINY, "--model", str(tmp_path / "m.keras")]) == 2
    assert "argument --infer-groups: only with --thresholds" in capsys.readouterr().err


def test_evaluate_a_thresholds_model(threshold_models, data, tmp_path, capsys):
    path, _ = threshold_models["given"]
    report = tmp_path / "report"
    assert main(["evaluate", "--model", path, "--csv", data, "--report", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "per-group thresholds (-1: " in printed
    text = html.unescape(open(report / "report.html", encoding="utf-8").read())
    assert "needs each image's group at prediction time" in text


# ---------------------------------------------------------------------- UTKFace
@pytest.fixture(scope="module")
def utkface(tmp_path_factory):
    """A folder of 90 faces with UTKFace names (labels in the names), and one name without labels."""
    from PIL import Image

    from skface.datasets import make_faces

    folder = tmp_path_factory.mktemp("utk")
    faces = make_faces(90, image_size=16, random_state=5)
    for i, (image, target, gender) in enumerate(zip(faces.images, faces.target, faces.gender)):
        age = 52 if target == 1 else 24
        Image.fromarray(image).save(folder / f"{age}_{1 if gender == -1 else 0}_{i % 5}_2017010{i:09d}.jpg.chip.jpg")
    Image.fromarray(faces.images[0]).save(folder / "39_1_20170116174525125.jpg.chip.jpg")
    return str(folder)


def test_train_and_evaluate_on_a_utkface_folder(utkface, tmp_path, capsys):
    model = str(tmp_path / "utk.keras")
    assert main(["train", "--utkface", utkface, *TINY, "--model", model]) == 0
    captured = capsys.readouterr()
    assert f"Training on 90 images from UTKFace at {utkface}" in captured.out
    assert "gender = -1: " in captured.out and "gender = 1: " in captured.out
    # the name without labels is left out, said in one warning line
    assert "1 of the 91 JPEG files under" in captured.err and "they are left out" in captured.err
    report = tmp_path / "report"
    assert main(["evaluate", "--model", model, "--utkface", utkface, "--report", str(report)]) == 0
    assert "Evaluating " in capsys.readouterr().out
    assert (report / "report.html").is_file()


def test_several_sensitive_columns_make_intersectional_groups(utkface, tmp_path, capsys):
    model = str(tmp_path / "utk.keras")
    argv = ["train", "--utkface", utkface, *TINY, "--model", model, "--sensitive", "gender,race",
            "--balance", "oversample"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    # every gender x race cell, oversampled to the largest one, named part by part
    cells = [line for line in captured.out.splitlines() if line.startswith("  gender = ")]
    assert len(cells) == 10 and all(", race = " in line for line in cells)
    assert {line.split(": ")[1].split(" images")[0] for line in cells} == {"13"}  # as many images in each
    assert "fewer than 30 samples" in captured.err  # small cells are said to be noisy, on stderr
    report = tmp_path / "report"
    assert main(["evaluate", "--model", model, "--utkface", utkface, "--sensitive", "gender,race",
                 "--report", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "worst gender x race x label accuracy" in printed
    assert re.search(r"\(gender = -?1, race = \d, label [+-]1\)", printed)
    html = (report / "report.html").read_text(encoding="utf-8")
    assert "gender = -1 (women), race = 0" in html
    assert main(["evaluate", "--model", model, "--utkface", utkface, "--sensitive", "gender,,race"]) == 2
    assert "expected a column name or several joined by commas (e.g. gender,race), got 'gender,,race'" in (
        capsys.readouterr().err)


def test_thresholds_per_intersectional_group_train_and_predict(utkface, tmp_path, capsys):
    from skface import load
    from skface.datasets import load_utkface

    data = tmp_path / "faces.csv"
    frame = load_utkface(utkface)
    # two "races" (codes 0-4 folded to two), so that each of the four cells has validation images
    frame.assign(race=frame["race"] % 2).to_csv(data, index=False)
    model, written = str(tmp_path / "m.keras"), tmp_path / "p.csv"
    common = ["--csv", str(data), "--image-dir", str(tmp_path)]
    assert main(["train", *common, *TINY, "--sensitive", "gender,race", "--thresholds", "--model", model]) == 0
    assert main(["predict", "--model", model, *common, "--sensitive-column", "gender,race",
                 "--output", str(written)]) == 0
    assert "groups from columns gender,race of " in capsys.readouterr().out
    frame = pd.read_csv(data)
    clf = load(model)
    assert len(clf.thresholds_) == 4  # one per gender x race cell
    groups = list(zip(frame["gender"], frame["race"]))
    expected = clf.predict(frame[["filename"]], sensitive_features=pd.Series(groups))
    np.testing.assert_array_equal(pd.read_csv(written)["label"], expected)


def test_demo_on_a_utkface_folder(utkface, tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--utkface", utkface, "--n-samples", "60", "--output", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    # the other 30 adults are the test faces (fewer than --n-test's default)
    assert (f"Reading 90 UTKFace adults from {utkface} (class 1: aged 40 or more; 60 to train and validate on, "
            "30 other ones to test on)") in printed
    test = pd.read_csv(out / "faces" / "test.csv")
    assert len(test) == 30 and not set(test["filename"]) & set(pd.read_csv(out / "faces" / "train.csv")["filename"])
    assert all(os.path.isabs(p) and p.startswith(utkface) for p in test["filename"])
    assert sorted(os.listdir(out / "faces")) == ["test.csv", "train.csv", "valid.csv"]  # no copies of the photos
    predictions = pd.read_csv(out / "predictions.csv")
    assert predictions["filename"].tolist() == test["filename"].tolist()
    text = open(out / "report.html", encoding="utf-8").read()
    assert "skface demo: fairness on UTKFace photographs" in text


def test_utkface_folder_must_exist(tmp_path, capsys):
    assert main(["train", "--utkface", str(tmp_path / "none"), *TINY, "--model", str(tmp_path / "m.keras")]) == 1
    assert "--utkface" in _error_line(capsys)


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
    assert frame["label"].tolist() == np.where(proba > clf.threshold_, 1, -1).tolist()
    assert sorted(os.listdir(tmp_path)) == ["predictions.csv"]  # no temporary file left


def test_predictions_get_the_usual_file_mode(model, data, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "p.csv"
        assert main(["predict", "--model", model, "--csv", data, "--output", str(out)]) == 0
    finally:
        os.umask(old)
    assert oct(os.stat(out).st_mode & 0o777) == oct(0o644)  # as open(path, "w") makes it, not 0600


def test_predict_proba_column(model, data, tmp_path):
    from skface import load

    out = tmp_path / "p.csv"
    assert main(["predict", "--model", model, "--csv", data, "--output", str(out), "--proba"]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["filename", "label", "probability"]
    paths = [os.path.join(os.path.dirname(data), f) for f in frame["filename"]]
    np.testing.assert_allclose(frame["probability"], load(model).predict_proba(paths)[:, 1], atol=1e-6)
    assert frame["label"].tolist() == np.where(frame["probability"] > load(model).threshold_, 1, -1).tolist()


def test_predict_skips_unreadable_files(model, data, tmp_path, capsys):
    frame = pd.read_csv(data)
    images = tmp_path / "images"
    shutil.copytree(os.path.dirname(data), images)
    (images / frame["filename"][2]).write_bytes(b"not a JPEG")
    (images / frame["filename"][5]).write_bytes(b"")
    os.remove(images / frame["filename"][9])
    out = tmp_path / "p.csv"
    argv = ["predict", "--model", model, "--csv", str(images / "labels.csv"), "--output", str(out)]
    assert main(argv) == 1  # the default refuses, as before
    assert "do not exist" in _error_line(capsys)
    assert main([*argv, "--on-bad-image", "skip"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    listed = tmp_path / "p.unreadable.csv"
    assert err[0] == (
        f"skface: warning: 3 of the 48 image files cannot be read and have no prediction: "
        f"{[frame['filename'][i] for i in (2, 5, 9)]}; they are listed in {listed}.".replace('"', "'")
    )
    predictions = pd.read_csv(out)
    assert predictions["filename"].tolist() == frame["filename"].drop([2, 5, 9]).tolist()
    problems = pd.read_csv(listed)
    assert problems.to_dict("list") == {
        "filename": [frame["filename"][i] for i in (2, 5, 9)],
        "problem": ["cannot be decoded", "empty", "missing"],
    }
    # a run without bad files leaves an empty list, not the last run's
    assert main(["predict", "--model", model, "--csv", data, "--output", str(out), "--on-bad-image", "skip"]) == 0
    assert len(pd.read_csv(listed)) == 0


def test_predict_warns_about_one_class_for_every_image(model, data, tmp_path, capsys):
    argv = ["predict", "--model", model, "--csv", data, "--output", str(tmp_path / "p.csv"), "--threshold", "0"]
    assert main(argv) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("skface: warning: The model predicts 1 for all 48 images, with probabilities of class 1 "
                             "between")
    assert "Try training longer (a larger --epochs, or a larger --n-iter-no-change" in err[0]


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
    _, sources = _check_report(report, ["fair_metric.png", "misclassified.png", "calibration.png"])
    assert any(s.startswith("training_") for s in sources)
    assert any(s.startswith("confusion_") for s in sources)
    assert any(s.startswith("fairness_") for s in sources)
    text = open(os.path.join(report, "report.html"), encoding="utf-8").read()
    for section in ("Training curves", "Metrics per group", "Calibration per group", "Confusion matrices per group",
                    "Misclassified faces, most confident first", "Data", "Parameters", "Software"):
        assert f"<h2>{section}</h2>" in text
    import sklearn

    import skface

    software = text.split("<h2>Software</h2>")[1]
    assert f"<td>{skface.__version__}</td>" in software and f"<td>{sklearn.__version__}</td>" in software
    assert "date (UTC)" in software and "<th>calibration_error</th>" in text


def test_evaluate_shows_the_majority_baseline(evaluated, data):
    report, printed = evaluated
    share = (pd.read_csv(data)["class"] == 0).mean()
    assert share > 0.5  # so the baseline always predicts -1
    row = next(line for line in printed.splitlines() if line.startswith("majority class (always -1)"))
    assert row.split()[-2] == f"{share:.3f}"  # its accuracy: the share of the majority label
    text = open(os.path.join(report, "report.html"), encoding="utf-8").read()
    assert "<td>majority class (always -1)</td>" in text
    assert 'class="best"' not in text  # one model: nothing to rank


def test_evaluate_fair_metric_is_the_models(evaluated, model, data):
    from skface import load
    from skface.metrics import fair_metric

    printed = float(evaluated[1].split("Fair_Metric ")[1].split()[0])
    frame = pd.read_csv(data)
    paths = [os.path.join(os.path.dirname(data), f) for f in frame["filename"]]
    y_pred = load(model).predict(paths)
    y_true = np.where(frame["class"] == 1, 1, -1)
    assert printed == pytest.approx(fair_metric(y_true, y_pred, sensitive_features=frame["gender"]), abs=5e-4)


def test_evaluate_prints_the_interval_and_the_audit_numbers(evaluated, model, data):
    import re

    from skface import load
    from skface.metrics import fair_metric_bootstrap, worst_group_accuracy

    printed = evaluated[1]
    frame = pd.read_csv(data)
    paths = [os.path.join(os.path.dirname(data), f) for f in frame["filename"]]
    y_pred = load(model).predict(paths)
    y_true, gender = np.where(frame["class"] == 1, 1, -1), frame["gender"]
    low, high = map(float, re.search(r"Fair_Metric [-\d.]+ \(95% interval \[([-\d.]+), ([-\d.]+)\] over 1000 "
                                     r"bootstrap resamples of the images\)", printed).groups())
    replicates = fair_metric_bootstrap(y_true, y_pred, sensitive_features=gender, n_resamples=1000, random_state=0)
    assert (low, high) == pytest.approx(tuple(np.nanpercentile(replicates, [2.5, 97.5])), abs=5e-4)
    assert "95% intervals over 1000 bootstrap resamples of the images:" in printed
    row = next(line for line in printed.split("95% intervals over")[1].splitlines() if line.startswith("-1 "))
    assert len(re.findall(r"\[\d\.\d{3}, \d\.\d{3}\]", row)) == 5  # accuracy, selection, TPR, FPR, calibration
    worst = float(re.search(r"worst gender x label accuracy ([\d.]+) \(gender = -?1, label [-+]1\); "
                            r"equalized-odds difference [\d.]+; demographic-parity difference [\d.]+", printed)[1])
    assert worst == pytest.approx(worst_group_accuracy(y_true, y_pred, sensitive_features=gender), abs=5e-4)


# ------------------------------------------------------------------------- demo
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("demo") / "out")
    argv = ["demo", "--n-samples", "64", "--n-test", "16", "--output", out, *TINY]
    return out, argv


def _printed_table(printed):
    """The demo's test table: model name -> its cells (the interval as one cell)."""
    import re

    lines = printed.split("Test split (")[1].split("\n\n")[0].splitlines()[3:]
    rows = {}
    for line in lines:
        match = re.fullmatch(r"(?P<name>\S.*?)\s{2,}(?P<numbers>[-\d. ]+?)\s+\[(?P<low>[-\d.]+), (?P<high>[-\d.]+)\]",
                             line)
        assert match, line
        numbers = [float(v) for v in match["numbers"].split()]
        rows[match["name"]] = [*numbers, (float(match["low"]), float(match["high"]))]
    return rows


def _fair_metric_by_hand(y_true, y_pred, groups):
    """Fair_Metric from its definition, as the reference the bootstrap intervals are checked against."""
    accuracies = [np.mean(y_pred[groups == g] == y_true[groups == g]) for g in np.unique(groups)]
    return np.mean(accuracies) - 2 * (max(accuracies) - min(accuracies))


def test_demo(demo, capsys):
    from skface.metrics import fair_metric

    out, argv = demo
    assert main(argv) == 0
    printed = capsys.readouterr().out
    for row in ("unweighted", "weighted", "weighted + thresholds", "Fair_Metric", "women (-1)", "men (1)",
                "majority class (always -1)", "Group DRO", "Fair_Metric 95% interval"):
        assert row in printed
    rows = _printed_table(printed)
    assert list(rows) == ["unweighted", "weighted", "Group DRO", "weighted + thresholds",
                          "majority class (always -1)"]
    assert "Training the reference CNN with Group DRO (fairness='group_dro') ..." in printed
    assert "weights of the (gender, label) groups after the last epoch: (-1, -1) " in printed
    # each interval is the 2.5th and 97.5th percentile of the library's Fair_Metric over 1000
    # resamples of the 16 test faces drawn with the demo's seed; checked on the rows whose
    # predictions are known: predictions.csv and the baseline
    test = pd.read_csv(os.path.join(out, "faces", "test.csv"))
    y_true, gender = np.where(test["class"] == 1, 1, -1), test["gender"].to_numpy()
    draws = np.random.default_rng(0).integers(0, len(test), size=(1000, len(test)))
    predicted = pd.read_csv(os.path.join(out, "predictions.csv"))["label"].to_numpy()
    for name, y_pred in (("weighted + thresholds", predicted), ("majority class (always -1)", np.full(16, -1))):
        replicates = [_fair_metric_by_hand(y_true[d], y_pred[d], gender[d]) for d in draws if len(set(gender[d])) == 2]
        expected = np.percentile(replicates, [2.5, 97.5])
        assert rows[name][-1] == pytest.approx(tuple(expected), abs=5e-4)
        assert rows[name][3] == pytest.approx(fair_metric(y_true, y_pred, sensitive_features=gender), abs=5e-4)
    verdict = next(line for line in printed.splitlines() if line.startswith("On these 16 test faces "))
    assert "minus unweighted's on the same resamples" in verdict and verdict.endswith(".")
    # one paired interval for each mitigation, none for the reference
    named = re.findall(r"(weighted \+ thresholds|weighted|Group DRO|unweighted) \[([-+]\d\.\d{3}), ([-+]\d\.\d{3})\]",
                       verdict)
    assert sorted(name for name, *_ in named) == ["Group DRO", "weighted", "weighted + thresholds"]
    assert all(float(low) <= float(high) for _, low, high in named)
    assert "report.html" in printed and verdict in html.unescape(
        open(os.path.join(out, "report.html"), encoding="utf-8").read())
    assert "  1 epoch, " in printed  # not "1 epochs"
    predictions = pd.read_csv(os.path.join(out, "predictions.csv"))
    test = pd.read_csv(os.path.join(out, "faces", "test.csv"))
    assert list(predictions.columns) == ["filename", "label"]
    assert predictions["filename"].tolist() == test["filename"].tolist()
    assert len(predictions) == 16  # --n-test
    assert set(predictions["label"]) <= {-1, 1}
    sizes = [len(pd.read_csv(os.path.join(out, "faces", f"{s}.csv"))) for s in ("train", "valid", "test")]
    assert sizes == [48, 16, 16]  # 75 / 25 of --n-samples, then --n-test other faces
    assert not set(test["filename"]) & set(pd.read_csv(os.path.join(out, "faces", "train.csv"))["filename"])
    assert all(os.path.isfile(os.path.join(out, "faces", f)) for f in test["filename"])
    assert os.path.isfile(os.path.join(out, "model.keras"))
    _, sources = _check_report(out, [
        "fair_metric.png", "training_unweighted.png", "training_weighted.png", "training_group_dro.png",
        "fairness_unweighted.png", "fairness_weighted.png", "fairness_weighted_thresholds.png",
        "fairness_group_dro.png", "confusion_unweighted.png", "confusion_weighted.png",
        "confusion_weighted_thresholds.png", "confusion_group_dro.png",
    ])
    text = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    assert "<td>weighted + thresholds</td>" in text and "<td>Group DRO</td>" in text
    summary = text.split('<table id="summary">')[1].split("</table>")[0]
    assert "<th>Fair_Metric 95% interval</th>" in summary
    assert f"<td>[{rows['Group DRO'][-1][0]:.3f}, {rows['Group DRO'][-1][1]:.3f}]</td>" in summary
    # the models were given the gender: their training curves show each gender's validation accuracy
    assert "each gender&#x27;s accuracy and Fair_Metric on the hold-out" in text


def test_predict_with_the_demo_model_reproduces_its_predictions(demo, tmp_path, capsys):
    """The demo saves the model that wrote predictions.csv (weighted + per-gender
    thresholds); 'skface predict' with it, in a new process, writes the same labels."""
    out, argv = demo
    if not os.path.isfile(os.path.join(out, "predictions.csv")):
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(argv) == 0
    written = tmp_path / "again.csv"
    command = [sys.executable, "-m", "skface", "predict", "--model", os.path.join(out, "model.keras"),
               "--csv", os.path.join(out, "faces", "test.csv"), "--sensitive-column", "gender",
               "--output", str(written)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr
    assert "per-group thresholds (-1: " in done.stdout and "needs each image's group" in done.stdout
    assert "groups from column 'gender'" in done.stdout
    pd.testing.assert_frame_equal(pd.read_csv(written), pd.read_csv(os.path.join(out, "predictions.csv")))
    # without the column the model refuses, naming what it needs
    capsys.readouterr()
    assert main(command[3:-4] + ["--output", str(written)]) == 1
    assert ("applies per-group thresholds and needs each image's group: give --csv with a column of the "
            "groups and name it with --sensitive-column.") in _error_line(capsys)


HEAD = "On these 300 test faces (95% intervals of each Fair_Metric minus ref's on the same resamples), "


@pytest.mark.parametrize(
    "differences, expected",
    [
        ({"a": (-0.02, 0.05), "b": (-0.10, -0.01)},
         HEAD + "no mitigation is shown to raise Fair_Metric above ref's: a [-0.020, +0.050] is not shown to differ "
         "from it; b [-0.100, -0.010] lowers it."),
        ({"a": (0.01, 0.08), "b": (0.002, 0.2), "c": (-0.1, 0.0)},
         HEAD + "a [+0.010, +0.080] and b [+0.002, +0.200] raise Fair_Metric above ref's: c [-0.100, +0.000] is not "
         "shown to differ from it."),
        ({"a": (-0.03, 0.01), "b": (-0.3, 0.2)},
         HEAD + "no mitigation is shown to raise Fair_Metric above ref's: a [-0.030, +0.010] and b [-0.300, +0.200] "
         "are not shown to differ from it."),
        ({"a": (0.01, 0.03)}, HEAD + "a [+0.010, +0.030] raises Fair_Metric above ref's."),
    ],
)
def test_the_demo_verdict_follows_the_paired_intervals(differences, expected):
    from skface.cli._html_report import ModelResult

    mitigations = [ModelResult(name, np.zeros(1), None) for name in differences]
    reference = ModelResult("ref", np.zeros(1), None)
    assert _commands.mitigation_verdict(reference, mitigations, list(differences.values()), 300) == expected


def test_bootstrap_fair_metric_is_the_percentiles_of_fair_metric():
    from skface.cli._html_report import bootstrap_fair_metric

    rng = np.random.default_rng(1)
    y = rng.choice([-1, 1], 60)
    groups = rng.choice(["a", "b", "c"], 60)
    predictions = [np.where(rng.random(60) < 0.8, y, -y), np.full(60, -1)]
    intervals = bootstrap_fair_metric(y, predictions, groups, n_resamples=300, random_state=7)
    draws = np.random.default_rng(7).integers(0, 60, size=(300, 60))
    replicates = [[_fair_metric_by_hand(y[d], y_pred[d], groups[d]) for d in draws] for y_pred in predictions]
    for interval, values in zip(intervals, replicates):
        assert interval == pytest.approx(tuple(np.percentile(values, [2.5, 97.5])), abs=1e-9)
    assert intervals[0][0] < intervals[0][1]
    # paired: the percentiles of the difference on each resample, 0 for the reference itself
    paired = bootstrap_fair_metric(y, predictions, groups, n_resamples=300, random_state=7, reference=0)
    differences = np.subtract(replicates[1], replicates[0])
    assert paired[1] == pytest.approx(tuple(np.percentile(differences, [2.5, 97.5])), abs=1e-9)
    assert paired[0] == (0.0, 0.0)




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
    assert f"--celeba {root!r} does not exist" in line and "CelebA is not downloaded by skface" in line


def test_train_celeba(data, tmp_path, capsys):
    _fake_celeba(tmp_path / "celeba", data)
    model = tmp_path / "m.keras"
    argv = ["train", "--celeba", str(tmp_path / "celeba"), *TINY, "--model", str(model)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Training on 24 images from CelebA at" in out and "(train split)" in out
    assert model.is_file()


# ------------------------------------------------------- train: bad images, resuming
def test_train_finds_a_corrupt_file_before_training(data, tmp_path, capsys):
    images = tmp_path / "images"
    shutil.copytree(os.path.dirname(data), images)
    (images / "face_00011.jpg").write_bytes(b"GIF89a truncated")
    argv = ["train", "--csv", str(images / "labels.csv"), *TINY, "--model", str(tmp_path / "m.keras")]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "Training on 48 images" in captured.out and "Trained" not in captured.out
    assert "1 of the 48 image files cannot be decoded" in captured.err and "face_00011.jpg" in captured.err


def test_train_skips_unreadable_files(data, tmp_path, capsys):
    images = tmp_path / "images"
    shutil.copytree(os.path.dirname(data), images)
    (images / "face_00011.jpg").write_bytes(b"not a JPEG")
    os.remove(images / "face_00020.jpg")
    model = tmp_path / "m.keras"
    argv = ["train", "--csv", str(images / "labels.csv"), *TINY, "--on-bad-image", "skip", "--model", str(model)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        "skface: warning: left out 2 of the 48 image files that cannot be read (missing, empty, truncated or not an "
        "image):")
    assert "Left out 2 unreadable image files:\n" in captured.out
    assert f"  {images / 'face_00011.jpg'}\n" in captured.out and f"  {images / 'face_00020.jpg'}\n" in captured.out
    assert model.is_file()


def test_train_checkpoint_dir_resumes_with_the_same_command(data, tmp_path, capsys):
    from skface import load

    checkpoints = tmp_path / "checkpoints"
    argv = ["train", "--csv", data, *TINY, "--checkpoint-dir", str(checkpoints), "--model", str(tmp_path / "m.keras")]
    assert main(argv) == 0
    assert (checkpoints / "checkpoint.keras").is_file()
    assert f"checkpoint after every epoch in {checkpoints}" in capsys.readouterr().out
    # the same command again continues from the checkpoint (warm_start=True)
    assert main(argv) == 0
    assert len(load(tmp_path / "m.keras").history_["loss"]) == 2


# ------------------------------------------------------------- evaluate: labels
@pytest.mark.parametrize("label, missing, value", [(0, "positive", "-1 (class 0)"), (1, "negative", "+1 (class 1)")])
def test_evaluate_needs_both_labels(label, missing, value, model, data, tmp_path, capsys):
    csv = tmp_path / "one.csv"
    pd.read_csv(data).assign(**{"class": label}).to_csv(csv, index=False)
    argv = ["evaluate", "--model", model, "--csv", str(csv), "--image-dir", os.path.dirname(data),
            "--report", str(tmp_path / "r")]
    assert main(argv) == 1
    assert _error_line(capsys) == (
        f"skface: error: column 'class' of {str(csv)!r} has no {missing} label: all 48 images are {value}. "
        "Evaluating compares predictions with both labels (true and false positive rates, ROC AUC); check "
        "--label, or evaluate on data that holds both."
    )


# ------------------------------------------------------- the report and the baseline
def _report_of(tmp_path, y_preds):
    from skface.cli._html_report import ModelResult, write_report

    rng = np.random.default_rng(0)
    y = np.where(np.arange(40) % 4 == 0, 1, -1)  # 25 % positives: the baseline scores 0.75
    groups = np.tile([-1, 1], 20)
    results = [ModelResult(name, y_pred, np.where(y_pred == 1, 0.8, 0.2)) for name, y_pred in y_preds.items()]
    page = write_report(tmp_path, title="t", y_true=y, sensitive_features=groups, results=results,
                        images=rng.integers(0, 255, (40, 16, 16, 3), dtype=np.uint8))
    return open(page, encoding="utf-8").read(), y


def test_no_model_at_or_below_the_baseline_is_marked_best(tmp_path):
    text, _ = _report_of(tmp_path, {"always -1": np.full(40, -1), "always +1": np.full(40, 1)})
    assert "<td>majority class (always -1)</td>" in text
    assert 'class="best"' not in text
    assert 'id="below-baseline"' in text and "always -1, always +1" in text


def test_the_best_model_above_the_baseline_is_marked(tmp_path):
    y = np.where(np.arange(40) % 4 == 0, 1, -1)
    good = y.copy()
    good[:2] *= -1  # 38 of 40 right
    text, _ = _report_of(tmp_path, {"majority-like": np.full(40, -1), "good": good})
    summary = text.split('<table id="summary">')[1].split("</table>")[0]
    row = next(r for r in summary.split("<tr>") if r.startswith("<td>good</td>"))
    assert '<td class="best">' in row and summary.count('class="best"') == 1
    assert "majority-like" in text.split('id="below-baseline"')[1].split("</p>")[0]


def test_misclassified_faces_are_listed_with_their_probability(tmp_path):
    text, _ = _report_of(tmp_path, {"always -1": np.full(40, -1)})
    assert "<h2>Misclassified faces, most confident first</h2>" in text
    table = text.split('<table id="misclassified">')[1].split("</table>")[0]
    assert "<th>P(+1)</th>" in table and "<th>P(wrong label)</th>" in table
    # the 10 positives, each given P(+1) = 0.2, so P(wrong label) = 0.8
    assert table.count("<td>0.200</td>") == 10 and table.count("<td>0.800</td>") == 10


def test_train_resumes_an_interrupted_run(data, tmp_path, monkeypatch, capsys):
    import keras

    from skface import load

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt  # as Ctrl-C once the first epoch is saved

    build = _commands._estimator
    monkeypatch.setattr(_commands, "_estimator", lambda args, **params: build(args, callbacks=[Interrupt()], **params))
    checkpoints, model = tmp_path / "checkpoints", tmp_path / "m.keras"
    # two epochs (the last --epochs wins), interrupted after the first
    argv = ["train", "--csv", data, *TINY, "--epochs", "2", "--checkpoint-dir", str(checkpoints), "--model", str(model)]
    assert main(argv) == 130
    assert capsys.readouterr().err.strip() == "skface: interrupted"
    assert (checkpoints / "checkpoint.keras").is_file() and not model.exists()
    monkeypatch.undo()
    assert main(argv) == 0  # the same command: the epoch left, not two more
    assert len(load(model).history_["loss"]) == 2
