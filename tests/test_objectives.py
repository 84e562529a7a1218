"""FairThresholdClassifier's objectives under constraints: the pair search
against brute force, constraints met or refused, the frontier and its plot."""

import itertools

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skface.fairness import FairThresholdClassifier, plot_frontier
from skface.fairness._objectives import (
    CONSTRAINTS,
    OBJECTIVES,
    _candidates,
    constrained_optimum,
    measures_at,
)


def _small(seed):
    rng = np.random.default_rng(seed)
    n = 40
    scores = rng.integers(0, 9, n) / 8  # few distinct scores: every pair can be enumerated
    positive = (rng.random(n) < scores).astype(float)
    codes = np.tile([0, 1], n // 2)
    return scores, positive, codes


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("constraint", [None, *CONSTRAINTS])
def test_pair_search_is_the_brute_force_optimum(seed, objective, constraint):
    scores, positive, codes = _small(seed)
    bound = {None: None, "min_group_recall": 0.5}.get(constraint, 0.15)
    constraints = {} if constraint is None else {constraint: bound}
    # brute force: every pair of candidate thresholds, measured from the predictions themselves
    grids = [_candidates(scores[codes == g], positive[codes == g])[0] for g in (0, 1)]
    best = -np.inf
    for pair in itertools.product(*grids):
        m = measures_at(scores, positive, codes, pair)
        value = m[constraint] if constraint else None
        if constraint and not (value <= bound + 1e-12 if CONSTRAINTS[constraint] == "max" else value >= bound - 1e-12):
            continue
        if not np.isnan(m[objective]):
            best = max(best, m[objective])
    if best == -np.inf:
        with pytest.raises(ValueError, match="no pair of thresholds meets constraints"):
            constrained_optimum(scores, positive, codes, objective, constraints)
        return
    thresholds, value, at_choice, frontier, exact = constrained_optimum(scores, positive, codes, objective,
                                                                        constraints)
    assert exact and value == pytest.approx(best)
    # what the chosen thresholds really do is what the search says they do
    direct = measures_at(scores, positive, codes, thresholds)
    for name, measured in at_choice.items():
        assert direct[name] == pytest.approx(measured, nan_ok=True)
    assert frontier["chosen"].sum() == 1


def test_frontier_rows_are_not_dominated():
    scores, positive, codes = _small(7)
    *_, frontier, _ = constrained_optimum(scores, positive, codes, "accuracy", {})
    points = frontier[~frontier["chosen"]][["accuracy", "fair_metric"]].to_numpy()
    for a, f in points:
        assert not np.any((points[:, 0] > a) & (points[:, 1] > f))
    assert list(frontier["accuracy"]) == sorted(frontier["accuracy"], reverse=True)


@pytest.fixture(scope="module")
def tabular():
    rng = np.random.RandomState(0)
    gender = np.repeat([-1, 1], 600)
    X = rng.normal(size=(1200, 2))
    y = (X[:, 0] + np.where(gender == 1, 0.6, 0) + rng.normal(0, 0.6, 1200) > 0).astype(int)
    return X, y, gender


def test_a_constrained_fit_meets_its_constraint_and_keeps_its_objective(tabular):
    X, y, gender = tabular
    plain = FairThresholdClassifier(LogisticRegression(), random_state=0, objective="accuracy").fit(
        X, y, sensitive_features=gender)
    bound = 0.01
    constrained = FairThresholdClassifier(LogisticRegression(), random_state=0, objective="accuracy",
                                          constraints={"equal_opportunity_difference": bound}).fit(
        X, y, sensitive_features=gender)
    chosen = constrained.frontier_[constrained.frontier_["chosen"]].iloc[0]
    assert chosen["equal_opportunity_difference"] <= bound
    assert constrained.best_score_ == pytest.approx(chosen["accuracy"])
    assert constrained.best_score_ <= plain.best_score_  # a constraint never buys accuracy
    assert constrained.search_exact_ in (True, False) and sorted(constrained.thresholds_) == [-1, 1]
    # predict applies the chosen pair
    scores = constrained.predict_proba(X)[:, 1]
    expected = np.where(gender == -1, scores > constrained.thresholds_[-1], scores > constrained.thresholds_[1])
    np.testing.assert_array_equal(constrained.predict(X, sensitive_features=gender), expected.astype(int))


def test_default_objective_keeps_the_exact_search_and_reports_a_frontier(tabular):
    X, y, gender = tabular
    clf = FairThresholdClassifier(LogisticRegression(), random_state=0).fit(X, y, sensitive_features=gender)
    chosen = clf.frontier_[clf.frontier_["chosen"]].iloc[0]
    assert chosen["fair_metric"] == pytest.approx(clf.best_score_)
    assert clf.search_exact_
    fig = plot_frontier(clf.frontier_, fairness="fair_metric")
    assert fig.axes[0].get_ylabel() == "fair metric (tuning data)"
    with pytest.raises(ValueError, match="fairness='nope' is not a column"):
        plot_frontier(clf.frontier_, fairness="nope")


@pytest.mark.parametrize(
    "kwargs, groups, message",
    [
        ({"constraints": {"min_group_recall": 1.0, "accuracy_difference": 0.0}}, 2,
         "no pair of thresholds meets constraints"),
        ({"objective": "accuracy"}, 3, "need exactly 2 groups; sensitive_features has 3"),
        ({"constraints": {"parity": 0.1}}, 2, "constraints has unknown names \\['parity'\\]"),
        ({"constraints": {"min_group_recall": 2}}, 2, "accepted: a number in \\[0, 1\\]"),
        ({"objective": "accuracy", "group_estimator": LogisticRegression()}, 2,
         "with a group_estimator only the default objective"),
    ],
)
def test_what_cannot_be_met_or_searched_is_refused(tabular, kwargs, groups, message):
    X, y, gender = tabular
    g = gender if groups == 2 else np.arange(len(y)) % 3
    with pytest.raises(ValueError, match=message):
        FairThresholdClassifier(LogisticRegression(), random_state=0, **kwargs).fit(X, y, sensitive_features=g)
