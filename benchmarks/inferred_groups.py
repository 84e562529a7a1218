"""Per-gender thresholds when the gender is unknown at prediction time.

    python -m benchmarks.inferred_groups --utkface ../shared/data/utkface   # both data sets
    python -m benchmarks.inferred_groups --quick --out /tmp/ig              # smoke run (tiny)
    python -m benchmarks.inferred_groups --render benchmarks/results/inferred_groups.json  # the page

Protocol, per data set and seed. The faces are split into train / validation
/ test, stratified on class x gender. Two ``FaceCNNClassifier`` networks with
the default settings (``random_state=seed``) are trained on the train part:
one for the task, one for the gender (its labels are the genders). Then, on
the test part, Fair_Metric is scored with the true genders for:

- *no thresholds*: the task network's own ``predict``;
- *thresholds on true groups*: ``FairThresholdClassifier(task, prefit=True)``
  tuned on the validation part with the true genders, and given the true
  genders of the test faces;
- *thresholds on inferred groups*: the same with
  ``group_estimator=FrozenEstimator(gender network)``: tuned on the genders
  it infers on the validation part (Fair_Metric still scored with the true
  ones), and predicting with the genders it infers on the test faces.

Each arm's Fair_Metric has a bootstrap 95 % interval over test faces, and
each threshold arm a paired interval of its difference to *no thresholds*
(the same resamples); the majority-class baseline (the majority training
label for everyone) is there for scale.

Data sets: ``make_faces`` (6,000 training, 2,000 validation, 20,000 test
faces: synthetic faces cost nothing to draw, so the test split is large) and,
with ``--utkface DIR``, UTKFace adults (``load_utkface(DIR)``: class 1 for age
>= 40, 60/20/20). UTKFace images are decoded and resized once with Pillow
(bilinear) into an array, so that every network trains on the same pixels
without decoding 200 x 200 JPEGs every epoch. The JSON is written after every
seed, so an interrupted run keeps what it finished.
"""

import argparse
import json
import os
import sys
import time

if __package__ in (None, ""):  # python benchmarks/inferred_groups.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"  # noqa: A001

import numpy as np

from .common import mean_std_text as _mean_std
from .common import (
    output_paths,
    render_paths,
    run_data_sets,
    stratified_parts,
    synthetic_parts,
    utkface_parts,
    written_by,
)

JSON_NAME, MD_NAME = "inferred_groups.json", "inferred_groups.md"
ARMS = (
    ("none", "no thresholds"),
    ("true_groups", "thresholds on true groups"),
    ("inferred_groups", "thresholds on inferred groups"),
)
FULL = dict(image_size=32, seeds=3, n_train=6000, n_val=2000, n_test=20000, n_boot=1000, epochs=10)
QUICK = dict(image_size=16, seeds=2, n_train=300, n_val=150, n_test=300, n_boot=200, epochs=1)


def synthetic(args):
    return synthetic_parts(args.n_train, args.n_val, args.n_test, args.image_size, args.data_seed)


def utkface(args):
    return utkface_parts(args.utkface, args.image_size,
                         n=args.n_train + args.n_val + args.n_test if args.quick else None)


def run_seed(args, data, seed):
    from sklearn.frozen import FrozenEstimator

    from skface import FaceCNNClassifier
    from skface.fairness import FairThresholdClassifier
    from skface.metrics import fair_metric, fair_metric_bootstrap, group_accuracy

    images, y, gender, sizes = data
    train, val, test = stratified_parts(y, gender, sizes, seed)
    settings = dict(image_size=args.image_size, epochs=args.epochs, random_state=seed)
    if args.quick:
        settings.update(filters=(4, 8), dense_units=16)
    start = time.perf_counter()
    task = FaceCNNClassifier(**settings).fit(images[train], y[train])
    task_seconds = time.perf_counter() - start
    start = time.perf_counter()
    genders = FaceCNNClassifier(**settings).fit(images[train], gender[train])
    gender_seconds = time.perf_counter() - start

    true_thr = FairThresholdClassifier(task, prefit=True).fit(images[val], y[val], sensitive_features=gender[val])
    inferred_thr = FairThresholdClassifier(task, prefit=True, group_estimator=FrozenEstimator(genders)).fit(
        images[val], y[val], sensitive_features=gender[val]
    )
    y_test, g_test = y[test], gender[test]
    predictions = {
        "none": task.predict(images[test]),
        "true_groups": true_thr.predict(images[test], sensitive_features=g_test),
        "inferred_groups": inferred_thr.predict(images[test]),
    }
    inferred_test = genders.predict(images[test])
    replicates = fair_metric_bootstrap(
        y_test, np.stack([predictions[k] for k, _ in ARMS]), sensitive_features=g_test,
        n_resamples=args.n_boot, random_state=seed,
    )
    majority = np.full(len(test), np.bincount(y[train]).argmax())
    record = {
        "seed": seed,
        "n_train": len(train), "n_val": len(val), "n_test": len(test),
        "train_seconds": {"task": task_seconds, "gender": gender_seconds},
        "epochs_run": {"task": len(task.history_["loss"]), "gender": len(genders.history_["loss"])},
        "gender_accuracy": {
            "test": float(np.mean(inferred_test == g_test)),
            "women": float(np.mean(inferred_test[g_test == -1] == -1)),
            "men": float(np.mean(inferred_test[g_test == 1] == 1)),
        },
        "thresholds": {"true_groups": true_thr.thresholds_, "inferred_groups": inferred_thr.thresholds_},
        "majority": {
            "accuracy": float(np.mean(majority == y_test)),
            "fair_metric": float(fair_metric(y_test, majority, sensitive_features=g_test)),
        },
        "arms": {},
    }
    for row, (key, _) in enumerate(ARMS):
        pred = predictions[key]
        by_gender = group_accuracy(y_test, pred, sensitive_features=g_test)
        record["arms"][key] = {
            "accuracy": float(np.mean(pred == y_test)),
            "accuracy_women": float(by_gender.loc[-1]),
            "accuracy_men": float(by_gender.loc[1]),
            "fair_metric": float(fair_metric(y_test, pred, sensitive_features=g_test)),
            "fair_metric_ci": [float(v) for v in np.nanpercentile(replicates[row], [2.5, 97.5])],
            "positive_rate": float(np.mean(pred == 1)),
            "paired_vs_none": [float(v) for v in np.nanpercentile(replicates[row] - replicates[0], [2.5, 97.5])],
        }
    record["arms"]["inferred_groups"]["paired_vs_true_groups"] = [
        float(v) for v in np.nanpercentile(replicates[2] - replicates[1], [2.5, 97.5])
    ]
    return record


def _json_thresholds(record):
    record["thresholds"] = {
        arm: {str(k): float(v) for k, v in t.items()} for arm, t in record["thresholds"].items()
    }
    return record


def run(args, log=print):
    data_sets = [("synthetic", "make_faces", synthetic)]
    if args.utkface:
        data_sets.append(("utkface", "UTKFace adults, class age >= 40", utkface))
    out, page = output_paths(args.out, JSON_NAME, MD_NAME)
    results = run_data_sets(
        args, data_sets, lambda args, data, seed, key: _json_thresholds(run_seed(args, data, seed)), out,
        summary=lambda record: ", ".join(f"{k} {record['arms'][k]['fair_metric']:.3f}" for k, _ in ARMS)
        + f"; gender accuracy {record['gender_accuracy']['test']:.3f}",
        log=log,
    )
    write_markdown(results, page)
    return results


# --------------------------------------------------------------- rendering
def _interval(ci):
    return f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"


def _verdict(ci):
    if ci[0] > 0:
        return "raises"
    if ci[1] < 0:
        return "lowers"
    return "not shown to differ"


def render(results):
    m = results["machine"]
    lines = [
        "# Per-gender thresholds without the gender at prediction time",
        "",
        written_by("inferred_groups", results, JSON_NAME),
        "",
        f"Machine: {m['cpu_model']}, {m['cores_available']} usable cores; TensorFlow "
        f"{m['versions'].get('tensorflow')}, Keras {m['versions'].get('keras')}. Images at "
        f"{results['arguments']['image_size']} px, networks with the default settings "
        f"(at most {results['arguments']['epochs']} epochs, early stopping).",
        "",
        "Fair_Metric is always scored with the **true** genders of the test faces. *Thresholds on inferred "
        "groups* tunes and applies the per-gender thresholds on the genders a second network infers from the "
        "image (`FairThresholdClassifier(..., group_estimator=...)`), so it needs no gender at prediction time.",
        "",
    ]
    for key, data in results["datasets"].items():
        seeds = data["seeds"]
        if not seeds:
            continue
        first = seeds[0]
        lines += [
            f"## {data['title']}",
            "",
            f"{data['n_faces']:,} faces (positive rate {data['positive_rate']:.3f}, women "
            f"{data['women_share']:.0%}); per seed {first['n_train']:,} training, {first['n_val']:,} "
            f"validation (thresholds), {first['n_test']:,} test faces; {len(seeds)} seed(s), mean ± "
            "standard deviation over seeds; intervals are bootstrap 95 % over test faces, one per seed.",
            "",
            "| arm | accuracy | women | men | Fair_Metric | predicted positive rate | "
            "Fair_Metric minus no thresholds, paired 95 % interval per seed |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for arm, title in ARMS:
            rows = [s["arms"][arm] for s in seeds]
            paired = "—" if arm == "none" else "; ".join(
                f"{_interval(r['paired_vs_none'])} {_verdict(r['paired_vs_none'])}" for r in rows
            )
            lines.append(
                f"| {title} | {_mean_std([r['accuracy'] for r in rows])} | "
                f"{_mean_std([r['accuracy_women'] for r in rows])} | {_mean_std([r['accuracy_men'] for r in rows])} | "
                f"{_mean_std([r['fair_metric'] for r in rows])} | {_mean_std([r['positive_rate'] for r in rows])} | "
                f"{paired} |"
            )
        lines.append(
            f"| majority class | {_mean_std([s['majority']['accuracy'] for s in seeds])} | | | "
            f"{_mean_std([s['majority']['fair_metric'] for s in seeds])} | one class for all | — |"
        )
        gender_acc = [s["gender_accuracy"]["test"] for s in seeds]
        versus_true = [s["arms"]["inferred_groups"]["paired_vs_true_groups"] for s in seeds]
        lines += ["", _findings(seeds), ""]
        lines += [
            f"- The gender network is right on {_mean_std(gender_acc)} of the test faces "
            f"(women {_mean_std([s['gender_accuracy']['women'] for s in seeds])}, men "
            f"{_mean_std([s['gender_accuracy']['men'] for s in seeds])}).",
            "- Thresholds on inferred groups minus thresholds on true groups, paired 95 % interval per seed: "
            + "; ".join(f"{_interval(ci)} ({_verdict(ci)})" for ci in versus_true) + ".",
            "- Training seconds per seed (task, gender network): "
            + "; ".join(f"{s['train_seconds']['task']:.0f}, {s['train_seconds']['gender']:.0f}" for s in seeds)
            + ".",
            "",
        ]
    return "\n".join(lines)


def _count(verdicts, word):
    return sum(v == word for v in verdicts)


def _findings(seeds):
    """What the table shows, in a paragraph written from its numbers."""
    mean = {arm: np.mean([s["arms"][arm]["fair_metric"] for s in seeds]) for arm, _ in ARMS}
    accuracy = {arm: np.mean([s["arms"][arm]["accuracy"] for s in seeds]) for arm, _ in ARMS}
    n = len(seeds)
    parts = []
    for arm, title in ARMS[1:]:
        verdicts = [_verdict(s["arms"][arm]["paired_vs_none"]) for s in seeds]
        parts.append(
            f"{title} took mean Fair_Metric from {mean['none']:.3f} to {mean[arm]:.3f} "
            f"(accuracy {accuracy['none']:.3f} to {accuracy[arm]:.3f}), beyond the paired interval on "
            f"{_count(verdicts, 'raises')} of {n} seeds"
            + (f" and below it on {_count(verdicts, 'lowers')}" if _count(verdicts, "lowers") else "")
        )
    versus = [_verdict(s["arms"]["inferred_groups"]["paired_vs_true_groups"]) for s in seeds]
    same, lower, higher = _count(versus, "not shown to differ"), _count(versus, "lowers"), _count(versus, "raises")
    against = f"inferred and true groups could not be told apart on {same} of {n} seeds"
    if lower:
        against += f"; the inferred ones were lower on {lower}"
    if higher:
        against += f"; the inferred ones were higher on {higher}"
    text = "; ".join(parts)
    return f"**What it shows.** {text[0].upper()}{text[1:]}. Against each other, {against}."


def write_markdown(results, path):
    with open(path, "w") as handle:
        handle.write(render(results))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utkface", default=None, help="a UTKFace folder: also measure on real faces")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--out", default=None,
                        help="one folder for the JSON and the markdown (default: benchmarks/results/ and docs/)")
    parser.add_argument("--render", default=None, help="write the markdown from this JSON and stop")
    parser.add_argument("--data-seed", type=int, default=0)
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        setattr(args, key, value)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.render:
        with open(args.render) as handle:
            results = json.load(handle)
        write_markdown(results, render_paths(args.render, MD_NAME)[0])
        return
    if args.utkface and not os.path.isdir(args.utkface):
        raise SystemExit(f"--utkface {args.utkface!r} is not a folder")
    run(args)


if __name__ == "__main__":
    main()
