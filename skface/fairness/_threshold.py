"""Per-group decision thresholds that maximise Fair_Metric."""

from collections.abc import Hashable
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import _fit_context, clone
from sklearn.metrics import accuracy_score
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_method_params, check_is_fitted

from .._validation import show_items
from ._meta import GroupMetaEstimator, _saveable, _takes_groups
from ._objectives import OBJECTIVES, _frontier, check_objective, constrained_optimum, measures_at, pair_metrics


def _threshold_candidates(unique_scores):
    """One threshold per distinct labelling of sorted unique scores.

    Prediction is positive when ``score > threshold``. Candidate ``k``
    (0 <= k <= m) labels positive exactly the scores >= ``unique_scores[k]``
    (all of them for k = 0, none for k = m). Interior candidates are the
    midpoints between neighbouring scores, which generalise better to new
    scores than the observed scores themselves; the two ends lie halfway to
    0 and to 1.
    """
    u = unique_scores
    thresholds = np.empty(u.size + 1)
    middle = u[:-1] + (u[1:] - u[:-1]) / 2
    # rounding can put the midpoint of two adjacent floats on the upper one,
    # which would then be labelled negative; the lower one is always valid
    thresholds[1:-1] = np.where(middle < u[1:], middle, u[:-1])
    thresholds[0] = u[0] / 2 if u[0] > 0 else np.nextafter(u[0], -np.inf)
    thresholds[-1] = u[-1] + (1 - u[-1]) / 2 if u[-1] < 1 else u[-1]
    return thresholds


def _group_accuracy_curve(scores, positive):
    """Accuracy of every candidate threshold of one group.

    Returns ``(accuracies, thresholds)``, both of length ``m + 1`` where
    ``m`` is the number of distinct scores; O(n log n) for n samples.
    """
    counts, thresholds = _correct_counts(scores, positive, np.zeros(scores.size, dtype=int), 1)
    return counts[0] / scores.size, thresholds


def _fair_optimum(curves):
    """Exact maximum of Fair_Metric over one candidate per group.

    ``curves`` holds one array of achievable accuracies per group.
    Fair_Metric ``mean(a) - 2 * (max(a) - min(a))`` of a choice ``a`` is
    maximised as follows: fix the largest accuracy allowed, ``U``. Any
    group then does best with its highest accuracy not above ``U``,
    ``b_g(U)``: raising one group's accuracy raises the mean and can only
    shrink the spread as long as it stays <= U. So the optimum is
    ``max over U of F(b(U))`` with ``U`` ranging over the achievable
    accuracies. Returns ``(best_value, chosen_accuracy_per_group)``.
    """
    levels = [np.unique(curve) for curve in curves]
    candidates = np.unique(np.concatenate(levels))
    chosen = np.empty((len(levels), candidates.size))
    feasible = np.ones(candidates.size, dtype=bool)
    for g, level in enumerate(levels):
        index = np.searchsorted(level, candidates, side="right") - 1
        feasible &= index >= 0
        chosen[g] = level[np.maximum(index, 0)]
    values = chosen.mean(axis=0) - 2 * (chosen.max(axis=0) - chosen.min(axis=0))
    values[~feasible] = -np.inf
    best = int(np.argmax(values))
    return float(values[best]), chosen[:, best]



def _fair_metric_of(accuracies):
    """Fair_Metric of per-group accuracies, along the first axis."""
    return accuracies.mean(axis=0) - 2 * (accuracies.max(axis=0) - accuracies.min(axis=0))


def _correct_counts(scores, positive, true_codes, n_true):
    """Correct predictions of every candidate threshold of one group of
    scores, split by the samples' true group (``true_codes``, 0 to ``n_true - 1``).

    Returns ``(counts, thresholds)``: ``counts[g, k]`` is how many samples of
    true group ``g`` candidate ``k`` labels correctly. Candidate ``k`` gets
    right the negatives below ``unique[k]`` and the positives from it on:
    cumulative sums over the sorted unique scores, O(n log n).
    """
    unique, inverse = np.unique(scores, return_inverse=True)
    counts = np.empty((n_true, unique.size + 1))
    for g in range(n_true):
        mine = true_codes == g
        n_pos = np.bincount(inverse[mine], weights=positive[mine], minlength=unique.size)
        n_neg = np.bincount(inverse[mine], minlength=unique.size) - n_pos
        counts[g] = np.concatenate([[0.0], np.cumsum(n_neg)]) + (
            n_pos.sum() - np.concatenate([[0.0], np.cumsum(n_pos)])
        )
    return counts, _threshold_candidates(unique)


#: rows of the pair grid scored at once (memory: this x candidates x groups)
_CHUNK = 256


def _inferred_optimum(scores, positive, assigned, true_codes, n_groups):
    """The thresholds of the assigned (inferred) groups that maximise
    Fair_Metric over the true groups.

    A sample gets its assigned group's threshold, but counts in its true
    group's accuracy, so one group's threshold moves every group's accuracy.
    With two groups every pair of candidates is scored (exact, chunked);
    with more, coordinate ascent from the thresholds closest to 0.5, each
    step exact for one group (a local optimum). Among equally good choices, the thresholds closest to 0.5 win.
    Returns ``(best_value, thresholds, true_group_accuracies)``.
    """
    size = np.bincount(true_codes, minlength=n_groups).astype(float)
    tables = []
    for h in range(n_groups):
        mine = assigned == h
        if mine.any():
            tables.append(_correct_counts(scores[mine], positive[mine], true_codes[mine], n_groups))
        else:  # a group no sample was assigned to: its threshold changes nothing here
            tables.append((np.zeros((n_groups, 1)), np.array([0.5])))

    def accuracies(choice):
        return sum(tables[h][0][:, k] for h, k in enumerate(choice)) / size

    if n_groups == 2:
        (c0, t0), (c1, t1) = tables
        best, best_key, choice = -np.inf, np.inf, (0, 0)
        distance1 = np.abs(t1 - 0.5)
        for start in range(0, c0.shape[1], _CHUNK):
            rows = slice(start, start + _CHUNK)
            acc = (c0[:, rows, None] + c1[:, None, :]) / size[:, None, None]
            values = _fair_metric_of(acc)
            top = values.max()
            if top < best - 1e-12:
                continue
            key = np.abs(t0[rows] - 0.5)[:, None] + distance1[None, :]
            key = np.where(values >= top - 1e-12, key, np.inf)
            i, j = np.unravel_index(np.argmin(key), key.shape)
            if top > best + 1e-12 or (abs(top - best) <= 1e-12 and key[i, j] < best_key):
                best, best_key, choice = top, key[i, j], (start + i, j)
    else:
        choice = [int(np.argmin(np.abs(t - 0.5))) for _, t in tables]
        for _ in range(100):
            changed = False
            for h, (counts, thresholds) in enumerate(tables):
                rest = accuracies(choice) - counts[:, choice[h]] / size
                values = _fair_metric_of(rest[:, None] + counts / size[:, None])
                options = np.flatnonzero(values >= values.max() - 1e-12)
                pick = int(options[np.argmin(np.abs(thresholds[options] - 0.5))])
                if pick != choice[h] and values[pick] > values[choice[h]] + 1e-12:
                    choice[h], changed = pick, True
            if not changed:
                break
    acc = accuracies(choice)
    thresholds = [float(tables[h][1][k]) for h, k in enumerate(choice)]
    return float(_fair_metric_of(acc)), thresholds, acc


class FairThresholdClassifier(GroupMetaEstimator):
    """Binary classifier with one decision threshold per group, tuned for Fair_Metric.

    Wraps any binary classifier with ``predict_proba``. After fitting it
    (unless ``prefit``), it picks for every group ``g`` the threshold
    ``t_g`` that, applied as ``proba > t_g``, maximises Fair_Metric
    (:func:`skface.metrics.fair_metric`) on held-out data; then
    ``predict(X, sensitive_features=...)`` uses each sample's group
    threshold. No existing library post-processes for Fair_Metric;
    fairlearn's ``ThresholdOptimizer`` targets its own constraints.

    Parameters
    ----------
    estimator : estimator object
        A binary classifier with ``fit`` and ``predict_proba``; the positive
        class is ``classes_[1]``. Cloned in ``fit`` unless ``prefit``.
    prefit : bool, default=False
        If True, ``estimator`` is already fitted; it is used as is and the
        thresholds are tuned on all the data given to ``fit``. If False, a
        clone is fitted on ``1 - validation_fraction`` of the data and the
        thresholds are tuned on the rest (it is not refitted on all data,
        so the thresholds match the model that uses them).
    validation_fraction : float in (0, 1), default=0.2
        Share of the data held out to tune the thresholds when not
        ``prefit``; stratified on label x group where every cell has two
        samples, else on the label.
    sensitive_column : str or None, default=None
        If set, ``fit`` and ``predict`` read the groups from this column of
        a DataFrame X (which is passed whole to the estimator) instead of
        ``sensitive_features``; this lets scikit-learn tools that call
        ``predict(X)`` (``cross_validate``, ``GridSearchCV``) use the
        classifier.
    random_state : int, RandomState instance or None, default=None
        Seed of the validation split.
    group_estimator : classifier or None, default=None
        A classifier of the groups from X (e.g. a ``FaceCNNClassifier``
        trained on the gender labels), for predicting without the groups.
        Cloned and fitted on the training split, with the true groups as its
        labels (on all the data given to ``fit`` when ``prefit``; wrap a
        fitted one in :class:`sklearn.frozen.FrozenEstimator` to use it as
        it is). The thresholds are then tuned for the groups it infers on
        the tuning data, while Fair_Metric is scored with the true groups,
        so its mistakes are accounted for; ``predict`` without
        ``sensitive_features`` uses the groups it infers. With two groups
        the search over threshold pairs is exact; with more it is a
        coordinate ascent (a local optimum).
    objective : {"fair_metric", "accuracy", "balanced_accuracy", "worst_group_accuracy"}, default="fair_metric"
        What the thresholds maximise on the tuning data. Other than
        ``"fair_metric"`` (or with ``constraints``), the search runs over
        pairs of thresholds: two groups, true groups only.
    constraints : dict or None, default=None
        Bounds the thresholds must meet on the tuning data, e.g.
        ``{"equal_opportunity_difference": 0.02}``: upper bounds on
        ``"equal_opportunity_difference"`` (of the true positive rates),
        ``"equalized_odds_difference"`` (the larger of the true and false
        positive rates' differences), ``"demographic_parity_difference"``
        (of the selection rates), ``"accuracy_difference"``, and a lower
        bound on ``"min_group_recall"``. When no pair of thresholds meets
        them, ``fit`` raises a ValueError that says how close the search
        came; it never returns thresholds that violate them.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted classifier that gives the probabilities.
    classes_ : ndarray of shape (2,)
        The class labels, in the caller's encoding (from ``estimator_``).
    thresholds_ : dict
        ``{group: threshold}``; a sample is predicted ``classes_[1]`` when
        its probability is strictly greater than its group's threshold.
    best_score_ : float
        The objective (Fair_Metric by default) of the tuned thresholds on
        the tuning data.
    frontier_ : pandas.DataFrame or None
        With two true groups: the accuracy / Fair_Metric trade-off the
        search saw, the threshold pairs that no other pair beats on both
        (by accuracy, descending), with every objective and constraint
        measure, and the chosen pair (``chosen`` True; added when it is not
        on the frontier). None otherwise. :func:`plot_frontier` draws it.
    search_exact_ : bool
        Whether the thresholds are an exact optimum of the search: True
        for the default objective with true groups (any number) and for
        the pair search when no group has more than 500 distinct
        probabilities (else 500 evenly spaced candidates per group are
        searched); False for the coordinate ascent of more than two
        inferred groups.
    group_accuracy_ : pandas.Series
        Accuracy per (true) group on the tuning data with the tuned thresholds.
    group_estimator_ : estimator object
        The fitted ``group_estimator`` (only when one is given).

    Notes
    -----
    The default search is exact. Within a group, only the order of the
    probabilities matters, so with ``m`` distinct probabilities there are
    ``m + 1`` different labellings (a threshold below all, between each
    pair of neighbours, above all); the interior thresholds are the
    midpoints. Sorting and cumulative sums give every labelling's accuracy
    in ``O(n_g log n_g)``. Fair_Metric depends on the groups only through
    their accuracies, ``F(a) = mean(a) - 2 (max(a) - min(a))``. For a fixed
    ceiling ``U`` on the accuracies, each group is best off at its highest
    achievable accuracy not above ``U`` (that raises the mean and does not
    widen the spread beyond what ``U`` allows), so the joint optimum is the
    best of these choices over the ``V <= n + G`` achievable accuracy values
    ``U``: ``O(n log n + G V log n)`` in all for ``n`` samples and ``G``
    groups, versus ``prod_g (n_g + 1)`` labellings for brute force. Among
    thresholds that give a group the chosen accuracy, the one closest to 0.5
    is kept (the smallest change to the plain classifier).

    With another ``objective`` or ``constraints``, every measure is a
    function of each group's confusion counts at its threshold: cumulative
    sums give them at every candidate threshold of a group, and a broadcast
    gives every objective and constraint at every pair of candidates
    (``m_0 x m_1`` pairs, at most 500 x 500); the best pair that meets the
    constraints is kept, ties going to the pair closest to 0.5.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skface.fairness import FairThresholdClassifier
    >>> rng = np.random.RandomState(0)
    >>> gender = np.repeat([-1, 1], 100)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X[:, 0] + np.where(gender == 1, 0.5, 0) + rng.normal(0, 0.5, 200) > 0)
    >>> clf = FairThresholdClassifier(LogisticRegression(), random_state=0)
    >>> clf = clf.fit(X, y.astype(int), sensitive_features=gender)
    >>> sorted(clf.thresholds_)
    [-1, 1]
    >>> clf.predict(X[:3], sensitive_features=gender[:3])
    array([1, 1, 1])
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "prefit": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "sensitive_column": [Hashable, None],
        "random_state": ["random_state"],
        "group_estimator": [None, HasMethods(["fit", "predict"])],
        "objective": [StrOptions(set(OBJECTIVES))],
        "constraints": [dict, None],
    }

    def __init__(
        self,
        estimator,
        *,
        prefit=False,
        validation_fraction=0.2,
        sensitive_column=None,
        random_state=None,
        group_estimator=None,
        objective="fair_metric",
        constraints=None,
    ):
        self.estimator = estimator
        self.prefit = prefit
        self.validation_fraction = validation_fraction
        self.sensitive_column = sensitive_column
        self.random_state = random_state
        self.group_estimator = group_estimator
        self.objective = objective
        self.constraints = constraints

    @_fit_context(
        # the wrapped estimator is validated when it is fitted
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, *, sensitive_features=None, sample_weight=None, **fit_params):
        """Fit the estimator (unless prefit) and tune one threshold per group.

        Parameters
        ----------
        X : array-like, list of paths or DataFrame
            Samples, in any form the estimator accepts.
        y : array-like of shape (n_samples,)
            Binary labels, any encoding (0/1, -1/1, strings).
        sensitive_features : array-like of shape (n_samples,), default=None
            Group of every sample; required unless ``sensitive_column`` is set.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the estimator's ``fit`` (with metadata routing: when
            the estimator requests it). The threshold search is unweighted.
        **fit_params : dict
            Further parameters for the estimator's ``fit``; only with metadata
            routing enabled.

        Returns
        -------
        self : FairThresholdClassifier
            The fitted classifier.
        """
        constraints = check_objective(self.objective, self.constraints)
        searched = self.objective != "fair_metric" or bool(constraints)
        if searched and self.group_estimator is not None:
            raise ValueError(
                f"objective={self.objective!r} and constraints= choose thresholds on the true groups; with a "
                "group_estimator only the default objective (Fair_Metric, no constraints) is supported."
            )
        y, groups, estimator_fit_params = self._check_fit_inputs(
            X, y, sensitive_features, sample_weight, fit_params
        )
        if searched and pd.unique(groups).size != 2:
            raise ValueError(
                f"objective={self.objective!r} and constraints= search every pair of thresholds, so they need "
                f"exactly 2 groups; sensitive_features has {pd.unique(groups).size}. The default objective "
                "(Fair_Metric, no constraints) takes any number of groups."
            )

        if self.prefit:
            if estimator_fit_params:
                raise ValueError(
                    "prefit=True uses the estimator as it is, so it takes no fit "
                    f"parameters; got {sorted(estimator_fit_params)}."
                )
            check_is_fitted(self.estimator)
            self.estimator_ = self.estimator
            X_val, y_val, groups_val = X, y, groups
            train = None
        else:
            train, val = self._split(X, y, groups)
            train_params = _check_method_params(X, estimator_fit_params, indices=train)
            if _takes_groups(self.estimator) and "sensitive_features" not in train_params:
                # an estimator that trains on the groups (FaceCNNClassifier's
                # fairness=...) gets those of its training rows
                train_params["sensitive_features"] = groups.iloc[train].to_numpy()
            self.estimator_ = clone(self.estimator).fit(_safe_indexing(X, train), y[train], **train_params)
            X_val, y_val = _safe_indexing(X, val), y[val]
            groups_val = groups.iloc[val].reset_index(drop=True)
            absent = sorted(set(pd.unique(groups)) - set(pd.unique(groups_val)), key=repr)
            if absent:
                raise ValueError(
                    f"the groups {show_items(absent)} have no sample in the validation "
                    f"split (validation_fraction={self.validation_fraction}); give "
                    "them more samples or raise validation_fraction."
                )

        self.classes_ = self._binary_classes(self.estimator_)
        scores = np.asarray(self.estimator_.predict_proba(X_val))[:, 1]
        positive = (y_val == self.classes_[1]).astype(float)
        codes, uniques = pd.factorize(groups_val, sort=True)
        names = [u.item() if isinstance(u, np.generic) else u for u in uniques]

        self.frontier_ = None
        if searched:
            self.__dict__.pop("group_estimator_", None)
            thresholds, self.best_score_, _, self.frontier_, self.search_exact_ = constrained_optimum(
                scores, positive, codes, self.objective, constraints)
            accuracies = [np.mean((scores[codes == g] > thresholds[g]) == (positive[codes == g] > 0)) for g in (0, 1)]
        elif self.group_estimator is None:
            self.__dict__.pop("group_estimator_", None)
            self.best_score_, thresholds, accuracies = self._tune_on_true_groups(scores, positive, codes)
            self.search_exact_ = True
            if len(names) == 2:
                measures, (t0, t1), _ = pair_metrics(scores, positive, codes)
                self.frontier_ = _frontier(measures, t0, t1, tuple(thresholds),
                                           measures_at(scores, positive, codes, thresholds))
        else:
            X_groups = X if train is None else _safe_indexing(X, train)
            g_train = groups if train is None else groups.iloc[train]
            self.group_estimator_ = clone(self.group_estimator).fit(X_groups, g_train.to_numpy())
            assigned = self._infer(X_val, names, method="fit")
            assigned_codes = pd.Index(uniques).get_indexer(assigned)
            self.best_score_, thresholds, accuracies = _inferred_optimum(
                scores, positive, assigned_codes, codes, len(names)
            )
            self.search_exact_ = len(names) == 2
        self.thresholds_ = dict(zip(names, map(float, thresholds)))
        self.group_accuracy_ = pd.Series(dict(zip(names, map(float, accuracies))), name="accuracy")
        self.group_accuracy_.index.name = groups.name
        return self

    @staticmethod
    def _tune_on_true_groups(scores, positive, codes):
        """The exact search when every sample's threshold is its own group's."""
        curves = [
            _group_accuracy_curve(scores[codes == g], positive[codes == g])
            for g in range(codes.max() + 1)
        ]
        best, targets = _fair_optimum([acc for acc, _ in curves])
        thresholds, accuracies = [], []
        for (acc, candidates), target in zip(curves, targets):
            options = np.flatnonzero(acc == target)
            pick = options[np.argmin(np.abs(candidates[options] - 0.5))]
            thresholds.append(candidates[pick])
            accuracies.append(acc[pick])
        return best, thresholds, accuracies

    def _infer(self, X, known, *, method):
        """The groups ``group_estimator_`` infers for X, checked against
        ``known``, the groups the thresholds are for."""
        inferred = pd.Series(np.asarray(self.group_estimator_.predict(X)))
        unknown = sorted(set(pd.unique(inferred)) - set(known), key=repr)
        if unknown:
            raise ValueError(
                f"group_estimator_ inferred groups {show_items(unknown)} in {method}, but the "
                f"thresholds are for the groups {show_items(known)} of sensitive_features; "
                "train the group estimator on the same group labels."
            )
        return inferred

    def predict_proba(self, X):
        """Class probabilities of the wrapped estimator, unchanged.

        Parameters
        ----------
        X : array-like, list of paths or DataFrame
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    def predict(self, X, *, sensitive_features=None):
        """Predict labels with each sample's group threshold.

        Parameters
        ----------
        X : array-like, list of paths or DataFrame
            Samples.
        sensitive_features : array-like of shape (n_samples,), default=None
            Group of every sample, from the groups seen in ``fit``; required
            unless ``sensitive_column`` is set or a ``group_estimator`` was
            given, whose inferred groups are used when neither has them.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        groups = self._prediction_groups(X, sensitive_features)
        return self._decide(np.asarray(self.predict_proba(X))[:, 1], groups)

    def _prediction_groups(self, X, sensitive_features):
        """The groups whose thresholds ``predict`` applies: given, or inferred."""
        inferable = hasattr(self, "group_estimator_")
        groups = self._groups(X, sensitive_features, "predict", inferable=inferable)
        if groups is None:
            return self._infer(X, list(self.thresholds_), method="predict")
        unknown = sorted(set(pd.unique(groups)) - set(self.thresholds_), key=repr)
        if unknown:
            raise ValueError(
                f"sensitive_features has groups {show_items(unknown)} that were not seen "
                f"in fit; the thresholds are for {show_items(self.thresholds_)}."
            )
        return groups

    def _decide(self, scores, groups):
        """Labels of the probabilities of class 1 ``scores`` under each group's threshold."""
        thresholds = pd.Series(np.asarray(groups)).map(self.thresholds_).to_numpy(dtype=float)
        return self.classes_[(np.asarray(scores) > thresholds).astype(int)]

    def score(self, X, y, *, sensitive_features=None, sample_weight=None):
        """Accuracy of ``predict`` (as for any scikit-learn classifier).

        For Fair_Metric, use :func:`skface.metrics.fair_metric` or the scorers.

        Parameters
        ----------
        X : array-like, list of paths or DataFrame
            Samples.
        y : array-like of shape (n_samples,)
            True labels.
        sensitive_features : array-like of shape (n_samples,), default=None
            Group of every sample, unless ``sensitive_column`` is set.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        float
            Accuracy.
        """
        y_pred = self.predict(X, sensitive_features=sensitive_features)
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

    # ----------------------------------------------------------- persistence
    def save(self, path):
        """Save to one ``.keras`` file: the network, the thresholds and, with a
        ``group_estimator``, its network too. Load it with :func:`skface.load`
        (Keras safe mode: no pickle, no arbitrary code).

        Both estimators must be skface's (``FaceCNNClassifier``, possibly in
        a :class:`~sklearn.frozen.FrozenEstimator`); pickle or joblib other
        ones.

        Parameters
        ----------
        path : str or os.PathLike
            Ends in ``.keras``; written atomically.

        Returns
        -------
        path : str
        """
        from .. import _serialization

        check_is_fitted(self)
        state = {
            "thresholds": list(self.thresholds_.values()),
            "best_score": self.best_score_,
            "search_exact": self.search_exact_,
            "frontier": None if self.frontier_ is None else self.frontier_.to_dict(orient="list"),
        }
        members = {}
        if hasattr(self, "group_estimator_"):
            group_estimator = _saveable(self.group_estimator_, "group_estimator_")
            state["group_estimator"] = "group_estimator.keras"
            members["group_estimator.keras"] = _serialization.estimator_file_bytes(group_estimator)
        return self._save(path, state, members)

    @classmethod
    def _from_saved(cls, estimator, group_estimator, state):
        """The classifier :meth:`save` wrote, around its loaded estimators."""
        self, groups = cls._restore(estimator, state, group_estimator=group_estimator)
        self.thresholds_ = dict(zip(groups, state["thresholds"]))
        self.best_score_ = state["best_score"]
        self.search_exact_ = state.get("search_exact", True)
        self.frontier_ = None if state.get("frontier") is None else pd.DataFrame(state["frontier"])
        if group_estimator is not None:
            self.group_estimator_ = group_estimator
        return self

    @property
    def groups_at_predict_(self):
        """What ``predict`` needs to know of each sample's group: ``"given"``
        (``sensitive_features`` or ``sensitive_column``) or ``"inferred"``
        (by ``group_estimator_`` when they are not given)."""
        check_is_fitted(self)
        return "inferred" if hasattr(self, "group_estimator_") else "given"
