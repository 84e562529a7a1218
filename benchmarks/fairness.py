"""Fairness mitigations against ERM on synthetic faces: accuracy, Fair_Metric, cost.

    python -m benchmarks.fairness                  # the full run: writes benchmarks/results/fairness_benchmark.json,
                                                   # docs/fairness_benchmark.md, docs/_static/fairness_benchmark.png
    python -m benchmarks.fairness --quick --out /tmp/fb  # smoke run (tiny data and network, one strength
                                                   # per group-aware family; about a minute)
    python -m benchmarks.fairness --render benchmarks/results/fairness_benchmark.json  # page + figure
    python -m benchmarks.fairness --group-aware --merge benchmarks/results/fairness_benchmark.json
                                                   # make bench-group-training: only the group-aware
                                                   # arms, added to that JSON's run

Protocol. Synthetic faces: per seed, 60 % of ``make_faces(--n-samples,
image_size=--image-size)`` (one data set, ``--data-seed``) is the train part
(stratified on class x gender); the validation and test faces are drawn
apart, ``make_faces(--n-validation + --n-test, random_state=--data-seed + 1)``,
the same for every seed and large (6,000 and 20,000 by default) because they
cost only predictions and the paired interval of a Fair_Metric difference
must resolve about 0.015 (2,000 test faces gave +-0.045). UTKFace photographs
(``--utkface``) are finite: they are split, per seed, 60/20/20 into train /
validation / test, stratified on class x gender. Every network is the same
``FaceCNNClassifier(image_size, epochs, random_state=seed)`` with its default
early stopping (patience 1 on the validation loss, at most ``--epochs``
epochs), and every network is given the *train* part only (or the rows of it
that an undersampling arm keeps): the estimator holds out its own
``validation_fraction`` (0.2) of what it is given to stop on. The validation
split is never seen by a network; the post-processing arms fit on it. The test
split is used for the reported numbers only. Within a seed the ERM network is
trained once and reused by the ERM, threshold and fairlearn arms.

For every arm and seed the JSON holds the test accuracy per gender and
overall, Fair_Metric with a bootstrap 95 % interval over test faces, the worst
gender x class accuracy, the predicted positive rate, the training time and the
post-processing time; for every seed, the majority-class baseline (always
predict the majority training label). ``--render`` writes the markdown and the
figure from the JSON alone, so the docs show measured numbers, never retyped
ones, and the text that says what the table shows is generated from them.

Group-aware training (the ``group_aware`` section of the JSON, its own
section of the page and panel of the figure): on the same data, splits and
bootstrap resamples, networks given ``sensitive_features=gender`` of their
training rows (so their early-stopping hold-out is stratified on class x
gender): ERM, Group DRO (``dro_step_size`` 0.001, 0.01, 0.1, or
``--dro-step-sizes``) and the gap penalty (``gap_weight`` 0.3, 1, 3, or
``--gap-weights``), each plain and with
``group_sampling="balanced", scoring="fair_metric"``; per family, the config
with the best Fair_Metric on the validation split is reported as "selected on
validation". Cost is seconds per epoch against the same seed's plain ERM. A
full run does both parts; ``--group-aware --merge JSON`` runs only this one
and adds it to JSON's run (whose arguments it must share), writing where a full run writes
(or into --out).
"""

import argparse
import datetime
import json
import os
import sys
import time
import warnings
from typing import NamedTuple

if __package__ in (None, ""):  # python benchmarks/fairness.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"  # noqa: A001

import numpy as np

from .common import DOCS, epoch_timer, machine_summary, output_paths, render_paths, split_indices, utkface_arrays

SCHEMA = 1
JSON_NAME, MD_NAME, FIGURE_NAME = "fairness_benchmark.json", "fairness_benchmark.md", "fairness_benchmark.png"
#: the same outputs of a run on UTKFace photographs (--utkface)
REAL_NAMES = ("real_faces.json", "real_faces.md", "real_faces.png")
REFERENCE_WEIGHTS = {-1: 1.0, 1: 0.1}
GENDERS = {-1: "women", 1: "men"}

FULL = dict(n_samples=10_000, n_validation=6_000, n_test=20_000, image_size=64, epochs=10, seeds=3,
            filters=(32, 64, 128),
            dense_units=512, batch_size=32, n_boot=1000, run_eagerly=False, expgrad_max_iter=50,
            dro_step_sizes=(0.001, 0.01, 0.1), gap_weights=(0.3, 1.0, 3.0))
#: the smoke run checks the code paths, so one strength per group-aware family is enough
QUICK = dict(n_samples=400, n_validation=100, n_test=300, image_size=16, epochs=1, seeds=2, filters=(4, 8),
             dense_units=16, batch_size=32, n_boot=200, run_eagerly=True, expgrad_max_iter=5,
             dro_step_sizes=(0.01,), gap_weights=(1.0,))

#: key, title, what it does, its cost beyond training the network
ARMS = [
    ("erm", "ERM", "unweighted training", "none"),
    ("weights_reference", "weights {-1: 1.0, 1: 0.1}",
     "the reference's sample weights (women 1.0, men 0.1)", "none"),
    ("weights_balanced_gender", "weights balanced by gender",
     "group_sample_weight(gender, 'balanced')", "none"),
    ("weights_balanced_cells", "weights balanced by gender x class",
     "group_sample_weight(gender, 'balanced', y=y)", "none"),
    ("undersample_gender", "undersample gender",
     "balance_groups(train, 'gender'): the reference's undersampling", "trains on fewer faces"),
    ("undersample_cells", "undersample gender x class (SUBG)",
     "balance_groups(train, ['gender', 'label']) (Idrissi et al., 2022)", "trains on fewer faces"),
    ("fair_threshold", "ERM + FairThresholdClassifier",
     "per-gender thresholds maximising Fair_Metric on the validation split",
     "needs the gender at prediction time and a held-out split"),
    ("threshold_optimizer_dp", "ERM + ThresholdOptimizer (demographic parity)",
     "fairlearn ThresholdOptimizer(prefit ERM, 'demographic_parity') fit on the validation split",
     "needs the gender at prediction time and a held-out split; randomised predictions"),
    ("threshold_optimizer_eo", "ERM + ThresholdOptimizer (equalized odds)",
     "fairlearn ThresholdOptimizer(prefit ERM, 'equalized_odds') fit on the validation split",
     "needs the gender at prediction time and a held-out split; randomised predictions"),
    ("dfr", "ERM + DeepFeatureReweighting",
     "the ERM network's last layer retrained on gender x class balanced features of the validation split "
     "(DeepFeatureReweighting, prefit; Kirichenko et al., 2023)",
     "a forward pass for the features, logistic regressions, a held-out split; no gender at prediction time"),
    ("expgrad_features", "ExponentiatedGradient on ERM features",
     "fairlearn ExponentiatedGradient(LogisticRegression(), ErrorRateParity()) on the ERM network's "
     "standardised Dense layer output, fit on the validation split",
     "a forward pass for the features, many logistic regressions, a held-out split; "
     "randomised predictions"),
]
ARM_KEYS = [key for key, *_ in ARMS]
#: per-seed fields of every arm
SEED_FIELDS = ("accuracy", "accuracy_women", "accuracy_men", "fair_metric", "fair_metric_ci",
               "accuracy_ci", "worst_cell_accuracy", "worst_cell", "positive_rate",
               "train_seconds", "post_seconds", "epochs_run", "n_train_images")
SUMMARY_FIELDS = ("accuracy", "accuracy_women", "accuracy_men", "fair_metric",
                  "worst_cell_accuracy", "positive_rate", "train_seconds", "post_seconds")


# ------------------------------------------------------------------ metrics
def seed_split(faces, seed, n_boot):
    """One seed's (images, labels, genders) of train, validation and test, and its test resamples.

    With drawn held-out faces (``faces.held_out``: synthetic data), the train
    part is 60 % of the faces and validation and test come from the drawn ones."""
    from skface._split import class_group_split

    X, y, gender = faces.images, faces.target, faces.gender
    held = getattr(faces, "held_out", None)
    if held is None:
        parts = [(X[i], y[i], gender[i]) for i in split_indices(y, gender, seed)]
    else:
        train, _ = class_group_split(len(y), 0.4, y, gender, random_state=seed)
        n_val = held.n_validation
        parts = [(X[train], y[train], gender[train]),
                 (held.images[:n_val], held.target[:n_val], held.gender[:n_val]),
                 (held.images[n_val:], held.target[n_val:], held.gender[n_val:])]
    return (*parts, Resamples(n_boot, [seed, 20221]))


class Resamples(NamedTuple):
    """The test resamples of one seed, shared by every arm (paired comparisons):
    the library's bootstrap draws the same ones from the same seed."""

    n: int
    random_state: list


def evaluate(y_true, y_pred, gender, boot):
    """The per-seed numbers of one arm on the test split, plus its bootstrap replicates."""
    from skface.metrics import fair_metric, fair_metric_bootstrap, group_accuracy
    from skface.metrics._fair_metric import resampled_sums

    y_true, y_pred, gender = np.asarray(y_true), np.asarray(y_pred), np.asarray(gender)
    correct = y_true == y_pred
    by_gender = group_accuracy(y_true, y_pred, sensitive_features=gender)
    cells = {}
    for g in (-1, 1):
        for c in (0, 1):
            mask = (gender == g) & (y_true == c)
            if mask.any():
                cells[f"{GENDERS[g]}, class {c}"] = float(correct[mask].mean())
    worst = min(cells, key=cells.get)
    fair_replicates = fair_metric_bootstrap(y_true, y_pred, sensitive_features=gender, n_resamples=boot.n,
                                            random_state=boot.random_state)
    acc_replicates = resampled_sums(correct, boot.n, boot.random_state)[:, 0] / len(correct)
    record = {
        "accuracy": float(correct.mean()),
        "accuracy_women": float(by_gender.loc[-1]),
        "accuracy_men": float(by_gender.loc[1]),
        "fair_metric": float(fair_metric(y_true, y_pred, sensitive_features=gender)),
        "fair_metric_ci": [float(v) for v in np.percentile(fair_replicates, [2.5, 97.5])],
        "accuracy_ci": [float(v) for v in np.percentile(acc_replicates, [2.5, 97.5])],
        "worst_cell_accuracy": cells[worst],
        "worst_cell": worst,
        "cell_accuracy": cells,
        "positive_rate": float(np.mean(y_pred == 1)),
    }
    return record, fair_replicates, acc_replicates


def intersectional_audit(y_true, y_pred, gender, race):
    """Accuracy of every gender x race cell of the test faces, and the worst one."""
    correct = np.asarray(y_true) == np.asarray(y_pred)
    cells = {}
    for g in (-1, 1):
        for r in sorted(set(race.tolist())):
            mask = (gender == g) & (race == r)
            if mask.any():
                cells[f"{GENDERS[g]}, {r}"] = {"accuracy": float(correct[mask].mean()), "n": int(mask.sum())}
    worst = min(cells, key=lambda k: cells[k]["accuracy"])
    return {"gender_race_accuracy": cells, "worst_gender_race": worst,
            "worst_gender_race_accuracy": cells[worst]["accuracy"]}


def _mean_std(values):
    values = np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if values.size > 1 else 0.0}


def _ci(replicates):
    return [float(v) for v in np.percentile(replicates, [2.5, 97.5])]


def _classifier(args, seed):
    from skface import FaceCNNClassifier

    return FaceCNNClassifier(
        image_size=args.image_size, epochs=args.epochs, random_state=seed,
        filters=tuple(args.filters), dense_units=args.dense_units, batch_size=args.batch_size,
        run_eagerly=args.run_eagerly,
    )


def _fit(args, seed, X, y, sample_weight=None):
    clf = _classifier(args, seed)
    start = time.perf_counter()
    clf.fit(X, y, sample_weight=sample_weight)
    return clf, time.perf_counter() - start


def run_seed(args, faces, seed, log):
    """Every arm on one seed's split; returns (per-arm records, baseline, split sizes)."""
    import keras
    import pandas as pd
    from fairlearn.postprocessing import ThresholdOptimizer
    from fairlearn.reductions import ErrorRateParity, ExponentiatedGradient
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from skface.fairness import DeepFeatureReweighting, FairThresholdClassifier, balance_groups, group_sample_weight
    from skface.metrics import fair_metric

    (X_tr, y_tr, g_tr), (X_val, y_val, g_val), (X_te, y_te, g_te), boot = seed_split(faces, seed, args.n_boot)
    race_te = None if getattr(faces, "race", None) is None else faces.race[split_indices(
        faces.target, faces.gender, seed)[2]]

    records, replicates = {}, {}

    def record(key, y_pred, clf, train_seconds, post_seconds, n_train):
        rec, fair_rep, acc_rep = evaluate(y_te, y_pred, g_te, boot)
        if race_te is not None:
            rec.update(intersectional_audit(y_te, y_pred, g_te, race_te))
        rec.update(seed=seed, train_seconds=float(train_seconds), post_seconds=float(post_seconds),
                   epochs_run=len(clf.history_.get("loss", [])), n_train_images=int(n_train))
        records[key], replicates[key] = rec, (fair_rep, acc_rep)
        log(f"  seed {seed} {key:24s} acc {rec['accuracy']:.3f}  Fair_Metric {rec['fair_metric']:.3f}  "
            f"worst cell {rec['worst_cell_accuracy']:.3f}  positive rate {rec['positive_rate']:.3f}  "
            f"{train_seconds:.1f} s + {post_seconds:.1f} s")

    # 1. ERM, reused by the post-processing arms
    erm, erm_seconds = _fit(args, seed, X_tr, y_tr)
    record("erm", erm.predict(X_te), erm, erm_seconds, 0.0, len(y_tr))
    precision = erm.precision_

    # 2-3. sample weights
    for key, weights in (
        ("weights_reference", group_sample_weight(g_tr, REFERENCE_WEIGHTS)),
        ("weights_balanced_gender", group_sample_weight(g_tr, "balanced")),
        ("weights_balanced_cells", group_sample_weight(g_tr, "balanced", y=y_tr)),
    ):
        clf, seconds = _fit(args, seed, X_tr, y_tr, sample_weight=weights)
        record(key, clf.predict(X_te), clf, seconds, 0.0, len(y_tr))

    # 4. undersampling
    frame = pd.DataFrame({"row": np.arange(len(y_tr)), "gender": g_tr, "label": y_tr})
    for key, column in (("undersample_gender", "gender"), ("undersample_cells", ["gender", "label"])):
        keep = balance_groups(frame, column, random_state=seed)["row"].to_numpy()
        clf, seconds = _fit(args, seed, X_tr[keep], y_tr[keep])
        record(key, clf.predict(X_te), clf, seconds, 0.0, len(keep))

    # 5. per-gender thresholds for Fair_Metric
    start = time.perf_counter()
    fair = FairThresholdClassifier(erm, prefit=True).fit(X_val, y_val, sensitive_features=g_val)
    post = time.perf_counter() - start
    record("fair_threshold", fair.predict(X_te, sensitive_features=g_te), erm, erm_seconds, post, len(y_tr))

    # 6. fairlearn's post-processing and reduction
    for key, constraints in (("threshold_optimizer_dp", "demographic_parity"),
                             ("threshold_optimizer_eo", "equalized_odds")):
        start = time.perf_counter()
        optimizer = ThresholdOptimizer(estimator=erm, constraints=constraints, prefit=True,
                                       predict_method="predict_proba")
        optimizer.fit(X_val, y_val, sensitive_features=g_val)
        post = time.perf_counter() - start
        y_pred = optimizer.predict(X_te, sensitive_features=g_te, random_state=seed)
        record(key, np.asarray(y_pred), erm, erm_seconds, post, len(y_tr))

    start = time.perf_counter()
    dfr = DeepFeatureReweighting(erm, prefit=True, random_state=seed).fit(X_val, y_val, sensitive_features=g_val)
    post = time.perf_counter() - start
    record("dfr", dfr.predict(X_te), erm, erm_seconds, post, len(y_tr))

    start = time.perf_counter()
    features = keras.Model(erm.model_.inputs, erm.model_.get_layer("dropout").output)
    # the network reads float images in [0, 1] (the estimator divides uint8 by 255)
    F_val = features.predict(X_val.astype(np.float32) / 255, batch_size=256, verbose=0)
    F_te = features.predict(X_te.astype(np.float32) / 255, batch_size=256, verbose=0)
    scaler = StandardScaler().fit(F_val)
    reduction = ExponentiatedGradient(LogisticRegression(max_iter=1000), ErrorRateParity(),
                                      max_iter=args.expgrad_max_iter)
    with warnings.catch_warnings():
        # fairlearn's own use of pandas, not ours
        warnings.filterwarnings("ignore", message="Setting a value on a Series via .at")
        warnings.filterwarnings("ignore", message="Setting an item of incompatible dtype")
        reduction.fit(scaler.transform(F_val), y_val, sensitive_features=g_val)
        post = time.perf_counter() - start
        y_pred = reduction.predict(scaler.transform(F_te), random_state=seed)
    record("expgrad_features", np.asarray(y_pred), erm, erm_seconds, post, len(y_tr))

    # the majority-class baseline: always the majority training label
    majority = int(np.bincount(y_tr).argmax())
    base_pred = np.full_like(y_te, majority)
    base, _, _ = evaluate(y_te, base_pred, g_te, boot)
    base["majority_label"] = majority
    assert abs(base["fair_metric"] - fair_metric(y_te, base_pred, sensitive_features=g_te)) < 1e-12
    split = {"seed": seed, "n_train": len(y_tr), "n_validation": len(y_val), "n_test": len(y_te),
             "test_positive_rate": float(y_te.mean()), "test_women_share": float(np.mean(g_te == -1))}
    return records, replicates, base, split, precision


def summarise(per_seed, replicates):
    """Mean and spread over seeds per arm, and intervals of the seed-mean from the bootstrap."""
    summary = {}
    erm_fair = np.mean([replicates[s]["erm"][0] for s in replicates], axis=0)
    for key in ARM_KEYS:
        rows = [per_seed[s][key] for s in per_seed]
        fair_mean = np.mean([replicates[s][key][0] for s in replicates], axis=0)
        acc_mean = np.mean([replicates[s][key][1] for s in replicates], axis=0)
        entry = {field: _mean_std([r[field] for r in rows]) for field in SUMMARY_FIELDS}
        entry["fair_metric_ci"] = _ci(fair_mean)
        entry["accuracy_ci"] = _ci(acc_mean)
        # paired: the same test resamples for every arm of a seed
        entry["fair_metric_minus_erm_ci"] = _ci(fair_mean - erm_fair)
        summary[key] = entry
    return summary


def _arguments(args):
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items()
            if k not in ("render", "out", "figure", "group_aware", "merge", "names", "mitigations_only")}


def load_faces(args, log=print):
    """The benchmark's faces: ``make_faces``, or UTKFace adults with ``--utkface``
    (with their race, for the gender x race audit); and the data description."""
    from types import SimpleNamespace

    if args.utkface is None:
        from skface.datasets import make_faces

        log(f"make_faces({args.n_samples}, image_size={args.image_size}, random_state={args.data_seed}), "
            f"and {args.n_validation} + {args.n_test} held-out faces")
        faces = make_faces(args.n_samples, image_size=args.image_size, random_state=args.data_seed)
        faces.held_out = make_faces(args.n_validation + args.n_test, image_size=args.image_size,
                                    random_state=args.data_seed + 1)
        faces.held_out.n_validation = args.n_validation
        source = (f"`make_faces({args.n_samples}, image_size={args.image_size})` (60 % of it the train part), "
                  f"validation and test faces drawn apart: `make_faces({args.n_validation} + {args.n_test})`")
    else:
        images, frame = utkface_arrays(args.utkface, args.image_size, n=args.n_samples,
                                       random_state=args.data_seed)
        faces = SimpleNamespace(images=images, target=frame["class"].to_numpy(), gender=frame["gender"].to_numpy(),
                                race=frame["race_name"].to_numpy())
        source = (f"UTKFace photographs of adults (`load_utkface`: class 1 for age >= 40), {len(frame):,} faces "
                  f"resized to {args.image_size} px")
        log(f"UTKFace: {len(frame)} adults from {args.utkface}")
    data = {"source": source, "n_samples": int(len(faces.target)), "image_size": args.image_size,
            "positive_rate": float(faces.target.mean()), "women_share": float(np.mean(faces.gender == -1))}
    return faces, data


def run(args, log=print):
    machine = machine_summary()
    faces, data = load_faces(args, log)
    per_seed, replicates, baselines, splits, precision = {}, {}, [], [], None
    start = time.perf_counter()
    for seed in range(args.seeds):
        records, reps, base, split, precision = run_seed(args, faces, seed, log)
        per_seed[seed], replicates[seed] = records, reps
        baselines.append({"seed": seed, **base})
        splits.append(split)
    machine["load_average_end"] = list(os.getloadavg())
    summary = summarise(per_seed, replicates)
    arms = []
    for key, title, description, cost in ARMS:
        arms.append({"key": key, "title": title, "description": description, "cost": cost,
                     "seeds": [per_seed[s][key] for s in per_seed], "summary": summary[key]})
    return {
        "schema": SCHEMA,
        "benchmark": "fairness",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine,
        "precision_": precision,
        "arguments": _arguments(args),
        "quick": bool(args.quick),
        "wall_seconds": time.perf_counter() - start,
        "data": data,
        "protocol": (
            ("60/20/20 train/validation/test split per seed" if args.utkface else
             f"train part: 60 % of the faces per seed; validation ({args.n_validation:,}) and test "
             f"({args.n_test:,}) faces drawn apart, the same for every seed") + ", stratified on class x gender; every "
            "network gets the train part (or the rows an undersampling arm keeps) and early-stops on "
            "its own 20 % hold-out of it; the post-processing arms fit on the validation split, which "
            "no network sees; all numbers are on the test split. Bootstrap intervals: "
            f"{args.n_boot} resamples of the test faces per seed, shared by the arms of a seed."
        ),
        "splits": splits,
        "baseline": {"seeds": baselines,
                     "summary": {f: _mean_std([b[f] for b in baselines])
                                 for f in ("accuracy", "accuracy_women", "accuracy_men",
                                           "fair_metric", "positive_rate")}},
        "arms": arms,
    }


# ------------------------------------------------------- group-aware training
#: the "balanced" variant of a group-aware arm: cell-balanced batches, early stopping on Fair_Metric
BALANCED = {"group_sampling": "balanced", "scoring": "fair_metric"}
#: family key, title of its selected-on-validation row
GROUP_FAMILIES = [
    ("erm", "ERM"),
    ("group_dro", "Group DRO"),
    ("gap_penalty", "gap penalty"),
]


def group_arms(dro_step_sizes, gap_weights):
    """(key, title, family, estimator parameters) of every group-aware arm, ERM plain first."""
    configs = [("erm", "ERM", "erm", {})]
    configs += [(f"group_dro_{eta:g}", f"Group DRO, dro_step_size={eta:g}", "group_dro",
                 {"fairness": "group_dro", "dro_step_size": eta}) for eta in dro_step_sizes]
    configs += [(f"gap_penalty_{w:g}", f"gap penalty, gap_weight={w:g}", "gap_penalty",
                 {"fairness": "gap_penalty", "gap_weight": w}) for w in gap_weights]
    arms = []
    for key, title, family, params in configs:
        arms.append((key, title, family, params))
        arms.append((key + "_balanced", title + " + balanced sampling", family, {**params, **BALANCED}))
    return arms


#: per-seed fields of every group-aware arm
GROUP_SEED_FIELDS = ("accuracy", "accuracy_women", "accuracy_men", "fair_metric", "fair_metric_ci",
                     "accuracy_ci", "worst_cell_accuracy", "worst_cell", "positive_rate", "train_seconds",
                     "epochs_run", "seconds_per_epoch", "seconds_per_epoch_vs_erm", "n_train_images",
                     "validation_accuracy", "validation_fair_metric", "epoch_seconds", "median_epoch_seconds",
                     "median_epoch_vs_erm")
GROUP_SUMMARY_FIELDS = ("accuracy", "accuracy_women", "accuracy_men", "fair_metric", "worst_cell_accuracy",
                        "positive_rate", "train_seconds", "epochs_run", "seconds_per_epoch",
                        "seconds_per_epoch_vs_erm", "median_epoch_seconds", "median_epoch_vs_erm",
                        "validation_fair_metric")
#: the target of group-aware training: Fair_Metric gain, accuracy loss and cost per epoch against ERM
TARGET = {"fair_metric_gain": 0.03, "accuracy_loss": 0.02, "cost_ratio": 1.15}
#: the arguments that fix the data, the split, the network and the bootstrap: a merge needs them equal
PROTOCOL_ARGUMENTS = ("n_samples", "n_validation", "n_test", "image_size", "epochs", "seeds", "filters",
                      "dense_units", "batch_size", "n_boot", "run_eagerly", "data_seed", "quick")


def _group_weights(clf):
    """Group DRO's final q as {"women, class 0": weight, ...} (or {"women": ...} per gender)."""
    weights = {}
    for index, value in clf.group_weights_.items():
        group, label = index if isinstance(index, tuple) else (index, None)
        name = GENDERS.get(int(group), str(group))
        weights[name if label is None else f"{name}, class {label}"] = float(value)
    return weights


def run_group_seed(args, arms, faces, seed, log, partial=None):
    """Every arm of ``arms`` (:func:`group_arms`) on one seed's split (the split and bootstrap of
    :func:`run_seed`)."""
    from skface import FaceCNNClassifier
    from skface.metrics import fair_metric

    (X_tr, y_tr, g_tr), (X_val, y_val, g_val), (X_te, y_te, g_te), boot = seed_split(faces, seed, args.n_boot)

    records, replicates = {}, {}
    for key, title, family, params in arms:
        clf = FaceCNNClassifier(
            image_size=args.image_size, epochs=args.epochs, random_state=seed,
            filters=tuple(args.filters), dense_units=args.dense_units, batch_size=args.batch_size,
            run_eagerly=args.run_eagerly, callbacks=[timer := epoch_timer()], **params,
        )
        start = time.perf_counter()
        clf.fit(X_tr, y_tr, sensitive_features=g_tr)
        seconds = time.perf_counter() - start
        rec, fair_rep, acc_rep = evaluate(y_te, clf.predict(X_te), g_te, boot)
        val_pred = clf.predict(X_val)
        epochs = len(clf.history_.get("loss", []))
        rec.update(seed=seed, family=family, train_seconds=float(seconds), epochs_run=epochs,
                   seconds_per_epoch=float(seconds / epochs), n_train_images=len(y_tr),
                   validation_accuracy=float(np.mean(val_pred == y_val)),
                   validation_fair_metric=float(fair_metric(y_val, val_pred, sensitive_features=g_val)))
        # the first epoch also traces the graph; the median of the later ones is the steady cost
        rec["epoch_seconds"] = [float(v) for v in timer.seconds]
        rec["median_epoch_seconds"] = float(np.median(timer.seconds[1:] or timer.seconds))
        erm = records.get("erm", rec)
        rec["seconds_per_epoch_vs_erm"] = rec["seconds_per_epoch"] / erm["seconds_per_epoch"]
        rec["median_epoch_vs_erm"] = rec["median_epoch_seconds"] / erm["median_epoch_seconds"]
        if params.get("fairness") == "group_dro":
            rec["group_weights"] = _group_weights(clf)
        records[key], replicates[key] = rec, (fair_rep, acc_rep)
        log(f"  seed {seed} {key:28s} acc {rec['accuracy']:.3f}  Fair_Metric {rec['fair_metric']:.3f}  "
            f"val Fair_Metric {rec['validation_fair_metric']:.3f}  worst cell {rec['worst_cell_accuracy']:.3f}  "
            f"positive rate {rec['positive_rate']:.3f}  {seconds:.1f} s, {epochs} epochs "
            f"({rec['seconds_per_epoch_vs_erm']:.2f}x ERM per epoch, median epoch {rec['median_epoch_vs_erm']:.2f}x)")
        if partial is not None:  # what finished survives a crash or an interrupted run
            with open(partial, "a") as f:
                f.write(json.dumps({"key": key, **rec}) + "\n")
        del clf

    # per family, the config with the best Fair_Metric on the validation split no network trained on
    selected = {}
    for family, _ in GROUP_FAMILIES:
        keys = [key for key, _, fam, _ in arms if fam == family]
        best = max(keys, key=lambda k: records[k]["validation_fair_metric"])  # first of ties: fixed order
        selected[family] = {**records[best], "selected": best}
        replicates["selected_" + family] = replicates[best]
    return records, selected, replicates


def _summary(rows, reps, erm_reps, fields):
    fair_mean = np.mean([r[0] for r in reps], axis=0)
    acc_mean = np.mean([r[1] for r in reps], axis=0)
    erm_fair = np.mean([r[0] for r in erm_reps], axis=0)
    erm_acc = np.mean([r[1] for r in erm_reps], axis=0)
    entry = {field: _mean_std([r[field] for r in rows]) for field in fields}
    entry["fair_metric_ci"] = _ci(fair_mean)
    entry["accuracy_ci"] = _ci(acc_mean)
    # paired: the same test resamples for every arm of a seed
    entry["fair_metric_minus_erm_ci"] = _ci(fair_mean - erm_fair)
    entry["accuracy_minus_erm_ci"] = _ci(acc_mean - erm_acc)
    return entry


def run_group_aware(args, log=print, partial=None):
    """The group-aware arms on every seed: the ``group_aware`` section of the JSON."""
    machine = machine_summary()
    log("group-aware training")
    faces, _ = load_faces(args, log)
    grid = group_arms(args.dro_step_sizes, args.gap_weights)
    start = time.perf_counter()
    per_seed, selected, replicates = {}, {}, {}
    for seed in range(args.seeds):
        per_seed[seed], selected[seed], replicates[seed] = run_group_seed(args, grid, faces, seed, log, partial)
    wall = time.perf_counter() - start
    machine["load_average_end"] = list(os.getloadavg())
    seeds = list(per_seed)
    erm_reps = [replicates[s]["erm"] for s in seeds]
    arms = []
    for key, title, family, params in grid:
        rows = [per_seed[s][key] for s in seeds]
        arms.append({"key": key, "title": title, "family": family, "parameters": params, "seeds": rows,
                     "summary": _summary(rows, [replicates[s][key] for s in seeds], erm_reps,
                                         GROUP_SUMMARY_FIELDS)})
    chosen = []
    for family, title in GROUP_FAMILIES:
        rows = [selected[s][family] for s in seeds]
        chosen.append({"key": "selected_" + family, "family": family,
                       "title": f"{title}, selected on validation",
                       "seeds": rows, "summary": _summary(rows, [replicates[s]["selected_" + family] for s in seeds],
                                                          erm_reps, GROUP_SUMMARY_FIELDS)})
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine,
        "arguments": _arguments(args),
        "wall_seconds": wall,
        "protocol": (
            "The data, the per-seed split and the bootstrap resamples of the arms above. Every network gets "
            "the train part with sensitive_features=gender of its rows, so its own 20 % early-stopping "
            "hold-out is stratified on class x gender; the plain variant early-stops on the hold-out's "
            "loss, the balanced one draws every gender x class cell equally often and early-stops on the "
            "hold-out's Fair_Metric. A family's 'selected on validation' row takes, per seed, the config "
            "with the best Fair_Metric on the validation split (which no network trains on). The reference "
            "point is this section's plain ERM network; cost is seconds per epoch (training seconds / "
            "epochs run) against the same seed's plain ERM."
        ),
        "target": TARGET,
        "arms": arms,
        "selected": chosen,
    }


def check_protocol(a, b):
    """Raise ValueError when the arguments ``a`` and ``b`` of two runs differ in data, split or network."""
    differ = [k for k in PROTOCOL_ARGUMENTS if k in a and a.get(k) != b.get(k)]
    if differ:
        raise ValueError(
            "merge: the group-aware run must use the data, split and network of the JSON it is merged "
            "into; these arguments differ: " + ", ".join(f"{k} ({a.get(k)!r} there, {b.get(k)!r} here)"
                                                         for k in differ)
        )


def merge_group_aware(results, group):
    """``results`` (the mitigation arms' JSON) with ``group`` as its ``group_aware`` section."""
    check_protocol(results["arguments"], group["arguments"])
    return {**results, "group_aware": group}


# --------------------------------------------------------------- rendering
def _pm(stat, digits=3):
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def _interval(ci):
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def findings(results):
    """One generated sentence per arm: its Fair_Metric against ERM's, its accuracy against the baseline."""
    arms = {arm["key"]: arm for arm in results["arms"]}
    erm = arms["erm"]["summary"]
    base_acc = results["baseline"]["summary"]["accuracy"]["mean"]
    base_fair = results["baseline"]["summary"]["fair_metric"]["mean"]
    lines = []
    for arm in results["arms"]:
        s = arm["summary"]
        acc_lo = s["accuracy_ci"][0]
        if acc_lo > base_acc:
            acc_text = (f"its accuracy ({s['accuracy']['mean']:.3f}, 95 % interval from {acc_lo:.3f}) "
                        f"is above the majority baseline's {base_acc:.3f}")
        else:
            acc_text = (f"its accuracy ({s['accuracy']['mean']:.3f}, 95 % interval from {acc_lo:.3f}) "
                        f"is NOT above the majority baseline's {base_acc:.3f}: it is no better than "
                        "predicting one class, whatever its Fair_Metric")
        if arm["key"] == "erm":
            lines.append(f"- **{arm['title']}** (the reference point): Fair_Metric "
                         f"{_pm(s['fair_metric'])}, interval {_interval(s['fair_metric_ci'])}; {acc_text}.")
            continue
        lo, hi = s["fair_metric_ci"]
        e_lo, e_hi = erm["fair_metric_ci"]
        d_lo, d_hi = s["fair_metric_minus_erm_ci"]
        overlap = lo <= e_hi and e_lo <= hi
        if d_lo > 0:
            verdict = "higher than ERM's (the paired interval of the difference is above 0)"
        elif d_hi < 0:
            verdict = "LOWER than ERM's (the paired interval of the difference is below 0): it does not help"
        else:
            verdict = ("not distinguishable from ERM's (the paired interval of the difference "
                       "contains 0): no evidence that it helps")
        lines.append(
            f"- **{arm['title']}**: Fair_Metric {_pm(s['fair_metric'])}, interval {_interval((lo, hi))} "
            f"{'overlaps' if overlap else 'does not overlap'} ERM's {_interval((e_lo, e_hi))}; "
            f"difference to ERM {_interval((d_lo, d_hi))}, so its Fair_Metric is {verdict}; {acc_text}."
        )
    lines.append(f"- The majority baseline scores Fair_Metric {base_fair:.3f} (accuracy {base_acc:.3f}).")
    return lines


TABLE_HEADER = ("arm", "accuracy", "women", "men", "Fair_Metric", "Fair_Metric 95 % CI",
                "worst gender x class", "positive rate", "train s", "post-processing s")


def table_rows(results):
    """The summary table, one tuple of strings per arm then the baseline (what --render prints)."""
    rows = []
    for arm in results["arms"]:
        s = arm["summary"]
        rows.append((arm["title"], _pm(s["accuracy"]), _pm(s["accuracy_women"]), _pm(s["accuracy_men"]),
                     _pm(s["fair_metric"]), _interval(s["fair_metric_ci"]), _pm(s["worst_cell_accuracy"]),
                     _pm(s["positive_rate"]), _pm(s["train_seconds"], 1), _pm(s["post_seconds"], 1)))
    b = results["baseline"]["summary"]
    rows.append(("majority-class baseline", _pm(b["accuracy"]), _pm(b["accuracy_women"]),
                 _pm(b["accuracy_men"]), _pm(b["fair_metric"]), "", "", _pm(b["positive_rate"]), "", ""))
    return rows


def _markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


GROUP_TABLE_HEADER = ("arm", "accuracy", "women", "men", "Fair_Metric", "Fair_Metric 95 % CI",
                      "Fair_Metric - ERM, paired 95 % CI", "worst gender x class", "positive rate", "epochs",
                      "s per epoch", "x ERM per epoch", "x ERM, median epoch")


def group_table_rows(results):
    """The group-aware table: every arm, the selected-on-validation rows, then the baseline."""
    group = results["group_aware"]
    rows = []
    for arm in group["arms"] + group["selected"]:
        s = arm["summary"]
        rows.append((arm["title"], _pm(s["accuracy"]), _pm(s["accuracy_women"]), _pm(s["accuracy_men"]),
                     _pm(s["fair_metric"]), _interval(s["fair_metric_ci"]),
                     _interval(s["fair_metric_minus_erm_ci"]), _pm(s["worst_cell_accuracy"]),
                     _pm(s["positive_rate"]), _pm(s["epochs_run"], 1), _pm(s["seconds_per_epoch"], 2),
                     _pm(s["seconds_per_epoch_vs_erm"], 2), _pm(s["median_epoch_vs_erm"], 2)))
    b = results["baseline"]["summary"]
    rows.append(("majority-class baseline", _pm(b["accuracy"]), _pm(b["accuracy_women"]),
                 _pm(b["accuracy_men"]), _pm(b["fair_metric"]), "", "", "", _pm(b["positive_rate"]), "", "", "",
                 ""))
    return rows


def target_verdict(summary, erm, target):
    """(met, Fair_Metric gain, accuracy loss, cost ratio) of one row's summary against ERM's."""
    gain = summary["fair_metric"]["mean"] - erm["fair_metric"]["mean"]
    loss = erm["accuracy"]["mean"] - summary["accuracy"]["mean"]
    cost = summary["seconds_per_epoch_vs_erm"]["mean"]
    met = gain >= target["fair_metric_gain"] and loss <= target["accuracy_loss"] and cost <= target["cost_ratio"]
    return met, gain, loss, cost


def _gain_text(gain, loss, cost):
    return (f"Fair_Metric {gain:+.3f} over ERM, accuracy {-loss:+.3f} ({-100 * loss:+.1f} points), "
            f"{cost:.2f}x ERM's seconds per epoch")


def group_findings(results):
    """Generated sentences on the group-aware arms: the target first, then one per arm."""
    group = results["group_aware"]
    target = group["target"]
    arms = {arm["key"]: arm for arm in group["arms"]}
    selected = {row["family"]: row for row in group["selected"]}
    erm = arms["erm"]["summary"]
    base_acc = results["baseline"]["summary"]["accuracy"]["mean"]
    goal = (f"Group DRO or the gap penalty raises held-out Fair_Metric over ERM by at least "
            f"{target['fair_metric_gain']:.2f} at an overall accuracy loss of at most "
            f"{100 * target['accuracy_loss']:.0f} points, and training costs at most {target['cost_ratio']:.2f}x "
            "ERM per epoch")
    first = next(arm for arm in results["arms"] if arm["key"] == "erm")["summary"]
    lines, met_by, caveats = [], [], []
    for family, title in GROUP_FAMILIES[1:]:
        s = selected[family]["summary"]
        met, gain, loss, cost = target_verdict(s, erm, target)
        d_lo, d_hi = s["fair_metric_minus_erm_ci"]
        if met:
            met_by.append(title)
            if d_lo <= 0:
                caveats.append(f"{title}'s paired interval of the Fair_Metric difference to ERM, "
                               f"{_interval((d_lo, d_hi))}, contains 0: at this size (3 seeds, the test faces) "
                               "the gain is not distinguishable from no gain")
            other = s["fair_metric"]["mean"] - first["fair_metric"]["mean"]
            if other < target["fair_metric_gain"]:
                caveats.append(f"against the mitigations' ERM above (Fair_Metric {first['fair_metric']['mean']:.3f}) "
                               f"{title}'s gain is {other:+.3f}, under the target's {target['fair_metric_gain']:.2f}")
        best = max((a for a in group["arms"] if a["family"] == family),
                   key=lambda a: a["summary"]["fair_metric"]["mean"])
        best_met, *best_numbers = target_verdict(best["summary"], erm, target)
        median = s["median_epoch_vs_erm"]["mean"]
        lines.append(
            f"- **{title}, selected on validation**: {_gain_text(gain, loss, cost)} (median epoch after the "
            f"first: {median:.2f}x; paired interval of the "
            f"Fair_Metric difference {_interval((d_lo, d_hi))}): the target is {'met' if met else 'NOT met'}. "
            f"Its single config with the best mean test Fair_Metric, {best['title']} (picked on the test "
            f"split, so not an honest estimate), has {_gain_text(*best_numbers)}: on its own it "
            f"{'would meet' if best_met else 'does not meet'} the target"
            + (" (the selected row can do better than any one config: it picks a config per seed)"
               if s["fair_metric"]["mean"] > best["summary"]["fair_metric"]["mean"] else "") + "."
        )
    verdict = (f"**Target met** by {' and '.join(met_by)}" if met_by else "**Target NOT met**")
    lines.insert(0, f"- {verdict}: \"{goal}\" (judged on the selected-on-validation rows, means over seeds, "
                    f"against this section's plain ERM: Fair_Metric {_pm(erm['fair_metric'])}, accuracy "
                    f"{_pm(erm['accuracy'])})" + ("; but " + "; and ".join(caveats) if caveats else "") + ".")
    ratios = [r["seconds_per_epoch_vs_erm"] for arm in group["arms"][1:] for r in arm["seeds"]]
    medians = [r["median_epoch_vs_erm"] for arm in group["arms"][1:] for r in arm["seeds"]]
    load = group["machine"]
    lines.append(f"- Cost: over the other arms and seeds, seconds per epoch are {min(ratios):.2f}x to "
                 f"{max(ratios):.2f}x the same seed's plain ERM (median epoch after the first: {min(medians):.2f}x "
                 f"to {max(medians):.2f}x). One ratio compares two fits minutes apart, so it also measures how "
                 f"busy the machine was (load average {load['load_average_start'][0]:.2f} at the start and "
                 f"{load['load_average_end'][0]:.2f} at the end on {load['cores_available']} cores).")
    lines.append(f"- This section's plain ERM (Fair_Metric {_pm(erm['fair_metric'])}, accuracy {_pm(erm['accuracy'])}) "
                 f"is a network of its own, not the mitigations' ERM above (Fair_Metric {_pm(first['fair_metric'])}, "
                 f"accuracy {_pm(first['accuracy'])}): its early-stopping hold-out is stratified on class x gender "
                 "instead of class, so it holds out other faces and stops on them.")
    dro = [(arm["title"], r["seed"], cell, q) for arm in group["arms"] if arm["family"] == "group_dro"
           for r in arm["seeds"] for cell, q in r["group_weights"].items()]
    if dro:
        uniform = 1 / len({cell for _, _, cell, _ in dro})
        low = min(q for *_, q in dro)
        top_title, top_seed, top_cell, high = max(dro, key=lambda row: row[-1])
        spread = (f"- Group DRO's final weights q stay between {low:.3f} and {high:.3f} over every step size "
                  f"and seed (uniform: {uniform:.3f})")
        if 0.8 * uniform <= low and high <= 1.2 * uniform:
            lines.append(spread + ", so here it trains on close to the plain mean of the cells' losses, a "
                         "cell-balanced loss, rather than on the worst cell's.")
        else:
            lines.append(spread + f": the largest is {top_cell}'s with {top_title} on seed {top_seed}, so there it "
                         "trains mostly on that cell's loss.")
    for arm in group["arms"]:
        s = arm["summary"]
        if arm["key"] == "erm":
            continue
        met, gain, loss, cost = target_verdict(s, erm, target)
        d_lo, d_hi = s["fair_metric_minus_erm_ci"]
        if d_lo > 0:
            verdict = "higher than ERM's (the paired interval of the difference is above 0)"
        elif d_hi < 0:
            verdict = "LOWER than ERM's (the paired interval of the difference is below 0): it does not help"
        else:
            verdict = "not distinguishable from ERM's (the paired interval contains 0): no evidence that it helps"
        notes = []
        if s["accuracy_ci"][0] <= base_acc:
            notes.append(f"its accuracy is NOT above the majority baseline's {base_acc:.3f}")
        collapsed = [str(r["seed"]) for r in arm["seeds"] if min(r["positive_rate"], 1 - r["positive_rate"]) < 0.01]
        if collapsed:
            notes.append(f"on seed {', '.join(collapsed)} it predicts (almost) one class only")
        lines.append(f"- {arm['title']}: {_gain_text(gain, loss, cost)}; paired interval of the Fair_Metric "
                     f"difference {_interval((d_lo, d_hi))}, so its Fair_Metric is {verdict}"
                     + "".join(f"; {note}" for note in notes) + ".")
    return lines


def _machine_line(m, wall_seconds):
    return (f"{m['cpu_model']}, {m['cores_available']} of {m['cpu_count']} cores available, load average "
            f"{m['load_average_start'][0]:.2f} at the start and {m['load_average_end'][0]:.2f} at the end; "
            + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + f". Wall time {wall_seconds:.0f} s.")


def render_group_aware(results):
    """The "Group-aware training" section of the markdown."""
    group = results["group_aware"]
    seeds = len(results["baseline"]["seeds"])
    out = [
        "## Group-aware training", "",
        "Generated by `python -m benchmarks.fairness --group-aware --merge "
        f"benchmarks/results/fairness_benchmark.json` (`make bench-group-training`) on {group['date']}, "
        "with the arguments of the run above. "
        + group["protocol"], "",
        f"Machine: {_machine_line(group['machine'], group['wall_seconds'])}", "",
        f"Mean ± standard deviation over {seeds} seeds; intervals are bootstrap 95 % intervals of the "
        "seed-mean over test faces, the difference to ERM paired on the same resamples. \"balanced sampling\" is "
        "`group_sampling=\"balanced\", scoring=\"fair_metric\"`; the other arms early-stop on the loss. "
        "\"x ERM per epoch\" is training seconds / epochs run against the same seed's plain ERM (the "
        "target's measure); \"x ERM, median epoch\" compares the median epoch after the first (which also "
        "traces the graph), timed by a Keras callback.", "",
    ]
    out += _markdown_table(GROUP_TABLE_HEADER, group_table_rows(results))
    out += ["", "Configs selected on validation, per seed: "
            + "; ".join(f"{row['title'].split(',')[0]}: "
                        + ", ".join(f"seed {r['seed']} `{r['selected']}`" for r in row["seeds"])
                        for row in group["selected"]) + ".", ""]
    out += ["### What it shows", ""] + group_findings(results)
    dro = [arm for arm in group["arms"] if arm["family"] == "group_dro"]
    if dro:
        cells = list(dro[0]["seeds"][0]["group_weights"])
        out += ["", "### Group DRO's final weights", "",
                "`group_weights_` after the last epoch, mean over seeds (uniform is "
                f"{1 / len(cells):.2f}).", ""]
        out += _markdown_table(["arm"] + cells, [
            [arm["title"]] + [f"{np.mean([r['group_weights'][c] for r in arm['seeds']]):.3f}" for c in cells]
            for arm in dro])
    out += ["", "### Group-aware training, every seed", ""]
    header = ("seed", "arm", "accuracy", "Fair_Metric", "Fair_Metric 95 % CI", "validation Fair_Metric",
              "worst cell", "positive rate", "epochs", "train s", "x ERM per epoch")
    rows = []
    for i in range(seeds):
        for arm in group["arms"]:
            r = arm["seeds"][i]
            rows.append((str(r["seed"]), arm["title"], f"{r['accuracy']:.3f}", f"{r['fair_metric']:.3f}",
                         _interval(r["fair_metric_ci"]), f"{r['validation_fair_metric']:.3f}",
                         f"{r['worst_cell_accuracy']:.3f} ({r['worst_cell']})", f"{r['positive_rate']:.3f}",
                         str(r["epochs_run"]), f"{r['train_seconds']:.1f}", f"{r['seconds_per_epoch_vs_erm']:.2f}"))
    out += _markdown_table(header, rows)
    return out


def _data_source(data):
    # runs from before the data had a "source" were all on make_faces
    return data.get("source", f"`make_faces({data['n_samples']}, image_size={data['image_size']})`")


def render_markdown(results, figure_name=FIGURE_NAME):
    m, a, d = results["machine"], results["arguments"], results["data"]
    seeds = len(results["baseline"]["seeds"])
    real = "UTKFace" in d.get("source", "")
    out = ["# Fairness benchmark on real faces (UTKFace)" if real else "# Fairness benchmark", ""]
    if results.get("quick"):
        out += ["**A --quick smoke run: tiny data and network; these numbers show only that the code "
                "runs, not how the mitigations compare.**", ""]
    out += [
        f"Generated by `python -m benchmarks.fairness{' --utkface DIR' if real else ''}` "
        f"(`make bench-fairness{'-real' if real else ''}`) on {results['date']}; this page is rendered from "
        f"`benchmarks/results/{REAL_NAMES[0] if real else JSON_NAME}` by `--render`.",
        "",
        f"Data: {_data_source(d)}, "
        f"{d['positive_rate']:.1%} positives, {d['women_share']:.1%} women. "
        f"Network: `FaceCNNClassifier(image_size={a['image_size']}, epochs={a['epochs']}, "
        f"filters={tuple(a['filters'])}, dense_units={a['dense_units']})`, precision_ "
        f"`{results['precision_']}`, {seeds} seeds.",
        "",
        results["protocol"],
        "",
        "## Machine",
        "",
        _machine_line(m, results["wall_seconds"]),
        "",
        "## Results",
        "",
        f"Test split ({np.mean([sp['test_positive_rate'] for sp in results['splits']]):.1%} positives: "
        "compare the positive rates); "
        f"mean ± standard deviation over {seeds} seeds; the Fair_Metric interval is a "
        "bootstrap 95 % interval of the seed-mean over test faces. Times are seconds per seed: "
        "post-processing arms reuse the ERM network (its training time is repeated) and add their "
        "own fitting time.",
        "",
    ]
    out += _markdown_table(TABLE_HEADER, table_rows(results))
    out += ["", "![Fair_Metric against accuracy](_static/" + figure_name + ")", "", "## What it shows", ""]
    out += findings(results)
    out += ["", "## The arms and their cost", ""]
    out += _markdown_table(("arm", "what it does", "cost beyond training"),
                           [(arm["title"], arm["description"], arm["cost"]) for arm in results["arms"]])
    out += ["", "## Every seed", ""]
    header = ("seed", "arm", "accuracy", "Fair_Metric", "Fair_Metric 95 % CI", "worst cell",
              "positive rate", "epochs", "train images")
    rows = []
    for i, base in enumerate(results["baseline"]["seeds"]):
        for arm in results["arms"]:
            r = arm["seeds"][i]
            rows.append((str(r["seed"]), arm["title"], f"{r['accuracy']:.3f}", f"{r['fair_metric']:.3f}",
                         _interval(r["fair_metric_ci"]), f"{r['worst_cell_accuracy']:.3f} ({r['worst_cell']})",
                         f"{r['positive_rate']:.3f}", str(r["epochs_run"]), str(r["n_train_images"])))
        rows.append((str(base["seed"]), f"majority baseline (always {base['majority_label']})",
                     f"{base['accuracy']:.3f}", f"{base['fair_metric']:.3f}", _interval(base["fair_metric_ci"]),
                     f"{base['worst_cell_accuracy']:.3f} ({base['worst_cell']})",
                     f"{base['positive_rate']:.3f}", "", ""))
    out += _markdown_table(header, rows)
    if "gender_race_accuracy" in results["arms"][0]["seeds"][0]:
        out += [""] + render_intersectional(results)
    if "group_aware" in results:
        out += [""] + render_group_aware(results)
    return "\n".join(out) + "\n"


def render_intersectional(results):
    """The gender x race audit: every arm's accuracy per cell, mean over seeds, and its worst cell."""
    first = results["arms"][0]["seeds"]
    cells = list(first[0]["gender_race_accuracy"])
    sizes = [int(np.mean([s["gender_race_accuracy"][c]["n"] for s in first])) for c in cells]
    out = ["## Audit by gender x race", "",
           "Test accuracy in every gender x race cell (UTKFace's race codes), mean over seeds; the cell's "
           "test faces per seed under its name. The last column is the lowest cell accuracy, mean over seeds.",
           ""]
    header = ("arm", *[f"{c} ({n})" for c, n in zip(cells, sizes)], "worst cell")
    rows = []
    for arm in results["arms"]:
        seeds = arm["seeds"]
        values = [np.mean([s["gender_race_accuracy"][c]["accuracy"] for s in seeds]) for c in cells]
        worst = np.mean([s["worst_gender_race_accuracy"] for s in seeds])
        rows.append((arm["title"], *[f"{v:.3f}" for v in values], f"{worst:.3f}"))
    return out + _markdown_table(header, rows)


def _plot_baseline(ax, results):
    b = results["baseline"]["summary"]
    ax.errorbar(b["accuracy"]["mean"], b["fair_metric"]["mean"], xerr=b["accuracy"]["std"],
                yerr=b["fair_metric"]["std"], fmt="kx", markersize=10, capsize=3,
                label="majority-class baseline")
    ax.axvline(b["accuracy"]["mean"], color="k", linestyle=":", linewidth=1)
    ax.set_xlabel("test accuracy")
    ax.set_ylabel("test Fair_Metric")


def _plot_group_aware(ax, results):
    """Families by colour (shade: strength), balanced sampling hollow, selected on validation as stars."""
    import matplotlib.pyplot as plt

    group = results["group_aware"]
    maps = {"erm": plt.cm.Greys, "group_dro": plt.cm.Blues, "gap_penalty": plt.cm.Oranges}
    for family, cmap in maps.items():
        members = [arm for arm in group["arms"] if arm["family"] == family]
        strengths = list(dict.fromkeys(arm["key"].removesuffix("_balanced") for arm in members))
        for arm in members:
            s = arm["summary"]
            level = strengths.index(arm["key"].removesuffix("_balanced"))
            color = cmap(0.8 if len(strengths) == 1 else 0.45 + 0.5 * level / (len(strengths) - 1))
            balanced = arm["key"].endswith("_balanced")
            ax.errorbar(s["accuracy"]["mean"], s["fair_metric"]["mean"], xerr=s["accuracy"]["std"],
                        yerr=s["fair_metric"]["std"], fmt="s" if balanced else "o", color=color,
                        markerfacecolor="none" if balanced else color, capsize=3, label=arm["title"])
    for row in group["selected"]:
        s = row["summary"]
        ax.errorbar(s["accuracy"]["mean"], s["fair_metric"]["mean"], xerr=s["accuracy"]["std"],
                    yerr=s["fair_metric"]["std"], fmt="*", markersize=14, color=maps[row["family"]](0.95),
                    markeredgecolor="k", capsize=3, label=row["title"])


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    group = "group_aware" in results
    if group:
        fig, (ax, ax_group) = plt.subplots(1, 2, figsize=(17, 6.5))
    else:
        fig, ax = plt.subplots(figsize=(8, 5.5))
    markers = "os^vD<>phX*"
    for i, arm in enumerate(results["arms"]):
        s = arm["summary"]
        ax.errorbar(s["accuracy"]["mean"], s["fair_metric"]["mean"], xerr=s["accuracy"]["std"],
                    yerr=s["fair_metric"]["std"], fmt=markers[i % len(markers)], capsize=3,
                    label=arm["title"])
    _plot_baseline(ax, results)
    seeds = len(results["baseline"]["seeds"])
    quick = " — quick smoke run" if results.get("quick") else ""
    if group:
        ax.set_title(f"mitigations (mean ± sd over {seeds} seeds){quick}")
        _plot_group_aware(ax_group, results)
        # zoomed on the group-aware arms, which sit close together; the baseline is in the left panel
        b = results["baseline"]["summary"]
        ax_group.text(0.02, 0.02, f"majority-class baseline (left panel): accuracy {b['accuracy']['mean']:.3f}, "
                      f"Fair_Metric {b['fair_metric']['mean']:.3f}", transform=ax_group.transAxes, fontsize=8)
        ax_group.set_xlabel("test accuracy")
        ax_group.set_ylabel("test Fair_Metric")
        ax_group.set_title(f"group-aware training (mean ± sd over {seeds} seeds){quick}")
        # outside the axes: the group-aware points sit close together
        ax_group.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.set_title(f"Fair_Metric against accuracy (mean ± sd over {seeds} seeds){quick}")
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_outputs(results, page, figure):
    os.makedirs(os.path.dirname(page), exist_ok=True)
    with open(page, "w") as f:
        f.write(render_markdown(results, os.path.basename(figure)))
    os.makedirs(os.path.dirname(figure), exist_ok=True)
    plot(results, figure)


# -------------------------------------------------------------------- main
def _filters(text):
    return tuple(int(v) for v in text.split(","))


def _strengths(text):
    values = tuple(float(v) for v in text.split(","))
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive numbers, got {text!r}")
    return values


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 400 faces at 16 px, 1 epoch, 2 seeds, a tiny network, "
                             "one strength per group-aware family")
    parser.add_argument("--n-samples", type=int)
    parser.add_argument("--n-validation", type=int, help="validation faces drawn apart (synthetic data)")
    parser.add_argument("--n-test", type=int, help="test faces drawn apart (synthetic data)")
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--seeds", type=int, help="number of seeds (0, 1, ...)")
    parser.add_argument("--filters", type=_filters, help="comma-separated, e.g. 32,64,128")
    parser.add_argument("--dense-units", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--n-boot", type=int, help="bootstrap resamples of the test faces")
    parser.add_argument("--expgrad-max-iter", type=int,
                        help="ExponentiatedGradient's max_iter (fairlearn's default, 50)")
    parser.add_argument("--dro-step-sizes", type=_strengths,
                        help="Group DRO arms' dro_step_size values, comma-separated (default 0.001,0.01,0.1)")
    parser.add_argument("--gap-weights", type=_strengths,
                        help="gap penalty arms' gap_weight values, comma-separated (default 0.3,1,3)")
    parser.add_argument("--run-eagerly", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--utkface", metavar="DIR", default=None,
                        help="run on UTKFace photographs of adults (class: age >= 40) in DIR instead of "
                             "make_faces; --n-samples draws that many (default: all); writes real_faces.*")
    parser.add_argument("--mitigations-only", action="store_true",
                        help="leave out the group-aware training arms (they can be merged in later with "
                             "--group-aware --merge)")
    parser.add_argument("--out", default=None, help="one folder for the JSON and the page, the figure in its _static/ "
                        "(default: benchmarks/results/, docs/ and docs/_static/)")
    parser.add_argument("--figure", default=None,
                        help="path of the figure (default OUT/_static/fairness_benchmark.png)")
    parser.add_argument("--render", metavar="JSON", help="only render the markdown and figure from JSON")
    parser.add_argument("--group-aware", action="store_true",
                        help="run only the group-aware training arms and merge them into --merge JSON")
    parser.add_argument("--merge", metavar="JSON",
                        help="with --group-aware: the JSON of the other arms (same arguments) to add them to")
    args = parser.parse_args(argv)
    if args.group_aware != bool(args.merge):
        parser.error("--group-aware and --merge JSON go together: the group-aware arms are merged into the "
                     "JSON of a run of the other arms")
    if args.group_aware and args.render:
        parser.error("--render only renders; it does not run --group-aware")
    for key, value in (QUICK if args.quick else FULL).items():
        # photographs are split, not drawn: no held-out sizes, and all of them unless --n-samples
        real_only = args.utkface and (key in ("n_validation", "n_test") or (key == "n_samples" and not args.quick))
        if getattr(args, key) is None and not real_only:
            setattr(args, key, value)
    if args.seeds < 2:
        parser.error("--seeds must be at least 2: a claim needs the spread over seeds")
    if args.quick and not args.render and not args.out:
        parser.error("a --quick run is a smoke test and must not overwrite the committed results; pass --out DIR")
    return args


def output_files(args, results=None):
    """(JSON, page, figure) of a run or of ``--render``: by default the JSON in
    benchmarks/results/ and the page and figure in docs/; with ``--out DIR``
    the JSON and page in DIR and the figure in DIR/_static; ``--figure`` wins."""
    real = args.utkface or (results is not None and "UTKFace" in results["data"].get("source", ""))
    names = REAL_NAMES if real else (JSON_NAME, MD_NAME, FIGURE_NAME)
    if args.out:
        paths = (os.path.join(args.out, names[0]), os.path.join(args.out, names[1]),
                 os.path.join(args.out, "_static", names[2]))
    elif args.render:
        paths = (args.render, *render_paths(args.render, names[1], names[2]))
    else:
        paths = output_paths(None, *names)
    return paths[0], paths[1], args.figure or paths[2]


def main(argv=None):
    args = parse_args(argv)
    if args.render:
        with open(args.render) as f:
            results = json.load(f)
        _, page, figure = output_files(args, results)
        if results.get("quick") and os.path.dirname(os.path.abspath(page)) == os.path.abspath(DOCS):
            raise SystemExit(f"{args.render} is from a --quick smoke run; render it with --out DIR, not into docs/")
        write_outputs(results, page, figure)
        return results
    log = lambda line: print(line, flush=True)  # noqa: E731
    json_path, page, figure = output_files(args)
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    if args.group_aware:
        with open(args.merge) as f:
            results = json.load(f)
        try:
            check_protocol(results["arguments"], _arguments(args))
        except ValueError as error:
            raise SystemExit(f"--merge {args.merge}: {error}") from None
        partial = os.path.join(os.path.dirname(json_path), "group_aware_partial.jsonl")
        open(partial, "w").close()
        results = merge_group_aware(results, run_group_aware(args, log, partial))
        os.remove(partial)
    else:
        results = run(args, log)
        if not args.mitigations_only:
            results = merge_group_aware(results, run_group_aware(args, log))
    with open(json_path, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    write_outputs(results, page, figure)
    print(f"wrote {json_path}, {page} and {figure}")
    return results


if __name__ == "__main__":
    main()
