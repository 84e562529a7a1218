"""The ``skface`` command: ``demo``, ``train``, ``predict`` and ``evaluate``.

Run ``skface --help`` or ``python -m skface --help``; see ``docs/cli.rst``.
Exit status: 0 on success, 2 for a usage error (reported by argparse), 1 for
a data error (a missing file, a bad CSV, labels that are not binary, ...),
reported as one line ``skface: error: ...`` on stderr without a traceback.
A traceback means a bug in skface.

Only the standard library is imported here at start-up: NumPy, pandas,
scikit-learn, matplotlib and TensorFlow are imported inside the commands
that use them, so ``skface --help`` answers at once.
"""

import argparse
import os
import sys
import tempfile
import time

__all__ = ["main"]

#: backbones ``--backbone`` accepts; the same as FaceCNNClassifier's backbone
BACKBONES = ("cnn", "resnet50", "mobilenet_v2", "efficientnet_b0")
#: image suffixes ``predict --images DIR`` picks up (skface._input.IMAGE_SUFFIXES)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
#: the reference's per-gender weights: women 1.0, men 0.1
REFERENCE_WEIGHTS = {-1: 1.0, 1: 0.1}
#: default size of ``skface demo``: measured to finish in well under 10
#: minutes on 2 CPU cores (see docs/cli.rst)
DEMO_SAMPLES = 1500

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class CommandError(Exception):
    """A problem with the user's data or files: reported in one line, exit status 1."""


# ---------------------------------------------------------------- argument types
def _int_at_least(minimum, expected):
    """An argparse type: an int >= ``minimum``; ``expected`` words the error."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_image_size = _int_at_least(8, "an integer >= 8 (pixels)")


def _probability(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def _filters(text):
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 32,64,128, got {text!r}"
        )
    return values


def _group_key(text):
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _weights(text):
    """``none``, ``balanced`` or ``GROUP=WEIGHT,...`` (e.g. ``-1=1,1=0.1``)."""
    if text == "none":
        return None
    if text == "balanced":
        return "balanced"
    mapping = {}
    for item in text.split(","):
        group, sep, weight = item.partition("=")
        try:
            value = float(weight)
        except ValueError:
            value = float("nan")
        if not sep or not group.strip() or not value >= 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(
                f"expected 'balanced', 'none' or GROUP=WEIGHT pairs such as -1=1,1=0.1 "
                f"(weights finite and >= 0), got {text!r}"
            )
        mapping[_group_key(group.strip())] = value
    return mapping


def _keras_path(text):
    if not text.endswith(".keras"):
        raise argparse.ArgumentTypeError(f"the model file must end in '.keras', got {text!r}")
    return text


def _describe_weights(weights):
    if weights is None:
        return "none"
    if weights == "balanced":
        return "balanced (every group the same total weight)"
    return ", ".join(f"{g}: {w:g}" for g, w in weights.items())


# ------------------------------------------------------------------- the parser
_EPILOG = """\
exit status: 0 success, 1 data error (one line on stderr), 2 usage error.
Run 'skface COMMAND --help' for the options of a command; see docs/cli.rst."""


def _add_model_options(parser, *, epochs_default):
    group = parser.add_argument_group("model")
    group.add_argument("--image-size", type=_image_size, default=80, metavar="PX",
                       help="height and width the images are resized to (default: 80)")
    group.add_argument("--epochs", type=_positive_int, default=epochs_default, metavar="N",
                       help=f"at most N epochs; early stopping on the validation loss "
                            f"(patience 1) may stop sooner (default: {epochs_default})")
    group.add_argument("--batch-size", type=_positive_int, default=32, metavar="N",
                       help="training batch size (default: 32)")
    group.add_argument("--filters", type=_filters, default=(32, 64, 128), metavar="F1,F2,...",
                       help="filters of the small CNN's convolution blocks (default: 32,64,128); "
                            "e.g. 4,8 for a quick try")
    group.add_argument("--dense-units", type=_positive_int, default=512, metavar="N",
                       help="units of the dense layer before the output (default: 512)")
    group.add_argument("--random-state", type=int, metavar="SEED",
                       help="seed of the weights, shuffling and splits; the same seed gives "
                            "the same model on a CPU")
    group.add_argument("--verbose", type=int, choices=(0, 1, 2), metavar="{0,1,2}",
                       help="Keras progress: 0 silent, 1 progress bars, 2 one line per epoch "
                            "(default: 1 on a terminal, else 2)")


def _add_data_options(parser, *, split_default, celeba=True):
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", metavar="DATA.csv",
                        help="CSV with one row per image: image path, label and sensitive columns "
                             "(the reference layout filename,gender,class)")
    if celeba:
        source.add_argument("--celeba", metavar="ROOT",
                            help="a local copy of CelebA (class = Blond_Hair or Eyeglasses, "
                                 "gender from Male); nothing is downloaded")
        parser.add_argument("--split", choices=("train", "valid", "test", "all"), default=split_default,
                            help=f"with --celeba: which official partition to use (default: {split_default})")
    parser.add_argument("--image-dir", metavar="DIR",
                        help="folder the CSV's image paths are relative to (default: the CSV's folder)")
    parser.add_argument("--image-column", default="filename", metavar="NAME",
                        help="CSV column of the image paths (default: filename)")
    parser.add_argument("--label", default="class", metavar="NAME",
                        help="CSV column of the binary label, 0/1 or -1/1 (default: class)")
    parser.add_argument("--sensitive", default="gender", metavar="NAME",
                        help="CSV column of the sensitive attribute (default: gender, -1 woman, 1 man)")


def build_parser():
    """The ``skface`` argument parser (sub-commands demo, train, predict, evaluate)."""
    parser = argparse.ArgumentParser(
        prog="skface",
        description="Train, apply and audit the skface face-attribute CNN, with fairness "
                    "between groups (e.g. genders) measured by Fair_Metric.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from ._version import __version__

    parser.add_argument("--version", action="version", version=f"skface {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo",
        help="the whole workflow on built-in synthetic faces (no data needed)",
        description="Generate synthetic faces, split them 60/20/20 (train/validation/test, "
                    "stratified on class x gender), train the reference CNN unweighted and "
                    "with per-gender weights, add per-gender thresholds chosen on the "
                    "validation split (FairThresholdClassifier), print per-gender accuracy "
                    "and Fair_Metric of the three on the test split, and write "
                    "predictions.csv, the faces, the weighted model and report.html to --output.",
        epilog=_EPILOG,
    )
    demo.add_argument("--n-samples", type=_positive_int, default=DEMO_SAMPLES, metavar="N",
                      help=f"number of faces (default: {DEMO_SAMPLES}, a few minutes on 2 CPU cores)")
    demo.add_argument("--output", default="demo-output", metavar="DIR",
                      help="folder for the results, created if missing (default: demo-output)")
    demo.add_argument("--weights", type=_weights, default=REFERENCE_WEIGHTS, metavar="W",
                      help="gender weights of the second model: 'balanced' or GROUP=WEIGHT pairs "
                           "(default: the reference's -1=1,1=0.1, women 1.0, men 0.1)")
    _add_model_options(demo, epochs_default=10)
    demo.set_defaults(run=_run_demo, check=lambda args: _check_demo(args, demo), random_state=0)

    train = commands.add_parser(
        "train",
        help="train the CNN on a folder of images and save it",
        description="Train FaceCNNClassifier on the images listed in a CSV (or a local CelebA) "
                    "and save it to a .keras file (written atomically). Labels 0/1 or -1/1 "
                    "are learnt as -1/1.",
        epilog=_EPILOG,
    )
    _add_data_options(train, split_default="train")
    train.add_argument("--weights", type=_weights, default=None, metavar="W",
                       help="per-sample weights by sensitive group: 'none' (default), 'balanced' "
                            "(every group the same total weight) or GROUP=WEIGHT pairs such as "
                            "-1=1,1=0.1 (the reference: women 1.0, men 0.1)")
    train.add_argument("--balance", choices=("none", "undersample", "oversample"), default="none",
                       help="resample the rows to equal group sizes before training, as the "
                            "reference undersampled the over-represented gender (default: none)")
    train.add_argument("--backbone", choices=BACKBONES, default="cnn",
                       help="'cnn' is the reference small CNN; the others put a frozen Keras "
                            "application under a dense head (default: cnn)")
    train.add_argument("--backbone-weights", metavar="imagenet|PATH",
                       help="weights of the backbone: 'imagenet' (Keras downloads them) or a "
                            "weights file (default: random initialisation)")
    _add_model_options(train, epochs_default=10)
    train.add_argument("--model", required=True, type=_keras_path, metavar="OUT.keras",
                       help="where to save the trained model (a .keras file)")
    train.set_defaults(run=_run_train)

    predict = commands.add_parser(
        "predict",
        help="write the prediction file filename,label (-1/1)",
        description="Predict with a saved model and write the reference's prediction file: "
                    "a CSV 'filename,label' with labels -1/1 (1 where the probability of "
                    "class 1 exceeds --threshold), one row per image in input order, written "
                    "atomically.",
        epilog=_EPILOG,
    )
    predict.add_argument("--model", required=True, metavar="M.keras", help="a model saved by 'skface train'")
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", metavar="DIR",
                        help="a folder of images: every file ending in "
                             f"{', '.join(IMAGE_SUFFIXES)} (any case, not starting with '.'), "
                             "in sorted order; filename is the file's name")
    source.add_argument("--csv", metavar="DATA.csv",
                        help="a CSV listing the images; filename is the CSV's value, in its order")
    predict.add_argument("--image-dir", metavar="DIR",
                         help="with --csv: folder the paths are relative to (default: the CSV's folder)")
    predict.add_argument("--image-column", default="filename", metavar="NAME",
                         help="with --csv: column of the image paths (default: filename)")
    predict.add_argument("--output", required=True, metavar="predictions.csv",
                         help="the CSV to write; its folder must exist")
    predict.add_argument("--threshold", type=_probability, metavar="T",
                         help="label 1 where P(class 1) > T (default: the model's, 0.5)")
    predict.add_argument("--batch-size", type=_positive_int, default=256, metavar="N",
                         help="prediction batch size (default: 256)")
    predict.set_defaults(run=_run_predict)

    evaluate = commands.add_parser(
        "evaluate",
        help="per-group metrics, Fair_Metric and an HTML report on labelled images",
        description="Evaluate a saved model on labelled images: print accuracy, selection "
                    "rate, true and false positive rates per group and Fair_Metric, and "
                    "write an HTML report (report.html and PNG figures) to --report.",
        epilog=_EPILOG,
    )
    evaluate.add_argument("--model", required=True, metavar="M.keras", help="a model saved by 'skface train'")
    _add_data_options(evaluate, split_default="test")
    evaluate.add_argument("--threshold", type=_probability, metavar="T",
                          help="label 1 where P(class 1) > T (default: the model's, 0.5)")
    evaluate.add_argument("--report", required=True, metavar="DIR",
                          help="folder for report.html and its figures, created if missing")
    evaluate.set_defaults(run=_run_evaluate)
    return parser


# ------------------------------------------------------------------ entry point
def main(argv=None):
    """Run the ``skface`` command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        The exit status: 0 on success, 1 for a data error (reported as one
        line ``skface: error: ...`` on stderr), 2 for a usage error.

    Examples
    --------
    >>> from skface.cli import main
    >>> main(["--version"])
    skface ...
    0

    A data error returns 1 and prints one line ``skface: error: ...`` on
    stderr (here: the folder holds no images):

    >>> import tempfile
    >>> main(["predict", "--model", "missing.keras", "--images", tempfile.mkdtemp(),
    ...       "--output", "p.csv"])
    1
    """
    parser = build_parser()
    argv = _weights_with_sign(sys.argv[1:] if argv is None else list(argv))
    try:
        args = parser.parse_args(argv)
        if getattr(args, "check", None) is not None:
            args.check(args)  # checks that involve several options
    except SystemExit as exc:  # --help, --version or a usage error
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        print("skface: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if not _is_user_error(exc):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"skface: error: {message}", file=sys.stderr)
        return 1


def _weights_with_sign(argv):
    """Let ``--weights -1=1,1=0.1`` through: argparse would take the value
    for an option, because it starts with '-'."""
    argv = list(argv)
    for i, arg in enumerate(argv[:-1]):
        if arg == "--weights" and argv[i + 1][:2] in {f"-{d}" for d in "0123456789."}:
            argv[i : i + 2] = [f"--weights={argv[i + 1]}", None]
    return [arg for arg in argv if arg is not None]


def _is_user_error(exc):
    """A problem with the input, rather than a bug: files, CSVs, skface's validation.

    skface validates its inputs with ValueError and TypeError whose messages
    name the parameter or file; those raised inside the skface package are
    the user's to fix. The same errors from elsewhere (NumPy, Keras, ...)
    are bugs of the caller, shown with a traceback.
    """
    import pandas as pd

    if isinstance(exc, (CommandError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError)):
        return True
    if isinstance(exc, (ValueError, TypeError)):
        tb = exc.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        return os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep)
    return False


# --------------------------------------------------------------------- helpers
def _verbose(args):
    return args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)


def _say(text=""):
    print(text, flush=True)


def _require_file(path, option):
    if not os.path.isfile(path):
        raise CommandError(f"{option} {path!r} does not exist or is not a file.")


def _require_parent(path, option):
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CommandError(f"the folder of {option} {path!r} does not exist: {parent!r}.")


def _write_csv_atomic(frame, path):
    """Write ``frame`` to ``path`` through a temporary file in the same folder
    and ``os.replace``: readers see the old file or the whole new one."""
    path = os.path.abspath(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".skface-", suffix=".csv.tmp")
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            frame.to_csv(handle, index=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _to_pm1(values, name):
    """Binary labels (0/1, -1/1 or bool) as an int array of -1/1.

    Raises CommandError naming ``name`` for anything else.
    """
    import numpy as np
    import pandas as pd

    series = pd.Series(values)
    if series.isna().any():
        rows = series.index[series.isna()].tolist()[:5]
        raise CommandError(f"{name} has empty values (rows {rows}); every image needs a label.")
    found = set(series.unique().tolist())
    for positive, accepted in ((1, {0, 1}), (1, {-1, 1}), (True, {False, True})):
        if found <= accepted and all(isinstance(v, (bool, int, float, np.integer, np.floating, np.bool_)) for v in found):
            return np.where(series.to_numpy() == positive, 1, -1)
    shown = sorted(map(str, found))[:6]
    raise CommandError(f"{name} must hold binary labels 0/1 or -1/1; found {shown}.")


def _load_labelled(args):
    """The labelled frame of ``--csv`` or ``--celeba``: absolute paths, y (-1/1), groups."""
    from .datasets import load_celeba, load_faces

    if args.csv is not None:
        _require_file(args.csv, "--csv")
        if args.image_dir is not None and not os.path.isdir(args.image_dir):
            raise CommandError(f"--image-dir {args.image_dir!r} does not exist or is not a folder.")
        frame = load_faces(args.csv, args.image_dir, image_column=args.image_column)
        source = args.csv
    else:
        split = None if args.split == "all" else args.split
        frame = load_celeba(args.celeba, split=split)
        source = f"CelebA at {args.celeba}" + ("" if split is None else f" ({split} split)")
        args.image_column = "filename"  # load_celeba's column of absolute paths
    label, sensitive = args.label, args.sensitive
    for option, column in (("--label", label), ("--sensitive", sensitive)):
        if column not in frame.columns:
            raise CommandError(
                f"{source!r} has no column {column!r} ({option} {column}); its columns are "
                f"{list(frame.columns)[:12]}."
            )
    y = _to_pm1(frame[label], f"column {label!r} of {source!r}")
    groups = frame[sensitive]
    if groups.isna().any():
        rows = groups.index[groups.isna()].tolist()[:5]
        raise CommandError(f"column {sensitive!r} of {source!r} has empty values (rows {rows}).")
    return frame, y, groups.to_numpy(), source


def _classifier(args, **extra):
    from . import FaceCNNClassifier

    return FaceCNNClassifier(
        image_size=args.image_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        filters=args.filters,
        dense_units=args.dense_units,
        random_state=args.random_state,
        verbose=_verbose(args),
        **extra,
    )


def _counts(splits, groups, y, sensitive):
    """Images per split, group and class, as a table for the report."""
    import pandas as pd

    from ._report import group_label

    frame = pd.DataFrame({"split": splits, "group": groups, "class": y})
    table = pd.crosstab(frame["split"], [frame["group"], frame["class"]])
    table.columns = [f"{group_label(sensitive, g)}, class {c:+d}" for g, c in table.columns]
    table["total"] = table.sum(axis=1)
    order = [s for s in ("train", "valid", "test") if s in table.index]
    table = table.loc[order + [s for s in table.index if s not in order]]
    table.index.name = "split"
    return table


def _format_table(table):
    return table.to_string(float_format=lambda v: f"{v:.3f}")


# ------------------------------------------------------------------------ demo
def _check_demo(args, parser):
    if args.weights is None:
        parser.error("argument --weights: the demo compares an unweighted and a weighted model; "
                     "'none' would train the same model twice: use 'balanced' or GROUP=WEIGHT pairs")
    if args.n_samples < 40:
        parser.error(f"argument --n-samples: {args.n_samples} faces are too few for a 60/20/20 "
                     "split stratified on class x gender; use at least 40")


def _run_demo(args):
    import numpy as np
    import pandas as pd
    from PIL import Image
    from sklearn.model_selection import train_test_split

    from ._atomic import atomic_path
    from ._report import ModelResult, summary_table, write_report
    from .datasets import make_faces
    from .fairness import FairThresholdClassifier, group_sample_weight

    start = time.perf_counter()
    out = os.path.abspath(args.output)
    faces_dir = os.path.join(out, "faces")
    os.makedirs(faces_dir, exist_ok=True)

    _say(f"Generating {args.n_samples} synthetic faces of {args.image_size}x{args.image_size} pixels ...")
    faces = make_faces(args.n_samples, image_size=args.image_size, random_state=args.random_state)
    X, gender = faces.images, faces.gender
    y = np.where(faces.target == 1, 1, -1)  # the reference's -1/1 labels
    names = np.array([f"face_{i:05d}.png" for i in range(len(y))])
    for name, image in zip(names, X):
        # temporary name, then rename: an interrupted demo leaves no half image
        with atomic_path(os.path.join(faces_dir, name), durable=False) as tmp:
            Image.fromarray(image).save(tmp)

    strata = [f"{c}{g}" for c, g in zip(y, gender)]
    index = np.arange(len(y))
    try:
        rest, test = train_test_split(index, test_size=0.2, stratify=strata, random_state=args.random_state)
        train, valid = train_test_split(
            rest, test_size=0.25, stratify=[strata[i] for i in rest], random_state=args.random_state
        )
    except ValueError as exc:
        raise CommandError(f"cannot split {args.n_samples} faces 60/20/20 stratified on class x "
                           f"gender ({exc}); use a larger --n-samples.") from None
    split = np.empty(len(y), dtype=object)
    split[train], split[valid], split[test] = "train", "valid", "test"
    for part, idx in (("train", train), ("valid", valid), ("test", test)):
        labels = pd.DataFrame({"filename": names[idx], "gender": gender[idx], "class": faces.target[idx]})
        _write_csv_atomic(labels, os.path.join(faces_dir, f"{part}.csv"))
    _say(f"  {len(train)} train / {len(valid)} validation / {len(test)} test faces written to "
         f"{os.path.relpath(faces_dir)}/ (train.csv, valid.csv, test.csv)")

    clf_args = dict(early_stopping=True)
    _say("\nTraining the reference CNN, unweighted ...")
    unweighted = _classifier(args, **clf_args).fit(X[train], y[train])
    _say(f"  {len(unweighted.history_['loss'])} epochs, {time.perf_counter() - start:.0f} s so far")

    weights = group_sample_weight(gender[train], args.weights)
    described = _describe_weights(args.weights)
    _say(f"\nTraining the reference CNN with gender weights ({described}) ...")
    weighted = _classifier(args, **clf_args).fit(X[train], y[train], sample_weight=weights)
    _say(f"  {len(weighted.history_['loss'])} epochs, {time.perf_counter() - start:.0f} s so far")
    for model in (unweighted, weighted):
        model.set_params(verbose=0)  # no progress lines for the predictions below
    model_path = weighted.save(os.path.join(out, "model.keras"))

    _say("\nChoosing per-gender thresholds on the validation split (FairThresholdClassifier) ...")
    fair = FairThresholdClassifier(weighted, prefit=True).fit(X[valid], y[valid], sensitive_features=gender[valid])
    thresholds = ", ".join(f"{g}: {t:.3f}" for g, t in fair.thresholds_.items())
    _say(f"  thresholds {thresholds}")

    X_test, y_test, g_test = X[test], y[test], gender[test]
    results = []
    for name, model, note in (
        ("unweighted", unweighted, "the reference CNN, no weights"),
        ("weighted", weighted, f"the reference CNN, per-sample gender weights {described}"),
    ):
        proba = model.predict_proba(X_test)[:, 1]
        results.append(ModelResult(name, np.where(proba > model.threshold, 1, -1), proba,
                                   dict(model.history_), note))
    fair_pred = fair.predict(X_test, sensitive_features=g_test)
    results.append(ModelResult(
        "weighted + thresholds", np.asarray(fair_pred), results[1].proba, None,
        f"the weighted model with per-gender thresholds ({thresholds}) chosen on the "
        "validation split to maximise Fair_Metric",
    ))

    predictions = pd.DataFrame({"filename": names[test], "label": results[-1].y_pred.astype(int)})
    pred_path = _write_csv_atomic(predictions, os.path.join(out, "predictions.csv"))

    parameters = {
        "n_samples": args.n_samples,
        "image_size": args.image_size,
        "split": "60 / 20 / 20 train / validation / test, stratified on class x gender",
        "early stopping": "on 20 % of the training split held out by FaceCNNClassifier, patience 1",
        "epochs (max)": args.epochs,
        "epochs run": f"unweighted {len(unweighted.history_['loss'])}, weighted {len(weighted.history_['loss'])}",
        "filters": ",".join(map(str, args.filters)),
        "dense_units": args.dense_units,
        "batch_size": args.batch_size,
        "loss": "binary focal cross-entropy, gamma 5 (no alpha, as the reference)",
        "gender weights": described,
        "thresholds (weighted + thresholds)": thresholds,
        "precision": weighted.precision_,
        "random_state": args.random_state,
    }
    _say("")
    report = write_report(
        out,
        title="skface demo: fairness on synthetic faces",
        intro=(f"{args.n_samples} synthetic faces (skface.datasets.make_faces): class +1 = blond hair "
               "or eyeglasses, gender -1 = woman, 1 = man. Three models evaluated on the "
               f"{len(test)} test faces."),
        y_true=y_test,
        sensitive_features=g_test,
        results=results,
        images=X_test,
        filenames=names[test],
        parameters=parameters,
        data_summary=_counts(split, gender, y, "gender"),
    )

    table = summary_table(results, sorted(set(g_test.tolist())), "gender")
    _say(f"Test split ({len(test)} faces):")
    _say(_format_table(table))
    _say("")
    _say(f"predictions: {os.path.relpath(pred_path)} (weighted + thresholds, test faces)")
    _say(f"model:       {os.path.relpath(model_path)} (weighted)")
    _say(f"report:      {os.path.relpath(report)}")
    _say(f"done in {time.perf_counter() - start:.0f} s")
    return 0


# ----------------------------------------------------------------------- train
def _run_train(args):
    import numpy as np

    from .fairness import balance_groups, group_sample_weight

    _require_parent(args.model, "--model")
    frame, y, groups, source = _load_labelled(args)
    if args.balance != "none":
        frame = frame.assign(_y=y)
        frame = balance_groups(frame, args.sensitive, strategy=args.balance, random_state=args.random_state)
        y, groups = frame.pop("_y").to_numpy(), frame[args.sensitive].to_numpy()
    if len(set(y.tolist())) < 2:
        raise CommandError(f"column {args.label!r} of {source!r} holds one class only; training needs both.")
    weights = None if args.weights is None else group_sample_weight(groups, args.weights)

    _say(f"Training on {len(y)} images from {source}")
    for g in sorted(set(groups.tolist()), key=repr):
        mask = groups == g
        _say(f"  {args.sensitive} = {g}: {int(mask.sum())} images, {int((y[mask] == 1).sum())} of class 1")
    _say(f"  weights: {_describe_weights(args.weights)}; balance: {args.balance}")
    extra = dict(backbone=args.backbone, backbone_weights=args.backbone_weights)
    clf = _classifier(args, image_column=args.image_column, **extra)
    start = time.perf_counter()
    clf.fit(frame[[args.image_column]], y, sample_weight=weights)
    history = clf.history_
    line = f"Trained {len(history['loss'])} epochs in {time.perf_counter() - start:.0f} s"
    if history.get("val_loss"):
        best = int(np.argmin(history["val_loss"]))
        line += (f"; best validation loss {history['val_loss'][best]:.4f} "
                 f"(accuracy {history['val_accuracy'][best]:.3f}) at epoch {best + 1}")
    _say(line)
    clf.save(args.model)
    _say(f"Saved the model to {args.model}")
    return 0


# --------------------------------------------------------------------- predict
def _load_model(path):
    from . import load

    _require_file(path, "--model")
    clf = load(path)
    clf.set_params(verbose=0)  # no Keras progress lines for prediction
    return clf


def _list_images(directory):
    if not os.path.isdir(directory):
        raise CommandError(f"--images {directory!r} does not exist or is not a folder.")
    names = sorted(
        name for name in os.listdir(directory)
        if not name.startswith(".")
        and name.lower().endswith(IMAGE_SUFFIXES)
        and os.path.isfile(os.path.join(directory, name))
    )
    if not names:
        raise CommandError(
            f"--images {directory!r} holds no image files (accepted suffixes: {', '.join(IMAGE_SUFFIXES)})."
        )
    return names, [os.path.join(directory, name) for name in names]


def _positive_proba(clf, X, batch_size=None):
    kwargs = {} if batch_size is None else {"batch_size": batch_size}
    return clf.predict_proba(X, **kwargs)[:, 1]


def _run_predict(args):
    import numpy as np
    import pandas as pd

    _require_parent(args.output, "--output")
    if args.images is not None:
        names, paths = _list_images(args.images)
    else:
        from .datasets import load_faces

        _require_file(args.csv, "--csv")
        if args.image_dir is not None and not os.path.isdir(args.image_dir):
            raise CommandError(f"--image-dir {args.image_dir!r} does not exist or is not a folder.")
        frame = load_faces(args.csv, args.image_dir, image_column=args.image_column)
        paths = frame[args.image_column].tolist()
        names = pd.read_csv(args.csv, usecols=[args.image_column])[args.image_column].tolist()
    clf = _load_model(args.model)
    threshold = clf.threshold if args.threshold is None else args.threshold
    _say(f"Predicting {len(paths)} images with {args.model} (threshold {threshold:g}) ...")
    proba = _positive_proba(clf, paths, args.batch_size)
    labels = np.where(proba > threshold, 1, -1)
    _write_csv_atomic(pd.DataFrame({"filename": names, "label": labels}), args.output)
    _say(f"Wrote {len(labels)} predictions to {args.output}: {int((labels == 1).sum())} of label 1, "
         f"{int((labels == -1).sum())} of label -1")
    return 0


# -------------------------------------------------------------------- evaluate
def _run_evaluate(args):
    import numpy as np
    import pandas as pd

    from ._report import ModelResult, write_report
    from .fairness import fairness_report

    _require_file(args.model, "--model")
    frame, y, groups, source = _load_labelled(args)
    clf = _load_model(args.model)
    threshold = clf.threshold if args.threshold is None else args.threshold
    paths = frame[args.image_column].tolist()
    _say(f"Evaluating {args.model} on {len(paths)} images from {source} (threshold {threshold:g}) ...")
    proba = _positive_proba(clf, paths)
    y_pred = np.where(proba > threshold, 1, -1)
    audit = fairness_report(y, y_pred, sensitive_features=pd.Series(groups, name=args.sensitive),
                            y_proba=proba, pos_label=1)
    table = audit.by_group.copy()
    table.loc["overall"] = audit.overall
    table["count"] = table["count"].astype(int)
    _say(_format_table(table))
    _say(f"Fair_Metric {audit.fair_metric:.3f}")

    name = os.path.basename(args.model)
    result = ModelResult(name, y_pred, proba, dict(clf.history_) or None,
                         f"threshold {threshold:g}; training curves from the model file")
    params = clf.get_params()
    parameters = {
        "model": os.path.abspath(args.model),
        "data": source,
        "label column": args.label,
        "sensitive column": args.sensitive,
        "threshold": threshold,
        "image_size": params["image_size"],
        "backbone": params["backbone"],
        "filters": params["filters"],
        "dense_units": params["dense_units"],
        "epochs run": len(clf.history_.get("loss", [])),
        "precision": clf.precision_,
    }
    report = write_report(
        args.report,
        title=f"skface evaluate: {name}",
        intro=f"{name} evaluated on {len(y)} labelled images from {source}.",
        y_true=y,
        sensitive_features=groups,
        sensitive_name=args.sensitive,
        results=[result],
        images=paths,
        filenames=frame[args.image_column].tolist(),
        parameters=parameters,
        data_summary=_counts(np.full(len(y), "evaluated"), groups, y, args.sensitive),
    )
    _say(f"Report: {report}")
    return 0
