"""The one stratified hold-out split (validation splits, the demo's train/valid/test).

Every split that skface makes goes through :func:`stratified_split`, which
stratifies on the finest labelling that has enough samples of each value
(class x group, then class) and falls back to a plain random split only
when none has.
"""

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split


def strata_of(*columns):
    """One integer code per distinct combination of ``columns`` (class x group, say)."""
    return pd.MultiIndex.from_arrays([np.asarray(c) for c in columns]).factorize()[0]


def stratified_split(indices, test_size, *, strata=(), random_state=None):
    """Split ``indices`` into ``(rest, held_out)``, both sorted.

    Parameters
    ----------
    indices : int or array of int
        The samples to split (an int ``n`` means ``range(n)``).
    test_size : float or int
        Share (or number) of ``indices`` held out, as in
        :func:`~sklearn.model_selection.train_test_split`.
    strata : sequence of array-like
        Labellings of the samples (aligned with ``indices``) to stratify on,
        finest first; the first one with at least two samples of every value
        (and room for each value in both parts) is used.
    random_state : int, RandomState or None

    Returns
    -------
    rest, held_out : ndarray of int
    """
    indices = np.arange(indices) if np.isscalar(indices) else np.asarray(indices)
    for stratify in (*strata, None):
        try:
            rest, held_out = train_test_split(
                indices, test_size=test_size, stratify=stratify, random_state=random_state
            )
        except ValueError:
            # too few samples of some stratum to stratify on it
            if stratify is None:
                raise
            continue
        return np.sort(rest), np.sort(held_out)


def class_group_split(indices, test_size, y, groups=None, *, random_state=None):
    """:func:`stratified_split` of ``indices`` on class x group where every
    cell allows it, else on the class: the hold-out every part of skface makes.

    ``y`` and ``groups`` are the labels and groups of all the samples;
    ``indices`` (an int ``n`` means ``range(n)``) picks those to split.
    """
    indices = np.arange(indices) if np.isscalar(indices) else np.asarray(indices)
    y = np.asarray(y)
    # the cells are coded on all the samples, then picked: the same codes for
    # every subset, so that splitting a part again is reproducible
    strata = (y[indices],) if groups is None else (strata_of(y, groups)[indices], y[indices])
    return stratified_split(indices, test_size, strata=strata, random_state=random_state)
