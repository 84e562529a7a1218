"""Per-group audit with fairlearn's MetricFrame, and its plot."""

import functools

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, roc_auc_score

from .._validation import check_fairness_inputs, check_labels, check_same_length, show_items
from ..metrics._fair_metric import (
    fair_metric_bootstrap,
    fair_metric_from_accuracies,
    resampled_sums,
    worst_group_accuracy,
)

#: equal-width bins of the predicted probability behind the calibration error
CALIBRATION_BINS = 10
#: the bootstrap interval fairness_report gives: a central 95 % one
CI_QUANTILES = (0.025, 0.975)


def _auc(y_true, y_pred, *, y_score, pos_label):
    """ROC AUC of the probabilities; NaN for a group with one class only."""
    positive = np.asarray(y_true) == pos_label
    if positive.all() or not positive.any():
        return np.nan
    return roc_auc_score(positive, y_score)


def _calibration_error(y_true, y_pred, *, y_score, pos_label):
    """Expected calibration error of the probabilities of ``pos_label``: the
    sample-weighted mean, over :data:`CALIBRATION_BINS` equal-width bins of the
    probability, of |mean probability - share of positives| in the bin."""
    positive = (np.asarray(y_true) == pos_label).astype(float)
    score = np.asarray(y_score, dtype=float)
    bins = np.minimum((score * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    total = np.bincount(bins, minlength=CALIBRATION_BINS)
    gap = np.abs(np.bincount(bins, score, CALIBRATION_BINS) - np.bincount(bins, positive, CALIBRATION_BINS))
    return float(gap.sum() / max(total.sum(), 1))


#: the per-group rates that get bootstrap intervals
RATES = ("accuracy", "selection_rate", "true_positive_rate", "false_positive_rate")


def _rate_intervals(y_true, y_pred, groups, pos_label, n_boot, random_state, y_score=None):
    """95 % bootstrap intervals of each group's rates (and, with ``y_score``, its
    calibration error), one (low, high) pair per cell.

    Vectorised over the resamples from confusion counts (one matrix product
    per block of resamples): fairlearn's own bootstrap
    (``MetricFrame(n_boot=...)``) rebuilds the frame per resample, about 0.2 s
    each for 2,000 samples on 2 cores, 1000 times slower. The calibration
    error comes from per-bin sums of the same resamples (the scores summed in
    float32)."""
    positive, predicted = np.asarray(y_true) == pos_label, np.asarray(y_pred) == pos_label
    codes, uniques = pd.factorize(groups, sort=True)
    n_groups = len(uniques)
    member = codes[:, None] == np.arange(n_groups)  # (samples, groups)
    cells = [positive & predicted, ~positive & predicted, positive & ~predicted, ~positive & ~predicted]
    # per resample and group: true and false positives and negatives
    columns = [c[:, None] & member for c in cells]
    if y_score is not None:
        # per resample, group and probability bin: size, summed probability, positives
        score = np.asarray(y_score, dtype=float)
        bins = np.minimum((score * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
        in_bin = (member[:, :, None] & (bins[:, None, None] == np.arange(CALIBRATION_BINS))).reshape(len(bins), -1)
        columns += [in_bin * score[:, None], in_bin * positive[:, None]]
    sums = resampled_sums(np.concatenate(columns, axis=1), n_boot, random_state)
    tp, fp, fn, tn = sums[:, : 4 * n_groups].reshape(n_boot, 4, n_groups).transpose(1, 2, 0)  # (groups, resamples)
    if y_score is not None:
        scored, positives = sums[:, 4 * n_groups:].reshape(n_boot, 2, n_groups, CALIBRATION_BINS).transpose(1, 2, 0, 3)
        calibration = np.abs(scored - positives).sum(-1)  # (groups, resamples), divided by the size below
    rows = {}
    for code, group in enumerate(uniques):
        size = tp[code] + fp[code] + fn[code] + tn[code]
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = {"accuracy": (tp[code] + tn[code]) / size, "selection_rate": (tp[code] + fp[code]) / size,
                     "true_positive_rate": tp[code] / (tp[code] + fn[code]),
                     "false_positive_rate": fp[code] / (fp[code] + tn[code])}
            if y_score is not None:
                rates["calibration_error"] = calibration[code] / size
        rows[group] = {
            name: tuple(float(v) for v in np.nanpercentile(values, np.multiply(CI_QUANTILES, 100)))
            if np.isfinite(values).any() else (np.nan, np.nan)
            for name, values in rates.items()
        }
    names = list(RATES) + ([] if y_score is None else ["calibration_error"])
    frame = pd.DataFrame.from_dict(rows, orient="index")[names]
    frame.index.name = groups.name
    return frame


def fairness_report(y_true, y_pred, *, sensitive_features, y_proba=None, pos_label=None, n_boot=None,
                    random_state=None):
    """Audit a classifier per group with fairlearn's ``MetricFrame``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels, any encoding.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    sensitive_features : array-like of shape (n_samples,) or one-column DataFrame
        The group of every sample; at least two groups.
    y_proba : array-like of shape (n_samples,) or (n_samples, 2), default=None
        Probability of the positive class (or ``predict_proba`` output, whose
        second column is used); adds the ``"auc"`` column.
    pos_label : scalar, default=None
        The positive class; by default the larger of the labels (1 for 0/1
        and -1/1 labels).
    n_boot : int or None, default=None
        Bootstrap resamples of the samples behind 95 % intervals (the 2.5th
        and 97.5th percentiles): ``frame.by_group_interval`` and
        ``frame.fair_metric_ci``. None: no intervals.
    random_state : int or None, default=None
        Seeds the bootstrap.

    Returns
    -------
    fairlearn.metrics.MetricFrame
        Columns ``accuracy``, ``selection_rate``, ``true_positive_rate``,
        ``false_positive_rate``, ``count`` (and with ``y_proba``: ``auc`` and
        ``calibration_error``, the expected calibration error over 10
        equal-width bins of the probability), rows per group in
        ``frame.by_group`` and overall in ``frame.overall``; every fairlearn
        method (``difference()``, ``ratio()``, ``group_min()``...) works. The
        frame also carries:

        - ``frame.fair_metric``: the Fair_Metric (float) computed from
          ``frame.by_group["accuracy"]``, the same value as
          :func:`skface.metrics.fair_metric` (for any other MetricFrame with
          an accuracy column, use
          ``skface.metrics.fair_metric_from_accuracies(frame.by_group["accuracy"])``);
        - ``frame.fair_metric_ci``: its 95 % bootstrap interval (with ``n_boot``);
        - ``frame.by_group_interval`` (with ``n_boot``): a DataFrame of
          ``(low, high)`` pairs, one per group and rate (accuracy, selection
          rate, true and false positive rates, and with ``y_proba`` the
          calibration error), from resamples of all the samples (a group's
          size varies with them);
        - ``frame.worst_group_accuracy``: the lowest accuracy over the cells
          group x true class (:func:`skface.metrics.worst_group_accuracy`),
          and ``frame.worst_group``, that cell as ``(group, label)``;
        - ``frame.equalized_odds_difference``: the larger of the between-group
          differences of the true and the false positive rate (fairlearn's
          definition);
        - ``frame.demographic_parity_difference``: the between-group
          difference of the selection rate.

    Examples
    --------
    >>> from skface.fairness import fairness_report
    >>> frame = fairness_report([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=[-1, -1, 1, 1])
    >>> frame.by_group["accuracy"].tolist()
    [1.0, 0.5]
    >>> frame.fair_metric
    -0.25
    """
    y_true, y_pred, groups, _ = check_fairness_inputs(y_true, y_pred, sensitive_features)
    labels = np.unique(np.concatenate([y_true, y_pred]))
    if labels.size > 2:
        raise ValueError(
            f"fairness_report needs binary labels; y_true and y_pred hold "
            f"{show_items(labels)}."
        )
    if pos_label is None:
        pos_label = labels[-1]
    elif pos_label not in labels:
        raise ValueError(
            f"pos_label={pos_label!r} is not one of the labels {show_items(labels)}."
        )
    metrics = {
        "accuracy": accuracy_score,
        "selection_rate": functools.partial(selection_rate, pos_label=pos_label),
        "true_positive_rate": functools.partial(true_positive_rate, pos_label=pos_label),
        "false_positive_rate": functools.partial(false_positive_rate, pos_label=pos_label),
        "count": count,
    }
    sample_params = None
    if y_proba is not None:
        y_proba = np.asarray(y_proba, dtype=float)
        if y_proba.ndim == 2 and y_proba.shape[1] == 2:
            y_proba = y_proba[:, 1]
        y_proba = check_labels(y_proba, "y_proba")
        check_same_length(y_proba=len(y_proba), y_true=len(y_true))
        metrics["auc"] = functools.partial(_auc, pos_label=pos_label)
        metrics["calibration_error"] = functools.partial(_calibration_error, pos_label=pos_label)
        sample_params = {"auc": {"y_score": y_proba}, "calibration_error": {"y_score": y_proba}}
    if n_boot is not None and (not isinstance(n_boot, int) or isinstance(n_boot, bool) or n_boot < 1):
        raise ValueError(f"n_boot={n_boot!r} is not accepted; accepted: None or an int >= 1.")
    frame = MetricFrame(
        metrics=metrics,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=groups,
        sample_params=sample_params,
    )
    frame.fair_metric = fair_metric_from_accuracies(frame.by_group["accuracy"])
    frame.fair_metric_ci = frame.by_group_interval = None
    if n_boot is not None:
        frame.by_group_interval = _rate_intervals(y_true, y_pred, groups, pos_label, n_boot, random_state,
                                                  y_score=y_proba)
        replicates = fair_metric_bootstrap(y_true, y_pred, sensitive_features=groups, n_resamples=n_boot,
                                           random_state=random_state)
        frame.fair_metric_ci = tuple(float(v) for v in np.nanpercentile(replicates, np.multiply(CI_QUANTILES, 100)))
    frame.worst_group_accuracy = worst_group_accuracy(y_true, y_pred, sensitive_features=groups)
    cells = pd.DataFrame({"group": groups.to_numpy(), "label": y_true, "correct": y_true == y_pred})
    by_cell = cells.groupby(["group", "label"])["correct"].mean()
    frame.worst_group = tuple(v.item() if isinstance(v, np.generic) else v for v in by_cell.idxmin())
    differences = frame.difference()
    frame.equalized_odds_difference = float(
        max(differences["true_positive_rate"], differences["false_positive_rate"]))
    frame.demographic_parity_difference = float(differences["selection_rate"])
    return frame


def plot_fairness(frame):
    """Grouped bar chart of a per-group MetricFrame.

    One cluster of bars per metric (``count`` is shown in the legend
    instead, its scale differs), one bar per group; the title shows
    Fair_Metric when the frame has it (see :func:`fairness_report`).

    Parameters
    ----------
    frame : fairlearn.metrics.MetricFrame
        Typically from :func:`fairness_report`; one sensitive feature.

    Returns
    -------
    matplotlib.figure.Figure
        A figure not attached to pyplot; save it with
        ``fig.savefig("fairness.png")`` or show it in a notebook.

    Examples
    --------
    >>> from skface.fairness import fairness_report, plot_fairness
    >>> frame = fairness_report([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=[-1, -1, 1, 1])
    >>> fig = plot_fairness(frame)
    >>> [label.get_text() for label in fig.axes[0].get_xticklabels()]
    ['accuracy', 'selection rate', 'true positive rate', 'false positive rate']
    """
    from matplotlib.figure import Figure

    if not isinstance(frame, MetricFrame):
        raise TypeError(
            "frame must be a fairlearn MetricFrame, e.g. from "
            f"skface.fairness.fairness_report(...); got {type(frame).__name__}."
        )
    by_group = frame.by_group
    if by_group.ndim == 1:
        by_group = by_group.to_frame()
    counts = by_group["count"] if "count" in by_group.columns else None
    values = by_group.drop(columns=["count"], errors="ignore").astype(float)
    metrics = list(values.columns)
    n_groups = len(values.index)
    width = 0.8 / n_groups
    positions = np.arange(len(metrics))

    fig = Figure(figsize=(max(5.0, 1.6 * len(metrics) + 1.5), 4.0), layout="constrained")
    ax = fig.add_subplot()
    for i, (group, row) in enumerate(values.iterrows()):
        label = f"{by_group.index.name or 'group'} = {group}"
        if counts is not None:
            label += f" (n={int(counts.iloc[counts.index.get_loc(group)])})"
        offset = (i - (n_groups - 1) / 2) * width
        bars = ax.bar(positions + offset, row.to_numpy(), width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.set_xticks(positions, [name.replace("_", " ") for name in metrics])
    ax.set_ylim(0, 1.22)  # room for the legend above bars that reach 1
    ax.set_ylabel("value per group")
    ax.legend(loc="upper center", ncols=min(n_groups, 4), fontsize=8, frameon=False)
    title = "Metrics per group"
    if getattr(frame, "fair_metric", None) is not None:
        title += f"; Fair_Metric = {frame.fair_metric:.3f}"
    ax.set_title(title)
    return fig


def plot_frontier(frontier, *, fairness="fair_metric"):
    """The accuracy / fairness trade-off of a threshold search, as a line of points.

    Parameters
    ----------
    frontier : pandas.DataFrame
        ``FairThresholdClassifier.frontier_``: one row per threshold pair,
        with ``accuracy``, the fairness measures and ``chosen``.
    fairness : str, default="fair_metric"
        The column on the vertical axis (any measure of the frame, e.g.
        ``"equal_opportunity_difference"``).

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; the chosen pair is marked.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skface.fairness import FairThresholdClassifier, plot_frontier
    >>> rng = np.random.RandomState(0)
    >>> gender = np.repeat([-1, 1], 200)
    >>> X = rng.normal(size=(400, 2))
    >>> y = (X[:, 0] + np.where(gender == 1, 0.5, 0) + rng.normal(0, 0.5, 400) > 0).astype(int)
    >>> clf = FairThresholdClassifier(LogisticRegression(), random_state=0).fit(X, y, sensitive_features=gender)
    >>> fig = plot_frontier(clf.frontier_)
    >>> fig.axes[0].get_xlabel()
    'accuracy (tuning data)'
    """
    from matplotlib.figure import Figure

    if frontier is None or not hasattr(frontier, "columns") or "accuracy" not in frontier.columns:
        raise TypeError(
            "frontier must be a FairThresholdClassifier's frontier_ (a DataFrame with an accuracy column); got "
            f"{type(frontier).__name__}. frontier_ is None with more than two groups or inferred groups."
        )
    if fairness not in frontier.columns:
        raise ValueError(f"fairness={fairness!r} is not a column of the frontier; its columns are "
                         f"{show_items(list(frontier.columns))}.")
    fig = Figure(figsize=(5.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(frontier["accuracy"], frontier[fairness], marker="o", markersize=3, label="threshold pairs")
    chosen = frontier[frontier["chosen"]]
    ax.scatter(chosen["accuracy"], chosen[fairness], s=80, facecolors="none", edgecolors="C3", linewidths=1.5,
               label="chosen", zorder=3)
    ax.set(xlabel="accuracy (tuning data)", ylabel=f"{fairness.replace('_', ' ')} (tuning data)",
           title="Accuracy / fairness trade-off of the thresholds")
    ax.legend(frameon=False, fontsize=8)
    return fig
