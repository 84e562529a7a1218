"""Mitigation and audit tools for unfairness between groups.

- :func:`group_sample_weight` -- per-sample weights by group (or group x
  class) for ``fit(..., sample_weight=...)``;
- :func:`balance_groups` -- under- or oversample rows to equal group sizes;
- :class:`FairThresholdClassifier` -- one decision threshold per group,
  chosen to maximise Fair_Metric;
- :class:`DeepFeatureReweighting` -- the network's last layer retrained on
  group-balanced held-out data (no groups needed to predict);
- :func:`fairness_report` -- a fairlearn ``MetricFrame`` audit with
  Fair_Metric;
- :func:`plot_fairness` -- the audit as a grouped bar chart;
- :func:`plot_frontier` -- the accuracy / fairness trade-off a threshold
  search saw (``FairThresholdClassifier.frontier_``).

This module does not import TensorFlow.
"""

from ._balance import balance_groups
from ._dfr import DeepFeatureReweighting
from ._report import fairness_report, plot_fairness, plot_frontier
from ._threshold import FairThresholdClassifier
from ._weights import group_sample_weight

__all__ = [
    "DeepFeatureReweighting",
    "FairThresholdClassifier",
    "balance_groups",
    "fairness_report",
    "group_sample_weight",
    "plot_fairness",
    "plot_frontier",
]
