"""Tests of skface.metrics: Fair_Metric, group accuracy and the scorers."""

import re
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import sklearn
from fairlearn.metrics import MetricFrame
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import (
    GridSearchCV,
    TunedThresholdClassifierCV,
    cross_validate,
)
from sklearn.pipeline import make_pipeline

from skface.metrics import (
    fair_metric,
    fair_metric_from_accuracies,
    fair_scorer,
    group_accuracy,
    make_fair_scorer,
    make_worst_group_scorer,
    worst_group_accuracy,
)


def routing():
    """Metadata routing on, for the ``with`` block only."""
    return sklearn.config_context(enable_metadata_routing=True)


def labels_with_accuracy(fraction, offset=0):
    """y_true, y_pred of length fraction.denominator with that accuracy."""
    n, correct = fraction.denominator, fraction.numerator
    y_true = (np.arange(n) + offset) % 2
    y_pred = y_true.copy()
    y_pred[correct:] = 1 - y_pred[correct:]
    return y_true, y_pred


@pytest.fixture
def tabular():
    """Two groups, the second harder to classify (more label noise)."""
    rng = np.random.RandomState(0)
    n = 240
    gender = np.where(rng.rand(n) < 0.6, -1, 1)
    X = rng.normal(size=(n, 3))
    noise = rng.normal(0, np.where(gender == 1, 1.0, 0.3))
    y = (X[:, 0] + 0.5 * X[:, 1] + noise > 0).astype(int)
    return X, y, gender


# ---------------------------------------------------------------- the formula


@pytest.mark.parametrize(
    "accuracies, expected",
    [
        ((0.9193578958511353, 0.9682070016860962), 0.8460842370986938),
        ((0.9073910713195801, 0.920302152633667), 0.8880244493484497),
    ],
)
def test_reference_numbers_from_accuracies(accuracies, expected):
    assert fair_metric_from_accuracies(accuracies) == pytest.approx(expected, abs=1e-15)
    # the order of the groups does not matter
    assert fair_metric_from_accuracies(accuracies[::-1]) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize(
    "accuracies, expected",
    [
        ((0.9193578958511353, 0.9682070016860962), 0.8460842370986938),
        ((0.9073910713195801, 0.920302152633667), 0.8880244493484497),
    ],
)
def test_reference_numbers_from_labels(accuracies, expected):
    # label arrays whose accuracies are the reference's (float32) values to 1e-9
    parts = [labels_with_accuracy(Fraction(a).limit_denominator(100_000)) for a in accuracies]
    y_true = np.concatenate([p[0] for p in parts])
    y_pred = np.concatenate([p[1] for p in parts])
    gender = np.repeat([-1, 1], [len(p[0]) for p in parts])
    np.testing.assert_allclose(
        group_accuracy(y_true, y_pred, sensitive_features=gender), accuracies, atol=1e-9
    )
    assert fair_metric(y_true, y_pred, sensitive_features=gender) == pytest.approx(
        expected, abs=1e-8
    )


def test_formula_more_groups_and_inputs():
    assert fair_metric_from_accuracies([0.9, 0.8, 0.7]) == pytest.approx(0.8 - 0.4)
    assert fair_metric_from_accuracies({"a": 1.0, "b": 1.0}) == 1.0
    assert fair_metric_from_accuracies(pd.Series([0.5, 0.75])) == pytest.approx(0.125)


@pytest.mark.parametrize(
    "bad, error, fragment",
    [
        ([0.9], ValueError, "at least two groups; got [0.9]"),
        ([0.9, 1.2], ValueError, "must be numbers in [0, 1], one per group; got [0.9, 1.2]"),
        ([0.9, np.nan], ValueError, "must be numbers in [0, 1]"),
        (["a", "b"], TypeError, "must be numbers in [0, 1], one per group; got ['a', 'b']"),
        (pd.DataFrame({"accuracy": [0.9, 0.8]}), TypeError, "got a DataFrame with columns ['accuracy']"),
    ],
)
def test_formula_bad_input(bad, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        fair_metric_from_accuracies(bad)


# ------------------------------------------------------ fair_metric & accuracy


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 1), st.sampled_from(["w", "m", "x"]),
                  st.floats(0.1, 5.0)),
        min_size=2, max_size=40,
    )
)
def test_matches_metricframe(data):
    y_true, y_pred, groups, weights = (np.array(c) for c in zip(*data))
    if len(set(groups)) < 2:
        return
    frame = MetricFrame(metrics=accuracy_score, y_true=y_true, y_pred=y_pred,
                        sensitive_features=groups)
    pd.testing.assert_series_equal(
        group_accuracy(y_true, y_pred, sensitive_features=groups), frame.by_group
    )
    expected = frame.by_group.mean() - 2 * (frame.by_group.max() - frame.by_group.min())
    assert fair_metric(y_true, y_pred, sensitive_features=groups) == pytest.approx(expected)
    weighted = MetricFrame(metrics=accuracy_score, y_true=y_true, y_pred=y_pred,
                           sensitive_features=groups,
                           sample_params={"sample_weight": weights}).by_group
    assert fair_metric(y_true, y_pred, sensitive_features=groups, sample_weight=weights) == (
        pytest.approx(fair_metric_from_accuracies(weighted))
    )


def test_group_features_forms_and_encodings():
    y_true = np.array(["blond", "other", "blond", "other", "blond", "other"])
    y_pred = np.array(["blond", "other", "other", "other", "blond", "blond"])
    gender = [-1, -1, -1, 1, 1, 1]
    expected = fair_metric(y_true, y_pred, sensitive_features=gender)
    for form in (np.array(gender), pd.Series(gender, name="gender", index=range(10, 16)),
                 pd.DataFrame({"gender": gender}), np.array(gender)[:, None]):
        assert fair_metric(y_true, y_pred, sensitive_features=form) == expected
    by_group = group_accuracy(y_true, y_pred, sensitive_features=pd.Series(gender, name="gender"))
    assert by_group.index.name == "gender"
    assert by_group.to_dict() == pytest.approx({-1: 2 / 3, 1: 2 / 3})
    assert expected == pytest.approx(2 / 3)


def test_sample_weight_changes_group_accuracy():
    y_true, y_pred, gender = [1, 1, 0, 0], [1, 0, 0, 0], [-1, -1, 1, 1]
    assert fair_metric(y_true, y_pred, sensitive_features=gender) == pytest.approx(0.75 - 1.0)
    weights = [3.0, 1.0, 1.0, 1.0]
    assert fair_metric(y_true, y_pred, sensitive_features=gender, sample_weight=weights) == (
        pytest.approx((0.75 + 1.0) / 2 - 0.5)
    )


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(sensitive_features=[1, 1, 1, 1]), ValueError,
         "sensitive_features has only 1 group [1]; Fair_Metric compares the accuracies "
         "of at least 2 groups."),
        (dict(sensitive_features=[-1, 1, 1]), ValueError,
         "y_true, y_pred, sensitive_features must have the same length (one entry per "
         "sample); got y_true: 4, y_pred: 4, sensitive_features: 3."),
        (dict(sensitive_features=[-1, 1, 1, 1], sample_weight=[1, 1]), ValueError,
         "got y_true: 4, y_pred: 4, sensitive_features: 4, sample_weight: 2."),
        (dict(sensitive_features=[-1, np.nan, 1, 1]), ValueError,
         "sensitive_features contains missing values (NaN/None) at positions [1]; "
         "every sample needs a group."),
        (dict(sensitive_features=["w", None, "m", "m"]), ValueError,
         "sensitive_features contains missing values (NaN/None) at positions [1]"),
        (dict(sensitive_features=pd.DataFrame({"a": [1, 2, 1, 2], "b": [1, None, 2, 2]})),
         ValueError, "sensitive_features['b'] contains missing values (NaN/None) at positions [1]"),
        (dict(sensitive_features=np.ones((4, 2))), ValueError,
         "sensitive_features must be one column of groups; got an array of shape (4, 2)."),
        (dict(sensitive_features="gender"), TypeError,
         "sensitive_features must be array-like with one group per sample; got str 'gender'."),
        (dict(sensitive_features=None), ValueError,
         "Fair_Metric needs the group of every sample, but sensitive_features was not given."),
        (dict(sensitive_features=[-1, -1, 1, 1], sample_weight=[1, -1, 1, 1]), ValueError,
         "Negative values in data passed to"),
    ],
)
def test_fair_metric_errors(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        fair_metric([1, 0, 1, 0], [1, 0, 0, 0], **kwargs)


@pytest.mark.parametrize("which", ["y_true", "y_pred"])
def test_nan_labels(which):
    labels = {"y_true": [1.0, 0.0, 1.0, 0.0], "y_pred": [1.0, 0.0, 1.0, 0.0]}
    labels[which][2] = np.nan
    with pytest.raises(ValueError, match=re.escape(
        f"{which} contains missing values (NaN/None) at positions [2]; every sample "
        "needs a label")):
        fair_metric(**labels, sensitive_features=[-1, -1, 1, 1])
    with pytest.raises(ValueError, match=re.escape(f"{which} contains missing values")):
        group_accuracy(**labels, sensitive_features=[-1, -1, 1, 1])


def test_group_accuracy_one_group_error():
    with pytest.raises(ValueError, match=re.escape("sensitive_features has only 1 group ['w']")):
        group_accuracy([1, 0], [1, 0], sensitive_features=["w", "w"])


# --------------------------------------------------------------- the scorers


def test_fair_scorer_is_built_without_global_routing():
    assert sklearn.get_config()["enable_metadata_routing"] is False
    # the routing scorer is scikit-learn's own make_scorer(...) scorer
    assert repr(fair_scorer) == "make_scorer(_fair_metric_score, response_method='predict')"
    assert repr(make_fair_scorer(sensitive_column="gender")) == (
        "make_fair_scorer(sensitive_column='gender')"
    )
    request = fair_scorer.get_metadata_routing()
    assert request.score.requests == {"sensitive_features": True}


def test_scorer_equals_metric(tabular):
    X, y, gender = tabular
    model = LogisticRegression().fit(X, y)
    expected = fair_metric(y, model.predict(X), sensitive_features=gender)
    with routing():
        assert fair_scorer(model, X, y, sensitive_features=gender) == expected
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(gender=gender)
    column_model = make_pipeline(
        make_column_transformer(("drop", ["gender"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(frame, y)
    scorer = make_fair_scorer(sensitive_column="gender")
    assert scorer(column_model, frame, y) == pytest.approx(expected)


def test_routing_route_grid_search_with_sample_weight(tabular):
    X, y, gender = tabular
    weights = np.where(gender == -1, 1.0, 0.1)
    grid = {"C": [0.01, 1.0]}
    with routing():
        search = GridSearchCV(
            LogisticRegression().set_fit_request(sample_weight=True), grid,
            scoring=fair_scorer, cv=3, error_score="raise",
        ).fit(X, y, sensitive_features=gender, sample_weight=weights)
    # the same search by hand: weights go to fit, groups to the score only
    from sklearn.model_selection import StratifiedKFold

    best = {}
    for C in grid["C"]:
        scores = []
        for train, test in StratifiedKFold(3).split(X, y):
            model = LogisticRegression(C=C).fit(X[train], y[train], sample_weight=weights[train])
            scores.append(fair_metric(y[test], model.predict(X[test]),
                                      sensitive_features=gender[test]))
        best[C] = np.mean(scores)
    assert search.best_score_ == pytest.approx(max(best.values()))
    assert search.best_params_["C"] == max(best, key=best.get)


def test_routing_route_cross_validate_multimetric(tabular):
    X, y, gender = tabular
    with routing():
        result = cross_validate(
            LogisticRegression(), X, y, cv=3, error_score="raise",
            scoring={"fair": fair_scorer, "accuracy": "accuracy"},
            params={"sensitive_features": gender},
        )
    assert result["test_fair"].shape == (3,)
    assert np.all(result["test_fair"] <= result["test_accuracy"])


def test_routing_route_tuned_threshold(tabular):
    X, y, gender = tabular
    with routing():
        tuned = TunedThresholdClassifierCV(
            LogisticRegression(), scoring=fair_scorer, cv=3, thresholds=20,
            store_cv_results=True,
        ).fit(X, y, sensitive_features=gender)
    assert 0 < tuned.best_threshold_ < 1
    assert tuned.best_score_ == pytest.approx(tuned.cv_results_["scores"].max())


def test_column_route_without_global_config(tabular):
    X, y, gender = tabular
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(gender=gender)
    scorer = make_fair_scorer(sensitive_column="gender")
    model = make_pipeline(
        make_column_transformer(("drop", ["gender"]), remainder="passthrough"),
        LogisticRegression(),
    )
    search = GridSearchCV(model, {"logisticregression__C": [0.01, 1.0]}, scoring=scorer,
                          cv=3, error_score="raise").fit(frame, y)
    with routing():
        reference = GridSearchCV(
            LogisticRegression(), {"C": [0.01, 1.0]}, scoring=fair_scorer, cv=3
        ).fit(X, y, sensitive_features=gender)
    assert search.best_score_ == pytest.approx(reference.best_score_)
    result = cross_validate(model, frame, y, scoring=scorer, cv=3, error_score="raise")
    assert result["test_score"].shape == (3,)


def test_column_route_in_tuned_threshold_explains_routing(tabular):
    # TunedThresholdClassifierCV calls the score function without X, so the
    # column cannot be read; the error says which route works there
    X, y, gender = tabular
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(gender=gender)
    tuned = TunedThresholdClassifierCV(
        LogisticRegression(), scoring=make_fair_scorer(sensitive_column="gender"), cv=2
    )
    with pytest.raises(ValueError, match=re.escape(
        "TunedThresholdClassifierCV calls the metric without X, so it needs (1).")):
        tuned.fit(frame, y)


def test_no_route_error_says_how(tabular):
    X, y, gender = tabular
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match=re.escape(
        "Supply the groups in one of two ways: (1) metadata routing: enable it with "
        "sklearn.set_config(enable_metadata_routing=True)")) as info:
        fair_scorer(model, X, y)
    assert "make_fair_scorer(sensitive_column='gender')" in str(info.value)
    with pytest.raises(ValueError, match="Fair_Metric needs the group of every sample"):
        GridSearchCV(LogisticRegression(), {"C": [1.0]}, scoring=fair_scorer,
                     error_score="raise").fit(X, y)
    # at scikit-learn's default error_score the search scores NaN: the explanation
    # comes first, as a warning of its own, not inside scikit-learn's traceback
    with pytest.warns(UserWarning) as caught:
        search = GridSearchCV(LogisticRegression(), {"C": [1.0]}, scoring=fair_scorer, cv=2).fit(X, y)
    assert np.isnan(search.cv_results_["mean_test_score"]).all()
    assert str(caught[0].message).startswith("Fair_Metric needs the group of every sample")


def test_column_route_errors(tabular):
    X, y, gender = tabular
    model = LogisticRegression().fit(X, y)
    scorer = make_fair_scorer(sensitive_column="gender")
    with pytest.raises(TypeError, match=re.escape(
        "make_fair_scorer(sensitive_column='gender') reads the groups from a column of "
        "X, so X must be a pandas DataFrame; got ndarray.")):
        scorer(model, X, y)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match=re.escape(
        "sensitive_column='gender' is not a column of X; its columns are ['a', 'b', 'c'].")):
        scorer(LogisticRegression().fit(frame, y), frame, y)
    with pytest.raises(TypeError, match=re.escape(
        "sensitive_column must be a column name (e.g. 'gender') or None; got list ['gender'].")):
        make_fair_scorer(sensitive_column=["gender"])


def test_column_route_both_routes_error(tabular):
    X, y, gender = tabular
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(gender=gender)
    model = LogisticRegression().fit(frame, y)
    with pytest.raises(ValueError, match=re.escape(
        "make_fair_scorer(sensitive_column='gender') reads the groups from X, but "
        "sensitive_features were passed as well. Use one route: use make_fair_scorer() with metadata "
        "routing, or the column.")):
        make_fair_scorer(sensitive_column="gender")(model, frame, y, sensitive_features=gender)


def test_column_route_weighted_in_multimetric_dict(tabular):
    # without routing, scikit-learn forwards fit's sample_weight to every
    # scorer of a multi-metric dict that accepts it, the column scorer included
    X, y, gender = tabular
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(gender=gender)
    weights = np.where(gender == -1, 1.0, 0.1)
    scorer = make_fair_scorer(sensitive_column="gender")
    search = GridSearchCV(LogisticRegression(), {"C": [0.01, 1.0]}, cv=3, refit="fair",
                          scoring={"fair": scorer, "accuracy": "accuracy"},
                          error_score="raise").fit(frame, y, sample_weight=weights)
    single = GridSearchCV(LogisticRegression(), {"C": [0.01, 1.0]}, cv=3, scoring=scorer,
                          error_score="raise").fit(frame, y, sample_weight=weights)
    assert search.best_score_ == pytest.approx(single.best_score_)
    model = LogisticRegression().fit(frame, y)
    assert scorer(model, frame, y, sample_weight=weights) == pytest.approx(
        fair_metric(y, model.predict(frame), sensitive_features=gender, sample_weight=weights)
    )


def test_fair_metric_bootstrap_scores_every_model_on_the_same_resamples():
    from skface.metrics import fair_metric, fair_metric_bootstrap

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    g = np.repeat(["w", "m"], 30)
    a, b = np.where(rng.random(60) < 0.8, y, 1 - y), np.where(rng.random(60) < 0.7, y, 1 - y)
    both = fair_metric_bootstrap(y, np.stack([a, b]), sensitive_features=g, n_resamples=50, random_state=3)
    assert both.shape == (2, 50)
    np.testing.assert_array_equal(both[0], fair_metric_bootstrap(y, a, sensitive_features=g, n_resamples=50,
                                                                 random_state=3))
    draws = np.random.default_rng(3).integers(0, 60, size=(50, 60))
    for k in (0, 17):
        d = draws[k]
        assert both[1, k] == pytest.approx(fair_metric(y[d], b[d], sensitive_features=g[d]))
    # a resample without one of the groups has no Fair_Metric
    few = fair_metric_bootstrap([1, 0, 1], [1, 0, 0], sensitive_features=["w", "w", "m"], n_resamples=200,
                                random_state=0)
    assert np.isnan(few).any() and np.isfinite(few).any()
    with pytest.raises(ValueError, match=r"n_resamples=0 is not accepted; accepted: an int >= 1"):
        fair_metric_bootstrap(y, a, sensitive_features=g, n_resamples=0)


def test_worst_group_accuracy_is_the_lowest_cell_against_brute_force():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 300)
    y_pred = np.where(rng.random(300) < 0.8, y_true, 1 - y_true)
    groups = rng.choice(["a", "b", "c"], 300)
    cells = [
        accuracy_score(y_true[(groups == g) & (y_true == c)], y_pred[(groups == g) & (y_true == c)])
        for g in "abc" for c in (0, 1)
    ]
    assert worst_group_accuracy(y_true, y_pred, sensitive_features=groups) == pytest.approx(min(cells))
    # one group is enough: the worst class of that group
    ones = np.ones(300)
    by_class = [accuracy_score(y_true[y_true == c], y_pred[y_true == c]) for c in (0, 1)]
    assert worst_group_accuracy(y_true, y_pred, sensitive_features=ones) == pytest.approx(min(by_class))
    # weights count within a cell: zero weight on a cell's mistakes makes it perfect
    wrong = (groups == "a") & (y_true == 1) & (y_pred != y_true)
    weighted = worst_group_accuracy(
        y_true, y_pred, sensitive_features=groups, sample_weight=np.where(wrong, 0.0, 1.0)
    )
    assert weighted >= worst_group_accuracy(y_true, y_pred, sensitive_features=groups)


def test_worst_group_scorers_equal_the_metric(tabular):
    X, y, gender = tabular
    model = LogisticRegression().fit(X, y)
    expected = worst_group_accuracy(y, model.predict(X), sensitive_features=gender)
    with routing():
        routed = make_worst_group_scorer()
        assert routed(model, X, y, sensitive_features=gender) == pytest.approx(expected)
        search = GridSearchCV(
            LogisticRegression(), {"C": [0.01, 1.0]}, scoring=routed, cv=3, error_score="raise"
        ).fit(X, y, sensitive_features=gender)
    assert 0 <= search.best_score_ <= 1
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(gender=gender)
    column_model = make_pipeline(
        make_column_transformer(("drop", ["gender"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(frame, y)
    scorer = make_worst_group_scorer(sensitive_column="gender")
    assert repr(scorer) == "make_worst_group_scorer(sensitive_column='gender')"
    assert scorer(column_model, frame, y) == pytest.approx(expected)
    with pytest.raises(TypeError, match=r"make_worst_group_scorer\(\) with metadata routing"):
        scorer(column_model, X, y)


def test_intersectional_groups_from_a_dataframe_of_several_columns():
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"gender": rng.choice(["women", "men"], n), "race": rng.choice(["A", "B", "C"], n)})
    y = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.8, y, 1 - y)
    combined = [f"{g}|{r}" for g, r in zip(frame["gender"], frame["race"])]
    assert fair_metric(y, y_pred, sensitive_features=frame) == fair_metric(y, y_pred, sensitive_features=combined)
    assert worst_group_accuracy(y, y_pred, sensitive_features=frame) == worst_group_accuracy(
        y, y_pred, sensitive_features=combined)
    by_group = group_accuracy(y, y_pred, sensitive_features=frame)
    assert by_group.index.name == "gender x race" and ("women", "B") in by_group.index  # fairlearn's naming
    np.testing.assert_allclose(sorted(by_group), sorted(group_accuracy(y, y_pred, sensitive_features=combined)))
    with routing():
        scores = cross_validate(LogisticRegression(), y_pred[:, None], y, cv=3, scoring=fair_scorer,
                                params={"sensitive_features": frame})["test_score"]
    assert np.isfinite(scores).all()


def test_small_intersectional_groups_warn_with_their_sizes():
    frame = pd.DataFrame({"gender": [-1, 1] * 50, "race": ["A"] * 95 + ["B"] * 5})
    y = np.arange(100) % 2
    with pytest.warns(UserWarning, match=r"2 of the 4 groups of gender x race have fewer than 30 samples "
                      r"\(\(-1, 'B'\): 2, \(1, 'B'\): 3\)"):
        value = fair_metric(y, y, sensitive_features=frame)
    assert value == 1.0


def test_resampled_sums_are_the_sums_over_each_resample_across_blocks():
    from skface.metrics._fair_metric import resampled_sums

    rng = np.random.default_rng(1)
    indicators = rng.random((40, 3)) < 0.5
    sums = resampled_sums(indicators, 300, random_state=7, chunk=128)  # three blocks, the last one short
    draws = np.random.default_rng(7).integers(0, 40, size=(300, 40))
    for k in (0, 127, 128, 299):
        np.testing.assert_array_equal(sums[k], indicators[draws[k]].sum(0))
