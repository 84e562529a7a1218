"""Tests of skface.fairness: weights, balancing, thresholds, report and plot."""

import itertools
import re

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest
import sklearn
from fairlearn.metrics import (
    MetricFrame,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError, UnsetMetadataPassedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.utils._param_validation import InvalidParameterError

from skface.fairness import (
    FairThresholdClassifier,
    balance_groups,
    fairness_report,
    group_sample_weight,
    plot_fairness,
)
from skface.metrics import fair_metric, fair_metric_from_accuracies, make_fair_scorer


def routing():
    """Metadata routing on, for the ``with`` block only."""
    return sklearn.config_context(enable_metadata_routing=True)


@pytest.fixture
def tabular():
    """Two groups; gender 1 is the minority and noisier."""
    rng = np.random.RandomState(0)
    n = 300
    gender = np.where(rng.rand(n) < 0.65, -1, 1)
    X = rng.normal(size=(n, 2))
    noise = rng.normal(0, np.where(gender == 1, 1.0, 0.3))
    y = (X[:, 0] + np.where(gender == 1, 0.7, 0.0) + noise > 0).astype(int)
    return X, y, gender


class FixedScores(ClassifierMixin, BaseEstimator):
    """A 'model' whose positive-class probability is the first column of X."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        p = np.asarray(X, dtype=float)[:, 0]
        return np.column_stack([1 - p, p])


class Recorder(ClassifierMixin, BaseEstimator):
    """Logistic regression that remembers what its fit received."""

    def fit(self, X, y, sample_weight=None):
        self.n_fit_ = len(X)
        self.sample_weight_ = sample_weight
        self.model_ = LogisticRegression().fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


# ------------------------------------------------------- group_sample_weight


def test_balanced_weights_equal_group_totals():
    gender = np.array([-1] * 6 + [1] * 2)
    weights = group_sample_weight(gender)
    assert weights.mean() == pytest.approx(1.0)
    assert weights[gender == -1].sum() == pytest.approx(weights[gender == 1].sum())
    np.testing.assert_allclose(weights, np.where(gender == -1, 8 / 12, 8 / 4))


def test_balanced_weights_group_by_class_cells():
    gender = np.array([-1, -1, -1, -1, -1, 1, 1, 1])
    y = np.array([0, 0, 0, 1, 1, 0, 1, 1])
    weights = group_sample_weight(pd.Series(gender), y=y)
    assert weights.mean() == pytest.approx(1.0)
    totals = pd.Series(weights).groupby([gender, y]).sum()
    np.testing.assert_allclose(totals, 2.0)


def test_mapping_weights_reproduce_reference():
    gender = pd.DataFrame({"gender": [-1, 1, 1, -1]})
    np.testing.assert_array_equal(
        group_sample_weight(gender, {-1: 1.0, 1: 0.1}), [1.0, 0.1, 0.1, 1.0]
    )
    np.testing.assert_array_equal(
        group_sample_weight(["F", "M"], {"F": 2, "M": 0}), [2.0, 0.0]
    )


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        (([-1, 1], "equal"), {}, ValueError,
         "weights must be 'balanced' or a mapping of group -> weight such as "
         "{-1: 1.0, 1: 0.1}; got 'equal'."),
        (([-1, 1], [1.0, 0.1]), {}, TypeError,
         "weights must be 'balanced' or a mapping of group -> weight such as "
         "{-1: 1.0, 1: 0.1}; got list [1.0, 0.1]."),
        (([-1, 1, 2], {-1: 1.0, 1: 0.1}), {}, ValueError,
         "weights has no entry for the groups [2] of sensitive_features; the mapping "
         "covers [-1, 1] and the groups are [-1, 1, 2]. Give every group a weight."),
        (([0, 1], {-1: 1.0, 1: 0.1, 0: 1.0}), {}, ValueError,
         "weights has entries for groups [-1] that are not in sensitive_features; the "
         "groups are [0, 1]."),
        (([-1, 1], {-1: 1.0, 1: -0.1}), {}, ValueError,
         "weights[1] must be a finite number >= 0; got -0.1."),
        (([-1, 1], {-1: 1.0, 1: "low"}), {}, ValueError,
         "weights[1] must be a finite number >= 0; got 'low'."),
        (([-1, 1], {-1: 1.0, 1: 0.1}), {"y": [0, 1]}, ValueError,
         "y is only used with weights='balanced'"),
        (([-1, 1],), {"y": [0, 1, 1]}, ValueError,
         "y, sensitive_features must have the same length (one entry per sample); got y: 3, "
         "sensitive_features: 2."),
        (([-1, None],), {}, ValueError,
         "sensitive_features contains missing values (NaN/None) at positions [1]"),
    ],
)
def test_group_sample_weight_errors(args, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        group_sample_weight(*args, **kwargs)


# ------------------------------------------------------------ balance_groups


@pytest.fixture
def people():
    rng = np.random.RandomState(1)
    n = 50
    return pd.DataFrame(
        {
            "filename": [f"{i:06d}.jpg" for i in range(n)],
            "gender": np.where(np.arange(n) < 35, -1, 1),
            "label": rng.randint(0, 2, n),
        },
        index=np.arange(100, 100 + n),
    )


def test_undersample_exact_and_reproducible(people):
    balanced = balance_groups(people, "gender", random_state=0)
    assert balanced["gender"].value_counts().to_dict() == {-1: 15, 1: 15}
    assert list(balanced.columns) == list(people.columns)
    # rows are unchanged originals, in the original order, each once
    pd.testing.assert_frame_equal(balanced, people.loc[balanced.index])
    assert balanced.index.is_monotonic_increasing and balanced.index.is_unique
    # every row of the smaller group is kept
    assert set(people.index[people["gender"] == 1]) <= set(balanced.index)
    pd.testing.assert_frame_equal(balanced, balance_groups(people, "gender", random_state=0))
    other = balance_groups(people, "gender", random_state=1)
    assert not other.index.equals(balanced.index)


def test_oversample_exact_and_reproducible(people):
    balanced = balance_groups(people, "gender", strategy="oversample",
                              random_state=np.random.RandomState(0))
    assert balanced["gender"].value_counts().to_dict() == {-1: 35, 1: 35}
    assert set(balanced.index) == set(people.index)  # every original kept
    pd.testing.assert_frame_equal(balanced, people.loc[balanced.index])
    again = balance_groups(people, "gender", strategy="oversample",
                           random_state=np.random.RandomState(0))
    pd.testing.assert_frame_equal(balanced, again)


def test_balance_groups_single_group_is_a_copy(people):
    one = people[people["gender"] == 1]
    result = balance_groups(one, "gender", random_state=0)
    pd.testing.assert_frame_equal(result, one)
    assert result is not one


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda f: balance_groups(f.to_numpy(), "gender"), TypeError,
         "frame must be a pandas DataFrame with one row per sample; got ndarray."),
        (lambda f: balance_groups(f, "sex"), ValueError,
         "column='sex' is not a column of frame; the columns are "
         "['filename', 'gender', 'label']."),
        (lambda f: balance_groups(f, "gender", strategy="smote"), ValueError,
         "strategy must be one of ('undersample', 'oversample'); got 'smote'."),
        (lambda f: balance_groups(f.assign(gender=f["gender"].where(f.index != 103)),
                                  "gender"), ValueError,
         "frame['gender'] contains missing values (NaN/None) at positions [3]"),
    ],
)
def test_balance_groups_errors(people, call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call(people)


# -------------------------------------------------- FairThresholdClassifier


def brute_force(scores, y, groups):
    """Best Fair_Metric over every combination of per-group labellings.

    Scores are multiples of 0.1, so thresholds halfway between them (and
    below 0, above 1) give every labelling ``score > t`` can make.
    """
    grid = np.arange(-0.05, 1.06, 0.1)
    per_group = []
    for group in np.unique(groups):
        s, t = scores[groups == group], y[groups == group]
        per_group.append([np.mean((s > th) == t) for th in grid])
    return max(fair_metric_from_accuracies(a) for a in itertools.product(*per_group))


@pytest.mark.parametrize("seed", range(6))
def test_thresholds_are_the_exact_optimum(seed):
    rng = np.random.RandomState(seed)
    n_groups = 2 + seed % 2
    n = 24 + 6 * seed
    groups = rng.randint(0, n_groups, n)
    groups[:n_groups] = np.arange(n_groups)
    y = rng.randint(0, 2, n)
    # informative but group-dependent scores, with ties
    scores = np.clip(np.round(0.5 + (y - 0.5) * rng.uniform(0, 0.8, n)
                              + 0.15 * groups + rng.normal(0, 0.2, n), 1), 0, 1)
    X = scores[:, None]
    clf = FairThresholdClassifier(FixedScores().fit(X, y), prefit=True)
    clf.fit(X, y, sensitive_features=groups)
    assert clf.best_score_ == pytest.approx(brute_force(scores, y, groups), abs=1e-12)
    predicted = clf.predict(X, sensitive_features=groups)
    assert fair_metric(y, predicted, sensitive_features=groups) == pytest.approx(
        clf.best_score_, abs=1e-12
    )
    for group, threshold in clf.thresholds_.items():
        # thresholds separate scores: none sits on an observed score
        assert not np.any(np.isclose(scores[groups == group], threshold))
    assert clf.group_accuracy_.to_dict() == pytest.approx(
        {g: accuracy_score(y[groups == g], predicted[groups == g]) for g in clf.thresholds_}
    )


def test_threshold_ends_and_ties():
    # group 0: all positives -> predict everything positive; group 1: perfect split
    X = np.array([[0.0], [0.2], [1.0], [0.3], [0.9]])
    y = np.array([1, 1, 1, 0, 1])
    groups = np.array([0, 0, 0, 1, 1])
    clf = FairThresholdClassifier(FixedScores().fit(X, y), prefit=True)
    clf.fit(X, y, sensitive_features=groups)
    assert clf.best_score_ == 1.0
    assert clf.thresholds_[0] < 0.0  # 0.0 itself must be predicted positive
    # among thresholds in (0.3, 0.9) the one closest to 0.5 is kept
    assert clf.thresholds_[1] == 0.5 or 0.3 < clf.thresholds_[1] < 0.9
    np.testing.assert_array_equal(clf.predict(X, sensitive_features=groups), [1, 1, 1, 0, 1])


def test_not_worse_than_default_threshold(tabular):
    X, y, gender = tabular
    model = LogisticRegression().fit(X, y)
    clf = FairThresholdClassifier(model, prefit=True).fit(X, y, sensitive_features=gender)
    default = fair_metric(y, model.predict(X), sensitive_features=gender)
    tuned = fair_metric(y, clf.predict(X, sensitive_features=gender), sensitive_features=gender)
    assert tuned == pytest.approx(clf.best_score_)
    assert tuned >= default
    assert clf.estimator_ is model
    np.testing.assert_array_equal(clf.predict_proba(X), model.predict_proba(X))


def test_meta_estimator_contract(tabular):
    X, y, gender = tabular
    estimator = Recorder()
    clf = FairThresholdClassifier(estimator, validation_fraction=0.25, random_state=0)
    clf.fit(X, y, sensitive_features=gender)
    assert not hasattr(estimator, "model_")  # cloned, never fitted in place
    assert clf.estimator_.n_fit_ == 225  # trained on the training split only
    assert sorted(clf.thresholds_) == [-1, 1]
    assert isinstance(clf.thresholds_[-1], float)
    assert clone(clf).get_params()["validation_fraction"] == 0.25
    # reproducible split
    again = FairThresholdClassifier(Recorder(), validation_fraction=0.25, random_state=0)
    assert again.fit(X, y, sensitive_features=gender).thresholds_ == clf.thresholds_


def test_labels_in_callers_encoding(tabular):
    X, y, gender = tabular
    for labels in (np.array([-1, 1]), np.array(["other", "blond"])):
        y_coded = labels[y]
        clf = FairThresholdClassifier(LogisticRegression(), random_state=0)
        clf.fit(X, y_coded, sensitive_features=pd.Series(gender, name="gender"))
        assert set(clf.predict(X, sensitive_features=gender)) <= set(labels)
        np.testing.assert_array_equal(clf.classes_, np.sort(labels))
        assert clf.group_accuracy_.index.name == "gender"


def test_sample_weight_without_routing_goes_to_estimator(tabular):
    X, y, gender = tabular
    weights = group_sample_weight(gender, {-1: 1.0, 1: 0.1})
    clf = FairThresholdClassifier(Recorder(), random_state=0)
    clf.fit(X, y, sensitive_features=gender, sample_weight=weights)
    assert set(np.round(clf.estimator_.sample_weight_, 6)) == {1.0, 0.1}
    assert len(clf.estimator_.sample_weight_) == clf.estimator_.n_fit_
    with pytest.raises(ValueError, match=re.escape(
        "Passing extra keyword arguments to FairThresholdClassifier.fit is only "
        "supported if enable_metadata_routing=True")):
        clf.fit(X, y, sensitive_features=gender, epochs=3)


def test_metadata_routing(tabular):
    X, y, gender = tabular
    weights = group_sample_weight(gender)
    with routing():
        clf = FairThresholdClassifier(Recorder().set_fit_request(sample_weight=True),
                                      random_state=0)
        clf.fit(X, y, sensitive_features=gender, sample_weight=weights)
        assert clf.estimator_.sample_weight_ is not None
        assert len(clf.estimator_.sample_weight_) == clf.estimator_.n_fit_
        with pytest.raises(UnsetMetadataPassedError):
            FairThresholdClassifier(Recorder()).fit(
                X, y, sensitive_features=gender, sample_weight=weights
            )
        # nested: a router hands sensitive_features to this classifier's fit
        nested = FairThresholdClassifier(LogisticRegression(), sensitive_column=None)
        nested.set_fit_request(sensitive_features=True)
        routing_info = nested.get_metadata_routing()
        assert "sensitive_features" in str(routing_info)
        result = cross_validate(
            nested, X, y, cv=2, scoring="roc_auc", error_score="raise",
            params={"sensitive_features": gender}, return_estimator=True,
        )
        assert all(sorted(e.thresholds_) == [-1, 1] for e in result["estimator"])


def test_sensitive_column_in_model_selection(tabular):
    X, y, gender = tabular
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(gender=gender)
    clf = FairThresholdClassifier(LogisticRegression(), sensitive_column="gender",
                                  random_state=0)
    search = GridSearchCV(
        clf, {"estimator__C": [0.01, 1.0]}, cv=3, error_score="raise",
        scoring=make_fair_scorer(sensitive_column="gender"),
    ).fit(frame, y)
    assert np.isfinite(search.best_score_)
    fitted = search.best_estimator_
    proba = fitted.predict_proba(frame)[:, 1]
    thresholds = pd.Series(gender).map(fitted.thresholds_).to_numpy()
    np.testing.assert_array_equal(
        fitted.predict(frame), fitted.classes_[(proba > thresholds).astype(int)]
    )
    assert fitted.score(frame, y) == accuracy_score(y, fitted.predict(frame))


@pytest.mark.parametrize(
    "make, call, error, message",
    [
        (lambda: FairThresholdClassifier(LogisticRegression()),
         lambda c, X, y, g: c.fit(X, y), ValueError,
         "FairThresholdClassifier.fit needs the group of every sample: pass "
         "sensitive_features=groups, or set sensitive_column='gender'"),
        (lambda: FairThresholdClassifier(LogisticRegression()),
         lambda c, X, y, g: c.fit(X, y, sensitive_features=np.ones(len(y))), ValueError,
         "sensitive_features has only one group [1.0]"),
        (lambda: FairThresholdClassifier(LogisticRegression()),
         lambda c, X, y, g: c.fit(X, y, sensitive_features=g[:-1]), ValueError,
         "X, sensitive_features must have the same length (one entry per sample); got X: 300, "
         "sensitive_features: 299."),
        (lambda: FairThresholdClassifier(LogisticRegression()),
         lambda c, X, y, g: c.fit(X, np.arange(len(y)) % 3, sensitive_features=g), ValueError,
         "FairThresholdClassifier needs binary labels (two classes); y has the classes"),
        (lambda: FairThresholdClassifier(LogisticRegression(), validation_fraction=1.5),
         lambda c, X, y, g: c.fit(X, y, sensitive_features=g), InvalidParameterError,
         "The 'validation_fraction' parameter of FairThresholdClassifier must be a float "
         "in the range (0.0, 1.0). Got 1.5 instead."),
        (lambda: FairThresholdClassifier("logreg"),
         lambda c, X, y, g: c.fit(X, y, sensitive_features=g), InvalidParameterError,
         "The 'estimator' parameter of FairThresholdClassifier must be an object "
         "implementing 'fit' and 'predict_proba'. Got 'logreg' instead."),
        (lambda: FairThresholdClassifier(LogisticRegression(), prefit=True),
         lambda c, X, y, g: c.fit(X, y, sensitive_features=g), NotFittedError,
         "This LogisticRegression instance is not fitted yet."),
        (lambda: FairThresholdClassifier(LogisticRegression(), sensitive_column="gender"),
         lambda c, X, y, g: c.fit(X, y), TypeError,
         "sensitive_column='gender' reads the groups from a column of X, so X must be a pandas "
         "DataFrame; got ndarray. Pass a DataFrame with a 'gender' column, or pass sensitive_features to fit."),
        (lambda: FairThresholdClassifier(LogisticRegression(), random_state=0),
         lambda c, X, y, g: c.fit(X, y, sensitive_features=g).predict(
             X[:3], sensitive_features=[-1, 1, 7]), ValueError,
         "sensitive_features has groups [7] that were not seen in fit; the thresholds "
         "are for [-1, 1]."),
        # (with this seed the one sample of group 1 lands in the training split)
        (lambda: FairThresholdClassifier(LogisticRegression(), random_state=1),
         lambda c, X, y, g: c.fit(X[:10], y[:10], sensitive_features=[0] * 9 + [1]),
         ValueError,
         "the groups [1] have no sample in the validation split (validation_fraction=0.2); "
         "give them more samples or raise validation_fraction."),
    ],
)
def test_threshold_classifier_errors(tabular, make, call, error, message):
    X, y, gender = tabular
    with pytest.raises(error, match=re.escape(message)):
        call(make(), X, y, gender)


# ------------------------------------------- thresholds on inferred groups


class ColumnGroups(ClassifierMixin, BaseEstimator):
    """A 'group classifier' that reads the group from the second column of X."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.asarray(X)[:, 1].astype(int)


def brute_force_inferred(scores, y, assigned, groups):
    """Best Fair_Metric over the true groups of every pair of thresholds of the
    assigned groups (scores are multiples of 0.1)."""
    grid = np.arange(-0.05, 1.06, 0.1)
    best = -np.inf
    for pair in itertools.product(grid, repeat=2):
        t = np.where(assigned == 0, pair[0], pair[1])
        correct = (scores > t) == y
        best = max(best, fair_metric_from_accuracies([correct[groups == g].mean() for g in (0, 1)]))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_inferred_group_thresholds_are_the_exact_optimum(seed):
    rng = np.random.RandomState(seed)
    n = 40 + 10 * seed
    groups = rng.randint(0, 2, n)
    groups[:2] = [0, 1]
    y = rng.randint(0, 2, n)
    scores = np.clip(np.round(0.5 + (y - 0.5) * rng.uniform(0, 0.8, n) + 0.15 * groups
                              + rng.normal(0, 0.2, n), 1), 0, 1)
    # the group classifier is wrong on a fifth of the samples
    assigned = np.where(rng.rand(n) < 0.2, 1 - groups, groups)
    X = np.column_stack([scores, assigned])
    clf = FairThresholdClassifier(FixedScores().fit(X, y), prefit=True, group_estimator=ColumnGroups())
    clf.fit(X, y, sensitive_features=groups)
    assert clf.best_score_ == pytest.approx(brute_force_inferred(scores, y, assigned, groups), abs=1e-12)
    # predict without groups applies the assigned groups' thresholds; Fair_Metric
    # with the true groups is what the search maximised
    predicted = clf.predict(X)
    assert fair_metric(y, predicted, sensitive_features=groups) == pytest.approx(clf.best_score_, abs=1e-12)
    assert clf.group_accuracy_.to_dict() == pytest.approx(
        {g: accuracy_score(y[groups == g], predicted[groups == g]) for g in (0, 1)}
    )
    expected = np.where(scores > np.where(assigned == 0, clf.thresholds_[0], clf.thresholds_[1]), 1, 0)
    np.testing.assert_array_equal(predicted, expected)


@pytest.mark.parametrize("seed", range(3))
def test_right_group_estimator_gives_the_true_group_optimum(seed):
    """A group estimator that is always right changes nothing, with 2 or 3
    groups (the coordinate ascent of 3 groups included)."""
    rng = np.random.RandomState(seed)
    n_groups = 2 + seed % 2
    n = 60
    groups = rng.randint(0, n_groups, n)
    groups[:n_groups] = np.arange(n_groups)
    y = rng.randint(0, 2, n)
    scores = np.clip(np.round(0.5 + (y - 0.5) * rng.uniform(0, 0.8, n) + 0.1 * groups
                              + rng.normal(0, 0.2, n), 1), 0, 1)
    X = np.column_stack([scores, groups])
    true = FairThresholdClassifier(FixedScores().fit(X, y), prefit=True).fit(X, y, sensitive_features=groups)
    inferred = FairThresholdClassifier(FixedScores().fit(X, y), prefit=True, group_estimator=ColumnGroups())
    inferred.fit(X, y, sensitive_features=groups)
    if n_groups == 2:
        assert inferred.best_score_ == pytest.approx(true.best_score_, abs=1e-12)
    else:  # a local optimum, never below where it starts: every threshold closest to 0.5
        start = fair_metric(y, np.where(scores > 0.5, 1, 0), sensitive_features=groups)
        assert true.best_score_ + 1e-12 >= inferred.best_score_ >= start - 1e-12
    np.testing.assert_array_equal(inferred.predict(X), inferred.predict(X, sensitive_features=groups))


def test_group_estimator_is_fitted_on_the_training_split(tabular):
    X, y, gender = tabular
    clf = FairThresholdClassifier(LogisticRegression(), group_estimator=LogisticRegression(), random_state=0)
    clf.fit(X, y, sensitive_features=gender)
    assert clf.groups_at_predict_ == "inferred"
    assert set(clf.thresholds_) == {-1, 1}
    assert clf.group_estimator_ is not clf.group_estimator
    np.testing.assert_array_equal(clf.group_estimator_.classes_, [-1, 1])
    # given groups still win over inferred ones
    forced = clf.predict(X, sensitive_features=np.full(len(y), -1))
    np.testing.assert_array_equal(forced, (clf.predict_proba(X)[:, 1] > clf.thresholds_[-1]).astype(int))
    plain = FairThresholdClassifier(LogisticRegression(), random_state=0).fit(X, y, sensitive_features=gender)
    assert plain.groups_at_predict_ == "given"
    with pytest.raises(ValueError, match="or group_estimator= to infer them from X"):
        plain.predict(X)


def test_group_estimator_with_other_groups_is_refused(tabular):
    X, y, gender = tabular

    class Wrong(ColumnGroups):
        def predict(self, X):
            return np.full(len(X), 7)

    clf = FairThresholdClassifier(LogisticRegression(), group_estimator=Wrong(), random_state=0)
    with pytest.raises(ValueError, match=re.escape(
            "group_estimator_ inferred groups [7] in fit, but the thresholds are for the groups [-1, 1] of "
            "sensitive_features")):
        clf.fit(X, y, sensitive_features=gender)


# ------------------------------------------------------- report and plot


@pytest.fixture
def audit_data():
    rng = np.random.RandomState(3)
    n = 120
    gender = rng.choice([-1, 1], n, p=[0.6, 0.4])
    y_true = rng.choice([-1, 1], n, p=[0.7, 0.3])
    proba = np.clip(0.3 + 0.4 * (y_true == 1) + rng.normal(0, 0.2, n), 0, 1)
    y_pred = np.where(proba > 0.5, 1, -1)
    return y_true, y_pred, gender, proba


def test_fairness_report_equals_metricframe(audit_data):
    y_true, y_pred, gender, proba = audit_data
    frame = fairness_report(y_true, y_pred, sensitive_features=gender,
                            y_proba=np.column_stack([1 - proba, proba]))
    assert isinstance(frame, MetricFrame)
    assert list(frame.by_group.columns) == [
        "accuracy", "selection_rate", "true_positive_rate", "false_positive_rate",
        "count", "auc", "calibration_error",
    ]
    reference = MetricFrame(
        metrics={
            "accuracy": accuracy_score,
            "selection_rate": selection_rate,
            "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive_rate,
        },
        y_true=y_true, y_pred=y_pred, sensitive_features=gender,
    )
    for column in reference.by_group.columns:
        np.testing.assert_allclose(frame.by_group[column].astype(float),
                                   reference.by_group[column].astype(float))
        assert frame.overall[column] == pytest.approx(reference.overall[column])
    for group in (-1, 1):
        mask = gender == group
        assert frame.by_group.loc[group, "count"] == mask.sum()
        assert frame.by_group.loc[group, "auc"] == pytest.approx(
            roc_auc_score(y_true[mask], proba[mask]))
    assert frame.fair_metric == fair_metric(y_true, y_pred, sensitive_features=gender)
    assert frame.fair_metric == fair_metric_from_accuracies(frame.by_group["accuracy"])
    without = fairness_report(y_true, y_pred, sensitive_features=gender)
    assert "auc" not in without.by_group.columns and "calibration_error" not in without.by_group.columns
    assert without.fair_metric_ci is None and without.by_group_interval is None


def test_fairness_report_audit_numbers_against_their_definitions(audit_data):
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    from skface.metrics import fair_metric_bootstrap, worst_group_accuracy

    y_true, y_pred, gender, proba = audit_data
    frame = fairness_report(y_true, y_pred, sensitive_features=gender, y_proba=proba, n_boot=300, random_state=1)
    # expected calibration error by hand: 10 equal-width bins, |mean probability - share positive|
    for group in (-1, 1):
        mask = gender == group
        p, positive = proba[mask], (y_true[mask] == 1)
        bins = np.minimum((p * 10).astype(int), 9)
        ece = sum(abs(p[bins == b].mean() - positive[bins == b].mean()) * np.sum(bins == b)
                  for b in range(10) if np.any(bins == b)) / mask.sum()
        assert frame.by_group.loc[group, "calibration_error"] == pytest.approx(ece)
    as01 = {"y_true": (y_true == 1).astype(int), "y_pred": (y_pred == 1).astype(int)}
    assert frame.equalized_odds_difference == pytest.approx(
        equalized_odds_difference(**as01, sensitive_features=gender))
    assert frame.demographic_parity_difference == pytest.approx(
        demographic_parity_difference(**as01, sensitive_features=gender))
    assert frame.worst_group_accuracy == worst_group_accuracy(y_true, y_pred, sensitive_features=gender)
    group, label = frame.worst_group
    cell = (gender == group) & (y_true == label)
    assert np.mean(y_pred[cell] == y_true[cell]) == frame.worst_group_accuracy
    # the interval is the library's bootstrap, and fairlearn's per-group intervals bracket the values
    replicates = fair_metric_bootstrap(y_true, y_pred, sensitive_features=gender, n_resamples=300, random_state=1)
    assert frame.fair_metric_ci == pytest.approx(tuple(np.nanpercentile(replicates, [2.5, 97.5])))
    # per-group intervals: the percentiles of each rate over resamples of all the samples, by hand
    draws = np.random.default_rng(1).integers(0, len(y_true), size=(300, len(y_true)))
    for group in (-1, 1):
        for name, (low, high) in frame.by_group_interval.loc[group].items():
            values = []
            for d in draws:
                t, p, mine = y_true[d], y_pred[d], gender[d] == group
                pos, sel = t[mine] == 1, p[mine] == 1
                if name == "calibration_error":
                    score, bins = proba[d][mine], np.minimum((proba[d][mine] * 10).astype(int), 9)
                    values.append(sum(abs(score[bins == b].sum() - pos[bins == b].sum()) for b in range(10))
                                  / mine.sum())
                    continue
                values.append({"accuracy": np.mean(t[mine] == p[mine]), "selection_rate": np.mean(sel),
                               "true_positive_rate": np.mean(sel[pos]) if pos.any() else np.nan,
                               "false_positive_rate": np.mean(sel[~pos]) if (~pos).any() else np.nan}[name])
            assert (low, high) == pytest.approx(tuple(np.nanpercentile(values, [2.5, 97.5])))
            assert low <= frame.by_group.loc[group, name] <= high
    with pytest.raises(ValueError, match="n_boot=0 is not accepted"):
        fairness_report(y_true, y_pred, sensitive_features=gender, n_boot=0)


def test_fairness_report_string_labels_and_one_class_group():
    y_true = np.array(["no", "yes", "no", "no"])
    y_pred = np.array(["no", "yes", "yes", "no"])
    frame = fairness_report(y_true, y_pred, sensitive_features=["a", "a", "b", "b"],
                            y_proba=[0.1, 0.9, 0.6, 0.2], pos_label="yes")
    assert frame.by_group.loc["a", "true_positive_rate"] == 1.0
    assert frame.by_group.loc["b", "selection_rate"] == 0.5
    assert np.isnan(frame.by_group.loc["b", "auc"])  # one class only: undefined


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(y_pred=[0, 1, 2, 1]), "fairness_report needs binary labels; y_true and "
         "y_pred hold [0, 1, 2]."),
        (dict(pos_label=2), "pos_label=2 is not one of the labels [0, 1]."),
        (dict(y_proba=[0.1, 0.2]), "y_proba, y_true must have the same length (one entry per sample); "
         "got y_proba: 2, y_true: 4."),
        (dict(sensitive_features=[1, 1, 1, 1]), "sensitive_features has only 1 group [1]"),
    ],
)
def test_fairness_report_errors(kwargs, message):
    arguments = dict(y_true=[0, 1, 0, 1], y_pred=[0, 1, 1, 1],
                     sensitive_features=[-1, -1, 1, 1])
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        fairness_report(arguments.pop("y_true"), arguments.pop("y_pred"), **arguments)


def test_plot_fairness_saves_png(audit_data, tmp_path):
    y_true, y_pred, gender, proba = audit_data
    frame = fairness_report(y_true, y_pred, sensitive_features=gender, y_proba=proba)
    fig = plot_fairness(frame)
    assert isinstance(fig, matplotlib.figure.Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * 6  # two groups x six metrics (count in legend)
    assert "Fair_Metric = " in ax.get_title()
    path = tmp_path / "fairness.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a plain fairlearn MetricFrame works too
    plain = MetricFrame(metrics={"accuracy": accuracy_score}, y_true=y_true,
                        y_pred=y_pred, sensitive_features=gender)
    assert plot_fairness(plain).axes[0].get_title() == "Metrics per group"
    with pytest.raises(TypeError, match=re.escape(
        "frame must be a fairlearn MetricFrame, e.g. from "
        "skface.fairness.fairness_report(...); got DataFrame.")):
        plot_fairness(frame.by_group)


# ------------------------------------------- balance_groups over several columns


def test_undersample_gender_x_class_cells(people):
    counts = people.groupby(["gender", "label"]).size()
    balanced = balance_groups(people, ["gender", "label"], random_state=0)
    cells = balanced.groupby(["gender", "label"]).size()
    assert cells.index.equals(counts.index)  # every observed cell is kept
    assert set(cells) == {counts.min()}
    pd.testing.assert_frame_equal(balanced, people.loc[balanced.index])
    assert balanced.index.is_monotonic_increasing and balanced.index.is_unique
    smallest = counts.idxmin()
    in_smallest = (people["gender"] == smallest[0]) & (people["label"] == smallest[1])
    assert set(people.index[in_smallest]) <= set(balanced.index)
    pd.testing.assert_frame_equal(
        balanced, balance_groups(people, ["gender", "label"], random_state=0))


def test_oversample_gender_x_class_cells(people):
    counts = people.groupby(["gender", "label"]).size()
    balanced = balance_groups(people, ["gender", "label"], strategy="oversample",
                              random_state=0)
    assert set(balanced.groupby(["gender", "label"]).size()) == {counts.max()}
    assert set(balanced.index) == set(people.index)


def test_one_column_in_a_list_is_that_column(people):
    pd.testing.assert_frame_equal(
        balance_groups(people, ["gender"], random_state=0),
        balance_groups(people, "gender", random_state=0))


def test_cells_are_combinations_not_values():
    # two columns whose values coincide but whose combinations differ
    frame = pd.DataFrame({"a": [0, 0, 0, 1, 1, 1], "b": [0, 1, 1, 0, 0, 1]})
    balanced = balance_groups(frame, ["a", "b"], random_state=0)
    assert balanced.groupby(["a", "b"]).size().to_dict() == {
        (0, 0): 1, (0, 1): 1, (1, 0): 1, (1, 1): 1}


@pytest.mark.parametrize(
    "column, message",
    [
        (["gender", "sex"], "column='sex' is not a column of frame; the columns are "
                            "['filename', 'gender', 'label']."),
        ([], "column must be a column name or a non-empty list of column names; "
             "got an empty list."),
        (["gender", "gender"], "column lists a column more than once: ['gender', 'gender']."),
    ],
)
def test_balance_groups_column_list_errors(people, column, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        balance_groups(people, column)


def test_balance_groups_column_list_missing_values(people):
    frame = people.assign(label=people["label"].where(people.index != 104))
    with pytest.raises(ValueError, match=re.escape(
            "frame['label'] contains missing values (NaN/None) at positions [4]")):
        balance_groups(frame, ["gender", "label"])
