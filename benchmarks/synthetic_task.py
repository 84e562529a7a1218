"""How learnable are the synthetic faces for the default FaceCNNClassifier?

The built-in task should behave like the reference's CelebA task: overall
accuracy around 0.92-0.94 and women 3-6 points below men (the reference CNN on
CelebA: women 0.919, men 0.968). For each image size (32, 64 and 80 px) and
seed (0, 1, 2) this script draws ``make_faces(10000, image_size=size,
random_state=seed)`` with every other argument at its default, splits it
60 / 20 / 20 (train / validation / test) stratified on class x gender, as the
fairness benchmark does, trains the default :class:`skface.FaceCNNClassifier`
unweighted on the train + validation part (its early stopping holds out a
quarter of it, the validation fifth of the faces) and scores it on the test
faces against the noisy labels, as one would CelebA, and against the clean
ones.

It writes ``benchmarks/results/synthetic_task.json`` and renders
``docs/synthetic_task.md`` from it (included in docs/datasets.rst). About 25
minutes on 2 quiet cores, most of it at 80 px::

    nice -n 10 python -m benchmarks.synthetic_task
    python -m benchmarks.synthetic_task --sizes 32 --seeds 0   # one fit
    python -m benchmarks.synthetic_task --render               # only the markdown
"""

import argparse
import datetime
import json
import os
import time

import numpy as np

from benchmarks.common import machine_summary, scored_fit, split_indices

HERE = os.path.dirname(os.path.abspath(__file__))
JSON_PATH = os.path.join(HERE, "results", "synthetic_task.json")
MD_PATH = os.path.join(os.path.dirname(HERE), "docs", "synthetic_task.md")
N_SAMPLES = 10_000
# the reference CNN on CelebA (80 px, 95,000 training images)
REFERENCE = {"accuracy_women": 0.919, "accuracy_men": 0.968}


def run_one(size, seed, n_samples, epochs=None):
    from skface import FaceCNNClassifier
    from skface.datasets import make_faces
    from skface.metrics import group_accuracy

    faces = make_faces(n_samples, image_size=size, random_state=seed)
    train, val, test = split_indices(faces.target, faces.gender, seed)
    fit_rows = np.concatenate([train, val])
    # early stopping holds out validation_fraction of what it is given: a
    # quarter of the 80 % is the 20 % validation part
    clf = FaceCNNClassifier(image_size=size, validation_fraction=0.25, random_state=seed)
    if epochs is not None:  # smoke tests only: the measurement uses the default
        clf.set_params(epochs=epochs)
    load_start = os.getloadavg()
    start = time.perf_counter()
    clf.fit(faces.images[fit_rows], faces.target[fit_rows])
    seconds = time.perf_counter() - start

    pred = clf.predict(faces.images[test])
    y, clean, g = faces.target[test], faces.target_clean[test], faces.gender[test]
    against_clean = group_accuracy(clean, pred, sensitive_features=g)
    return {
        "size": size,
        "seed": seed,
        "n_fit": int(len(fit_rows)),
        "n_test": int(len(test)),
        "epochs_run": len(clf.history_["loss"]),
        "accuracy": float(np.mean(pred == y)),
        **scored_fit(clf, y, pred, g, seconds, load_start),
        "clean_accuracy": float(np.mean(pred == clean)),
        "clean_accuracy_women": float(against_clean.loc[-1]),
        "clean_accuracy_men": float(against_clean.loc[1]),
        "flipped_share": float(np.mean(y != clean)),
    }


def measure(args):
    previous = {}
    if os.path.exists(JSON_PATH):
        with open(JSON_PATH) as f:
            previous = json.load(f)
    # keep earlier runs of other sizes or seeds, so that one can be redone alone
    runs = [r for r in previous.get("runs", [])
            if not (r["size"] in args.sizes and r["seed"] in args.seeds)]
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    old = previous.get("meta", {})
    meta = {
        # the kept runs are older: the page gives the span of the dates
        "first_date": old.get("first_date", old.get("date", now)) if runs else now,
        "date": now,
        "machine": machine_summary(),
        "nice": os.nice(0),
        "n_samples": args.n_samples,
    }
    for size in args.sizes:
        for seed in args.seeds:
            run = run_one(size, seed, args.n_samples, args.epochs)
            runs.append(run)
            print(json.dumps(run), flush=True)
            save({**meta, "loadavg_end": list(os.getloadavg())}, runs)


def save(meta, runs):
    os.makedirs(os.path.dirname(JSON_PATH), exist_ok=True)
    runs = sorted(runs, key=lambda r: (r["size"], r["seed"]))
    with open(JSON_PATH, "w") as f:
        json.dump({"meta": meta, "runs": runs}, f, indent=1)


def _f(x):
    return f"{x:.3f}"


def _spread(values):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3f} ± {values.std(ddof=1) if values.size > 1 else 0.0:.3f}"


def render():
    with open(JSON_PATH) as f:
        data = json.load(f)
    meta, runs = data["meta"], data["runs"]
    m = meta["machine"]
    load = ", ".join(f"{x:.1f}" for x in m["load_average_start"])
    first = meta.get("first_date", meta["date"])
    # one invocation made every run when the page kept no older ones
    when = f"runs started {first}" if first == meta["date"] else f"runs from {first} to {meta['date']}"
    out = [
        f"Written by `python -m benchmarks.synthetic_task`, {when} "
        f"(skface {m['versions']['skface']}); raw numbers in `benchmarks/results/synthetic_task.json`. "
        f"CPU: {m['cpu_model']}, {m['cores_available']} cores, load average {load} at the start "
        "of the latest run (per run in the JSON), "
        f"niceness {meta['nice']}; precision "
        f"{', '.join(sorted({r['precision'] for r in runs}))} (`precision='auto'`).",
        "",
        "| size | seed | epochs run | accuracy | women | men | gap (men - women) | Fair_Metric "
        "| accuracy vs clean labels (women, men) | predicted pos. rate | true pos. rate "
        "| majority acc. | train s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in runs:
        out.append(
            f"| {r['size']} px | {r['seed']} | {r['epochs_run']} | {_f(r['accuracy'])} | "
            f"{_f(r['accuracy_women'])} | {_f(r['accuracy_men'])} | "
            f"{r['accuracy_men'] - r['accuracy_women']:+.3f} | {_f(r['fair_metric'])} | "
            f"{_f(r['clean_accuracy'])} ({_f(r['clean_accuracy_women'])}, "
            f"{_f(r['clean_accuracy_men'])}) | {_f(r['predicted_positive_rate'])} | "
            f"{_f(r['true_positive_rate'])} | {_f(r['majority_accuracy'])} | {r['train_seconds']:.0f} |"
        )
    out += ["", "Mean ± standard deviation over the seeds:", ""]
    out += [
        "| size | accuracy | women | men | gap (men - women) | Fair_Metric | majority acc. |",
        "|---:|---|---|---|---|---|---|",
    ]
    for size in sorted({r["size"] for r in runs}):
        sel = [r for r in runs if r["size"] == size]
        out.append(
            f"| {size} px | {_spread([r['accuracy'] for r in sel])} | "
            f"{_spread([r['accuracy_women'] for r in sel])} | "
            f"{_spread([r['accuracy_men'] for r in sel])} | "
            f"{_spread([r['accuracy_men'] - r['accuracy_women'] for r in sel])} | "
            f"{_spread([r['fair_metric'] for r in sel])} | "
            f"{_spread([r['majority_accuracy'] for r in sel])} |"
        )
    ref_w, ref_m = REFERENCE["accuracy_women"], REFERENCE["accuracy_men"]
    out += [
        "",
        f"The reference CNN on CelebA (80 px): women {ref_w:.3f}, men {ref_m:.3f}, gap "
        f"{ref_m - ref_w:+.3f}, Fair_Metric {(ref_w + ref_m) / 2 - 2 * (ref_m - ref_w):.3f}.",
    ]
    os.makedirs(os.path.dirname(MD_PATH), exist_ok=True)
    with open(MD_PATH, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render", action="store_true", help="only rewrite the markdown")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 80])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-samples", type=int, default=N_SAMPLES)
    parser.add_argument("--epochs", type=int, default=None,
                        help="cap on the epochs (default: the classifier's default)")
    args = parser.parse_args(argv)
    if not args.render:
        measure(args)
    render()


if __name__ == "__main__":
    main()
