"""The one stratified hold-out split."""

import numpy as np
import pytest

from skface._split import strata_of, stratified_split


def test_stratifies_on_the_finest_labelling_that_fits():
    y = np.array([0, 1] * 50)
    group = np.repeat([0, 1], 50)
    rest, held = stratified_split(100, 0.2, strata=(strata_of(y, group), y), random_state=0)
    assert len(held) == 20 and len(rest) == 80
    assert np.array_equal(np.sort(np.concatenate([rest, held])), np.arange(100))
    cells = strata_of(y, group)
    # 25 samples in each class x group cell: 5 of each held out
    assert np.bincount(cells[held]).tolist() == [5, 5, 5, 5]


def test_falls_back_when_a_stratum_is_too_small():
    y = np.array([0] * 9 + [1])  # one sample of class 1: cannot stratify on y
    rest, held = stratified_split(np.arange(10), 2, strata=(y,), random_state=0)
    assert len(held) == 2 and list(rest) == sorted(rest)


def test_same_seed_same_split_and_errors_pass_through():
    a = stratified_split(50, 0.3, random_state=3)
    b = stratified_split(50, 0.3, random_state=3)
    assert all(np.array_equal(x, z) for x, z in zip(a, b))
    with pytest.raises(ValueError):
        stratified_split(1, 0.5)


def test_class_group_split_codes_cells_on_all_samples_then_falls_back_to_the_class():
    from skface._split import class_group_split

    rng = np.random.default_rng(1)
    y, group = rng.integers(0, 2, 200), rng.choice(["a", "b"], 200)
    part = np.arange(50, 200)
    expected = stratified_split(part, 0.3, strata=(strata_of(y, group)[part], y[part]), random_state=4)
    got = class_group_split(part, 0.3, y, group, random_state=4)
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)
    # a cell of one sample cannot be stratified on: the class is, still
    lonely = np.where(np.arange(200) == 7, "c", group)
    rest, held = class_group_split(200, 0.5, y, lonely, random_state=0)
    assert abs(y[held].mean() - y[rest].mean()) < 0.02
    rest, held = class_group_split(10, 0.2, y, random_state=0)  # no groups: on the class
    assert len(held) == 2 and len(rest) == 8
