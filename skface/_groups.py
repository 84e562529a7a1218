"""The sensitive groups of a fit: where they come from, how they are coded and named.

Group-aware training (``fairness``, ``group_sampling``, a group ``scoring``)
and the per-group history all start here: :func:`fit_groups` takes the
groups that ``skface._validation.check_fit_inputs`` read (from
``sensitive_features`` or from ``sensitive_column`` of a DataFrame X),
refuses what cannot be used, and codes them as integers in the order of
:attr:`FitGroups.values` (sorted, as ``numpy.unique`` sorts). The
TensorFlow side (the objectives and the per-group metrics) is in
``_group_objective``; this module imports no TensorFlow.

Names. A sensitive group is named by ``str(value)`` (``"-1"``), a
group x class cell by ``"value, label"`` (``"-1, 0"``, with the label in the
caller's encoding of y). ``history_`` keys use them in brackets:
``val_accuracy[-1]``, ``group_weight[-1, 0]``.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validation import show_items

#: history keys (with and without Keras's ``val_`` prefix) written by the group metrics
FAIR_METRIC_KEY, WORST_GROUP_KEY = "fair_metric", "worst_group_accuracy"
GROUP_WEIGHT_KEY = "group_weight"


def accuracy_key(name):
    return f"accuracy[{name}]"


def weight_key(name):
    return f"{GROUP_WEIGHT_KEY}[{name}]"


@dataclass(frozen=True)
class FitGroups:
    """The groups of one fit.

    Attributes
    ----------
    values : ndarray
        The distinct groups, sorted; ``codes`` index into it.
    codes : ndarray of int64, shape (n_samples,)
    """

    values: np.ndarray
    codes: np.ndarray

    @property
    def n_groups(self):
        return len(self.values)

    def names(self):
        return group_names(self.values)

    def cells(self, y_bin):
        """Group x class cell of every sample: ``2 * group + class``."""
        return 2 * self.codes + np.asarray(y_bin, dtype=np.int64)

    def subset(self, keep):
        return FitGroups(self.values, self.codes[keep])


def group_names(values):
    """The names of sensitive groups, in the order of ``values``."""
    return [str(v) for v in np.asarray(values).tolist()]


def dro_names(names, classes, dro_groups):
    """Names of Group DRO's groups (from the sensitive groups' ``names``), in the order of its weights q."""
    if dro_groups == "sensitive_x_class":
        return [f"{g}, {c}" for g in names for c in classes.tolist()]
    return list(names)


def weights_series(values, weights, classes, dro_groups):
    """Group DRO's q as the ``group_weights_`` Series, indexed by its groups."""
    if dro_groups == "sensitive_x_class":
        index = pd.MultiIndex.from_product([list(values), classes.tolist()], names=["group", "class"])
    else:
        index = pd.Index(list(values), name="group")
    return pd.Series(np.asarray(weights, dtype=float), index=index, name="group_weight")


def needs_groups(estimator):
    """What of ``estimator``'s parameters needs the groups (a phrase), or None."""
    if estimator.fairness is not None:
        return f"fairness={estimator.fairness!r}"
    if estimator.group_sampling is not None:
        return f"group_sampling={estimator.group_sampling!r}"
    if estimator.scoring in ("fair_metric", "worst_group_accuracy"):
        return f"scoring={estimator.scoring!r}"
    return None


def fit_groups(estimator, series, name, *, previous=None):
    """The coded groups of a fit (``series``: the checked groups, or None), or None.

    Refuses a fit whose parameters need groups it was not given, and a single
    group. ``previous`` (the values of an earlier fit being continued) fixes
    the groups: a continuation must see the same ones, in the same order.
    """
    if series is None:
        need = needs_groups(estimator)
        if need is not None:
            raise ValueError(
                f"{need} needs the group of every training sample, but none was given. Pass "
                "fit(X, y, sensitive_features=groups) (in a search with metadata routing: "
                "search.fit(X, y, sensitive_features=groups), and no "
                "set_fit_request(sensitive_features=False)), or set sensitive_column to a "
                "column of a DataFrame X."
            )
        return None
    values, codes = np.unique(series.to_numpy(), return_inverse=True)
    if len(values) < 2:
        raise ValueError(
            f"{name} holds a single group ({values.tolist()[0]!r}); group-aware training and the "
            "per-group history need at least two groups."
        )
    if previous is not None:
        if len(previous) != len(values) or not all(a == b for a, b in zip(previous.tolist(), values.tolist())):
            raise ValueError(
                f"{name} holds the groups {show_items(values)}, but this estimator was trained on "
                f"{show_items(previous)}; a warm_start continuation needs the same groups (or "
                "warm_start=False to start over)."
            )
        values = previous
    return FitGroups(values=values, codes=codes.astype(np.int64))


def cell_counts(groups, y_bin):
    """Training samples per group x class cell, in cell order."""
    return np.bincount(groups.cells(y_bin), minlength=2 * groups.n_groups)


def group_weights(estimator):
    """``estimator.group_weights_``: Group DRO's q after the last epoch, from its history."""
    groups = estimator.__dict__.get("sensitive_groups_")
    if estimator.fairness != "group_dro" or groups is None or not hasattr(estimator, "history_"):
        raise AttributeError("group_weights_ exists after a fit with fairness='group_dro' and sensitive groups.")
    names = dro_names(group_names(groups), estimator.classes_, estimator.dro_groups)
    keys = [weight_key(name) for name in names]
    if not all(estimator.history_.get(key) for key in keys):
        raise AttributeError(
            "group_weights_: this estimator has not trained with fairness='group_dro' and "
            f"dro_groups={estimator.dro_groups!r} yet."
        )
    return weights_series(groups, [estimator.history_[key][-1] for key in keys], estimator.classes_,
                          estimator.dro_groups)
