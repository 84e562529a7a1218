"""Fair_Metric and per-group accuracy."""

from collections.abc import Mapping

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame
from sklearn.metrics import accuracy_score

from .._split import strata_of
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


def worst_group_accuracy(y_true, y_pred, *, sensitive_features, sample_weight=None):
    """The lowest accuracy over the cells group x true class.

    The measure of the Group DRO and Deep Feature Reweighting papers
    ("worst-group accuracy"): with gender and a binary class, the smallest
    of the four accuracies (women with class 0, women with class 1, men with
    class 0, men with class 1). Within a cell every sample has the same true
    class, so a cell's accuracy is the rate at which that class is
    recognised in that group. Unlike Fair_Metric it needs only one group.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, any encoding.
    y_pred : array-like of shape (n_samples,)
        Predicted labels, same encoding.
    sensitive_features : array-like of shape (n_samples,) or one-column DataFrame
        The group of every sample; no missing values.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights within each cell.

    Returns
    -------
    float
        The lowest cell accuracy, in ``[0, 1]``.

    See Also
    --------
    make_worst_group_scorer : this metric as a scikit-learn scorer.

    Examples
    --------
    >>> from skface.metrics import worst_group_accuracy
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 0, 0, 1, 0, 0, 0]
    >>> gender = [-1, -1, -1, -1, 1, 1, 1, 1]
    >>> worst_group_accuracy(y_true, y_pred, sensitive_features=gender)
    0.5
    """
    y_true, y_pred, groups, sample_weight = check_fairness_inputs(
        y_true, y_pred, sensitive_features, sample_weight, min_groups=1
    )
    _, accuracies = _group_accuracies(y_true, y_pred, strata_of(groups, y_true), sample_weight)
    return float(accuracies.min())


def fair_metric_bootstrap(y_true, y_pred, *, sensitive_features, n_resamples=1000, random_state=None):
    """Fair_Metric on bootstrap resamples of the samples, for intervals and paired comparisons.

    Each resample draws ``n_samples`` samples with replacement. Several
    predictions (rows of a 2-D ``y_pred``: one per model) are scored on the
    same resamples, so the difference of two rows' replicates is a paired
    bootstrap of the difference of their Fair_Metric. A resample that misses
    a group has no Fair_Metric: its value is NaN (use ``numpy.nanpercentile``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,) or (n_models, n_samples)
        Predicted labels, in the encoding of ``y_true``.
    sensitive_features : array-like of shape (n_samples,)
        The group of every sample; at least two groups.
    n_resamples : int, default=1000
    random_state : int, numpy Generator or None, default=None
        Seeds the draws (``numpy.random.default_rng(random_state)``); the
        same value gives the same resamples.

    Returns
    -------
    ndarray of shape (n_resamples,) or (n_models, n_resamples)
        Fair_Metric of every resample (for every model).

    Examples
    --------
    >>> import numpy as np
    >>> from skface.metrics import fair_metric_bootstrap
    >>> y = np.array([1, 0] * 50)
    >>> gender = np.repeat([-1, 1], 50)
    >>> replicates = fair_metric_bootstrap(y, y, sensitive_features=gender, n_resamples=200, random_state=0)
    >>> float(np.percentile(replicates, 2.5)), float(np.percentile(replicates, 97.5))
    (1.0, 1.0)
    """
    y_pred = np.asarray(y_pred)
    rows = y_pred.reshape(-1, y_pred.shape[-1]) if y_pred.ndim > 1 else y_pred[None]
    for row in rows:
        y_checked, _, groups, _ = check_fairness_inputs(y_true, row, sensitive_features)
    if not isinstance(n_resamples, int) or isinstance(n_resamples, bool) or n_resamples < 1:
        raise ValueError(f"n_resamples={n_resamples!r} is not accepted; accepted: an int >= 1.")
    correct = rows == np.asarray(y_checked)  # (models, samples)
    codes, uniques = pd.factorize(np.asarray(groups))
    member = codes[:, None] == np.arange(len(uniques))  # (samples, groups)
    # per resample: each group's size, and each model's correct answers in it
    hit = np.moveaxis(correct[:, :, None] & member, 0, 1)  # (samples, models, groups)
    indicators = np.concatenate([member, hit.reshape(len(codes), -1)], axis=1)
    sums = resampled_sums(indicators, n_resamples, random_state)
    size = sums[:, : len(uniques)]  # (resamples, groups)
    hits = sums[:, len(uniques):].reshape(n_resamples, len(rows), len(uniques))
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracies = (hits / size[:, None, :]).transpose(2, 1, 0)  # (groups, models, resamples)
    replicates = accuracies.mean(0) - 2 * (accuracies.max(0) - accuracies.min(0))
    return replicates if y_pred.ndim > 1 else replicates[0]


def resampled_sums(indicators, n_resamples, random_state=None, *, chunk=128):
    """Column sums of ``indicators`` over bootstrap resamples of its rows.

    Each resample draws ``n_samples`` rows with replacement
    (``numpy.random.default_rng(random_state).integers``, drawn at once, so
    the resamples do not depend on ``chunk``); the sums are the number of
    times each row was drawn times the row, a matrix product. In float32
    that is exact for counts below 2**24, and it is about 20 times faster
    than indexing a (resamples, samples) boolean array per quantity.

    Returns
    -------
    ndarray of shape (n_resamples, n_columns), float64
    """
    indicators = np.asarray(indicators, dtype=np.float32).reshape(len(indicators), -1)
    n = len(indicators)
    draws = np.random.default_rng(random_state).integers(0, n, size=(n_resamples, n))
    sums = np.empty((n_resamples, indicators.shape[1]))
    for start in range(0, n_resamples, chunk):
        block = draws[start:start + chunk]
        offsets = np.arange(len(block))[:, None] * n
        counts = np.bincount((block + offsets).ravel(), minlength=len(block) * n).reshape(len(block), n)
        sums[start:start + len(block)] = counts.astype(np.float32) @ indicators
    return sums
