"""Fairness tools with FaceCNNClassifier, used as a user would.

Tiny seeded data: 16x16 images whose brightness gives the label; the label
is harder to read for gender 1 (noisier brightness). One epoch, a tiny
network; the assertions are about plumbing and agreement, not accuracy.
"""

import numpy as np
import pandas as pd
import pytest
import sklearn
from fairlearn.metrics import MetricFrame
from fairlearn.postprocessing import ThresholdOptimizer
from fairlearn.reductions import DemographicParity, ExponentiatedGradient
from PIL import Image
from sklearn.metrics import accuracy_score
from sklearn.model_selection import (
    GridSearchCV,
    TunedThresholdClassifierCV,
    cross_validate,
)

from skface import FaceCNNClassifier
from skface.fairness import (
    FairThresholdClassifier,
    balance_groups,
    fairness_report,
    group_sample_weight,
)
from skface.metrics import fair_metric, fair_scorer, make_fair_scorer

N = 60
# run_eagerly: on tiny data, tracing the Keras graph costs more than it saves
# (about 2 s instead of 8 s per fit on a busy 2-core machine).
TINY = dict(image_size=16, epochs=1, batch_size=16, filters=(4, 8), dense_units=8,
            learning_rate=0.01, early_stopping=False, run_eagerly=True, random_state=0,
            verbose=0)


def routing():
    """Metadata routing on, for the ``with`` block only."""
    return sklearn.config_context(enable_metadata_routing=True)


def tiny(**params):
    return FaceCNNClassifier(**{**TINY, **params})


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    rng = np.random.RandomState(0)
    gender = np.where(rng.rand(N) < 0.6, -1, 1)
    y = rng.randint(0, 2, N)
    y[:4] = [0, 1, 0, 1]
    gender[:4] = [-1, -1, 1, 1]
    brightness = np.where(y == 1, 170, 85) + rng.normal(0, np.where(gender == 1, 50, 15))
    noise = rng.normal(0, 8, (N, 16, 16, 3))
    images = np.clip(brightness[:, None, None, None] + noise, 0, 255).astype(np.uint8)
    directory = tmp_path_factory.mktemp("faces")
    names = []
    for i, image in enumerate(images):
        name = str(directory / f"{i:04d}.png")
        Image.fromarray(image).save(name)
        names.append(name)
    frame = pd.DataFrame({"filename": names, "gender": gender})
    return images, y, gender, frame


@pytest.fixture(scope="module")
def fitted(faces):
    images, y, gender, _ = faces
    return tiny().fit(images, y)


# ------------------------------------------------------- Fair_Metric scorer


def test_routing_route_grid_search_and_sample_weight(faces):
    images, y, gender, _ = faces
    weights = group_sample_weight(gender, {-1: 1.0, 1: 0.1})
    with routing():
        search = GridSearchCV(
            tiny().set_fit_request(sample_weight=True), {"dense_units": [8]},
            scoring=fair_scorer, cv=2, refit=False, error_score="raise",
        ).fit(images, y, sensitive_features=gender, sample_weight=weights)
    assert -2.0 <= search.best_score_ <= 1.0


def test_routing_route_cross_validate(faces):
    images, y, gender, _ = faces
    with routing():
        result = cross_validate(
            tiny(), images, y, cv=2, error_score="raise",
            scoring={"fair": fair_scorer, "accuracy": "accuracy"},
            params={"sensitive_features": gender},
        )
    assert np.all(result["test_fair"] <= result["test_accuracy"] + 1e-12)


def test_routing_route_tuned_threshold(faces):
    images, y, gender, _ = faces
    with routing():
        tuned = TunedThresholdClassifierCV(
            tiny(), scoring=fair_scorer, cv=0.5, refit=False,
            thresholds=10, random_state=0,
        ).fit(images, y, sensitive_features=gender)
    assert 0.0 <= tuned.best_threshold_ <= 1.0
    assert set(tuned.predict(images)) <= {0, 1}


def test_routing_sends_groups_to_fit_by_default(faces):
    images, y, gender, _ = faces
    with routing():
        routes = tiny().get_metadata_routing()
        assert routes.fit.requests["sensitive_features"] is True
        assert routes.partial_fit.requests["sensitive_features"] is True
        grid = {"dro_step_size": [0.01]}
        search = GridSearchCV(tiny(fairness="group_dro"), grid, scoring=fair_scorer, cv=2,
                              error_score="raise").fit(images, y, sensitive_features=gender)
        # opted out, the groups reach the scorer but not fit, which says what is missing
        opted_out = tiny(fairness="group_dro").set_fit_request(sensitive_features=False)
        with pytest.raises(ValueError, match=r"fairness='group_dro' needs the group of every training sample"):
            GridSearchCV(opted_out, grid, scoring=fair_scorer, cv=2,
                         error_score="raise").fit(images, y, sensitive_features=gender)
    best = search.best_estimator_
    assert best.sensitive_groups_.tolist() == [-1, 1]
    assert len(best.group_weights_) == 4
    assert len(best.history_["accuracy[1]"]) == len(best.history_["loss"]) == 1


def test_column_route_no_global_config(faces):
    _, y, gender, frame = faces
    scorer = make_fair_scorer(sensitive_column="gender")
    search = GridSearchCV(tiny(), {"dense_units": [8]}, scoring=scorer, cv=2,
                          refit=False, error_score="raise").fit(frame, y)
    assert np.isfinite(search.best_score_)
    result = cross_validate(tiny(), frame, y, cv=2, scoring=scorer, error_score="raise",
                            return_estimator=True, return_indices=True)
    # the score is Fair_Metric of the model's own predictions on the fold
    model, test = result["estimator"][0], result["indices"]["test"][0]
    expected = fair_metric(y[test], model.predict(frame.iloc[test]),
                           sensitive_features=gender[test])
    assert result["test_score"][0] == pytest.approx(expected)


def test_column_route_in_tuned_threshold_points_to_routing(faces):
    _, y, _, frame = faces
    tuned = TunedThresholdClassifierCV(
        tiny(), scoring=make_fair_scorer(sensitive_column="gender"), cv=0.5, refit=False
    )
    with pytest.raises(ValueError, match="TunedThresholdClassifierCV calls the metric"):
        tuned.fit(frame, y)


# ------------------------------------------------------------- mitigation


def test_weighting_and_balancing_train(faces):
    images, y, gender, frame = faces
    weighted = tiny().fit(images, y, sample_weight=group_sample_weight(gender, y=y))
    assert set(weighted.predict(images)) <= {0, 1}
    table = frame.assign(label=y)
    balanced = balance_groups(table, "gender", random_state=0)
    assert balanced["gender"].value_counts().nunique() == 1
    model = tiny().fit(balanced[["filename"]], balanced["label"].to_numpy())
    assert len(model.predict(frame)) == N


def test_fair_threshold_classifier_with_cnn(faces):
    images, y, gender, frame = faces
    y_coded = np.where(y == 1, 1, -1)
    clf = FairThresholdClassifier(tiny(), random_state=0)
    clf.fit(images, y_coded, sensitive_features=gender)
    predicted = clf.predict(images, sensitive_features=gender)
    assert set(predicted) <= {-1, 1}
    assert sorted(clf.thresholds_) == [-1, 1]
    np.testing.assert_array_equal(clf.classes_, [-1, 1])
    np.testing.assert_allclose(clf.predict_proba(images), clf.estimator_.predict_proba(images))
    by_column = FairThresholdClassifier(clf.estimator_, prefit=True, sensitive_column="gender")
    by_column.fit(frame, y_coded)
    assert by_column.best_score_ >= fair_metric(
        y_coded, clf.estimator_.predict(frame), sensitive_features=gender) - 1e-12


# ---------------------------------------------------------------- fairlearn


def test_metricframe_and_report(faces, fitted):
    images, y, gender, _ = faces
    y_pred = fitted.predict(images)
    frame = MetricFrame(metrics=accuracy_score, y_true=y, y_pred=y_pred,
                        sensitive_features=gender)
    report = fairness_report(y, y_pred, sensitive_features=gender,
                             y_proba=fitted.predict_proba(images))
    np.testing.assert_allclose(report.by_group["accuracy"], frame.by_group)
    assert report.fair_metric == pytest.approx(
        fair_metric(y, y_pred, sensitive_features=gender))


def test_threshold_optimizer_prefit(faces, fitted):
    images, y, gender, _ = faces
    post = ThresholdOptimizer(estimator=fitted, prefit=True, predict_method="predict_proba",
                              constraints="equalized_odds")
    post.fit(images, y, sensitive_features=gender)
    predicted = post.predict(images, sensitive_features=gender, random_state=0)
    assert predicted.shape == (N,)
    assert set(np.unique(predicted)) <= {0, 1}


@pytest.mark.slow  # ExponentiatedGradient fits the CNN 14 times with max_iter=2
def test_exponentiated_gradient(faces):
    images, y, gender, _ = faces
    mitigator = ExponentiatedGradient(tiny(), DemographicParity(), max_iter=2)
    mitigator.fit(images, y, sensitive_features=gender)
    predicted = mitigator.predict(images, random_state=0)
    assert predicted.shape == (N,)
    assert set(np.unique(predicted)) <= {0, 1}
