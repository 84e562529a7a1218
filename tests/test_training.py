"""One fit's data path (skface._training): checked once, carried together, subset together."""

import inspect
import os

import numpy as np
import pytest
from conftest import make_toy_images, write_pngs

from skface import FaceCNNClassifier
from skface._params import CONSTRAINTS
from skface._training import holdout, prepare


def test_every_parameter_has_one_constraint():
    # _params.check names unknown keywords from CONSTRAINTS: it must list the signature exactly
    signature = [p for p in inspect.signature(FaceCNNClassifier.__init__).parameters if p not in ("self", "kwargs")]
    assert signature == list(CONSTRAINTS)


def test_prepare_checks_and_aligns_images_labels_weights_and_groups():
    X, y = make_toy_images(n=12, size=8)
    labels = np.where(y == 1, "yes", "no")
    groups = np.array(["a", "b", "c"] * 4)
    weights = np.arange(12, dtype=float) + 1
    clf = FaceCNNClassifier(class_weight={"yes": 2.0, "no": 1.0})
    data = prepare(clf, X, labels, weights, groups)
    assert len(data) == 12 and data.classes.tolist() == ["no", "yes"]
    np.testing.assert_array_equal(data.y_bin, (labels == "yes").astype(np.float32))
    np.testing.assert_array_equal(data.sample_weight, weights * np.where(labels == "yes", 2.0, 1.0))
    assert data.groups.values.tolist() == ["a", "b", "c"]
    # the network's targets carry the group code beside the class
    np.testing.assert_array_equal(data.targets(), np.column_stack([data.y_bin, data.groups.codes]))

    keep = np.arange(12) % 3 != 1
    part = data.subset(keep)
    np.testing.assert_array_equal(part.images.array, X[keep])
    np.testing.assert_array_equal(part.y, labels[keep])
    np.testing.assert_array_equal(part.sample_weight, data.sample_weight[keep])
    np.testing.assert_array_equal(part.groups.codes, data.groups.codes[keep])
    assert part.groups.values.tolist() == ["a", "b", "c"]  # the groups' coding does not change


def test_prepare_refuses_bad_input_before_any_training():
    X, y = make_toy_images(n=12, size=8)
    with pytest.raises(ValueError, match="sample_weight"):
        prepare(FaceCNNClassifier(), X, y, np.ones(5), None)
    with pytest.raises(ValueError, match="fairness='group_dro' needs the group of every training sample"):
        prepare(FaceCNNClassifier(fairness="group_dro"), X, y, None, None)
    with pytest.raises(ValueError, match="warm_start continuation needs the same groups"):
        prepare(FaceCNNClassifier(), X, y, None, np.arange(12) % 2, previous_groups=np.array([5, 6]))


def test_skipped_files_leave_with_their_labels_weights_and_groups(tmp_path):
    X, y = make_toy_images(n=10, size=8)
    paths = np.array(write_pngs(str(tmp_path), X))
    for bad in (2, 7):
        with open(paths[bad], "wb") as handle:
            handle.write(b"not an image")
    groups = np.arange(10) % 2
    clf = FaceCNNClassifier(on_bad_image="skip")
    with pytest.warns(UserWarning, match="left out 2 of 10 image files"):
        data = prepare(clf, paths, y, np.arange(10.0) + 1, groups)
    keep = ~np.isin(np.arange(10), [2, 7])
    assert [os.path.basename(p) for p in data.skipped] == ["img_0002.png", "img_0007.png"]
    np.testing.assert_array_equal(data.images.paths, paths[keep])
    np.testing.assert_array_equal(data.y, y[keep])
    np.testing.assert_array_equal(data.sample_weight, (np.arange(10.0) + 1)[keep])
    np.testing.assert_array_equal(data.groups.codes, groups[keep])


def test_holdout_is_stratified_on_class_and_group_and_seeded():
    X, y = make_toy_images(n=80, size=8)
    groups = np.where(np.arange(80) % 4 == 0, "rare", "common")
    data = prepare(FaceCNNClassifier(), X, y, None, groups)
    train, val = holdout(data, 0.25, seed=3)
    assert len(val) == 20 and len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 80
    cells = data.groups.cells(data.y_bin)
    assert abs(np.bincount(cells[val], minlength=4) - 0.25 * np.bincount(cells)).max() <= 1
    np.testing.assert_array_equal(holdout(data, 0.25, seed=3)[1], val)
    everything, none = holdout(data, None, seed=3)
    assert none is None and everything.tolist() == list(range(80))
    with pytest.raises(ValueError, match="leaves none to train on"):
        holdout(data.subset(np.arange(80) < 1), 0.5, seed=0)


def test_prior_matching_threshold_predicts_class_1_as_often_as_it_occurs():
    from skface._training import prior_matching_threshold

    rng = np.random.default_rng(0)
    y = (rng.random(1000) < 0.3).astype(float)
    # under-confident, as a focal loss makes them
    proba = np.clip(0.2 + 0.3 * y + rng.normal(0, 0.15, 1000), 0.01, 0.99)
    t = prior_matching_threshold(proba, y)
    assert np.mean(proba > t) == np.mean(y)
    assert np.mean(proba > 0.5) < np.mean(y) - 0.1  # what 0.5 would give
    # weights that make class 1 rarer make the threshold predict it more rarely, in the same proportion
    w = np.where(y == 1, 0.5, 1.0)
    t_w = prior_matching_threshold(proba, y, w)
    assert t_w > t
    assert abs(np.average(proba > t_w, weights=w) - np.average(y, weights=w)) < 0.002
    assert prior_matching_threshold(proba, np.zeros(1000)) == proba.max()  # nothing above it
    assert np.all(proba > prior_matching_threshold(proba, np.ones(1000)))


def test_threshold_auto_is_chosen_on_the_hold_out_and_a_number_still_wins(toy):
    from conftest import TINY

    from skface import FaceCNNClassifier

    X, y = toy
    clf = FaceCNNClassifier(**TINY, threshold="auto").fit(X, y)
    assert 0.0 < clf.threshold_ < 1.0
    proba = clf.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(proba > clf.threshold_).astype(int)])
    clf.set_params(threshold=0.2)  # a number given later applies at once, without a new fit
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(proba > 0.2).astype(int)])
    # no hold-out to choose on: 0.5
    assert FaceCNNClassifier(**TINY, threshold="auto", early_stopping=False).fit(X, y).threshold_ == 0.5
    assert FaceCNNClassifier(**TINY, threshold=0.3).fit(X, y).threshold_ == 0.3
