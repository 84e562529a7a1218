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
