"""Group metrics as scikit-learn scorers: a routed one and a DataFrame-column one.

Owns how a fitted estimator is scored on Fair_Metric (or worst-group
accuracy) inside scikit-learn's model selection; the formulas live in
``_fair_metric.py``.
"""

import warnings
from collections.abc import Hashable

from sklearn import config_context
from sklearn.metrics import make_scorer
from sklearn.utils.metadata_routing import MetadataRequest

from .._validation import MISSING_GROUPS_MESSAGE, groups_from_column
from ._fair_metric import fair_metric, worst_group_accuracy


def _missing_groups():
    """The error of a group scorer called without groups, said first as a warning of
    its own: a scikit-learn search catches the error, scores NaN and would
    otherwise bury the explanation in the traceback of its own warning."""
    warnings.warn(MISSING_GROUPS_MESSAGE, UserWarning, stacklevel=3)
    return ValueError(MISSING_GROUPS_MESSAGE)


def _fair_metric_score(y_true, y_pred, *, sensitive_features=None, sample_weight=None):
    """``fair_metric`` with optional groups, as the Fair_Metric scorers' score function.

    The default ``None`` turns a forgotten routing set-up into the
    explanatory error instead of Python's "missing keyword argument", also
    where scikit-learn calls the score function directly
    (``TunedThresholdClassifierCV``). Its signature is also what tells
    scikit-learn which metadata the scorer can take.
    """
    if sensitive_features is None:
        raise _missing_groups()
    return fair_metric(
        y_true, y_pred, sensitive_features=sensitive_features, sample_weight=sample_weight
    )


def _worst_group_score(y_true, y_pred, *, sensitive_features=None, sample_weight=None):
    """``worst_group_accuracy`` with optional groups, as its scorers' score function."""
    if sensitive_features is None:
        raise _missing_groups()
    return worst_group_accuracy(
        y_true, y_pred, sensitive_features=sensitive_features, sample_weight=sample_weight
    )


class _ColumnScorer:
    """A group metric of ``estimator.predict(X)``, groups from a column of a DataFrame X.

    A plain scorer callable, ``scorer(estimator, X, y, sample_weight=None)``:
    scikit-learn's model selection accepts any such callable and needs no
    metadata routing for it. ``score_func`` is one of the score functions
    above; ``maker`` names the public function that made the scorer.
    """

    def __init__(self, sensitive_column, score_func=_fair_metric_score, maker="make_fair_scorer"):
        self.sensitive_column = sensitive_column
        self._score_func = score_func
        self._maker = maker

    def __repr__(self):
        return f"{self._maker}(sensitive_column={self.sensitive_column!r})"

    def __call__(self, estimator, X, y, sample_weight=None, *, sensitive_features=None):
        """The metric of ``estimator.predict(X)`` against ``y``, weighted by ``sample_weight``."""
        groups = groups_from_column(
            X, self.sensitive_column, owner=repr(self), given=sensitive_features,
            other_route=f"use {self._maker}() with metadata routing",
        )
        return self._score_func(
            y, estimator.predict(X), sensitive_features=groups, sample_weight=sample_weight
        )

    # What scikit-learn asks of a scorer beyond the call, whatever its type.
    # Without routing, a multi-metric dict asks each scorer whether it takes
    # sample_weight (_accept_sample_weight). TunedThresholdClassifierCV
    # rebuilds the scorer from the attributes below and its metadata request,
    # then calls the score function without X (_score_func, set in
    # __init__): the score functions above make the column route fail there
    # with the explanation (use routing) instead of an AttributeError.
    _sign = 1
    _kwargs = {}
    _response_method = "predict"

    def _accept_sample_weight(self):
        return True

    def get_metadata_routing(self):
        """Request no metadata: the groups come with X, the weights as an argument."""
        return MetadataRequest(owner=repr(self))


def make_fair_scorer(*, sensitive_column=None):
    """Make a scikit-learn scorer for Fair_Metric (greater is better).

    The scorer predicts labels with ``estimator.predict(X)`` and returns
    :func:`fair_metric`. It gets the group of each sample in one of two ways:

    - ``sensitive_column=None``: through scikit-learn metadata routing. The
      scorer requests ``sensitive_features``; enable routing
      (``sklearn.set_config(enable_metadata_routing=True)`` or
      ``sklearn.config_context``) and pass ``sensitive_features=groups`` to
      ``GridSearchCV.fit``, ``TunedThresholdClassifierCV.fit`` or
      ``cross_validate(..., params=...)``; scikit-learn splits them with
      the data.
    - ``sensitive_column="gender"``: X is a DataFrame and the groups are its
      ``"gender"`` column; no configuration is needed. The column is still
      part of X, so the estimator must accept or ignore it
      (``FaceCNNClassifier`` ignores every column but its image column; for
      tabular models drop it with a ``ColumnTransformer``).
      ``TunedThresholdClassifierCV`` calls score functions without X, so it
      needs the routing route.

    Parameters
    ----------
    sensitive_column : str or None, default=None
        Name of the DataFrame column that holds the groups, or ``None`` to
        receive them as routed ``sensitive_features``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None)`` -> float. With routing,
        the scorer ``sklearn.metrics.make_scorer`` builds, requesting
        ``sensitive_features`` only; to weight the score as well, call
        ``scorer.set_score_request(sensitive_features=True, sample_weight=True)``
        on a scorer of your own (the call replaces the whole request). With a
        column, a plain callable that needs no routing and uses
        ``sample_weight`` when it is passed.

    See Also
    --------
    fair_scorer : ``make_fair_scorer()``, ready to use.

    Examples
    --------
    >>> import numpy as np, pandas as pd, sklearn
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from skface.metrics import make_fair_scorer, fair_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=40), "gender": np.tile([-1, 1], 20)})
    >>> y = (X["x"] > 0).astype(int)
    >>> scorer = make_fair_scorer(sensitive_column="gender")
    >>> cross_val_score(LogisticRegression(), X, y, scoring=scorer, cv=2).round(2)
    array([0.72, 0.55])
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     scores = cross_val_score(LogisticRegression(), X[["x"]], y, cv=2,
    ...         scoring=fair_scorer, params={"sensitive_features": X["gender"]})
    >>> scores.round(2)
    array([0.86, 1.  ])
    """
    return _group_scorer(sensitive_column, _fair_metric_score, "make_fair_scorer")


def _group_scorer(sensitive_column, score_func, maker):
    """The routed scorer of ``score_func``, or its column scorer."""
    if sensitive_column is None:
        scorer = make_scorer(score_func, response_method="predict")
        # set_score_request raises unless routing is on; the request only
        # matters where routing is on, so set it inside a local context and
        # leave the global configuration alone.
        with config_context(enable_metadata_routing=True):
            scorer.set_score_request(sensitive_features=True)
        return scorer
    if not isinstance(sensitive_column, Hashable) or isinstance(sensitive_column, bool):
        raise TypeError(
            "sensitive_column must be a column name (e.g. 'gender') or None; got "
            f"{type(sensitive_column).__name__} {sensitive_column!r}."
        )
    return _ColumnScorer(sensitive_column, score_func, maker)


def make_worst_group_scorer(*, sensitive_column=None):
    """Make a scikit-learn scorer for worst-group accuracy (greater is better).

    The scorer predicts labels with ``estimator.predict(X)`` and returns
    :func:`worst_group_accuracy`, the lowest accuracy over the cells group x
    true class. It gets the groups as :func:`make_fair_scorer`'s do: routed
    ``sensitive_features`` (``sensitive_column=None``) or a column of a
    DataFrame X.

    Parameters
    ----------
    sensitive_column : str or None, default=None
        Name of the DataFrame column that holds the groups, or ``None`` to
        receive them as routed ``sensitive_features``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None)`` -> float.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from skface.metrics import make_worst_group_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=40), "gender": np.tile([-1, 1], 20)})
    >>> y = (X["x"] > 0).astype(int)
    >>> scorer = make_worst_group_scorer(sensitive_column="gender")
    >>> cross_val_score(LogisticRegression(), X, y, scoring=scorer, cv=2).round(2)
    array([0.5 , 0.33])
    """
    return _group_scorer(sensitive_column, _worst_group_score, "make_worst_group_scorer")


fair_scorer = make_fair_scorer()
fair_scorer.__doc__ = """Fair_Metric scorer that receives the groups through metadata routing.

``make_fair_scorer()``, ready to use: it requests ``sensitive_features``.
Enable scikit-learn's metadata routing and pass ``sensitive_features=groups``
to ``GridSearchCV.fit``, ``cross_validate(..., params=...)`` or
``TunedThresholdClassifierCV.fit``; scikit-learn splits them with the data.

Examples
--------
>>> import numpy as np, sklearn
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.model_selection import cross_val_score
>>> from skface.metrics import fair_scorer
>>> X = np.arange(40.0).reshape(-1, 1)
>>> y, gender = (X[:, 0] > 15).astype(int), np.tile([-1, 1], 20)
>>> with sklearn.config_context(enable_metadata_routing=True):
...     scores = cross_val_score(LogisticRegression(), X, y, cv=2, scoring=fair_scorer,
...                              params={"sensitive_features": gender})
>>> scores.shape
(2,)
"""

# DocTestFinder looks at functions and classes only: run this example too.
__test__ = {"fair_scorer": fair_scorer.__doc__}
