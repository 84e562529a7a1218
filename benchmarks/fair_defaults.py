"""In-training fairness at candidate defaults, and DFR, against ERM on large test sets.

    python -m benchmarks.fair_defaults                                  # synthetic faces, every arm, 3 seeds
    python -m benchmarks.fair_defaults --utkface ../shared/data/utkface --arms erm,group_dro,dfr
    python -m benchmarks.fair_defaults --arms erm --seeds 0 --quick --json /tmp/f.json --markdown /tmp/f.md
    python -m benchmarks.fair_defaults --render                         # only the markdown from the JSON

What it decides: the defaults of ``fairness="group_dro"`` and
``"gap_penalty"`` (a default must raise mean Fair_Metric over ERM on held-out
synthetic faces, and not lower it on real ones), and whether Deep Feature
Reweighting helps. Every arm is ``FaceCNNClassifier(image_size=64,
random_state=seed, **params)`` fitted with ``sensitive_features=gender`` of
its training rows (ERM too: its early-stopping hold-out is then stratified on
class x gender like the others'), or ``DeepFeatureReweighting`` around the
plain network. Test sets are large enough that a paired 95 % interval of a
Fair_Metric difference is about +-0.01:

- synthetic: per seed, 6,000 training faces drawn (stratified on class x
  gender) from ``make_faces(8000, image_size=64, random_state=11)``; test on
  ``make_faces(20000, image_size=64, random_state=12)``, the same 20,000 faces
  for every seed;
- ``--utkface DIR``: UTKFace adults at 64 px (class 1 for age >= 40), per
  seed 8,000 training faces, every other adult (about 7,600) a test face.

Runs (arm x seed x data) are appended to ``--json`` as they finish, with the
test predictions (packed bits), so that ``--render`` computes every interval
from them: per seed, 1,000 bootstrap resamples of the test faces shared by
every arm (:func:`skface.metrics.fair_metric_bootstrap`), averaged over seeds
for the interval of the mean difference against ERM.
"""

import argparse
import base64
import datetime
import os
import sys
import time

if __package__ in (None, ""):  # python benchmarks/fair_defaults.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"  # noqa: A001

import numpy as np

from .common import machine_summary, read_runs, record_run, utkface_arrays
from .common import mean_std_text as _mean_std

HERE = os.path.dirname(os.path.abspath(__file__))
JSON_PATH = os.path.join(HERE, "results", "fair_defaults.json")
MD_PATH = os.path.join(os.path.dirname(HERE), "docs", "fair_defaults.md")
N_BOOT = 1000

#: the training defaults before 2026-12-02 (docs/training.rst), which every arm measured before then
#: ran with: spelled out, so that a rerun measures what the committed results did
EARLIER = {"learning_rate": 1e-3, "n_iter_no_change": 1, "threshold": 0.5}

#: name -> (estimator parameters over the defaults, wrapped in DeepFeatureReweighting); the arms
#: measured before 2026-12-02 over the defaults of then (EARLIER)
ARMS = {
    "erm": ({}, False),
    "erm_lr_3e-4": ({"learning_rate": 3e-4}, False),
    # the pair that reached the accuracy target on UTKFace (docs/default_learns_real.md); float32, as the
    # other arms of this page ran
    "erm_lr_3e-4_patience_3": ({"learning_rate": 3e-4, "n_iter_no_change": 3, "precision": "float32"}, False),
    "group_dro": ({"fairness": "group_dro"}, False),
    "group_dro_sensitive_1": ({"fairness": "group_dro", "dro_groups": "sensitive", "dro_step_size": 1.0}, False),
    "group_dro_sensitive_0.1": ({"fairness": "group_dro", "dro_groups": "sensitive", "dro_step_size": 0.1}, False),
    "group_dro_cells_0.1_balanced": ({"fairness": "group_dro", "dro_step_size": 0.1,
                                      "group_sampling": "balanced", "scoring": "fair_metric"}, False),
    # the configuration the fairness benchmark's validation data chose on every seed; float32, as the
    # other arms of this page ran (on a CPU without bfloat16 instructions)
    "group_dro_balanced": ({"fairness": "group_dro", "group_sampling": "balanced", "scoring": "fair_metric",
                            "precision": "float32"}, False),
    "gap_penalty": ({"fairness": "gap_penalty"}, False),
    "gap_penalty_3": ({"fairness": "gap_penalty", "gap_weight": 3.0}, False),
    "dfr": ({}, True),
}
ARMS = {name: ({**EARLIER, **params}, dfr) for name, (params, dfr) in ARMS.items()}
# the training defaults since 2026-12-02 (docs/training.rst), which met the target on UTKFace
# (docs/default_learns_real.md), spelled out, at the precision precision="auto" picks
ARMS["erm_lr_3e-4_patience_3_threshold_auto"] = (
    {"learning_rate": 3e-4, "n_iter_no_change": 3, "threshold": "auto"}, False)
#: the estimator parameters whose values each run records (what "the defaults" were then)
RECORDED = ("fairness", "dro_groups", "dro_step_size", "gap_weight", "group_sampling", "scoring",
            "n_iter_no_change", "learning_rate", "epochs", "precision", "threshold")
SYNTHETIC = dict(n_pool=8000, pool_seed=11, n_train=6000, n_test=20000, test_seed=12)
QUICK = dict(n_pool=300, pool_seed=11, n_train=200, n_test=300, test_seed=12)
REAL_TRAIN = 8000


def pack(values):
    """0/1 labels as base64 of packed bits (a JSON string a few KB long)."""
    return base64.b64encode(np.packbits(np.asarray(values, dtype=np.uint8)).tobytes()).decode()


def unpack(text, n):
    return np.unpackbits(np.frombuffer(base64.b64decode(text), dtype=np.uint8))[:n].astype(int)


def _split(y, gender, n_train, seed):
    from skface._split import class_group_split

    test, train = class_group_split(len(y), n_train / len(y), y, gender, random_state=seed)
    return np.asarray(train), np.asarray(test)


def synthetic_data(quick):
    from skface.datasets import make_faces

    sizes = QUICK if quick else SYNTHETIC
    size = 16 if quick else 64
    pool = make_faces(sizes["n_pool"], image_size=size, random_state=sizes["pool_seed"])
    test = make_faces(sizes["n_test"], image_size=size, random_state=sizes["test_seed"])

    def for_seed(seed):
        train, _ = _split(pool.target, pool.gender, sizes["n_train"], seed)
        return (pool.images[train], pool.target[train], pool.gender[train]), (test.images, test.target, test.gender)

    described = (f"make_faces({sizes['n_pool']:,}, {size} px, random_state={sizes['pool_seed']}): "
                 f"{sizes['n_train']:,} training faces per seed; test make_faces({sizes['n_test']:,}, "
                 f"random_state={sizes['test_seed']})")
    return "synthetic", size, for_seed, described


def real_data(root, n_train=REAL_TRAIN, size=64):
    images, frame = utkface_arrays(root, size)
    y, gender = frame["class"].to_numpy(), frame["gender"].to_numpy()

    def for_seed(seed):
        train, test = _split(y, gender, n_train, seed)
        return (images[train], y[train], gender[train]), (images[test], y[test], gender[test])

    described = (f"UTKFace adults at {size} px (class 1 for age >= 40): {n_train:,} training faces per seed, "
                 f"the other {len(y) - n_train:,} the test faces")
    return "utkface", size, for_seed, described


def run_arm(arm, size, seed, train, test, quick):
    from skface import FaceCNNClassifier
    from skface.fairness import DeepFeatureReweighting

    params, reweight = ARMS[arm]
    tiny = dict(filters=(4, 8), dense_units=8, epochs=1, run_eagerly=True) if quick else {}
    clf = FaceCNNClassifier(image_size=size, random_state=seed, **tiny, **params)
    recorded = {k: clf.get_params()[k] for k in RECORDED}
    model = DeepFeatureReweighting(clf, random_state=seed) if reweight else clf
    (X, y, gender), (X_test, y_test, g_test) = train, test
    start = time.perf_counter()
    model.fit(X, y, sensitive_features=gender)
    seconds = time.perf_counter() - start
    network = model.estimator_ if reweight else model
    pred = model.predict(X_test)
    run = {"arm": arm, "seed": seed, "params": params, "dfr": reweight, "settings": recorded,
           "n_train": int(len(y)), "n_test": int(len(y_test)), "train_seconds": seconds,
           "epochs_run": len(network.history_["loss"]), "precision": network.precision_,
           "y_pred": pack(pred), "y_test": pack(y_test), "women": pack(g_test == -1)}
    if reweight:
        run["C"] = model.C_
    if hasattr(network, "group_weights_"):
        run["group_weights"] = [float(v) for v in np.asarray(network.group_weights_).ravel()]
    return run


def record(path, run):
    def order(r):
        return r["data"], list(ARMS).index(r["arm"]) if r["arm"] in ARMS else 99, r["arm"], r["seed"]

    return record_run(path, run, key=lambda r: (r["data"], r["arm"], r["seed"]), order=order)


def scores(run):
    """Per-run test numbers from the stored predictions."""
    from skface.metrics import fair_metric, worst_group_accuracy

    n = run["n_test"]
    y, pred, women = unpack(run["y_test"], n), unpack(run["y_pred"], n), unpack(run["women"], n).astype(bool)
    gender = np.where(women, -1, 1)
    return {
        "accuracy": float(np.mean(pred == y)),
        "women": float(np.mean(pred[women] == y[women])),
        "men": float(np.mean(pred[~women] == y[~women])),
        "fair_metric": fair_metric(y, pred, sensitive_features=gender),
        "worst_cell": worst_group_accuracy(y, pred, sensitive_features=gender),
        "positive_rate": float(np.mean(pred == 1)),
        "true_rate": float(np.mean(y == 1)),
        "majority": float(max(np.mean(y), 1 - np.mean(y))),
    }


def paired_difference(runs, erm_runs):
    """The seed-mean Fair_Metric difference to ERM and its paired 95 % bootstrap
    interval (per seed the same resamples for both; averaged over the seeds both have)."""
    from skface.metrics import fair_metric_bootstrap

    erm_by_seed = {r["seed"]: r for r in erm_runs}
    diffs = []
    for run in runs:
        erm = erm_by_seed.get(run["seed"])
        if erm is None:
            continue
        n = run["n_test"]
        y = unpack(run["y_test"], n)
        gender = np.where(unpack(run["women"], n).astype(bool), -1, 1)
        both = np.stack([unpack(run["y_pred"], n), unpack(erm["y_pred"], n)])
        reps = fair_metric_bootstrap(y, both, sensitive_features=gender, n_resamples=N_BOOT,
                                     random_state=[run["seed"], 2025])
        diffs.append(reps[0] - reps[1])
    if not diffs:
        return None
    mean = np.mean(diffs, axis=0)
    return float(np.nanpercentile(mean, 2.5)), float(np.nanpercentile(mean, 97.5)), len(diffs)


def _describe(run):
    if run["dfr"]:
        given = ", ".join(f"{k}={v!r}" for k, v in run["params"].items())
        return f"DeepFeatureReweighting(FaceCNNClassifier({given}))"
    fairness = run["settings"]["fairness"]
    if fairness is None and run["params"]:
        return ", ".join(f"{k}={v!r}" for k, v in run["params"].items())
    own = {"group_dro": ("dro_groups", "dro_step_size"), "gap_penalty": ("gap_weight",)}.get(fairness, ())
    shown = {k: v for k, v in run["settings"].items()
             if k in ("fairness", *own) or (k in ("group_sampling", "scoring") and k in run["params"])}
    if fairness is None:
        shown = {k: v for k, v in shown.items() if k != "fairness"}
    return ", ".join(f"{k}={v!r}" for k, v in shown.items()) or "the defaults (no fairness)"


def render(results):
    runs = results["runs"]
    lines = [
        "# In-training fairness at candidate defaults, and DFR",
        "",
        "Written by `python -m benchmarks.fair_defaults`; do not edit by hand, rerun it. Raw runs, with their test "
        "predictions: `benchmarks/results/fair_defaults.json`. Every arm is `FaceCNNClassifier(image_size=64, "
        "random_state=seed, ...)` fitted with `sensitive_features=gender` (DFR: `DeepFeatureReweighting` around the "
        "plain network). Paired intervals: per seed 1,000 bootstrap resamples of the test faces shared with ERM, "
        "averaged over the seeds. Each arm's parameters are those the run recorded (the defaults of its day where "
        "it sets none).",
        "",
    ]
    for data in sorted({r["data"] for r in runs}, key=lambda d: d != "synthetic"):
        here = [r for r in runs if r["data"] == data]
        erm_runs = [r for r in here if r["arm"] == "erm"]
        first = here[0]
        lines += [f"## {'Synthetic faces' if data == 'synthetic' else 'Real faces (UTKFace)'}", "",
                  f"{first['described']}. Machine: {first['machine']}; runs {min(r['date'][:10] for r in here)}"
                  f" to {max(r['date'][:10] for r in here)}; precision {first['precision']}.", "",
                  "| arm | settings | seeds | accuracy | women | men | Fair_Metric | Fair_Metric - ERM [paired 95 %] | "
                  "worst gender x class | predicted pos. rate | epochs | train s |",
                  "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|---:|"]
        erm_scores = [scores(r) for r in erm_runs]
        for arm in dict.fromkeys(r["arm"] for r in here):
            arm_runs = [r for r in here if r["arm"] == arm]
            s = [scores(r) for r in arm_runs]
            interval = None if arm == "erm" else paired_difference(arm_runs, erm_runs)
            if interval is None:
                diff_text = "(reference)" if arm == "erm" else "no ERM run of these seeds"
            else:
                erm_fair = {r["seed"]: sc["fair_metric"] for r, sc in zip(erm_runs, erm_scores)}
                paired = [sc["fair_metric"] - erm_fair[r["seed"]]
                          for r, sc in zip(arm_runs, s) if r["seed"] in erm_fair]
                diff_text = f"{np.mean(paired):+.3f} [{interval[0]:+.3f}, {interval[1]:+.3f}]"
            lines.append(
                f"| {arm} | {_describe(arm_runs[0])} | {', '.join(str(r['seed']) for r in arm_runs)} | "
                f"{_mean_std([x['accuracy'] for x in s])} | {_mean_std([x['women'] for x in s])} | "
                f"{_mean_std([x['men'] for x in s])} | {_mean_std([x['fair_metric'] for x in s])} | {diff_text} | "
                f"{_mean_std([x['worst_cell'] for x in s])} | {_mean_std([x['positive_rate'] for x in s])} | "
                f"{', '.join(str(r['epochs_run']) for r in arm_runs)} | "
                f"{np.mean([r['train_seconds'] for r in arm_runs]):.0f} |"
            )
        if erm_scores:
            lines += ["", f"Majority-class baseline (always the majority label): accuracy "
                      f"{_mean_std([x['majority'] for x in erm_scores])}; true positive rate "
                      f"{_mean_std([x['true_rate'] for x in erm_scores])}.", ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utkface", metavar="DIR", help="measure on UTKFace adults instead of synthetic faces")
    parser.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated, of: {', '.join(ARMS)}")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated")
    parser.add_argument("--quick", action="store_true", help="tiny images and network (a smoke run)")
    parser.add_argument("--n-train", type=int, default=REAL_TRAIN, help="training faces per seed with --utkface")
    parser.add_argument("--json", default=JSON_PATH)
    parser.add_argument("--markdown", default=MD_PATH)
    parser.add_argument("--render", action="store_true", help="only write the markdown from the JSON")
    args = parser.parse_args(argv)
    arms = [a for a in args.arms.split(",") if a]
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        parser.error(f"--arms: unknown {unknown}; accepted: {', '.join(ARMS)}")
    if not args.render:
        if args.utkface is not None and not os.path.isdir(args.utkface):
            parser.error(f"--utkface {args.utkface!r} is not a folder")
        if args.utkface:
            data, size, for_seed, described = real_data(args.utkface, args.n_train, 16 if args.quick else 64)
        else:
            data, size, for_seed, described = synthetic_data(args.quick)
        machine = machine_summary()["cpu_model"]
        # seeds outermost: an interrupted run leaves whole seeds
        for seed in (int(s) for s in args.seeds.split(",")):
            train, test = for_seed(seed)
            for arm in arms:
                run = run_arm(arm, size, seed, train, test, args.quick)
                run.update(data=data, described=described, machine=machine,
                           date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
                record(args.json, run)
                s = scores(run)
                print(f"{data} seed {seed} {arm}: accuracy {s['accuracy']:.3f}, Fair_Metric {s['fair_metric']:.3f}, "
                      f"worst cell {s['worst_cell']:.3f}, epochs {run['epochs_run']}, {run['train_seconds']:.0f} s",
                      flush=True)
    with open(args.markdown, "w") as handle:
        handle.write(render(read_runs(args.json)))


if __name__ == "__main__":
    main()
