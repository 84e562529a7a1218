"""Fair_Metric, per-group accuracy and scorers.

This package owns how fairness is scored (the metric and its scikit-learn
scorers); how it is mitigated lives in :mod:`skface.fairness`.

Fair_Metric is the mean of the per-group accuracies minus twice their spread,
``mean(acc) - 2 * (max(acc) - min(acc))``; with two groups
``mean(acc_a, acc_b) - 2 * abs(acc_a - acc_b)``. It rewards accuracy and
penalises the gap between groups.

- :func:`fair_metric` -- Fair_Metric from labels and groups;
- :func:`fair_metric_from_accuracies` -- the formula from per-group accuracies;
- :func:`fair_metric_bootstrap` -- Fair_Metric on bootstrap resamples, for
  intervals and paired comparisons of models;
- :func:`group_accuracy` -- accuracy per group (as fairlearn's ``MetricFrame``);
- :func:`worst_group_accuracy` -- the lowest accuracy over group x class
  cells, the measure of the Group DRO and DFR papers;
- :func:`make_fair_scorer` -- a scikit-learn scorer, groups from metadata
  routing or from a DataFrame column;
- :obj:`fair_scorer` -- ``make_fair_scorer()``: requests ``sensitive_features``
  through metadata routing;
- :func:`make_worst_group_scorer` -- worst-group accuracy as a scorer, the
  groups routed or from a column.

This module does not import TensorFlow.
"""

from ._fair_metric import (
    fair_metric,
    fair_metric_bootstrap,
    fair_metric_from_accuracies,
    group_accuracy,
    worst_group_accuracy,
)
from ._scorer import fair_scorer, make_fair_scorer, make_worst_group_scorer

__all__ = [
    "fair_metric",
    "fair_metric_bootstrap",
    "fair_metric_from_accuracies",
    "fair_scorer",
    "group_accuracy",
    "make_fair_scorer",
    "make_worst_group_scorer",
    "worst_group_accuracy",
]
