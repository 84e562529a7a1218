"""What each ``skface`` command does: ``demo``, ``train``, ``predict``, ``evaluate``.

Each ``run_*`` function takes the parsed arguments and returns the exit
status; a problem with the user's data raises one of the user-error types of
:mod:`._messages`, which :func:`skface.cli.main` reports in one line. The
commands use the public API (:class:`~skface.FaceCNNClassifier`,
:func:`~skface.load`, :mod:`skface.datasets`, :mod:`skface.fairness`) plus
the decode pass of ``skface._input``, and import it only when they run.
Model options the user did not give are not passed, so the estimator's own
defaults apply (:class:`._library.EstimatorDefault`).

Labels: the CSVs hold class 0/1 (or -1/1); everything a command writes or
prints (``predictions.csv``, the report, the tables) uses -1/1, the
reference's prediction labels.
"""

import os
import sys
import time
import warnings

from .. import _atomic
from ._library import given, resolve
from ._messages import CommandError, import_tensorflow, warn
from ._types import describe_weights

__all__ = ["run_demo", "run_train", "run_predict", "run_evaluate"]

#: the model options passed to FaceCNNClassifier when given (option dest = parameter name)
_MODEL_OPTIONS = ("image_size", "epochs", "n_iter_no_change", "min_images", "batch_size", "learning_rate", "filters",
                  "dense_units")
#: the group-aware options of train, passed the same way
_GROUP_OPTIONS = ("fairness", "group_sampling", "scoring", "dro_groups", "dro_step_size", "dro_adjustment",
                  "gap_weight")


# --------------------------------------------------------------------- helpers
def _say(text=""):
    print(text, flush=True)


def _plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def _verbose(args):
    return args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)


def _require_file(path, option):
    if not os.path.isfile(path):
        raise CommandError(f"{option} {path!r} does not exist or is not a file.")


def _require_dir(path, option):
    if path is not None and not os.path.isdir(path):
        raise CommandError(f"{option} {path!r} does not exist or is not a folder.")


def _require_parent(path, option):
    """A file to write: its folder must exist, and it must not be a folder itself
    (checked before any work, so that nothing is lost to a bad name)."""
    if os.path.isdir(path):
        raise CommandError(f"{option} {path!r} is a folder; give the path of the file to write in it.")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CommandError(f"the folder of {option} {path!r} does not exist: {parent!r}.")


def _require_folder_to_write(path, option):
    """A folder to write into, created if missing: refused when a file has its name."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise CommandError(f"{option} {path!r} is a file; give a folder (created if missing).")


def _estimator(args, **params):
    """A FaceCNNClassifier with the model options the user gave, and ``params``."""
    import_tensorflow()
    from .. import FaceCNNClassifier

    options = {name: getattr(args, name) for name in _MODEL_OPTIONS if given(getattr(args, name))}
    return FaceCNNClassifier(random_state=args.random_state, verbose=_verbose(args), **options, **params)


def _load_model(path):
    _require_file(path, "--model")
    import_tensorflow()
    from .. import load

    return load(path, verbose=0)  # no Keras progress lines for prediction


def _groups_needed(clf):
    """What a loaded model needs of each image's group to predict: None (one
    threshold for all), "given" or "inferred" (per-group thresholds)."""
    return clf.groups_at_predict_ if hasattr(clf, "thresholds_") else None


def _network(clf):
    """The FaceCNNClassifier that gives a loaded model's probabilities."""
    return clf.estimator_ if hasattr(clf, "thresholds_") else clf


def decision_threshold(clf):
    """The threshold a FaceCNNClassifier's ``predict`` applies (its own, or the one fit chose)."""
    from .._training import decision_threshold as applied  # imports Keras: only once a model is in hand

    return applied(clf)


def describe_decision(clf, threshold=None):
    """How a loaded model turns probabilities into labels, and which groups it needs, in a sentence."""
    needs = _groups_needed(clf)
    if needs is None:
        threshold = decision_threshold(clf) if threshold is None else threshold
        return f"label 1 where P(label 1) > {threshold:g}, for every image; needs no group"
    shown = ", ".join(f"{g}: {t:.3f}" for g, t in clf.thresholds_.items())
    if needs == "given":
        return (f"per-group thresholds ({shown}), label 1 where P(label 1) > its group's; needs each image's "
                "group at prediction time")
    return (f"per-group thresholds ({shown}) applied to the groups its second network infers from each image; "
            "needs no group at prediction time (uses the group when given)")


def _decide(clf, proba, groups, threshold):
    """Labels -1/1 of the probabilities of label 1: per-group thresholds when the model has them."""
    import numpy as np

    if _groups_needed(clf) is None:
        return np.where(proba > threshold, 1, -1)
    return np.where(clf._decide(proba, groups) == clf.classes_[1], 1, -1)


def _load_labelled(args, *, on_missing="raise", groups_optional=False):
    """The labelled frame of ``--csv`` or ``--celeba``: absolute paths, y (-1/1), groups, source.

    With ``groups_optional``, data without the default --sensitive column give
    groups None; a column named with --sensitive must exist.
    """
    from .._validation import check_columns, check_label_column
    from ..datasets import load_celeba, load_faces

    if getattr(args, "utkface", None) is not None:
        frame = _read_utkface(args.utkface, on_missing=on_missing)
        source = f"UTKFace at {args.utkface}"
        args.image_column = "filename"  # load_utkface's column of absolute paths
    elif args.csv is not None:
        _require_file(args.csv, "--csv")
        _require_dir(args.image_dir, "--image-dir")
        args.image_column = resolve(args.image_column)
        frame = load_faces(args.csv, args.image_dir, image_column=args.image_column, on_missing=on_missing)
        source = repr(args.csv)
    else:
        split = None if args.split == "all" else args.split
        frame = load_celeba(args.celeba, split=split, on_missing=on_missing)
        source = f"CelebA at {args.celeba}" + ("" if split is None else f" ({split} split)")
        args.image_column = "filename"  # load_celeba's column of absolute paths
    label = args.label
    check_columns(frame, {"--label": label}, source)
    y = check_label_column(frame[label], f"column {label!r} of {source}")
    present = all(c in frame.columns for c in sensitive_columns(args))
    if groups_optional and not args.sensitive_given and not present:
        return frame, y, None, source
    return frame, y, read_groups(frame, args, source), source


def sensitive_columns(args):
    """The columns ``--sensitive`` names: one, or several joined by commas
    (``gender,race``), whose combinations are the groups."""
    return args.sensitive.split(",")


def sensitive_name(args):
    """How output names the groups of ``--sensitive``: ``gender``, or ``gender x race``."""
    return " x ".join(sensitive_columns(args))


def sensitive_source(args):
    """``column 'gender'``, or ``columns gender,race``: where the groups are read."""
    columns = sensitive_columns(args)
    return f"column {columns[0]!r}" if len(columns) == 1 else f"columns {args.sensitive}"


def read_groups(frame, args, source, *, warn_small=True):
    """The group of every row from the ``--sensitive`` column(s): its values, or
    tuples of them for several columns (intersectional groups, named ``gender x race``)."""
    from .._validation import check_columns, check_groups

    columns = sensitive_columns(args)
    for column in columns:
        check_columns(frame, {"--sensitive": column}, source)
    values = frame[columns] if len(columns) > 1 else frame[columns[0]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        groups = check_groups(values, name=f"{sensitive_source(args)} of {source}", warn_small=warn_small)
    for message in caught:  # groups with few images, on one line of stderr
        warn(str(message.message))
    return groups.to_numpy()


def _read_utkface(root, *, on_missing="raise"):
    """UTKFace adults of folder ``root`` (load_utkface's default task), its names without
    labels left out with one warning line."""
    from ..datasets import load_utkface

    _require_dir(root, "--utkface")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        frame = load_utkface(root, on_missing=on_missing)
    for message in caught:
        warn(str(message.message))
    return frame


def _counts(splits, groups, y, sensitive):
    """Images per split, group and label (-1/1), as a table for the report."""
    import pandas as pd

    from ._html_report import group_label

    frame = pd.DataFrame({"split": splits, "group": groups, "label": y})
    table = pd.crosstab(frame["split"], [frame["group"], frame["label"]])
    table.columns = [f"{group_label(sensitive, g)}, label {c:+d}" for g, c in table.columns]
    table["total"] = table.sum(axis=1)
    order = [s for s in ("train", "valid", "test") if s in table.index]
    table = table.loc[order + [s for s in table.index if s not in order]]
    table.index.name = "split"
    return table


def _format_table(table):
    return table.to_string(float_format=lambda v: f"{v:.3f}")


def _positive_proba(clf, X, batch_size=None):
    kwargs = {} if batch_size is None else {"batch_size": batch_size}
    return _network(clf).predict_proba(X, **kwargs)[:, 1]


def _check_predictions(proba, threshold, name=None):
    """Warn when the predictions look like a model that learned nothing."""
    from .._diagnostics import degenerate_predictions

    message = degenerate_predictions(proba, threshold, classes=(-1, 1))
    if message is not None:
        warn(message if name is None else f"{name}: {message}")


def _compare_with_baseline(results, baseline):
    """Print which models beat the majority-class baseline, and the best of those."""
    from ._html_report import best_model

    below = [r.name for r in results if r.frame.overall["accuracy"] <= baseline.frame.overall["accuracy"]]
    if below:
        warn(f"{', '.join(below)}: accuracy at or below the {baseline.frame.overall['accuracy']:.3f} of "
             f"{baseline.name}, a model that learned nothing but the label balance. Try a larger --epochs or "
             "--n-iter-no-change.")
    best = best_model(results, baseline)
    if best is not None:
        _say(f"Best Fair_Metric of the models above the baseline: {best.name} ({best.frame.fair_metric:.3f})")


# ------------------------------------------------------------------------ demo
#: resamples of the test faces behind each model's Fair_Metric interval
BOOTSTRAP_RESAMPLES = 1000


def _listed(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def mitigation_verdict(reference, mitigations, differences, n_test):
    """One sentence from the paired 95 % intervals ``differences`` of each
    mitigation's Fair_Metric minus ``reference``'s (on the same resamples):
    whether it raises Fair_Metric (the interval lies above 0), is not shown to
    differ (it holds 0) or lowers it (it lies below 0)."""
    verdicts = {"above": [], "same": [], "below": []}
    for result, (low, high) in zip(mitigations, differences, strict=True):
        key = "above" if low > 0 else "below" if high < 0 else "same"
        verdicts[key].append(f"{result.name} [{low:+.3f}, {high:+.3f}]")
    above, same, below = verdicts["above"], verdicts["same"], verdicts["below"]
    ref = reference.name
    if above:
        head = f"{_listed(above)} {'raises' if len(above) == 1 else 'raise'} Fair_Metric above {ref}'s"
    else:
        head = f"no mitigation is shown to raise Fair_Metric above {ref}'s"
    clauses = []
    if same:
        clauses.append(f"{_listed(same)} {'is' if len(same) == 1 else 'are'} not shown to differ from it")
    if below:
        clauses.append(f"{_listed(below)} {'lowers' if len(below) == 1 else 'lower'} it")
    return (f"On these {n_test} test faces (95% intervals of each Fair_Metric minus {ref}'s on the same "
            f"resamples), {head}" + (": " + "; ".join(clauses) if clauses else "") + ".")


def run_demo(args):
    import numpy as np
    import pandas as pd
    from PIL import Image

    from .._split import class_group_split
    from ..datasets import make_faces
    from ..fairness import FairThresholdClassifier, group_sample_weight
    from ._html_report import ModelResult, bootstrap_fair_metric, majority_baseline, summary_table, write_report

    start = time.perf_counter()
    _require_folder_to_write(args.output, "--output")
    out = os.path.abspath(args.output)
    faces_dir = os.path.join(out, "faces")
    os.makedirs(faces_dir, exist_ok=True)

    size = resolve(args.image_size)
    size = size if isinstance(size, int) else size[0]  # the estimator's default is a (height, width) pair
    if args.utkface is None:
        n_all = args.n_samples + args.n_test
        _say(f"Generating {n_all} synthetic faces of {size}x{size} pixels ({args.n_samples} to train and "
             f"validate on, {args.n_test} to test on) ...")
        faces = make_faces(n_all, image_size=size, random_state=args.random_state)
        X, gender, target = faces.images, faces.gender, faces.target
        names = np.array([f"face_{i:05d}.png" for i in range(len(target))])
        for name, image in zip(names, X):
            # temporary name, then rename: an interrupted demo leaves no half image
            with _atomic.atomic_path(os.path.join(faces_dir, name), durable=False) as tmp:
                Image.fromarray(image).save(tmp)
        what = (f"{n_all} synthetic faces (skface.datasets.make_faces): label +1 = blond hair "
                "or eyeglasses (class 1 in the CSVs)")
        fitting, test = np.arange(args.n_samples), np.arange(args.n_samples, n_all)
    else:
        frame = _read_utkface(args.utkface)
        y_all, g_all = frame["class"].to_numpy(), frame["gender"].to_numpy()
        if args.n_samples >= len(frame):
            raise CommandError(f"--n-samples {args.n_samples}: {args.utkface} holds {len(frame)} adults, and the "
                               "demo tests on faces it does not train on; use a smaller --n-samples.")
        others, fitting = class_group_split(len(frame), args.n_samples / len(frame), y_all, g_all,
                                            random_state=args.random_state)
        test = others
        if args.n_test < len(others):
            _, test = class_group_split(others, args.n_test / len(others), y_all, g_all,
                                        random_state=args.random_state)
        _say(f"Reading {len(fitting) + len(test)} UTKFace adults from {args.utkface} (class 1: aged 40 or more; "
             f"{len(fitting)} to train and validate on, {len(test)} other ones to test on), resized to "
             f"{size}x{size} pixels by the estimator ...")
        # the photographs stay where they are: paths, decoded by the estimator's pipeline
        X = names = frame["filename"].to_numpy(dtype=object)
        gender, target = frame["gender"].to_numpy(), frame["class"].to_numpy()
        what = (f"{len(fitting) + len(test)} UTKFace photographs of adults (skface.datasets.load_utkface): label "
                "+1 = aged 40 or more (class 1 in the CSVs)")
    y = np.where(target == 1, 1, -1)  # the reference's -1/1 labels

    try:
        train, valid = class_group_split(np.sort(fitting), 0.25, y, gender, random_state=args.random_state)
    except ValueError as exc:
        raise CommandError(f"cannot split {args.n_samples} faces 75/25 ({exc}); use a larger --n-samples.") from None
    test = np.sort(test)
    split = np.full(len(y), None, dtype=object)
    split[train], split[valid], split[test] = "train", "valid", "test"
    for part, idx in (("train", train), ("valid", valid), ("test", test)):
        labels = pd.DataFrame({"filename": names[idx], "gender": gender[idx], "class": target[idx]})
        _atomic.write_csv(labels, os.path.join(faces_dir, f"{part}.csv"))
    written = "written to" if args.utkface is None else "listed (where they are) in"
    _say(f"  {len(train)} train / {len(valid)} validation / {len(test)} test faces {written} "
         f"{os.path.relpath(faces_dir)}/ (train.csv, valid.csv, test.csv; class 0/1)")

    # every model is given the gender of its training faces: the same hold-out, stratified on
    # class x gender, for all three, and every gender's accuracy in their histories; only
    # Group DRO trains on it
    X_train, y_train, g_train = X[train], y[train], gender[train]
    _say("\nTraining the reference CNN, unweighted ...")
    unweighted = _estimator(args).fit(X_train, y_train, sensitive_features=g_train)
    _say(f"  {_plural(len(unweighted.history_['loss']), 'epoch')}, {time.perf_counter() - start:.0f} s so far")

    weights = group_sample_weight(g_train, args.weights)
    described = describe_weights(args.weights)
    _say(f"\nTraining the reference CNN with gender weights ({described}) ...")
    weighted = _estimator(args).fit(X_train, y_train, sample_weight=weights, sensitive_features=g_train)
    _say(f"  {_plural(len(weighted.history_['loss']), 'epoch')}, {time.perf_counter() - start:.0f} s so far")

    _say("\nTraining the reference CNN with Group DRO (fairness='group_dro') ...")
    dro = _estimator(args, fairness="group_dro").fit(X_train, y_train, sensitive_features=g_train)
    dro_weights = ", ".join(f"{_cell_name(k)} {w:.3f}" for k, w in dro.group_weights_.items())
    _say(f"  {_plural(len(dro.history_['loss']), 'epoch')}, {time.perf_counter() - start:.0f} s so far; "
         f"weights of the (gender, label) groups after the last epoch: {dro_weights}")
    for model in (unweighted, weighted, dro):
        model.set_params(verbose=0)  # no progress lines for the predictions below

    _say("\nChoosing per-gender thresholds on the validation split (FairThresholdClassifier) ...")
    fair = FairThresholdClassifier(weighted, prefit=True).fit(X[valid], y[valid], sensitive_features=gender[valid])
    thresholds = ", ".join(f"{g}: {t:.3f}" for g, t in fair.thresholds_.items())
    _say(f"  thresholds {thresholds}")
    # the model that writes predictions.csv, so that 'skface predict' with it gives the same file
    model_path = fair.save(os.path.join(out, "model.keras"))

    X_test, y_test, g_test = X[test], y[test], gender[test]
    results = []
    for name, model, note in (
        ("unweighted", unweighted, "the reference CNN, no weights"),
        ("weighted", weighted, f"the reference CNN, per-sample gender weights {described}"),
        ("Group DRO", dro, f"the reference CNN trained with Group DRO (fairness='group_dro', dro_groups="
                           f"{dro.dro_groups!r}, dro_step_size={dro.dro_step_size:g}) on the gender of the "
                           f"training faces; weights of the groups after the last epoch: {dro_weights}"),
    ):
        proba = model.predict_proba(X_test)[:, 1]
        _check_predictions(proba, decision_threshold(model), name)
        results.append(ModelResult(name, np.where(proba > decision_threshold(model), 1, -1), proba,
                                   dict(model.history_), note))
    fair_pred = fair.predict(X_test, sensitive_features=g_test)
    results.append(ModelResult(
        "weighted + thresholds", np.asarray(fair_pred), results[1].proba, None,
        f"the weighted model with per-gender thresholds ({thresholds}) chosen on the "
        "validation split to maximise Fair_Metric",
    ))
    baseline = majority_baseline(y_test)
    bootstrap = dict(n_resamples=BOOTSTRAP_RESAMPLES, random_state=args.random_state)
    intervals = bootstrap_fair_metric(y_test, [r.y_pred for r in (*results, baseline)], g_test, **bootstrap)
    for result, interval in zip((*results, baseline), intervals):
        result.fair_metric_ci = interval
    # each mitigation against the unweighted model, on the same resamples
    differences = bootstrap_fair_metric(y_test, [r.y_pred for r in results], g_test, reference=0, **bootstrap)[1:]

    predictions = pd.DataFrame({"filename": names[test], "label": results[-1].y_pred.astype(int)})
    pred_path = _atomic.write_csv(predictions, os.path.join(out, "predictions.csv"))

    parameters = {
        "faces": what,
        "image_size": size,
        "split": (f"{len(train)} train / {len(valid)} validation (75 / 25 of --n-samples, stratified on class x "
                  f"gender) / {len(test)} test faces (--n-test, other faces)"),
        "early stopping": (f"on {weighted.validation_fraction:.0%} of the training split held out by "
                           f"FaceCNNClassifier (stratified on class x gender), patience "
                           f"{weighted.n_iter_no_change} epochs once it has trained on {weighted.min_images:,} images"),
        "epochs (max)": weighted.epochs,
        "epochs run": ", ".join(f"{name} {len(model.history_['loss'])}" for name, model in
                                (("unweighted", unweighted), ("weighted", weighted), ("Group DRO", dro))),
        "filters": ",".join(map(str, weighted.filters)),
        "dense_units": weighted.dense_units,
        "batch_size": weighted.batch_size,
        "learning_rate": weighted.learning_rate,
        "loss": f"binary focal cross-entropy, gamma {weighted.focal_gamma:g}"
                + ("" if weighted.apply_class_balancing else " (no alpha, as the reference)"),
        "gender weights": described,
        "Group DRO": (f"dro_groups={dro.dro_groups!r}, dro_step_size={dro.dro_step_size:g}, "
                      f"dro_adjustment={dro.dro_adjustment:g}; weights after the last epoch: {dro_weights}"),
        "thresholds (weighted + thresholds)": thresholds,
        "saved model (model.keras)": f"weighted + thresholds: {describe_decision(fair)}",
        "Fair_Metric 95% interval": (f"percentiles 2.5 and 97.5 over {BOOTSTRAP_RESAMPLES} bootstrap resamples of "
                                     f"the {len(test)} test faces (seed {args.random_state}), the same for every "
                                     "model"),
        "mitigations against unweighted": ("the same percentiles of each model's Fair_Metric minus unweighted's on "
                                           "each resample (a paired interval of the difference)"),
        "precision": weighted.precision_,
        "random_state": args.random_state,
    }
    verdict = mitigation_verdict(results[0], results[1:], differences, len(test))
    _say("")
    report = write_report(
        out,
        title=f"skface demo: fairness on {'synthetic faces' if args.utkface is None else 'UTKFace photographs'}",
        intro=(f"{what}, gender -1 = woman, 1 = man. Four models "
               f"evaluated on the {len(test)} test faces, next to the majority-class baseline. {verdict}"),
        y_true=y_test,
        sensitive_features=g_test,
        results=results,
        baseline=baseline,
        images=X_test,
        filenames=names[test],
        parameters=parameters,
        data_summary=_counts(split, gender, y, "gender"),
    )

    table = summary_table([*results, baseline], sorted(set(g_test.tolist())), "gender")
    _say(f"Test split ({len(test)} faces):")
    _say(_format_table(table))
    _say("")
    _say(verdict)
    _compare_with_baseline(results, baseline)
    _say(f"predictions: {os.path.relpath(pred_path)} (weighted + thresholds, test faces; labels -1/1)")
    _say(f"model:       {os.path.relpath(model_path)} (weighted + thresholds: needs each face's gender, e.g. "
         f"skface predict --model {os.path.relpath(model_path)} --csv {os.path.relpath(faces_dir)}/test.csv "
         "--sensitive-column gender)")
    _say(f"report:      {os.path.relpath(report)}")
    _say(f"done in {time.perf_counter() - start:.0f} s")
    return 0


# ----------------------------------------------------------------------- train
def _group_needs(args):
    """The options given that need the groups: (those that need the column, those that need two groups).

    Each is a list of phrases. The estimator's parameters are worded by the
    library's own rule (``skface._groups.needs_groups``), one at a time, in
    its parameter names (the error line speaks them as options).
    """
    from types import SimpleNamespace

    from .._groups import needs_groups
    from .._options import DEFAULTS

    column = [] if args.weights is None else ["--weights"]
    if args.balance != "none":
        column.append(f"--balance {args.balance}")
    names = ("fairness", "group_sampling", "scoring")
    defaults = {name: DEFAULTS[name] for name in names}
    two = []
    for name in names:
        phrase = needs_groups(SimpleNamespace(**{**defaults, name: resolve(getattr(args, name))}))
        if phrase is not None:
            two.append(phrase)
    return column, two


def _require_groups(args, groups, frame, source):
    """Raise when an option needs groups the data do not have; return the distinct groups."""
    from .._validation import show_items

    distinct = [] if groups is None else sorted(set(groups.tolist()), key=repr)
    need_column, need_two = _group_needs(args)
    needs = need_column + need_two if groups is None else need_two if len(distinct) < 2 else []
    if needs:
        verb = "needs" if len(needs) == 1 else "need"
        if groups is None:
            problem = (f"{verb} the group of every image, but {source} has no column {args.sensitive!r}; its "
                       f"columns are {show_items(frame.columns, limit=12)}")
        else:
            problem = (f"{verb} two groups at least, but {sensitive_source(args)} of {source} holds one group "
                       f"only ({distinct[0]!r})")
        raise CommandError(f"{' and '.join(needs)} {problem}. Name the column of the groups with --sensitive.")
    return distinct


def _describe_group_training(clf):
    """The group-aware settings of ``clf`` in a line."""
    fairness = "none" if clf.fairness is None else clf.fairness
    if clf.fairness == "group_dro":
        fairness += (f" (groups {clf.dro_groups}, step size {clf.dro_step_size:g}, "
                     f"adjustment {clf.dro_adjustment:g})")
    elif clf.fairness == "gap_penalty":
        fairness += f" (gap weight {clf.gap_weight:g})"
    sampling = "none" if clf.group_sampling is None else clf.group_sampling
    scoring = _SCORED.get(clf.scoring, clf.scoring)
    return f"fairness: {fairness}; group sampling: {sampling}; scoring: the validation {scoring}"


#: scoring -> how the train summary names it
_SCORED = {"loss": "loss", "accuracy": "accuracy", "fair_metric": "Fair_Metric",
           "worst_group_accuracy": "worst-group accuracy"}


def _summarise_history(clf, sensitive):
    """The lines that close train's output: the best validation epoch, and the groups' numbers there."""
    import numpy as np

    from .._groups import FAIR_METRIC_KEY, WORST_GROUP_KEY, accuracy_key
    from .._options import SCORING
    from ._html_report import group_label

    history = clf.history_
    monitor, mode = SCORING[clf.scoring]
    if not history.get(monitor):
        return []
    values = np.asarray(history[monitor], dtype=float)
    best = int(np.argmin(values) if mode == "min" else np.argmax(values))
    shown = {"loss": "val_loss", "accuracy": "val_accuracy"}
    others = ", ".join(f"{name} {history[key][best]:.4f}" if name == "loss" else f"{name} {history[key][best]:.3f}"
                       for name, key in shown.items() if key != monitor and history.get(key))
    value = f"{values[best]:.4f}" if monitor == "val_loss" else f"{values[best]:.3f}"
    others = f" ({others})" if others else ""
    lines = [f"; best validation {_SCORED.get(clf.scoring, clf.scoring)} {value}{others} at epoch {best + 1}"]
    groups = getattr(clf, "sensitive_groups_", None)
    # a continuation of a fit without groups has per-group values for its own epochs only
    if groups is not None and len(history.get("val_" + FAIR_METRIC_KEY, [])) == len(values):
        accuracies = ", ".join(
            f"{group_label(sensitive, g, short=True)} {history['val_' + accuracy_key(str(g))][best]:.3f}"
            for g in groups.tolist()
        )
        worst = "group x class" if clf.dro_groups == "sensitive_x_class" else "group"
        lines.append(f"  validation at epoch {best + 1}: accuracy {accuracies}; Fair_Metric "
                     f"{history['val_' + FAIR_METRIC_KEY][best]:.3f}; worst {worst} accuracy "
                     f"{history['val_' + WORST_GROUP_KEY][best]:.3f}")
    if clf.fairness == "group_dro" and groups is not None:
        weights = clf.group_weights_
        shown_q = ", ".join(f"{_cell_name(k)} {w:.3f}" for k, w in weights.items())
        lines.append(f"  Group DRO weights after the last epoch: {shown_q}")
    return lines


def _cell_name(key):
    # a (group, class) pair of Group DRO's weights, or a group alone
    return f"({key[0]}, {key[1]:+d})" if isinstance(key, tuple) else str(key)


def run_train(args):
    from .._validation import show_items
    from ..fairness import balance_groups, group_sample_weight
    from ._html_report import group_label, members

    _require_parent(args.model, "--model")
    skip = resolve(args.on_bad_image) == "skip"
    # with skip, missing files are left to the estimator, which leaves them out and names them
    frame, y, groups, source = _load_labelled(args, on_missing="keep" if skip else "raise", groups_optional=True)
    distinct = _require_groups(args, groups, frame, source)
    if args.balance != "none":
        frame = frame.assign(_y=y)
        columns = sensitive_columns(args)
        frame = balance_groups(frame, columns if len(columns) > 1 else columns[0], strategy=args.balance,
                               random_state=args.random_state)
        # resampled: the size of each group was reported above
        y, groups = frame.pop("_y").to_numpy(), read_groups(frame, args, source, warn_small=False)
    if len(set(y.tolist())) < 2:
        raise CommandError(f"column {args.label!r} of {source} holds one class only; training needs both.")
    weights = None if args.weights is None else group_sample_weight(groups, args.weights)

    _say(f"Training on {len(y)} images from {source}")
    if groups is None:
        _say(f"  no column {args.sensitive!r} (--sensitive): training without groups")
    for g in distinct:
        mask = members(groups, g)
        _say(f"  {group_label(sensitive_name(args), g, plain=True)}: {int(mask.sum())} images, "
             f"{int((y[mask] == 1).sum())} of class 1")
    if len(distinct) == 1:
        _say("  one group only: no per-group training or history")
    _say(f"  weights: {describe_weights(args.weights)}; balance: {args.balance}")
    paths = frame[args.image_column].to_numpy()
    if not skip:
        # a bad file would otherwise stop training mid-epoch, minutes or hours in
        import_tensorflow()
        from .._input import unreadable_error

        start = time.perf_counter()
        error = unreadable_error(paths)
        if error is not None:
            raise error
        _say(f"  checked {_plural(len(paths), 'image file')}: all can be read "
             f"({time.perf_counter() - start:.0f} s)")

    params = dict(image_column=args.image_column)
    for name in ("backbone", "on_bad_image", *_GROUP_OPTIONS):
        if given(getattr(args, name)):
            params[name] = getattr(args, name)
    if args.backbone_weights is not None:
        params["backbone_weights"] = args.backbone_weights
    if args.checkpoint_dir is not None:
        params.update(checkpoint_dir=args.checkpoint_dir, warm_start=True)
        _say(f"  checkpoint after every epoch in {args.checkpoint_dir}; the same command resumes an "
             "interrupted run")
    clf = _estimator(args, **params)
    # the groups go to the model whenever there are two or more: a hold-out stratified on
    # class x group, every group's accuracy in the history, and what the group options need
    sensitive_features = groups if len(distinct) >= 2 else None
    if sensitive_features is not None:
        _say(f"  {_describe_group_training(clf)}")
    model = clf
    if args.thresholds:
        if sensitive_features is None:
            raise CommandError(f"--thresholds chooses one threshold per group, but {source} has "
                               f"{'one group only' if groups is not None else f'no column {args.sensitive!r}'}; "
                               "name the column of the groups with --sensitive.")
        from ..fairness import FairThresholdClassifier

        # the group network: the same options, trained on the groups as labels
        group_estimator = _estimator(args, image_column=args.image_column) if args.infer_groups else None
        model = FairThresholdClassifier(clf, random_state=args.random_state, group_estimator=group_estimator)
        _say(f"  per-group thresholds: the network trains on {1 - model.validation_fraction:.0%} of the images, "
             f"the thresholds are chosen on the other {model.validation_fraction:.0%}"
             + (" for the groups a second network infers from the images" if args.infer_groups else ""))
    start = time.perf_counter()
    with warnings.catch_warnings():
        # the estimator's warning names its skipped_images_ attribute; the list follows below instead
        warnings.filterwarnings("ignore", message="on_bad_image='skip': left out", category=UserWarning)
        model.fit(frame[[args.image_column]], y, sample_weight=weights, sensitive_features=sensitive_features)
    clf = _network(model)
    skipped = list(getattr(clf, "skipped_images_", []))
    if skipped:
        warn(f"left out {len(skipped)} of the {len(paths)} image files that cannot be read (missing, empty, "
             f"truncated or not an image): {show_items(skipped)}; all are listed on stdout.")
        _say(f"Left out {_plural(len(skipped), 'unreadable image file')}:")
        for path in skipped:
            _say(f"  {path}")
    summary = _summarise_history(clf, sensitive_name(args))
    line = f"Trained {_plural(len(clf.history_['loss']), 'epoch')} in {time.perf_counter() - start:.0f} s"
    _say(line + (summary[0] if summary else ""))
    for extra in summary[1:]:
        _say(extra)
    if model is not clf:
        _say(f"Thresholds chosen on {model.validation_fraction:.0%} of the images: Fair_Metric "
             f"{model.best_score_:.3f} there")
    model.save(args.model)
    _say(f"Saved the model to {args.model}: {describe_decision(model)}")
    return 0


# --------------------------------------------------------------------- predict
def _list_images(directory):
    from ._library import image_suffixes

    suffixes = image_suffixes()
    if not os.path.isdir(directory):
        raise CommandError(f"--images {directory!r} does not exist or is not a folder.")
    names = sorted(
        name for name in os.listdir(directory)
        if not name.startswith(".")
        and name.lower().endswith(suffixes)
        and os.path.isfile(os.path.join(directory, name))
    )
    if not names:
        raise CommandError(
            f"--images {directory!r} holds no image files (accepted suffixes: {', '.join(suffixes)})."
        )
    return names, [os.path.join(directory, name) for name in names]


def _problem(path):
    if not os.path.isfile(path):
        return "missing"
    if os.path.getsize(path) == 0:
        return "empty"
    return "cannot be decoded"


def _prediction_groups(args, clf, frame, needs):
    """The groups of the CSV's column for a model with per-group thresholds
    (None: none given, and the model infers them); refused when the model
    needs them and they are not there."""
    from .._validation import show_items

    if needs is None:
        if args.sensitive is not None:
            warn(f"--sensitive-column {args.sensitive!r} is not used: {args.model} applies one threshold to "
                 "every image.")
        return None
    if args.sensitive is None:
        if needs == "inferred":
            return None
        where = "--csv" if frame is not None else "--csv (a folder given with --images has no columns)"
        raise CommandError(f"{args.model} applies per-group thresholds and needs each image's group: give "
                           f"{where} with a column of the groups and name it with --sensitive-column.")
    for column in sensitive_columns(args):
        if column not in frame.columns:
            raise CommandError(f"--sensitive-column {column!r} is not a column of {args.csv}; its columns "
                               f"are {show_items(frame.columns, limit=12)}.")
    groups = read_groups(frame, args, repr(args.csv))
    unknown = sorted(set(groups.tolist()) - set(clf.thresholds_), key=repr)
    if unknown:
        raise CommandError(f"{sensitive_source(args)} of {args.csv} has groups {show_items(unknown)} that "
                           f"{args.model} has no threshold for; its thresholds are for "
                           f"{show_items(list(clf.thresholds_))}.")
    return groups


def unreadable_list_path(output):
    """Where ``predict --on-bad-image skip`` lists the files it could not read."""
    return os.path.splitext(output)[0] + ".unreadable.csv"


def run_predict(args):
    import numpy as np
    import pandas as pd

    from .._validation import show_items

    _require_parent(args.output, "--output")
    skip = resolve(args.on_bad_image) == "skip"
    frame = None
    if args.images is not None:
        if args.sensitive is not None:
            raise CommandError("--sensitive-column reads a column of --csv; a folder given with --images has "
                               "no columns.")
        names, paths = _list_images(args.images)
    else:
        from ..datasets import load_faces

        _require_file(args.csv, "--csv")
        _require_dir(args.image_dir, "--image-dir")
        column = resolve(args.image_column)
        frame = load_faces(args.csv, args.image_dir, image_column=column, on_missing="keep" if skip else "raise")
        paths = frame[column].tolist()
        names = pd.read_csv(args.csv, usecols=[column])[column].tolist()
    names, paths = np.asarray(names, dtype=object), np.asarray(paths, dtype=object)
    clf = _load_model(args.model)
    needs = _groups_needed(clf)
    if needs is not None and args.threshold is not None:
        raise CommandError(f"--threshold replaces one threshold, but {args.model} applies one per group "
                           f"({describe_decision(clf)}); leave --threshold out.")
    groups = _prediction_groups(args, clf, frame, needs)
    threshold = decision_threshold(_network(clf)) if args.threshold is None else args.threshold
    bad = np.zeros(len(paths), dtype=bool)
    if skip:
        from .._input import find_unreadable  # TensorFlow is imported by now (_load_model)

        bad = find_unreadable(paths)
        if bad.all():
            raise CommandError(f"none of the {len(paths)} image files can be read: {show_items(paths)}.")
    _say(f"Predicting {len(paths) - int(bad.sum())} images with {args.model}: {describe_decision(clf, threshold)}")
    readable = paths[~bad].tolist()
    proba = _positive_proba(clf, readable, args.batch_size)
    if needs is not None:
        if groups is None:
            _say("  groups inferred from the images by the model's group network")
            groups = clf._prediction_groups(readable, None)
        else:
            _say(f"  groups from {sensitive_source(args)} of {args.csv}")
            groups = groups[~bad]
    labels = _decide(clf, proba, groups, threshold)
    columns = {"filename": names[~bad], "label": labels}
    if args.proba:
        columns["probability"] = np.round(proba, 6)
    _atomic.write_csv(pd.DataFrame(columns), args.output)
    _say(f"Wrote {len(labels)} predictions to {args.output}: {int((labels == 1).sum())} of label 1, "
         f"{int((labels == -1).sum())} of label -1")
    if skip:
        # written on every run, so that a list left by an earlier run is never mistaken for this one's
        listed = unreadable_list_path(args.output)
        problems = pd.DataFrame({"filename": names[bad], "problem": [_problem(p) for p in paths[bad]]})
        _atomic.write_csv(problems, listed)
        if bad.any():
            warn(f"{int(bad.sum())} of the {len(paths)} image files cannot be read and have no prediction: "
                 f"{show_items(names[bad])}; they are listed in {listed}.")
    _check_predictions(proba, threshold)
    return 0


# -------------------------------------------------------------------- evaluate
def _require_both_labels(y, args, source):
    for label, other, word in ((1, -1, "positive"), (-1, 1, "negative")):
        if not (y == label).any():
            raise CommandError(
                f"column {args.label!r} of {source} has no {word} label: all {len(y)} images are "
                f"{other:+d} (class {max(other, 0)}). Evaluating compares predictions with both labels (true "
                "and false positive rates, ROC AUC); check --label, or evaluate on data that holds both."
            )


def run_evaluate(args):
    import numpy as np
    import pandas as pd

    from ..fairness import fairness_report
    from ._html_report import ModelResult, group_label, majority_baseline, summary_table, write_report

    _require_file(args.model, "--model")
    _require_folder_to_write(args.report, "--report")
    frame, y, groups, source = _load_labelled(args)
    _require_both_labels(y, args, source)
    clf = _load_model(args.model)
    if _groups_needed(clf) is not None and args.threshold is not None:
        raise CommandError(f"--threshold replaces one threshold, but {args.model} applies one per group "
                           f"({describe_decision(clf)}); leave --threshold out.")
    network = _network(clf)
    threshold = decision_threshold(network) if args.threshold is None else args.threshold
    paths = frame[args.image_column].tolist()
    decision = describe_decision(clf, threshold)
    _say(f"Evaluating {args.model} on {len(paths)} images from {source}: {decision} ...")
    proba = _positive_proba(clf, paths)
    # a model that infers the groups is scored as it will be used: on the groups it
    # infers, while Fair_Metric below compares the true ones
    decided_on = clf._prediction_groups(paths, None) if _groups_needed(clf) == "inferred" else groups
    y_pred = _decide(clf, proba, decided_on, threshold)
    _check_predictions(proba, threshold)
    column = sensitive_name(args)
    audit = fairness_report(y, y_pred, sensitive_features=pd.Series(groups, name=column),
                            y_proba=proba, pos_label=1, n_boot=BOOTSTRAP_RESAMPLES, random_state=0)
    table = audit.by_group.copy()
    table.loc["overall"] = audit.overall
    table["count"] = table["count"].astype(int)
    _say(_format_table(table))
    _say(f"95% intervals over {BOOTSTRAP_RESAMPLES} bootstrap resamples of the images:")
    _say(_format_table(audit.by_group_interval.map(lambda pair: f"[{pair[0]:.3f}, {pair[1]:.3f}]")))
    low, high = audit.fair_metric_ci
    _say(f"Fair_Metric {audit.fair_metric:.3f} (95% interval [{low:.3f}, {high:.3f}] over {BOOTSTRAP_RESAMPLES} "
         "bootstrap resamples of the images)")
    worst_group, worst_label = audit.worst_group
    worst = group_label(column, worst_group, plain=True)
    _say(f"worst {column} x label accuracy {audit.worst_group_accuracy:.3f} ({worst}, label {worst_label:+d}); "
         f"equalized-odds difference {audit.equalized_odds_difference:.3f}; "
         f"demographic-parity difference {audit.demographic_parity_difference:.3f}")

    name = os.path.basename(args.model)
    result = ModelResult(name, y_pred, proba, dict(network.history_) or None,
                         f"{decision}; training curves from the model file")
    baseline = majority_baseline(y)
    params = network.get_params()
    parameters = {
        "model": os.path.abspath(args.model),
        "data": source,
        "label column": f"{args.label} (0/1 or -1/1 in the file; -1/1 here)",
        "sensitive column": column,
        "decision": decision,
        "image_size": params["image_size"],
        "backbone": params["backbone"],
        "filters": params["filters"],
        "dense_units": params["dense_units"],
        "epochs run": len(network.history_.get("loss", [])),
        "precision": network.precision_,
    }
    report = write_report(
        args.report,
        title=f"skface evaluate: {name}",
        intro=f"{name} evaluated on {len(y)} labelled images from {source}, next to the majority-class baseline.",
        y_true=y,
        sensitive_features=groups,
        sensitive_name=column,
        results=[result],
        baseline=baseline,
        images=paths,
        filenames=frame[args.image_column].tolist(),
        parameters=parameters,
        data_summary=_counts(np.full(len(y), "evaluated"), groups, y, column),
    )
    _say("")
    _say(_format_table(summary_table([result, baseline], sorted(set(groups.tolist()), key=repr), column)))
    _compare_with_baseline([result], baseline)
    _say(f"Report: {report}")
    return 0
