"""The one place where fairness inputs are checked.

``fair_metric``, ``group_accuracy``, the scorers, the report and the threshold
classifier all call :func:`check_fairness_inputs`, so every entry point
rejects the same bad input with the same message.
"""

import numpy as np
import pandas as pd
from sklearn.utils.validation import _check_sample_weight, column_or_1d

# Shown whenever Fair_Metric is asked for without groups: it says how to
# supply them, because with scorers the cause is usually the routing set-up.
MISSING_GROUPS_MESSAGE = (
    "Fair_Metric needs the group of every sample, but sensitive_features was "
    "not given. Supply the groups in one of two ways: "
    "(1) metadata routing: enable it with "
    "sklearn.set_config(enable_metadata_routing=True) (or inside "
    "sklearn.config_context(enable_metadata_routing=True)), score with "
    "skface.metrics.fair_scorer and pass sensitive_features=groups to "
    "fit (GridSearchCV, TunedThresholdClassifierCV) or in params= "
    "(cross_validate); "
    "(2) a DataFrame column: make X a pandas DataFrame with a column of groups "
    "and score with skface.metrics.make_fair_scorer(sensitive_column='gender'). "
    "TunedThresholdClassifierCV calls the metric without X, so it needs (1)."
)


def _short(values, limit=5):
    """Format at most ``limit`` values for an error message."""
    values = list(values)
    text = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in values[:limit])
    if len(values) > limit:
        text += f", ... ({len(values)} in all)"
    return f"[{text}]"


def check_groups(sensitive_features, *, name="sensitive_features"):
    """Return the groups as a named 1-D pandas Series with a fresh RangeIndex.

    Accepts a list, a 1-D array, an ``(n, 1)`` array, a Series or a
    one-column DataFrame. The Series keeps the caller's name (``None``
    otherwise) so that fairlearn labels its output the same way.
    """
    if sensitive_features is None:
        raise ValueError(MISSING_GROUPS_MESSAGE)
    if isinstance(sensitive_features, pd.DataFrame):
        if sensitive_features.shape[1] != 1:
            raise ValueError(
                f"{name} must be one column of groups; got a DataFrame with "
                f"{sensitive_features.shape[1]} columns "
                f"{_short(sensitive_features.columns)}. Accepted: a list, a 1-D "
                "array, a Series or a one-column DataFrame (combine several "
                "attributes into one column first, e.g. with "
                "df['a'].astype(str) + '_' + df['b'].astype(str))."
            )
        sensitive_features = sensitive_features.iloc[:, 0]
    if isinstance(sensitive_features, pd.Series):
        series = sensitive_features.reset_index(drop=True)
    else:
        if isinstance(sensitive_features, (str, bytes)) or np.ndim(sensitive_features) == 0:
            raise TypeError(
                f"{name} must be array-like with one group per sample; got "
                f"{type(sensitive_features).__name__} {sensitive_features!r}. "
                "Accepted: a list, a 1-D array, a Series or a one-column DataFrame."
            )
        array = np.asarray(sensitive_features)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1:
            raise ValueError(
                f"{name} must be one column of groups; got an array of shape "
                f"{array.shape}. Accepted: a list, a 1-D array, an (n, 1) array, "
                "a Series or a one-column DataFrame."
            )
        series = pd.Series(array)
    missing = np.flatnonzero(series.isna().to_numpy())
    if missing.size:
        raise ValueError(
            f"{name} contains missing values (NaN/None) at positions "
            f"{_short(missing)}; every sample needs a group. Drop those samples "
            "or give them a group of their own, e.g. 'unknown'."
        )
    return series


def check_labels(y, name):
    """Return ``y`` as a 1-D array without missing values."""
    if y is None:
        raise ValueError(f"{name} is None; expected one label per sample.")
    try:
        array = column_or_1d(y, dtype=None, warn=False)
    except ValueError:
        raise ValueError(
            f"{name} must be one column of labels; got shape {np.shape(y)}. "
            "Accepted: a list, a 1-D array, an (n, 1) array or a Series."
        ) from None
    missing = np.flatnonzero(pd.isna(array))
    if missing.size:
        raise ValueError(
            f"{name} contains missing values (NaN/None) at positions "
            f"{_short(missing)}; every sample needs a label such as 0/1 or -1/1."
        )
    return array


def check_fairness_inputs(
    y_true, y_pred, sensitive_features, sample_weight=None, *, min_groups=2
):
    """Validate the inputs of a per-group metric.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Labels; any encoding, no missing values.
    sensitive_features : array-like of shape (n_samples,) or one-column DataFrame
        The group of every sample.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    min_groups : int, default=2
        Fewest distinct groups accepted.

    Returns
    -------
    y_true, y_pred : ndarray of shape (n_samples,)
    groups : pandas.Series of shape (n_samples,)
        The groups, with the caller's name and a RangeIndex.
    sample_weight : ndarray of shape (n_samples,) or None
    """
    groups = check_groups(sensitive_features)
    y_true = check_labels(y_true, "y_true")
    y_pred = check_labels(y_pred, "y_pred")
    lengths = {
        "y_true": len(y_true),
        "y_pred": len(y_pred),
        "sensitive_features": len(groups),
    }
    if sample_weight is not None:
        lengths["sample_weight"] = len(np.atleast_1d(np.asarray(sample_weight)))
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{key}: {value}" for key, value in lengths.items())
        raise ValueError(
            f"{', '.join(lengths)} must have the same length (one entry per "
            f"sample); got {shown}."
        )
    if len(y_true) == 0:
        raise ValueError("y_true is empty; expected at least one sample per group.")
    unique = pd.unique(groups)
    if len(unique) < min_groups:
        raise ValueError(
            f"sensitive_features has only {len(unique)} group {_short(unique)}; "
            f"Fair_Metric compares the accuracies of at least {min_groups} groups. "
            "Check that sensitive_features is the intended column and that every "
            "group is present in this (sub)sample."
        )
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, y_true, ensure_non_negative=True
        )
    return y_true, y_pred, groups, sample_weight
