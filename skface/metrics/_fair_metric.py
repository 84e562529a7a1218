"""Fair_Metric and per-group accuracy."""

from collections.abc import Mapping

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame
from sklearn.metrics import accuracy_score

from .._validation import check_fairness_inputs


def fair_metric_from_accuracies(accuracies):
    """Fair_Metric from per-group accuracies.

    ``mean(acc) - 2 * (max(acc) - min(acc))``. With two groups this is the
    reference formula ``mean(acc_a, acc_b) - 2 * abs(acc_a - acc_b)``.
    Higher is better; 1.0 means perfect and equal accuracy in every group.

    Parameters
    ----------
    accuracies : array-like, pandas.Series or mapping of group -> float
        One accuracy in ``[0, 1]`` per group, at least two groups, e.g.
        ``group_accuracy(...)`` or ``MetricFrame(...).by_group["accuracy"]``.

    Returns
    -------
    float
        The Fair_Metric value.

    Examples
    --------
    >>> from skface.metrics import fair_metric_from_accuracies
    >>> round(fair_metric_from_accuracies([0.9, 0.8]), 6)
    0.65
    >>> round(fair_metric_from_accuracies({"women": 0.9, "men": 0.9}), 6)
    0.9
    """
    if isinstance(accuracies, Mapping):
        values = list(accuracies.values())
    elif isinstance(accuracies, pd.DataFrame):
        raise TypeError(
            "accuracies must be one accuracy per group (a list, 1-D array, "
            "Series or mapping); got a DataFrame with columns "
            f"{list(accuracies.columns)}. Pick one column, e.g. "
            "frame.by_group['accuracy']."
        )
    else:
        values = accuracies
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"accuracies must be numbers in [0, 1], one per group; got {accuracies!r}."
        ) from None
    if values.ndim != 1 or values.size < 2:
        raise ValueError(
            "accuracies must hold one accuracy per group for at least two groups; "
            f"got {accuracies!r}."
        )
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        raise ValueError(
            f"accuracies must be numbers in [0, 1], one per group; got {accuracies!r}."
        )
    return float(values.mean() - 2.0 * (values.max() - values.min()))


def _group_accuracies(y_true, y_pred, groups, sample_weight):
    """Accuracy of each group, from already validated inputs.

    This is what ``MetricFrame(metrics=accuracy_score, ...).by_group``
    computes, without building a MetricFrame: scorers call it once per
    threshold and per fold, where the frame's pandas overhead (tens of ms)
    dominates. ``tests/test_metrics.py`` checks the two agree.
    """
    codes, uniques = pd.factorize(groups, sort=True)
    accuracies = np.empty(len(uniques))
    for index in range(len(uniques)):
        mask = codes == index
        weight = None if sample_weight is None else sample_weight[mask]
        if weight is not None and weight.sum() == 0:
            raise ValueError(
                f"sample_weight is zero for every sample of group {uniques[index]!r}; "
                "that group's accuracy is undefined."
            )
        accuracies[index] = accuracy_score(y_true[mask], y_pred[mask], sample_weight=weight)
    return uniques, accuracies


def fair_metric(y_true, y_pred, *, sensitive_features, sample_weight=None):
    """Fair_Metric: mean per-group accuracy minus twice their spread.

    ``mean(acc_g) - 2 * (max(acc_g) - min(acc_g))`` over the groups ``g`` of
    ``sensitive_features``; with two groups ``mean(acc_a, acc_b) - 2 *
    abs(acc_a - acc_b)``. Higher is better. Per-group accuracies are the
    same as :func:`group_accuracy` (and fairlearn's ``MetricFrame``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, any encoding (0/1, -1/1, strings).
    y_pred : array-like of shape (n_samples,)
        Predicted labels, same encoding.
    sensitive_features : array-like of shape (n_samples,) or one-column DataFrame
        The group of every sample (e.g. gender coded -1/1); at least two groups,
        no missing values.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; the per-group accuracies are then weighted.

    Returns
    -------
    float
        The Fair_Metric value, at most 1.0.

    See Also
    --------
    fair_metric_from_accuracies : the same formula from per-group accuracies.
    make_fair_scorer : Fair_Metric as a scikit-learn scorer.

    Examples
    --------
    >>> from skface.metrics import fair_metric
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 0, 0, 1, 0, 0, 0]
    >>> gender = [-1, -1, -1, -1, 1, 1, 1, 1]
    >>> fair_metric(y_true, y_pred, sensitive_features=gender)
    0.375
    """
    y_true, y_pred, groups, sample_weight = check_fairness_inputs(
        y_true, y_pred, sensitive_features, sample_weight
    )
    _, accuracies = _group_accuracies(y_true, y_pred, groups, sample_weight)
    return fair_metric_from_accuracies(accuracies)


def group_accuracy(y_true, y_pred, *, sensitive_features, sample_weight=None):
    """Accuracy of each group.

    The same values and labels as
    ``fairlearn.metrics.MetricFrame(metrics=accuracy_score, ...).by_group``,
    which computes them.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    sensitive_features : array-like of shape (n_samples,) or one-column DataFrame
        The group of every sample; at least two groups, no missing values.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.

    Returns
    -------
    pandas.Series
        Accuracy indexed by group (sorted). The index is named after the
        Series or column given as ``sensitive_features``, else
        ``"sensitive_feature_0"`` as in fairlearn.

    Examples
    --------
    >>> from skface.metrics import group_accuracy
    >>> group_accuracy([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=["w", "w", "m", "m"])
    sensitive_feature_0
    m    0.5
    w    1.0
    Name: accuracy_score, dtype: float64
    """
    y_true, y_pred, groups, sample_weight = check_fairness_inputs(
        y_true, y_pred, sensitive_features, sample_weight
    )
    sample_params = None if sample_weight is None else {"sample_weight": sample_weight}
    frame = MetricFrame(
        metrics=accuracy_score,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=groups,
        sample_params=sample_params,
    )
    return frame.by_group
