"""Per-group thresholds for any objective under constraints, by searching threshold pairs.

Every quantity here is a function of the four confusion counts of each group
at its threshold, so one sorted pass per group gives them for every candidate
threshold, and a broadcast over the candidate pairs gives every objective and
constraint at once.
"""

import numpy as np
import pandas as pd

from .._validation import show_items

OBJECTIVES = ("fair_metric", "accuracy", "balanced_accuracy", "worst_group_accuracy")
#: constraint -> whether its bound is a maximum ("max") or a minimum ("min")
CONSTRAINTS = {
    "equal_opportunity_difference": "max",
    "equalized_odds_difference": "max",
    "demographic_parity_difference": "max",
    "accuracy_difference": "max",
    "min_group_recall": "min",
}
#: candidate thresholds per group: every distinct score up to this many, else this many quantiles
MAX_CANDIDATES = 500


def check_objective(objective, constraints):
    """The constraints as a dict of floats, or a ValueError naming what is accepted."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective={objective!r} is not accepted; accepted: {show_items(OBJECTIVES)}.")
    if constraints is None:
        return {}
    if not isinstance(constraints, dict):
        raise ValueError(
            f"constraints must be a dict such as {{'equal_opportunity_difference': 0.02}} or None; got "
            f"{type(constraints).__name__}."
        )
    unknown = sorted(set(constraints) - set(CONSTRAINTS), key=repr)
    if unknown:
        raise ValueError(f"constraints has unknown names {show_items(unknown)}; accepted: {show_items(CONSTRAINTS)}.")
    checked = {}
    for name, bound in constraints.items():
        try:
            bound = float(bound)
        except (TypeError, ValueError):
            bound = np.nan
        if not 0.0 <= bound <= 1.0:
            raise ValueError(
                f"constraints[{name!r}]={constraints[name]!r} is not accepted; accepted: a number in [0, 1]."
            )
        checked[name] = bound
    return checked


def _candidates(scores, positive):
    """Thresholds of one group and its confusion counts (tp, fp, tn, fn) at each.

    Candidate ``k`` predicts class 1 for the scores above ``thresholds[k]``;
    with more than :data:`MAX_CANDIDATES` distinct scores, evenly spaced ones
    of the sorted candidates are kept (the search is then approximate)."""
    from ._threshold import _threshold_candidates

    unique, inverse = np.unique(scores, return_inverse=True)
    n_pos = np.bincount(inverse, weights=positive, minlength=unique.size)
    n_neg = np.bincount(inverse, minlength=unique.size) - n_pos
    fn = np.concatenate([[0.0], np.cumsum(n_pos)])
    tn = np.concatenate([[0.0], np.cumsum(n_neg)])
    tp, fp = n_pos.sum() - fn, n_neg.sum() - tn
    thresholds = _threshold_candidates(unique)
    exact = thresholds.size <= MAX_CANDIDATES
    if not exact:
        keep = np.unique(np.linspace(0, thresholds.size - 1, MAX_CANDIDATES).round().astype(int))
        thresholds, tp, fp, tn, fn = (a[keep] for a in (thresholds, tp, fp, tn, fn))
    return thresholds, tp, fp, tn, fn, exact


def _rate(numerator, denominator):
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator / denominator


def pair_metrics(scores, positive, codes):
    """Every objective and constraint measure over all pairs of the two groups'
    candidate thresholds: a dict of arrays of shape (m_0, m_1), and the thresholds."""
    grids, exact = [], True
    for g in (0, 1):
        mine = codes == g
        *counts, group_exact = _candidates(scores[mine], positive[mine])
        grids.append(counts)
        exact &= group_exact
    (t0, *counts0), (t1, *counts1) = grids
    a, b = (slice(None), None), (None, slice(None))
    measures = _measures([c[a] for c in counts0], [c[b] for c in counts1])
    return measures, (t0, t1), exact


def _measures(counts0, counts1):
    """Objectives and constraint measures from each group's (tp, fp, tn, fn),
    arrays that broadcast against each other."""
    tp, fp, tn, fn = ([x, y] for x, y in zip(counts0, counts1))
    n = [tp[i] + fp[i] + tn[i] + fn[i] for i in (0, 1)]
    acc = [(tp[i] + tn[i]) / n[i] for i in (0, 1)]
    tpr = [_rate(tp[i], tp[i] + fn[i]) for i in (0, 1)]
    tnr = [_rate(tn[i], tn[i] + fp[i]) for i in (0, 1)]
    sel = [(tp[i] + fp[i]) / n[i] for i in (0, 1)]
    all_pos = tp[0] + fn[0] + tp[1] + fn[1]
    all_neg = tn[0] + fp[0] + tn[1] + fp[1]
    shape = np.broadcast_shapes(acc[0].shape, acc[1].shape)
    measures = {
        "accuracy": (tp[0] + tn[0] + tp[1] + tn[1]) / (n[0] + n[1]),
        "fair_metric": (acc[0] + acc[1]) / 2 - 2 * np.abs(acc[0] - acc[1]),
        "balanced_accuracy": (_rate(tp[0] + tp[1], all_pos) + _rate(tn[0] + tn[1], all_neg)) / 2,
        # a cell without samples has no accuracy and does not count
        "worst_group_accuracy": np.fmin(np.fmin(tpr[0], tpr[1]), np.fmin(tnr[0], tnr[1])),
        "equal_opportunity_difference": np.abs(tpr[0] - tpr[1]),
        "equalized_odds_difference": np.maximum(np.abs(tpr[0] - tpr[1]), np.abs(tnr[0] - tnr[1])),
        "demographic_parity_difference": np.abs(sel[0] - sel[1]),
        "accuracy_difference": np.abs(acc[0] - acc[1]),
        "min_group_recall": np.fmin(tpr[0], tpr[1]),
    }
    return {k: np.broadcast_to(v, shape) for k, v in measures.items()}


def constrained_optimum(scores, positive, codes, objective, constraints):
    """The threshold pair that maximises ``objective`` among those that meet
    ``constraints`` on these data, with the trade-off frontier.

    Returns ``(thresholds, value, measures_at_choice, frontier, exact)``; a
    ValueError when no pair meets the constraints, saying how close the
    search came.
    """
    measures, (t0, t1), exact = pair_metrics(scores, positive, codes)
    feasible = np.ones(measures["accuracy"].shape, dtype=bool)
    for name, bound in constraints.items():
        value = measures[name]
        meets = value <= bound + 1e-12 if CONSTRAINTS[name] == "max" else value >= bound - 1e-12
        feasible &= np.nan_to_num(meets, nan=False).astype(bool)
    if not feasible.any():
        closest = {name: (np.nanmin if CONSTRAINTS[name] == "max" else np.nanmax)(measures[name])
                   for name in constraints}
        shown = ", ".join(f"{name} {'at least' if CONSTRAINTS[name] == 'max' else 'at most'} {closest[name]:.4f}"
                          for name in constraints)
        raise ValueError(
            f"no pair of thresholds meets constraints={constraints} on the tuning data (best reachable, "
            f"each on its own: {shown}); loosen the bounds or give more tuning data."
        )
    target = np.where(feasible, np.nan_to_num(measures[objective], nan=-np.inf), -np.inf)
    best = target.max()
    # among the best pairs, the one closest to the plain classifier (both thresholds near 0.5)
    distance = np.abs(t0 - 0.5)[:, None] + np.abs(t1 - 0.5)[None, :]
    i, j = np.unravel_index(np.argmin(np.where(target == best, distance, np.inf)), target.shape)
    at_choice = {name: float(value[i, j]) for name, value in measures.items()}
    chosen = (float(t0[i]), float(t1[j]))
    return chosen, float(best), at_choice, _frontier(measures, t0, t1, chosen, at_choice), exact


def measures_at(scores, positive, codes, thresholds):
    """The measures of :func:`pair_metrics` at one threshold pair, from the predictions."""
    grids = []
    for g in (0, 1):
        mine = codes == g
        pred, pos = scores[mine] > thresholds[g], positive[mine] > 0
        grids.append([np.array([[v]], dtype=float) for v in
                      (np.sum(pred & pos), np.sum(pred & ~pos), np.sum(~pred & ~pos), np.sum(~pred & pos))])
    return {name: float(value[0, 0]) for name, value in _measures(*grids).items()}


def _frontier(measures, t0, t1, chosen_thresholds, chosen_measures):
    """The pairs no other pair beats on both accuracy and Fair_Metric, by
    accuracy, and the chosen pair (``chosen`` True), added if it is not one."""
    acc, fair = measures["accuracy"].ravel(), measures["fair_metric"].ravel()
    order = np.lexsort((-fair, -acc))  # accuracy descending, then Fair_Metric descending
    keep, best_fair = [], -np.inf
    for k in order:
        if fair[k] > best_fair:
            keep.append(k)
            best_fair = fair[k]
    keep = np.asarray(keep)
    i, j = np.unravel_index(keep, measures["accuracy"].shape)
    frame = pd.DataFrame({"threshold_0": t0[i], "threshold_1": t1[j]})
    for name, value in measures.items():
        frame[name] = value.ravel()[keep]
    frame["chosen"] = (frame["threshold_0"] == chosen_thresholds[0]) & (frame["threshold_1"] == chosen_thresholds[1])
    if not frame["chosen"].any():
        row = {"threshold_0": chosen_thresholds[0], "threshold_1": chosen_thresholds[1], **chosen_measures,
               "chosen": True}
        frame = pd.concat([frame, pd.DataFrame([row])], ignore_index=True)
    return frame.sort_values("accuracy", ascending=False, kind="stable").reset_index(drop=True)
