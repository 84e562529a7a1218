"""Per-sample weights from group membership."""

from collections.abc import Mapping
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.utils.class_weight import compute_sample_weight

from .._validation import check_groups, check_labels, check_same_length, show_items


def group_sample_weight(sensitive_features, weights="balanced", *, y=None):
    """Per-sample weights that re-weight groups during training.

    Pass the result as ``fit(X, y, sample_weight=...)``.

    Parameters
    ----------
    sensitive_features : array-like of shape (n_samples,) or one-column DataFrame
        The group of every sample, e.g. gender coded -1/1.
    weights : "balanced" or mapping of group -> float, default="balanced"
        - ``"balanced"``: every group gets the same total weight and the
          weights average 1 (``n_samples / (n_groups * n_samples_in_group)``,
          scikit-learn's ``compute_sample_weight("balanced", groups)``). With
          ``y``, every observed (group, class) cell gets the same total
          weight instead.
        - a mapping gives each group's weight as is, e.g. the reference's
          ``{-1: 1.0, 1: 0.1}`` (women 1.0, men 0.1). Every group of
          ``sensitive_features`` needs an entry and every entry must be a group
          present in ``sensitive_features``; weights are finite and >= 0.
    y : array-like of shape (n_samples,), default=None
        Class labels; only with ``weights="balanced"``, to balance group x
        class cells.

    Returns
    -------
    ndarray of shape (n_samples,)
        Float weights.

    Examples
    --------
    >>> from skface.fairness import group_sample_weight
    >>> group_sample_weight([-1, -1, -1, 1])
    array([0.66666667, 0.66666667, 0.66666667, 2.        ])
    >>> group_sample_weight([-1, -1, 1], {-1: 1.0, 1: 0.1})
    array([1. , 1. , 0.1])
    >>> group_sample_weight([-1, -1, -1, 1], y=[0, 0, 1, 1])
    array([0.66666667, 0.66666667, 1.33333333, 1.33333333])
    """
    groups = check_groups(sensitive_features)
    if isinstance(weights, str):
        if weights != "balanced":
            raise ValueError(
                f"weights must be 'balanced' or a mapping of group -> weight such "
                f"as {{-1: 1.0, 1: 0.1}}; got {weights!r}."
            )
        # integer codes: groups may be tuples (several attributes), which scikit-learn cannot take
        codes = pd.factorize(groups)[0]
        if y is None:
            cells = codes
        else:
            y = check_labels(y, "y")
            check_same_length(y=len(y), sensitive_features=len(groups))
            # one integer code per observed (group, class) cell
            cells = pd.MultiIndex.from_arrays([codes, y]).factorize()[0]
        return compute_sample_weight("balanced", cells)

    if not isinstance(weights, Mapping):
        raise TypeError(
            "weights must be 'balanced' or a mapping of group -> weight such as "
            f"{{-1: 1.0, 1: 0.1}}; got {type(weights).__name__} {weights!r}."
        )
    if y is not None:
        raise ValueError(
            "y is only used with weights='balanced' (to balance group x class "
            "cells); with a mapping the weights are given per group. Drop y."
        )
    for group, value in weights.items():
        if (
            not isinstance(value, Real)
            or isinstance(value, bool)
            or not np.isfinite(value)
            or value < 0
        ):
            raise ValueError(
                f"weights[{group!r}] must be a finite number >= 0; got {value!r}."
            )
    present = pd.unique(groups)
    present_set = set(present.tolist())
    groups_held = show_items(sorted(present_set, key=repr))
    missing = [group for group in present if group not in weights]
    if missing:
        raise ValueError(
            f"weights has no entry for the groups {show_items(missing)} of "
            f"sensitive_features; the mapping covers {show_items(weights)} and the groups "
            f"are {groups_held}. Give every group a weight."
        )
    unknown = [group for group in weights if group not in present_set]
    if unknown:
        raise ValueError(
            f"weights has entries for groups {show_items(unknown)} that are not in "
            f"sensitive_features; the groups are {groups_held}. "
            "Check the group coding (e.g. -1/1 vs 0/1 or 'F'/'M')."
        )
    return groups.map(weights).to_numpy(dtype=float)
