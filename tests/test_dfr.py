"""Tests of skface.fairness.DeepFeatureReweighting and FaceCNNClassifier.embed."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from conftest import TINY, make_toy_images
from sklearn.utils._param_validation import InvalidParameterError

from skface import FaceCNNClassifier
from skface.datasets import make_faces
from skface.fairness import DeepFeatureReweighting
from skface.fairness._dfr import _balanced_subset
from skface.metrics import worst_group_accuracy


def _faces(n=120, seed=0):
    X, y = make_toy_images(n, seed=seed)
    gender = np.where(np.arange(n) % 3 == 0, -1, 1)
    return X, y, gender


@pytest.fixture(scope="module")
def fitted():
    X, y, gender = _faces()
    dfr = DeepFeatureReweighting(FaceCNNClassifier(**TINY), n_repeats=3, random_state=0)
    return dfr.fit(X, y, sensitive_features=gender), X, y, gender


def test_embed_is_what_the_output_layer_reads(fitted):
    dfr, X, y, _ = fitted
    network = dfr.estimator_
    if network.precision_ != "float32":
        # in bfloat16 a batch's rounding depends on its size: compare in float32
        network = FaceCNNClassifier(**{**TINY, "precision": "float32"}).fit(X, y)
    features = network.embed(X[:10])
    assert features.shape == (10, TINY["dense_units"]) and features.dtype == np.float64
    kernel, bias = network.model_.get_layer("output").get_weights()
    logits = features @ kernel.astype(float) + bias.astype(float)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits[:, 0])), network.predict_proba(X[:10])[:, 1], atol=1e-5)


def test_fit_learns_a_last_layer_and_predicts_without_groups(fitted):
    dfr, X, y, gender = fitted
    assert dfr.coef_.shape == (TINY["dense_units"],)
    assert dfr.C_ in dfr.C and list(dfr.scores_.index) == list(dfr.C)
    assert dfr.scores_.name == "worst_group_accuracy"
    assert sorted(dfr.group_accuracy_.index) == [-1, 1]
    proba = dfr.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    predicted = dfr.predict(X)
    np.testing.assert_array_equal(predicted, dfr.classes_[(proba[:, 1] > 0.5).astype(int)])
    # the toy task is easy: the reweighted layer still learns it
    assert dfr.score(X, y) > 0.8
    assert worst_group_accuracy(y, predicted, sensitive_features=gender) > 0.6


def test_same_seed_same_layer_and_labels_in_any_encoding():
    X, y, gender = _faces()
    network = FaceCNNClassifier(**TINY).fit(X, y)
    make = lambda: DeepFeatureReweighting(network, prefit=True, C=0.3, n_repeats=2, random_state=1)  # noqa: E731
    first = make().fit(X, y, sensitive_features=gender)
    # the network is the same, so the balanced subsets and the layer are too
    np.testing.assert_array_equal(first.coef_, make().fit(X, y, sensitive_features=gender).coef_)
    # a single C is used as it is, not searched
    assert first.C_ == 0.3 and np.isnan(first.scores_.iloc[0])
    words = np.where(y == 1, "blond", "other")
    named = DeepFeatureReweighting(FaceCNNClassifier(**TINY), C=0.3, n_repeats=2, random_state=1).fit(
        X, words, sensitive_features=gender)
    assert list(named.classes_) == ["blond", "other"]
    assert set(named.predict(X[:20])) <= {"blond", "other"}


def test_prefit_uses_the_network_as_it_is_and_all_the_data():
    X, y, gender = _faces()
    network = FaceCNNClassifier(**TINY).fit(X, y)
    dfr = DeepFeatureReweighting(network, prefit=True, C=1.0, n_repeats=2, random_state=0).fit(
        X, y, sensitive_features=gender)
    assert dfr.estimator_ is network
    np.testing.assert_allclose(dfr.feature_mean_, network.embed(X).mean(axis=0))


def test_groups_from_a_column_of_a_dataframe(tmp_path):
    from conftest import write_pngs

    X, y, gender = _faces(60)
    frame = pd.DataFrame({"filename": write_pngs(tmp_path, X), "gender": gender})
    dfr = DeepFeatureReweighting(FaceCNNClassifier(**TINY), sensitive_column="gender", C=1.0, n_repeats=2,
                                 random_state=0).fit(frame, y)
    assert dfr.predict(frame).shape == (60,)


def test_balanced_subset_takes_the_smallest_cell_from_every_cell():
    cells = np.array([0] * 10 + [1] * 3 + [2] * 7)
    picked = _balanced_subset(cells, np.random.default_rng(0))
    assert np.bincount(cells[picked]).tolist() == [3, 3, 3]
    assert len(set(picked)) == len(picked)


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"estimator": sklearn.linear_model.LogisticRegression()}, InvalidParameterError, "'estimator'"),
        ({"C": 0.0}, InvalidParameterError, "'C'"),
        ({"C": [0.1, -1.0]}, ValueError, "C=\\[0.1, -1.0\\] is not accepted"),
        ({"n_repeats": 0}, InvalidParameterError, "'n_repeats'"),
        ({"scoring": "accuracy"}, InvalidParameterError, "'scoring'"),
    ],
)
def test_bad_parameters_are_refused_before_training(kwargs, error, fragment):
    X, y, gender = _faces(30)
    params = {"estimator": FaceCNNClassifier(**TINY), **kwargs}
    with pytest.raises(error, match=fragment):
        DeepFeatureReweighting(**params).fit(X, y, sensitive_features=gender)


def test_missing_groups_and_too_small_cells_say_what_to_do():
    X, y, gender = _faces(30)
    dfr = DeepFeatureReweighting(FaceCNNClassifier(**TINY), random_state=0)
    with pytest.raises(ValueError, match=r"DeepFeatureReweighting\.fit needs the group") as info:
        dfr.fit(X, y)
    assert "group_estimator" not in str(info.value)
    rare = np.where(np.arange(30) == 0, -1, 1)  # one woman: her cells cannot be balanced
    with pytest.raises(ValueError, match="at least 2 samples in each of the 4"):
        DeepFeatureReweighting(FaceCNNClassifier(**TINY), prefit=False, random_state=0).fit(
            X, y, sensitive_features=rare)


def test_raises_worst_group_accuracy_where_erm_neglects_a_group():
    """Faces where one gender x class cell is rare: ERM's last layer gives it
    up, the reweighted one on the same features recovers much of it."""
    faces = make_faces(1500, image_size=32, random_state=0)
    X, y, gender = faces.images, faces.target, faces.gender
    network = FaceCNNClassifier(image_size=32, epochs=3, early_stopping=False, random_state=0)
    dfr = DeepFeatureReweighting(network, random_state=0).fit(X[:1000], y[:1000], sensitive_features=gender[:1000])
    test = slice(1000, None)
    erm = worst_group_accuracy(y[test], dfr.estimator_.predict(X[test]), sensitive_features=gender[test])
    reweighted = worst_group_accuracy(y[test], dfr.predict(X[test]), sensitive_features=gender[test])
    assert reweighted > erm + 0.2, (erm, reweighted)
