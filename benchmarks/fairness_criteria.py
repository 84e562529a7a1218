"""Fairness criteria and their trade-off, on synthetic and real faces.

    python -m benchmarks.fairness_criteria --utkface ../shared/data/utkface   # both data sets
    python -m benchmarks.fairness_criteria --quick --out /tmp/fc              # smoke run (tiny)
    python -m benchmarks.fairness_criteria --render benchmarks/results/fairness_criteria.json

Protocol, per data set and seed. The faces are split into train / validation
/ test, stratified on class x gender. One ``FaceCNNClassifier`` with the
default settings (``random_state=seed``) trains on the train part. Then
``FairThresholdClassifier(network, prefit=True, objective=..., constraints=...)``
is tuned on the validation part for each criterion of ``CRITERIA``, and every
criterion's thresholds are judged on the test part, which neither the network
nor the thresholds saw. The network alone (threshold 0.5 for everyone) and
the majority class are there for scale.

Every measure comes from the library's own definitions (the measures the
threshold search optimises), so the validation and test numbers are the same
quantity. Intervals are bootstrap 95 % intervals over test faces, the same
resamples for every criterion of a seed, so the differences to the network
alone are paired. The trade-off: the validation frontier of seed 0 (the
threshold pairs no other pair beats on both accuracy and Fair_Metric on the
validation faces), each pair also scored on the test faces; the JSON keeps
at most ``FRONTIER_POINTS`` pairs per seed, evenly spread along it.

Data sets: ``make_faces`` at 32 px (6,000 training, 2,000 validation, 20,000
test faces) and, with ``--utkface DIR``, UTKFace adults (``load_utkface``'s
default task: class 1 for age >= 40) at 64 px, 60/20/20. The JSON is written
after every seed, so an interrupted run keeps what it finished; the figure
shows numbers only, never a face.
"""

import argparse
import json
import os
import sys
import time

if __package__ in (None, ""):  # python benchmarks/fairness_criteria.py
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

JSON_NAME, MD_NAME, FIGURE_NAME = "fairness_criteria.json", "fairness_criteria.md", "fairness_criteria.png"
BOUND = 0.02
#: (key, title, FairThresholdClassifier parameters; None: the network alone)
CRITERIA = (
    ("none", "network alone (threshold 0.5)", None),
    ("fair_metric", "Fair_Metric (the default)", {}),
    ("accuracy", "accuracy", {"objective": "accuracy"}),
    ("worst_group", "worst gender x class accuracy", {"objective": "worst_group_accuracy"}),
    ("equal_opportunity", f"accuracy, equal opportunity <= {BOUND}",
     {"objective": "accuracy", "constraints": {"equal_opportunity_difference": BOUND}}),
    ("equalized_odds", f"accuracy, equalized odds <= {BOUND}",
     {"objective": "accuracy", "constraints": {"equalized_odds_difference": BOUND}}),
    ("demographic_parity", f"accuracy, demographic parity <= {BOUND}",
     {"objective": "accuracy", "constraints": {"demographic_parity_difference": BOUND}}),
)
#: the measures recorded for every criterion, on validation and test faces
MEASURES = ("accuracy", "fair_metric", "worst_group_accuracy", "equal_opportunity_difference",
            "equalized_odds_difference", "demographic_parity_difference")
FRONTIER_POINTS = 40
FULL = dict(seeds=3, n_train=6000, n_val=2000, n_test=20000, n_boot=1000, epochs=10,
            image_size={"synthetic": 32, "utkface": 64})
QUICK = dict(seeds=2, n_train=300, n_val=200, n_test=300, n_boot=100, epochs=1,
             image_size={"synthetic": 16, "utkface": 16})


def synthetic(args):
    return synthetic_parts(args.n_train, args.n_val, args.n_test, args.image_size["synthetic"], args.data_seed)


def utkface(args):
    return utkface_parts(args.utkface, args.image_size["utkface"],
                         n=args.n_train + args.n_val + args.n_test if args.quick else None)


def scores_at(proba, y, codes, thresholds):
    """The library's measures of one threshold pair (group codes 0 and 1)."""
    from skface.fairness._objectives import measures_at

    return {k: v for k, v in measures_at(proba, y, codes, thresholds).items() if k in MEASURES}


def bootstrap(proba, y, codes, pairs, n_boot, seed):
    """Replicates of every measure for every threshold pair, on the same resamples:
    ``{measure: array (n_pairs, n_boot)}``. The library's bootstrap
    (``resampled_sums``) counts each pair's per-group confusion cells on every
    resample, and the threshold search's own formulas (``_measures``) turn the
    counts into measures."""
    from skface.fairness._objectives import _measures
    from skface.metrics._fair_metric import resampled_sums

    positive = y > 0
    cells = []  # per pair, per group: true positives, false positives, true negatives, false negatives
    for pair in pairs:
        predicted = proba > np.asarray(pair)[codes]
        for g in (0, 1):
            mine = codes == g
            cells += [mine & predicted & positive, mine & predicted & ~positive,
                      mine & ~predicted & ~positive, mine & ~predicted & positive]
    counts = resampled_sums(np.stack(cells, axis=1), n_boot, random_state=seed)
    counts = counts.reshape(n_boot, len(pairs), 2, 4).transpose(2, 3, 1, 0)  # group, cell, pair, resample
    measures = _measures(list(counts[0]), list(counts[1]))
    return {m: np.asarray(measures[m]) for m in MEASURES}


def _percentiles(values):
    return [float(v) for v in np.nanpercentile(values, [2.5, 97.5])]


def _frontier_points(frontier, proba, y, codes):
    """At most FRONTIER_POINTS pairs of a validation frontier, each with its test measures."""
    keep = np.unique(np.linspace(0, len(frontier) - 1, min(FRONTIER_POINTS, len(frontier))).round().astype(int))
    points = []
    for _, row in frontier.iloc[keep].iterrows():
        pair = (float(row["threshold_0"]), float(row["threshold_1"]))
        test = scores_at(proba, y, codes, pair)
        points.append({"thresholds": list(pair),
                       "validation": {m: float(row[m]) for m in MEASURES},
                       "test": {m: float(test[m]) for m in MEASURES}})
    return points


def run_seed(args, data, seed, image_size):
    from skface import FaceCNNClassifier
    from skface.fairness import FairThresholdClassifier

    images, y, gender, sizes = data
    train, val, test = stratified_parts(y, gender, sizes, seed)
    settings = dict(image_size=image_size, epochs=args.epochs, random_state=seed)
    if args.quick:
        settings.update(filters=(4, 8), dense_units=16)
    start = time.perf_counter()
    network = FaceCNNClassifier(**settings).fit(images[train], y[train])
    train_seconds = time.perf_counter() - start
    groups = np.unique(gender)  # the threshold search's group order: sorted
    proba = {part: network.predict_proba(images[idx])[:, 1] for part, idx in (("val", val), ("test", test))}
    codes = {part: np.searchsorted(groups, gender[idx]) for part, idx in (("val", val), ("test", test))}
    labels = {part: (y[idx] == network.classes_[1]).astype(int) for part, idx in (("val", val), ("test", test))}

    record = {"seed": seed, "n_train": len(train), "n_val": len(val), "n_test": len(test),
              "train_seconds": train_seconds, "epochs_run": len(network.history_["loss"]), "criteria": {}}
    pairs, frontier = {}, None
    for key, _, params in CRITERIA:
        entry = {}
        if params is None:
            pairs[key] = (0.5, 0.5)
        else:
            clf = FairThresholdClassifier(network, prefit=True, **params)
            start = time.perf_counter()
            try:
                clf.fit(images[val], y[val], sensitive_features=gender[val])
            except ValueError as error:  # no threshold pair meets the constraint on the validation faces
                record["criteria"][key] = {"feasible": False, "message": str(error)}
                continue
            entry["tuning_seconds"] = time.perf_counter() - start
            entry["exact"] = bool(clf.search_exact_)
            pairs[key] = tuple(float(clf.thresholds_[g]) for g in groups)
            if frontier is None:
                frontier = clf.frontier_
        entry.update(feasible=True, thresholds=list(pairs[key]),
                     validation=scores_at(proba["val"], labels["val"], codes["val"], pairs[key]),
                     test=scores_at(proba["test"], labels["test"], codes["test"], pairs[key]))
        entry["test"]["positive_rate"] = float(np.mean(
            proba["test"] > np.asarray(pairs[key])[codes["test"]]))
        record["criteria"][key] = entry
    keys = list(pairs)
    replicates = bootstrap(proba["test"], labels["test"], codes["test"], [pairs[k] for k in keys], args.n_boot, seed)
    for row, key in enumerate(keys):
        entry = record["criteria"][key]
        entry["test_ci"] = {m: _percentiles(replicates[m][row]) for m in MEASURES}
        entry["fair_metric_vs_none"] = _percentiles(replicates["fair_metric"][row] - replicates["fair_metric"][0])
    majority = np.full(len(test), float(np.bincount((y[train] == network.classes_[1]).astype(int)).argmax()))
    record["majority"] = {m: v for m, v in scores_at(majority, labels["test"], codes["test"], (0.5, 0.5)).items()
                          if m in ("accuracy", "fair_metric")}
    if seed == 0 and frontier is not None:
        record["frontier"] = _frontier_points(frontier, proba["test"], labels["test"], codes["test"])
    return record


def run(args, log=print):
    data_sets = [("synthetic", "Synthetic faces (make_faces)", synthetic)]
    if args.utkface:
        data_sets.append(("utkface", "UTKFace photographs of adults, class age >= 40", utkface))
    out, page, figure = output_paths(args.out, JSON_NAME, MD_NAME, FIGURE_NAME)
    results = run_data_sets(
        args, data_sets, lambda args, data, seed, key: run_seed(args, data, seed, args.image_size[key]), out,
        summary=lambda record: ", ".join(f"{k} {v['test']['fair_metric']:.3f}"
                                         for k, v in record["criteria"].items() if v["feasible"]),
        log=log, bound=BOUND,
    )
    write_outputs(results, page, figure)
    return results


# --------------------------------------------------------------- rendering
CONSTRAINTS = {key: next(iter(params["constraints"])) for key, _, params in CRITERIA
               if params and "constraints" in params}
SHORT = {"equal_opportunity_difference": "EO", "equalized_odds_difference": "EOdds",
         "demographic_parity_difference": "DP"}


def _interval(ci, sign=""):
    return f"[{ci[0]:{sign}.3f}, {ci[1]:{sign}.3f}]"


def _verdict(ci):
    if ci[0] > 0:
        return "above"
    if ci[1] < 0:
        return "below"
    return "not distinguishable"


def _table(seeds):
    header = ("criterion", "seeds met on validation", "accuracy", "Fair_Metric",
              "Fair_Metric minus network alone, paired 95 % interval per seed", "worst gender x class",
              "EO difference", "EOdds difference", "DP difference", "positive rate")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key, title, params in CRITERIA:
        rows = [s["criteria"][key] for s in seeds if s["criteria"][key]["feasible"]]
        met = "—" if key not in CONSTRAINTS else f"{len(rows)} of {len(seeds)}"
        if not rows:
            lines.append(f"| {title} | {met} |" + " |" * (len(header) - 2))
            continue
        paired = "—" if key == "none" else "; ".join(
            f"{_interval(r['fair_metric_vs_none'], '+')} {_verdict(r['fair_metric_vs_none'])}" for r in rows)
        test = [r["test"] for r in rows]
        cells = [title, met, _mean_std([t["accuracy"] for t in test]), _mean_std([t["fair_metric"] for t in test]),
                 paired, _mean_std([t["worst_group_accuracy"] for t in test])]
        cells += [_mean_std([t[m] for t in test]) for m in SHORT]
        cells.append(_mean_std([t["positive_rate"] for t in test]))
        lines.append("| " + " | ".join(cells) + " |")
    majority = [s["majority"] for s in seeds]
    lines.append(f"| majority class | — | {_mean_std([m['accuracy'] for m in majority])} | "
                 f"{_mean_std([m['fair_metric'] for m in majority])} |" + " |" * (len(header) - 4))
    return lines


def _constraints_held(seeds, bound):
    """One sentence per constrained criterion: met on validation, and on test."""
    lines = []
    for key, measure in CONSTRAINTS.items():
        title = next(t for k, t, _ in CRITERIA if k == key)
        rows = [s["criteria"][key] for s in seeds]
        feasible = [r for r in rows if r["feasible"]]
        if not feasible:
            lines.append(f"- **{title}**: no threshold pair met the bound on the validation faces of any seed "
                         "(`fit` raised its ValueError).")
            continue
        held = sum(r["test"][measure] <= bound for r in feasible)
        covered = sum(r["test_ci"][measure][0] <= bound for r in feasible)
        values = "; ".join(f"{r['validation'][measure]:.3f} -> {r['test'][measure]:.3f} "
                           f"{_interval(r['test_ci'][measure])}" for r in feasible)
        text = (f"- **{title}**: met on the validation faces of {len(feasible)} of {len(rows)} seeds; "
                f"{SHORT[measure]} difference validation -> test (95 % interval): {values}. On test it stayed "
                f"within {bound} on {held} of {len(feasible)} seeds, and the interval reached down to {bound} "
                f"on {covered}.")
        lines.append(text)
    return lines


def _findings(seeds):
    """What the table shows, written from its numbers."""
    def mean(key, measure="fair_metric"):
        rows = [s["criteria"][key] for s in seeds if s["criteria"][key]["feasible"]]
        return np.mean([r["test"][measure] for r in rows]) if rows else np.nan

    n = len(seeds)
    parts = []
    for key, title, params in CRITERIA[1:]:
        rows = [s["criteria"][key] for s in seeds if s["criteria"][key]["feasible"]]
        if not rows:
            continue
        verdicts = [_verdict(r["fair_metric_vs_none"]) for r in rows]
        parts.append(f"{title}: Fair_Metric {mean(key):.3f} at accuracy {mean(key, 'accuracy'):.3f}, above the "
                     f"network alone beyond the paired interval on {verdicts.count('above')} of {n} seeds"
                     + (f", below it on {verdicts.count('below')}" if verdicts.count("below") else ""))
    return (f"**What it shows.** The network alone: Fair_Metric {mean('none'):.3f} at accuracy "
            f"{mean('none', 'accuracy'):.3f}. " + "; ".join(parts) + ".")


def render(results):
    m = results["machine"]
    lines = [
        "# Fairness criteria: what each choice of thresholds buys, on synthetic and real faces",
        "",
        written_by("fairness_criteria", results, JSON_NAME),
        "",
        f"Machine: {m['cpu_model']}, {m['cores_available']} usable cores; TensorFlow "
        f"{m['versions'].get('tensorflow')}, Keras {m['versions'].get('keras')}. One network per seed with "
        f"the default settings (at most {results['arguments']['epochs']} epochs, early stopping); "
        "`FairThresholdClassifier(network, prefit=True, ...)` tuned on the validation faces for each criterion; "
        "every number below is on test faces that neither saw.",
        "",
        "EO: equal opportunity difference (of the true positive rates), EOdds: equalized odds difference (the "
        "larger of the true and false positive rates' differences), DP: demographic parity difference (of the "
        "selection rates); worst gender x class: the lowest accuracy over the four cells. Mean ± standard "
        "deviation over the seeds where the criterion could be met; intervals are bootstrap 95 % over test "
        "faces, the same resamples for every criterion of a seed.",
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
            f"{data['n_faces']:,} faces at {data['image_size']} px (positive rate {data['positive_rate']:.3f}, "
            f"women {data['women_share']:.0%}); per seed {first['n_train']:,} training, {first['n_val']:,} "
            f"validation, {first['n_test']:,} test faces; {len(seeds)} seed(s).",
            "",
            *_table(seeds),
            "",
            _findings(seeds),
            "",
            f"**Do the constraints hold on new faces?** Each bound is {results['bound']}, met by construction on "
            "the validation faces when `fit` succeeds:",
            "",
            *_constraints_held(seeds, results["bound"]),
            "",
        ]
    lines += [f"![The trade-off on validation and test faces](_static/{FIGURE_NAME})", ""]
    return "\n".join(lines)


def plot(results, path):
    """Per data set: the Fair_Metric / accuracy frontier of seed 0 on validation and
    test faces with every criterion's choice, and each constrained measure of
    every seed on validation and on test (with its interval) against the bound."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = [(k, d) for k, d in results["datasets"].items() if d["seeds"] and d["seeds"][0].get("frontier")]
    fig, axes = plt.subplots(2, max(1, len(datasets)), figsize=(5.5 * max(1, len(datasets)), 8), squeeze=False)
    for col, (key, data) in enumerate(datasets):
        name = data["title"].split(",")[0]
        ax, seed = axes[0, col], data["seeds"][0]
        for part, style in (("validation", dict(color="0.7", label="frontier, validation faces")),
                            ("test", dict(color="C0", label="same thresholds, test faces"))):
            ax.plot([p[part]["accuracy"] for p in seed["frontier"]],
                    [p[part]["fair_metric"] for p in seed["frontier"]], ".-", ms=3, **style)
        for i, (criterion, title, _) in enumerate(CRITERIA):
            entry = seed["criteria"][criterion]
            if entry["feasible"]:
                ax.plot(entry["test"]["accuracy"], entry["test"]["fair_metric"], "o", color=f"C{i + 1}",
                        label=f"{title} (test)")
        ax.set(xlabel="accuracy", ylabel="Fair_Metric", title=f"{name}, seed 0: the trade-off")
        ax = axes[1, col]
        for i, (criterion, measure) in enumerate(CONSTRAINTS.items()):
            for j, seed in enumerate(data["seeds"]):
                entry = seed["criteria"][criterion]
                if not entry["feasible"]:
                    continue
                x = i + (j - (len(data["seeds"]) - 1) / 2) * 0.2
                low, high = entry["test_ci"][measure]
                value = entry["test"][measure]
                ax.errorbar(x, value, yerr=[[value - low], [high - value]], fmt="o", color="C0", capsize=3,
                            label="test faces, 95 % interval" if i == j == 0 else None)
                ax.plot(x, entry["validation"][measure], "x", color="0.4",
                        label="validation faces (tuned)" if i == j == 0 else None)
        ax.axhline(results["bound"], color="C3", ls="--", lw=1, label=f"bound {results['bound']}")
        ax.set_xticks(range(len(CONSTRAINTS)), [f"{SHORT[m]} difference" for m in CONSTRAINTS.values()])
        ax.set(ylabel="constrained measure, one point per seed", title=f"{name}: do the bounds hold?")
        ax.legend(fontsize=7, loc="upper left")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_outputs(results, page, figure):
    with open(page, "w") as handle:
        handle.write(render(results))
    os.makedirs(os.path.dirname(figure), exist_ok=True)
    plot(results, figure)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utkface", default=None, help="a UTKFace folder: also measure on real faces")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--out", default=None, help="one folder for the JSON, the markdown and the figure "
                        "(default: benchmarks/results/, docs/ and docs/_static/)")
    parser.add_argument("--render", default=None, help="write the markdown and figure from this JSON and stop")
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
        write_outputs(results, *render_paths(args.render, MD_NAME, FIGURE_NAME))
        return
    if args.utkface and not os.path.isdir(args.utkface):
        raise SystemExit(f"--utkface {args.utkface!r} is not a folder")
    run(args)


if __name__ == "__main__":
    main()
