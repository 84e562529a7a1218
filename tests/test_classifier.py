"""FaceCNNClassifier: scikit-learn contract, the three forms of X, learning, bad input."""

import os
import pickle
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
import sklearn
from conftest import TINY, make_toy_images, write_pngs
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import get_tags

from skface import FaceCNNClassifier, load


@pytest.fixture(scope="module")
def fitted(toy):
    # graph mode (run_eagerly=False), the default users get: this fit and the
    # predictions of the tests that read it run as a user's would, and the
    # reproducibility test compares two graph-mode fits with it
    X, y = toy
    return FaceCNNClassifier(**{**TINY, "run_eagerly": False}).fit(X, y)


# ------------------------------------------------------------------ contract
def test_is_a_classifier_with_binary_tags():
    clf = FaceCNNClassifier()
    assert is_classifier(clf)
    tags = get_tags(clf)
    assert tags.estimator_type == "classifier"
    assert tags.classifier_tags.multi_class is False
    assert tags.target_tags.required is True
    assert tags.non_deterministic is True
    assert tags.input_tags.two_d_array is False and tags.input_tags.three_d_array is True


def test_cv_is_stratified_because_it_is_a_classifier():
    from sklearn.model_selection import check_cv

    cv = check_cv(5, y=np.array([0, 1] * 10), classifier=is_classifier(FaceCNNClassifier()))
    assert isinstance(cv, StratifiedKFold)


def test_defaults_reproduce_the_reference_network_and_loss():
    clf = FaceCNNClassifier()
    assert clf.image_size == (80, 80)
    assert clf.filters == (32, 64, 128) and clf.dense_units == 512 and clf.dropout == 0.5
    assert clf.focal_gamma == 5.0 and clf.focal_alpha == 0.25
    assert clf.apply_class_balancing is False
    assert clf.batch_size == 32 and clf.epochs == 10 and clf.optimizer == "adam"
    assert clf.early_stopping and clf.validation_fraction == 0.2
    # the training defaults measured on photographs (docs/training.rst); the reference had 0.001, 1 and 0.5
    assert clf.learning_rate == 3e-4 and clf.n_iter_no_change == 3 and clf.threshold == "auto"


def test_clone_and_params_round_trip():
    clf = FaceCNNClassifier(image_size=32, optimizer__learning_rate=0.01, predict__batch_size=7)
    params = clf.get_params()
    assert params["optimizer__learning_rate"] == 0.01
    assert "build_fn" not in params and "validation_split" not in params
    clone_ = clone(clf)
    assert clone_.get_params() == params
    clone_.set_params(dense_units=16, optimizer__learning_rate=0.1)
    assert clone_.dense_units == 16 and clone_.optimizer__learning_rate == 0.1
    assert clf.optimizer__learning_rate == 0.01  # the original is untouched


def test_fit_sets_no_public_attribute_without_underscore(tiny_fitted):
    before = set(vars(FaceCNNClassifier(**tiny_fitted.get_params())))
    added = set(vars(tiny_fitted)) - before
    assert all(name.endswith("_") or name.startswith("_") for name in added), added


def test_predict_before_fit_raises_not_fitted(toy):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        FaceCNNClassifier(**TINY).predict(toy[0])


def test_repr_shows_changed_parameters():
    assert repr(FaceCNNClassifier(epochs=3)) == "FaceCNNClassifier(epochs=3)"


# ------------------------------------------------------------------ learning
def test_learns_a_toy_task(fitted, toy):
    X, y = toy
    X_test, y_test = make_toy_images(n=64, seed=1)
    assert fitted.score(X_test, y_test) >= 0.9
    assert set(fitted.history_) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(fitted.history_["loss"]) <= TINY["epochs"]


def test_predict_proba_shape_and_threshold(fitted, toy):
    X, _ = toy
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    high = clone(fitted).set_params(threshold=1.0)
    high.model_, high.classes_ = fitted.model_, fitted.classes_
    assert (high.predict(X) == 0).all()
    np.testing.assert_array_equal(fitted.predict(X), (proba[:, 1] > fitted.threshold_).astype(int))


def test_the_three_forms_of_X_give_the_same_predictions(fitted, toy, toy_paths):
    X, _ = toy
    from_array = fitted.predict_proba(X)
    from_paths = fitted.predict_proba(toy_paths)
    frame = pd.DataFrame({"filename": toy_paths, "gender": np.where(np.arange(len(X)) % 3, 1, -1)})
    from_frame = fitted.predict_proba(frame)
    np.testing.assert_allclose(from_paths, from_array, atol=1e-6)
    np.testing.assert_allclose(from_frame, from_array, atol=1e-6)


def test_fit_on_paths_and_frame_equals_fit_on_array(toy, toy_paths, tiny_fitted):
    X, y = toy
    on_array = tiny_fitted.predict_proba(X)
    frame = pd.DataFrame({"path": toy_paths})
    on_frame = FaceCNNClassifier(**TINY, image_column="path").fit(frame, y).predict_proba(X)
    np.testing.assert_allclose(on_frame, on_array, atol=1e-5)


def test_float_and_grayscale_arrays(fitted, toy):
    X, _ = toy
    np.testing.assert_allclose(
        fitted.predict_proba(X.astype(np.float32) / 255.0), fitted.predict_proba(X), atol=1e-6
    )
    gray = X[..., 0]
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    np.testing.assert_allclose(fitted.predict_proba(gray), fitted.predict_proba(rgb), atol=1e-6)
    np.testing.assert_allclose(fitted.predict_proba(gray[..., None]), fitted.predict_proba(rgb), atol=1e-6)


def test_images_of_another_size_are_resized(fitted):
    X, y = make_toy_images(n=64, seed=2)
    big = np.repeat(np.repeat(X, 2, axis=1), 2, axis=2)  # 32x32, same content
    assert fitted.predict(big).shape == (len(X),)
    assert fitted.score(big, y) >= 0.9


@pytest.mark.parametrize(
    "encode",
    [lambda y: np.where(y == 1, 1, -1), lambda y: y.astype(bool), lambda y: np.where(y == 1, "yes", "no")],
    ids=["minus-one-one", "bool", "strings"],
)
def test_predict_returns_labels_in_the_callers_encoding(toy, encode):
    X, y = toy
    y_enc = encode(y)
    clf = FaceCNNClassifier(**TINY).fit(X, y_enc)
    np.testing.assert_array_equal(clf.classes_, np.unique(y_enc))
    pred = clf.predict(X)
    assert set(np.unique(pred)) <= set(np.unique(y_enc))
    assert clf.score(X, y_enc) >= 0.9


def test_sample_weight_changes_training(toy, tiny_fitted):
    X, y = toy
    plain = tiny_fitted.predict_proba(X)[:, 1]
    # class 1 carries no weight: the model learns to say 0 more often
    w = np.where(y == 1, 0.0, 1.0)
    weighted = FaceCNNClassifier(**TINY).fit(X, y, sample_weight=w).predict_proba(X)[:, 1]
    assert weighted.mean() < plain.mean() - 0.05
    ones = FaceCNNClassifier(**TINY).fit(X, y, sample_weight=np.ones(len(y))).predict_proba(X)[:, 1]
    np.testing.assert_allclose(ones, plain, atol=1e-5)


def test_score_accepts_sample_weight(fitted, toy):
    X, y = toy
    pred = fitted.predict(X)
    w = np.where(pred == y, 3.0, 1.0)
    expected = (w * (pred == y)).sum() / w.sum()
    assert fitted.score(X, y, sample_weight=w) == pytest.approx(expected)


def test_same_seed_same_probabilities_other_seed_differs(fitted, toy):
    # in graph mode (run_eagerly=False), where users train: the promise is
    # that their fits repeat exactly; ``fitted`` is the first of the two
    X, y = toy
    graph = {**TINY, "run_eagerly": False}
    a = fitted.predict_proba(X)
    b = FaceCNNClassifier(**graph).fit(X, y).predict_proba(X)
    c = FaceCNNClassifier(**{**graph, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_seeding_leaves_the_callers_global_random_state_alone(toy):
    X, y = toy
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    FaceCNNClassifier(**{**TINY, "epochs": 1}).fit(X, y)
    assert np.random.rand() == expected


def test_early_stopping_stops_and_restores_best_weights(toy):
    X, _ = toy
    noise = np.random.default_rng(0).integers(0, 2, len(X))
    # min_images=0: the reference's rule, patience 1 epoch from the first epoch on
    params = {**TINY, "epochs": 8, "optimizer__learning_rate": 0.03, "min_images": 0, "n_iter_no_change": 1}
    clf = FaceCNNClassifier(**params).fit(X, noise)
    val_loss = clf.history_["val_loss"]
    assert len(val_loss) < 8  # stopped once the validation loss stopped improving
    assert int(np.argmin(val_loss)) == len(val_loss) - 2  # patience 1


def test_without_early_stopping_every_epoch_runs(toy):
    X, y = toy
    clf = FaceCNNClassifier(**{**TINY, "epochs": 3, "early_stopping": False}).fit(X, y)
    assert len(clf.history_["loss"]) == 3 and "val_loss" not in clf.history_


def test_warm_start_and_partial_fit_continue_training(toy):
    X, y = toy
    clf = FaceCNNClassifier(**{**TINY, "epochs": 1, "warm_start": True, "early_stopping": False})
    clf.fit(X, y)
    model = clf.model_
    clf.fit(X, y)
    assert clf.model_ is model and len(clf.history_["loss"]) == 2
    clf.partial_fit(X, y)
    assert len(clf.history_["loss"]) == 3
    first = FaceCNNClassifier(**TINY).partial_fit(X[y == 1], y[y == 1], classes=[0, 1])
    np.testing.assert_array_equal(first.classes_, [0, 1])


def test_focal_loss_as_the_reference_trained_it(fitted):
    loss = fitted.model_.loss
    assert isinstance(loss, keras.losses.BinaryFocalCrossentropy)
    assert loss.gamma == 5.0 and loss.alpha == 0.25 and loss.apply_class_balancing is False
    balanced = FaceCNNClassifier(**TINY, apply_class_balancing=True, focal_gamma=2.0)
    balanced.fit(*make_toy_images(n=32))
    assert balanced.model_.loss.apply_class_balancing is True and balanced.model_.loss.gamma == 2.0


def test_custom_loss_and_routed_optimizer(toy):
    X, y = toy
    clf = FaceCNNClassifier(
        **{**TINY, "epochs": 1}, loss="binary_crossentropy", optimizer="sgd", optimizer__learning_rate=0.05
    ).fit(X, y)
    assert isinstance(clf.model_.optimizer, keras.optimizers.SGD)
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.05)
    default_lr = FaceCNNClassifier(**{**TINY, "epochs": 1, "learning_rate": 0.002}).fit(X, y)
    assert float(default_lr.model_.optimizer.learning_rate) == pytest.approx(0.002)


def test_verbose_zero_is_silent_and_one_shows_progress(toy, capsys):
    X, y = toy
    FaceCNNClassifier(**{**TINY, "epochs": 1}).fit(X, y).predict(X)
    assert capsys.readouterr().out == ""
    FaceCNNClassifier(**{**TINY, "verbose": 1}).fit(X, y)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "val_loss" in out


# ------------------------------------------------------------ scikit-learn
def test_pipeline_and_cross_val_score(toy):
    X, y = toy
    pipe = make_pipeline(FunctionTransformer(lambda images: images[:, ::-1]), FaceCNNClassifier(**TINY))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() >= 0.8


@pytest.mark.slow  # each of the 2 worker processes starts its own TensorFlow
def test_cross_val_score_in_parallel(toy):
    X, y = toy
    clf = FaceCNNClassifier(**{**TINY, "epochs": 4, "early_stopping": False})
    scores = cross_val_score(clf, X, y, cv=2, n_jobs=2)
    assert scores.min() >= 0.8


def test_grid_search_over_an_architecture_parameter(toy):
    X, y = toy
    search = GridSearchCV(FaceCNNClassifier(**TINY), {"dense_units": [4, 8]}, cv=2).fit(X, y)
    assert search.best_params_["dense_units"] in (4, 8)
    assert isinstance(search.best_estimator_, FaceCNNClassifier)
    assert search.best_estimator_.score(X, y) >= 0.9


def test_sample_weight_through_metadata_routing(toy, tiny_fitted):
    X, y = toy
    w = np.where(y == 1, 0.0, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        est = FaceCNNClassifier(**TINY).set_fit_request(sample_weight=True).set_score_request(sample_weight=False)
        search = GridSearchCV(est, {"dropout": [0.5]}, cv=2).fit(X, y, sample_weight=w)
    plain = tiny_fitted.predict_proba(X)[:, 1]
    assert search.best_estimator_.predict_proba(X)[:, 1].mean() < plain.mean() - 0.05


# ------------------------------------------------------------ persistence
def test_pickle_round_trip(fitted, toy):
    X, _ = toy
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


def test_save_and_load(fitted, toy, tmp_path):
    from skface import load

    X, _ = toy
    path = fitted.save(tmp_path / "model.keras")
    restored = load(path)
    assert isinstance(restored, FaceCNNClassifier)
    assert restored.get_params() == fitted.get_params()
    np.testing.assert_array_equal(restored.classes_, fitted.classes_)
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    assert list(tmp_path.iterdir()) == [tmp_path / "model.keras"]  # no temporary left behind


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.zeros((0, 16, 16, 3), np.uint8), ValueError, "X is empty"),
        (np.zeros((4, 16, 16, 4), np.uint8), ValueError, "X has 4 channels"),
        (np.zeros((4, 16), np.uint8), ValueError, r"X has shape \(4, 16\)"),
        (np.full((4, 16, 16, 3), 2.0), ValueError, r"float images must lie in \[0, 1\]"),
        (np.full((4, 16, 16, 3), np.nan), ValueError, "NaN"),
        ({"a": 1}, TypeError, "X of type dict is not accepted"),
        ("images/", TypeError, "X is a single path"),
        (pd.DataFrame({"path": ["a.jpg"] * 4}), ValueError, "without the image column 'filename'"),
    ],
)
def test_bad_X(X, error, match):
    y = np.array([0, 1, 0, 1])
    with pytest.raises(error, match=match):
        FaceCNNClassifier(**TINY).fit(X, y)


@pytest.mark.parametrize(
    "y, error, match",
    [
        ([0, 1, 0], ValueError, "X has 4 samples but y has 3 labels"),
        ([1, 1, 1, 1], ValueError, r"y has 1 class \(\[1\]\).*exactly 2 classes"),
        ([0, 1, 2, 1], ValueError, "y has 3 classes"),
        ([0.0, 1.0, np.nan, 1.0], ValueError, "y contains 1 missing"),
        (np.array([0, "a", 0, "a"], dtype=object), TypeError, "y mixes label types"),
    ],
)
def test_bad_y(y, error, match):
    X = np.zeros((4, 16, 16, 3), np.uint8)
    with pytest.raises(error, match=match):
        FaceCNNClassifier(**TINY).fit(X, y)


@pytest.mark.parametrize(
    "w, match",
    [
        # scikit-learn's own check, and skface's prefix where it does not name the parameter
        ([1.0, -1.0, 1.0, 1.0], "Negative values in data passed to `sample_weight`"),
        ([1.0, np.nan, 1.0, 1.0], "Input sample_weight contains NaN"),
        ([0.0, 0.0, 0.0, 0.0], "sample_weight must hold one non-negative number per sample: .*non-zero"),
        ([1.0, 1.0], r"sample_weight.shape == \(2,\), expected \(4,\)"),
    ],
)
def test_bad_sample_weight(w, match):
    X, y = np.zeros((4, 16, 16, 3), np.uint8), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=match):
        FaceCNNClassifier(**TINY).fit(X, y, sample_weight=np.array(w))


def test_random_state_instance_advances_once_per_fit(toy):
    X, y = toy
    rng = np.random.RandomState(7)
    FaceCNNClassifier(**{**TINY, "random_state": rng}).fit(X, y)
    expected = np.random.RandomState(7)
    expected.randint(np.iinfo(np.int32).max)
    assert rng.randint(1000) == expected.randint(1000)


def test_initialize_builds_an_untrained_network(toy):
    X, y = toy
    clf = FaceCNNClassifier(**TINY).initialize(X, np.where(y == 1, "yes", "no"))
    assert list(clf.classes_) == ["no", "yes"] and clf.model_.compiled
    assert clf.history_ == {} and clf.model_.optimizer.iterations.numpy() == 0
    assert set(clf.predict(X[:4])) <= {"no", "yes"}
    # a warm fit trains the initialised network further
    clf.set_params(warm_start=True).fit(X, np.where(y == 1, "yes", "no"))
    assert len(clf.history_["loss"]) == TINY["epochs"]


def test_save_leaves_the_optimizer_out_by_default(tmp_path, toy):
    X, y = toy
    clf = FaceCNNClassifier(**{**TINY, "filters": (8, 16), "dense_units": 64}).fit(X, y)
    small = clf.save(tmp_path / "small.keras")
    full = clf.save(tmp_path / "full.keras", include_optimizer=True)
    # Adam keeps two float32 moments per weight, which the default file leaves out
    assert os.path.getsize(full) - os.path.getsize(small) > 0.9 * 8 * clf.model_.count_params()
    for path in (small, full):
        loaded = load(path)
        np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    resumed = load(full)
    assert resumed.model_.optimizer.iterations.numpy() == clf.model_.optimizer.iterations.numpy()
    fresh = load(small)
    assert fresh.model_.optimizer.iterations.numpy() == 0
    fresh.set_params(warm_start=True, epochs=1).fit(X, y)
    assert len(fresh.history_["loss"]) == len(clf.history_["loss"]) + 1


def test_bad_files_are_named(tmp_path, toy):
    X, y = toy
    paths = write_pngs(str(tmp_path), X[:8])
    missing = [str(tmp_path / "nope.png")] + paths[1:]
    with pytest.raises(ValueError, match=r"1 of the 8 image files do not exist: \['.*nope.png'\]"):
        FaceCNNClassifier(**TINY).fit(missing, y[:8])
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"image files are empty \(0 bytes\): \['.*empty.png'\]"):
        FaceCNNClassifier(**TINY).fit([str(tmp_path / "empty.png")] + paths[1:], y[:8])
    data = open(paths[0], "rb").read()
    (tmp_path / "truncated.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.png").write_text("not an image")
    bad = [str(tmp_path / "truncated.png"), str(tmp_path / "text.png")] + paths[2:]
    decoded = r"2 of the 8 image files cannot be decoded: \['.*truncated.png', '.*text.png'\]"
    with pytest.raises(ValueError, match=decoded):
        FaceCNNClassifier(**{**TINY, "early_stopping": False}).fit(bad, y[:8])


def test_early_stopping_needs_enough_samples():
    X, y = np.zeros((2, 16, 16, 3), np.uint8), np.array([0, 1])
    with pytest.raises(ValueError, match="leaves none to train on"):
        FaceCNNClassifier(**TINY, validation_fraction=0.9).fit(X, y)


def test_fit_warns_once_when_the_model_learned_nothing():
    # identical images: whatever the network learns, it gives all of them one probability
    X = np.full((96, 16, 16, 3), 128, np.uint8)
    y = np.r_[np.zeros(80, int), np.ones(16, int)]
    clf = FaceCNNClassifier(**{**TINY, "run_eagerly": True})
    expected = r"After fit, on 20 images of the validation hold-out: The model predicts 0 for all 20 images"
    with pytest.warns(UserWarning, match=expected) as record:
        clf.fit(X, y)
    assert sum("After fit" in str(w.message) for w in record) == 1
    assert "epochs=" in str(record[0].message)


def test_fit_does_not_warn_about_a_model_that_learned(toy):
    X, y = toy
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        FaceCNNClassifier(**{**TINY, "epochs": 4}).fit(X, y)
