"""The sensitive groups of a fit (skface._groups): coding, names, cells and Group DRO's weights."""

import numpy as np
import pandas as pd
import pytest

from skface import FaceCNNClassifier
from skface._groups import FitGroups, cell_counts, dro_names, fit_groups, group_weights, needs_groups, weights_series


def test_groups_are_coded_in_sorted_order_and_cells_pair_them_with_the_class():
    groups = fit_groups(FaceCNNClassifier(), pd.Series(["b", "a", "b", "c"]), "sensitive_features")
    assert groups.values.tolist() == ["a", "b", "c"] and groups.codes.tolist() == [1, 0, 1, 2]
    assert groups.names() == ["a", "b", "c"] and groups.n_groups == 3
    y_bin = np.array([1, 0, 0, 1])
    np.testing.assert_array_equal(groups.cells(y_bin), [3, 0, 2, 5])
    np.testing.assert_array_equal(cell_counts(groups, y_bin), [1, 0, 1, 1, 0, 1])
    part = groups.subset(np.array([True, False, True, False]))
    assert part.values.tolist() == ["a", "b", "c"] and part.codes.tolist() == [1, 1]


def test_a_continuation_keeps_the_earlier_groups_or_is_refused():
    previous = np.array([-1, 1])
    kept = fit_groups(FaceCNNClassifier(), pd.Series([1, -1, 1]), "g", previous=previous)
    assert kept.values is previous
    with pytest.raises(ValueError, match=r"g holds the groups \[-1, 1, 2\], but this estimator was trained on"):
        fit_groups(FaceCNNClassifier(), pd.Series([1, -1, 2]), "g", previous=previous)
    with pytest.raises(ValueError, match=r"g holds a single group \(1\)"):
        fit_groups(FaceCNNClassifier(), pd.Series([1, 1]), "g")


@pytest.mark.parametrize(
    "params, phrase",
    [({"fairness": "gap_penalty"}, "fairness='gap_penalty'"), ({"group_sampling": "balanced"},
     "group_sampling='balanced'"), ({"scoring": "worst_group_accuracy"}, "scoring='worst_group_accuracy'")],
)
def test_what_needs_the_groups_is_named(params, phrase):
    clf = FaceCNNClassifier(**params)
    assert needs_groups(clf) == phrase
    with pytest.raises(ValueError, match=f"{phrase} needs the group of every training sample"):
        fit_groups(clf, None, "sensitive_features")
    assert needs_groups(FaceCNNClassifier()) is None and fit_groups(FaceCNNClassifier(), None, "x") is None


def test_group_dro_weights_are_named_and_indexed_per_cell():
    classes = np.array(["no", "yes"])
    assert dro_names(["-1", "1"], classes, "sensitive_x_class") == ["-1, no", "-1, yes", "1, no", "1, yes"]
    assert dro_names(["-1", "1"], classes, "sensitive") == ["-1", "1"]
    q = weights_series(np.array([-1, 1]), [0.1, 0.2, 0.3, 0.4], classes, "sensitive_x_class")
    assert q.loc[(1, "no")] == 0.3 and q.index.names == ["group", "class"] and q.name == "group_weight"
    # an estimator's group_weights_ reads the last epoch of its history
    clf = FaceCNNClassifier(fairness="group_dro", dro_groups="sensitive")
    clf.sensitive_groups_, clf.classes_ = np.array([-1, 1]), classes
    clf.history_ = {"group_weight[-1]": [0.5, 0.7], "group_weight[1]": [0.5, 0.3]}
    assert group_weights(clf).to_dict() == {-1: 0.7, 1: 0.3}
    clf.history_ = {}
    with pytest.raises(AttributeError, match="has not trained with fairness='group_dro'"):
        group_weights(clf)


def test_fit_groups_dataclass_is_frozen():
    groups = FitGroups(np.array([0, 1]), np.array([0, 1]))
    with pytest.raises(AttributeError):
        groups.codes = np.array([1, 0])
