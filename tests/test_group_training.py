"""Group-aware training: Group DRO, the gap penalty, balanced group sampling,
group scoring for early stopping, and where the groups come from."""

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
from conftest import TINY, make_toy_images
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skface import FaceCNNClassifier, load
from skface._group_objective import GroupObjective
from skface._input import make_dataset
from skface._validation import ImageSet
from skface.fairness import FairThresholdClassifier
from skface.metrics import fair_scorer

GROUPS = dict(TINY, early_stopping=False, precision="float32")


def hard_group_toy(n=480, size=16, seed=0, minority=0.15, tint=20.0):
    """Class 1 is bright for most images; a minority group is mid-grey and
    its classes differ only by a faint red-versus-blue tint."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    g = (rng.random(n) < minority).astype(int)
    X = np.where(y == 1, 170.0, 40.0)[:, None, None, None] + rng.normal(0, 25, (n, size, size, 3))
    m = g == 1
    X[m] = 105 + rng.normal(0, 25, (m.sum(), size, size, 3))
    shade = np.where(y[m] == 1, tint, -tint)[:, None, None]
    X[m, ..., 0] += shade
    X[m, ..., 2] -= shade
    return np.clip(X, 0, 255).astype(np.uint8), y, g


@pytest.fixture(scope="module")
def toy_groups():
    X, y = make_toy_images(n=96, size=16, seed=0)
    g = np.where(np.arange(96) % 3 == 0, "b", "a")
    return X, y, g


# ------------------------------------------------------------ the estimator
@pytest.mark.slow  # two fits of 480 images
def test_group_dro_raises_the_hard_groups_accuracy_over_erm():
    X, y, g = hard_group_toy()
    X_test, y_test, g_test = hard_group_toy(1000, seed=1)
    params = dict(GROUPS, loss="binary_crossentropy")
    minority = g_test == 1
    accuracy = {}
    for fairness in (None, "group_dro"):
        clf = FaceCNNClassifier(fairness=fairness, dro_step_size=0.2, **params).fit(X, y, sensitive_features=g)
        accuracy[fairness] = (clf.predict(X_test[minority]) == y_test[minority]).mean()
    # measured on a float32 CPU: ERM 0.90, Group DRO 1.00 on the minority group
    assert accuracy["group_dro"] >= accuracy[None] + 0.05


def test_sensitive_features_without_fairness_stratify_and_fill_the_history(toy_groups):
    X, y, g = toy_groups
    clf = FaceCNNClassifier(**{**TINY, "epochs": 1}).fit(X, y, sensitive_features=g)
    assert list(clf.sensitive_groups_) == ["a", "b"]
    for key in ("val_accuracy[a]", "val_accuracy[b]", "val_fair_metric", "val_worst_group_accuracy",
                "accuracy[a]", "fair_metric"):
        assert len(clf.history_[key]) == 1, key
    acc = [clf.history_["val_accuracy[a]"][0], clf.history_["val_accuracy[b]"][0]]
    assert clf.history_["val_fair_metric"][0] == pytest.approx(np.mean(acc) - 2 * abs(acc[0] - acc[1]), abs=1e-6)
    assert not hasattr(clf, "group_weights_")  # Group DRO's only
    # the hold-out is stratified on class x group
    from skface._training import holdout, prepare

    data = prepare(clf, X, y, None, g)
    _, val = holdout(data, clf.validation_fraction, 0)
    cells = data.groups.cells(data.y_bin)
    assert abs(np.bincount(cells[val]) - 0.2 * np.bincount(cells)).max() <= 1


def test_more_than_two_groups(toy_groups):
    X, y, _ = toy_groups
    g = np.arange(len(y)) % 3
    for fairness in ("group_dro", "gap_penalty"):
        clf = FaceCNNClassifier(fairness=fairness, **{**TINY, "epochs": 1}).fit(X, y, sensitive_features=g)
        acc = [clf.history_[f"val_accuracy[{k}]"][0] for k in range(3)]
        assert clf.history_["val_fair_metric"][0] == pytest.approx(np.mean(acc) - 2 * (max(acc) - min(acc)), abs=1e-6)
        assert np.isfinite(clf.history_["loss"]).all()
    assert clf.predict(X).shape == y.shape
    dro = FaceCNNClassifier(fairness="group_dro", **{**TINY, "epochs": 1}).fit(X, y, sensitive_features=g)
    assert dro.group_weights_.shape == (6,) and dro.group_weights_.sum() == pytest.approx(1.0)


def test_group_weights_series_and_history(toy_groups):
    X, y, g = toy_groups
    clf = FaceCNNClassifier(fairness="group_dro", dro_step_size=1.0, **GROUPS).fit(X, y, sensitive_features=g)
    weights = clf.group_weights_
    assert list(weights.index) == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert weights.index.names == ["group", "class"]
    assert weights.sum() == pytest.approx(1.0) and not np.allclose(weights, 0.25)
    assert len(clf.history_["group_weight[b, 1]"]) == GROUPS["epochs"]
    pooled = FaceCNNClassifier(fairness="group_dro", dro_groups="sensitive", **GROUPS).fit(X, y, sensitive_features=g)
    assert list(pooled.group_weights_.index) == ["a", "b"]


def _frozen(clf):
    """The same estimator with q frozen (step 0), continuing its training."""
    return clf.set_params(dro_step_size=0.0, warm_start=True)


def test_q_survives_warm_start_save_load_and_pickle(toy_groups, tmp_path):
    X, y, g = toy_groups
    clf = FaceCNNClassifier(fairness="group_dro", dro_step_size=2.0, **GROUPS).fit(X, y, sensitive_features=g)
    q = clf.group_weights_.to_numpy()
    assert not np.allclose(q, 0.25)
    # a continuation starts from q: with step 0 q stays where it was, not uniform
    np.testing.assert_allclose(_frozen(pickle.loads(pickle.dumps(clf))).fit(X, y, sensitive_features=g)
                               .group_weights_.to_numpy(), q, rtol=1e-6)
    loaded = load(clf.save(str(tmp_path / "dro.keras")))
    np.testing.assert_allclose(loaded.group_weights_.to_numpy(), q, rtol=1e-6)
    np.testing.assert_allclose(_frozen(loaded).fit(X, y, sensitive_features=g).group_weights_.to_numpy(), q,
                               rtol=1e-6)
    np.testing.assert_array_equal(loaded.sensitive_groups_, ["a", "b"])


def test_checkpoint_resume_keeps_q_and_groups(toy_groups, tmp_path):
    X, y, g = toy_groups
    params = dict(GROUPS, fairness="group_dro", dro_step_size=2.0, checkpoint_dir=str(tmp_path), epochs=1)
    first = FaceCNNClassifier(**params).fit(X, y, sensitive_features=g)
    q = first.group_weights_.to_numpy()
    # a new process: the checkpoint is all there is
    resumed = FaceCNNClassifier(**{**params, "warm_start": True, "dro_step_size": 0.0})
    resumed.fit(X, y, sensitive_features=g)
    np.testing.assert_allclose(resumed.group_weights_.to_numpy(), q, rtol=1e-6)
    assert len(resumed.history_["group_weight[a, 0]"]) == 2
    with pytest.raises(ValueError, match=r"trained on \['a', 'b'\]; a warm_start continuation needs the same"):
        resumed.fit(X, y, sensitive_features=np.where(g == "a", "a", "c"))


def test_same_seed_same_model_with_balanced_sampling(toy_groups):
    X, y, g = toy_groups
    params = dict(GROUPS, fairness="group_dro", group_sampling="balanced", epochs=1)
    one = FaceCNNClassifier(**params).fit(X, y, sensitive_features=g)
    two = FaceCNNClassifier(**params).fit(X, y, sensitive_features=g)
    np.testing.assert_array_equal(one.predict_proba(X), two.predict_proba(X))
    np.testing.assert_array_equal(one.group_weights_, two.group_weights_)


def test_balanced_sampling_draws_every_cell_equally_often():
    n = 1000
    cells = np.repeat([0, 1, 2, 3], [700, 200, 80, 20])
    images = ImageSet(array=np.zeros((n, 4, 4, 3), np.uint8))
    ds = make_dataset(images, image_size=(4, 4), batch_size=100, y=cells.astype(np.float32), indices=np.arange(n),
                      shuffle=True, seed=0, repeat=True, balance=cells)
    drawn = np.concatenate([y.numpy() for _, y in ds.take(40)]).astype(int)
    share = np.bincount(drawn, minlength=4) / len(drawn)
    np.testing.assert_allclose(share, 0.25, atol=0.02)
    # the 20 images of the smallest cell all come, reshuffled, before any repeats
    smallest = drawn[drawn == 3]
    assert len(smallest) > 20


def test_sample_weight_and_class_weight_and_partial_fit(toy_groups):
    X, y, g = toy_groups
    weight = np.where(g == "b", 0.0, 1.0)
    clf = FaceCNNClassifier(fairness="group_dro", dro_step_size=5.0, class_weight="balanced", **GROUPS)
    clf.fit(X, y, sample_weight=weight, sensitive_features=g)
    # group b weighs nothing: its losses are 0, so q moves to group a's cells
    assert clf.group_weights_.loc["a"].sum() > clf.group_weights_.loc["b"].sum()
    part = FaceCNNClassifier(fairness="gap_penalty", **GROUPS)
    for _ in range(2):
        part.partial_fit(X, y, classes=[0, 1], sensitive_features=g)
    assert len(part.history_["fair_metric"]) == 2


@pytest.mark.filterwarnings("ignore:After fit")  # one epoch: the model need not have learned
@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision(toy_groups, precision):
    X, y, g = toy_groups
    clf = FaceCNNClassifier(fairness="group_dro", **{**GROUPS, "precision": precision, "epochs": 1})
    clf.fit(X, y, sensitive_features=g)
    assert np.isfinite(clf.history_["loss"]).all() and np.isfinite(clf.group_weights_).all()


def test_sensitive_column_reads_the_groups_from_the_frame(toy_paths, toy):
    _, y = toy
    frame = pd.DataFrame({"filename": toy_paths, "gender": np.where(np.arange(len(y)) % 2, -1, 1)})
    clf = FaceCNNClassifier(fairness="gap_penalty", sensitive_column="gender", **{**TINY, "epochs": 1})
    clf.fit(frame, y)
    assert list(clf.sensitive_groups_) == [-1, 1] and "val_fair_metric" in clf.history_
    assert clf.predict(frame).shape == y.shape


def test_grid_search_routes_sensitive_features_with_fair_scorer(toy_groups):
    X, y, g = toy_groups
    with sklearn.config_context(enable_metadata_routing=True):
        clf = FaceCNNClassifier(**{**TINY, "epochs": 1}).set_fit_request(sensitive_features=True)
        search = GridSearchCV(clf, {"fairness": [None, "group_dro"]}, scoring=fair_scorer,
                              cv=StratifiedKFold(2, shuffle=True, random_state=0))
        search.fit(X, y, sensitive_features=g)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert list(search.best_estimator_.sensitive_groups_) == ["a", "b"]
    # requested by default: the routing set-up of a Fair_Metric search needs nothing more
    with sklearn.config_context(enable_metadata_routing=True):
        assert FaceCNNClassifier().get_metadata_routing().fit.requests["sensitive_features"] is True
        opted_out = FaceCNNClassifier().set_fit_request(sensitive_features=False)
        assert opted_out.get_metadata_routing().fit.requests["sensitive_features"] is False


def test_fair_threshold_classifier_on_top(toy_groups):
    X, y, g = toy_groups
    inner = FaceCNNClassifier(fairness="group_dro", **{**TINY, "epochs": 1})
    model = FairThresholdClassifier(inner, random_state=0).fit(X, y, sensitive_features=g)
    assert list(model.estimator_.sensitive_groups_) == ["a", "b"]
    assert model.predict(X, sensitive_features=g).shape == y.shape


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "params, fit_groups, error, message",
    [
        ({"fairness": "group_dro"}, None, ValueError, r"fairness='group_dro' needs the group of every training"),
        ({"group_sampling": "balanced"}, None, ValueError, r"group_sampling='balanced' needs the group"),
        ({"scoring": "fair_metric"}, None, ValueError, r"scoring='fair_metric' needs the group"),
        ({"scoring": "worst_group_accuracy"}, None, ValueError, r"scoring='worst_group_accuracy' needs"),
        ({"fairness": "dro"}, "ok", ValueError, r"'fairness' parameter .* Got 'dro' instead"),
        ({"dro_groups": "cells"}, "ok", ValueError, r"'dro_groups' parameter .* Got 'cells' instead"),
        ({"group_sampling": "equal"}, "ok", ValueError, r"'group_sampling' parameter .* Got 'equal' instead"),
        ({"scoring": "f1"}, "ok", ValueError, r"'scoring' parameter .* Got 'f1' instead"),
        ({"dro_step_size": -0.1}, "ok", ValueError, r"'dro_step_size' parameter .* Got -0.1 instead"),
        ({"gap_weight": -1}, "ok", ValueError, r"'gap_weight' parameter .* Got -1 instead"),
        ({"fairness": "group_dro"}, "short", ValueError, r"X, sensitive_features must have the same length"),
        ({"fairness": "group_dro"}, "nan", ValueError, r"sensitive_features contains missing values"),
        ({"fairness": "group_dro"}, "single", ValueError, r"sensitive_features holds a single group \('a'\)"),
        ({"sensitive_column": "gender"}, "ok", ValueError, r"sensitive_column='gender' reads the groups from X, but"),
        ({"sensitive_column": "gender"}, None, TypeError, r"X must be a pandas DataFrame; got ndarray"),
    ],
)
def test_bad_group_input_names_the_parameter(toy_groups, params, fit_groups, error, message):
    X, y, g = toy_groups
    groups = {
        None: None, "ok": g, "short": g[:-1], "single": np.full(len(g), "a"),
        "nan": np.where(np.arange(len(g)) == 3, None, g),
    }[fit_groups]  # fmt: skip
    with pytest.raises(error, match=message):
        FaceCNNClassifier(**{**TINY, "epochs": 1}, **params).fit(X, y, sensitive_features=groups)


def test_sensitive_column_missing_from_the_frame(toy_paths, toy):
    _, y = toy
    frame = pd.DataFrame({"filename": toy_paths, "sex": np.arange(len(y)) % 2})
    with pytest.raises(ValueError, match=r"sensitive_column='gender' is not a column of X; its columns are"):
        FaceCNNClassifier(sensitive_column="gender", **{**TINY, "epochs": 1}).fit(frame, y)


def test_a_custom_network_refuses_groups(toy_groups):
    import keras

    X, y, g = toy_groups

    def network():
        inputs = keras.Input((16, 16, 3))
        return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.Flatten()(inputs)))

    with pytest.raises(ValueError, match=r"sensitive_features \(or sensitive_column\) need the network skface"):
        FaceCNNClassifier(model=network, **{**TINY, "epochs": 1}).fit(X, y, sensitive_features=g)


def test_new_parameters_clone_and_set_params():
    clf = FaceCNNClassifier(fairness="gap_penalty", gap_weight=3.0, group_sampling="balanced", scoring="fair_metric")
    twin = clone(clf)
    assert twin.get_params()["gap_weight"] == 3.0 and twin.get_params()["scoring"] == "fair_metric"
    assert twin.set_params(fairness="group_dro").fairness == "group_dro"


def test_the_training_graph_is_traced_once_not_per_batch(toy_groups, monkeypatch):
    X, y, g = toy_groups
    traced = []
    real = GroupObjective.loss

    def counting(self, *args, **kwargs):
        traced.append(1)  # Python runs here only while TensorFlow traces the step
        return real(self, *args, **kwargs)

    monkeypatch.setattr(GroupObjective, "loss", counting)
    clf = FaceCNNClassifier(fairness="group_dro", **{**GROUPS, "run_eagerly": False, "epochs": 3, "batch_size": 16})
    clf.fit(X, y, sensitive_features=g)
    # 3 epochs of 6 steps; a second trace is allowed for the smaller last batch of a pass
    assert 1 <= len(traced) <= 2


def test_partial_fit_keeps_the_objective_and_its_traced_step(toy_groups):
    X, y, g = toy_groups
    clf = FaceCNNClassifier(fairness="group_dro", dro_step_size=1.0, **{**GROUPS, "run_eagerly": False})
    clf.partial_fit(X, y, classes=[0, 1], sensitive_features=g)
    objective, step = clf.model_.group_objective, clf.model_.train_function
    clf.partial_fit(X, y, sensitive_features=g)
    assert clf.model_.group_objective is objective and clf.model_.train_function is step
    assert len(clf.history_["group_weight[a, 0]"]) == 2
    clf.set_params(dro_step_size=0.5).partial_fit(X, y, sensitive_features=g)
    assert clf.model_.group_objective is not objective  # another objective: a new one, from q
    np.testing.assert_allclose(clf.model_.group_objective.q.numpy().sum(), 1.0, rtol=1e-6)


def test_progress_lines_leave_the_per_group_values_to_the_history(toy_groups, capsys):
    X, y, g = toy_groups
    clf = FaceCNNClassifier(**{**GROUPS, "epochs": 1}, fairness="group_dro", verbose=2).fit(X, y, sensitive_features=g)
    out = capsys.readouterr().out
    assert "fair_metric" in out and "[" not in out  # no accuracy[a], group_weight[...] on the line
    assert {"accuracy[a]", "accuracy[b]", "group_weight[a, 1]"} <= set(clf.history_)
    # a progress logger of the user's is used as it is
    import keras

    mine = keras.callbacks.ProgbarLogger()
    FaceCNNClassifier(**{**GROUPS, "epochs": 1}, verbose=2, callbacks=[mine]).fit(X, y, sensitive_features=g)
    assert "accuracy[a]" in capsys.readouterr().out
