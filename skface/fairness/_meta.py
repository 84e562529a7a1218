"""What the group-aware meta-estimators share: reading the groups, checking
fit's inputs, the hold-out split, the wrapped estimator's classes, metadata
routing and which estimators can be saved in skface's files."""

import inspect

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _num_samples, check_is_fitted

from .._split import class_group_split
from .._validation import check_groups, check_labels, check_same_length, groups_from_column, show_items


def _saveable(estimator, name):
    """The skface estimator inside ``estimator`` (unwrapping a FrozenEstimator),
    or a TypeError saying why it cannot be saved in a skface file."""
    inner = estimator.estimator if isinstance(estimator, FrozenEstimator) else estimator
    if not (hasattr(inner, "save") and hasattr(inner, "model_") and type(inner).__module__.startswith("skface.")):
        raise TypeError(
            f"save writes skface's own model files, so {name} must be a fitted "
            f"FaceCNNClassifier; got {type(inner).__name__}. Save other estimators "
            "with joblib.dump (or pickle)."
        )
    return inner


def _takes_groups(estimator):
    """Whether ``estimator.fit`` takes ``sensitive_features`` and does not read
    its groups from a column of X itself (``sensitive_column``)."""
    try:
        parameters = inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False
    return "sensitive_features" in parameters and getattr(estimator, "sensitive_column", None) is None

class GroupMetaEstimator(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Base of the binary meta-estimators that need each sample's group to fit.

    Subclasses set ``estimator``, ``validation_fraction``,
    ``sensitive_column`` and ``random_state``.
    """

    def _groups(self, X, sensitive_features, method, *, inferable=False):
        """The groups of X's samples, from the column or the argument; None
        when neither has them and ``inferable`` (a fitted group estimator
        will infer them)."""
        column = self.sensitive_column
        has_column = isinstance(X, pd.DataFrame) and column is not None and column in X.columns
        if inferable and sensitive_features is None and not has_column:
            return None
        if column is None:
            if sensitive_features is None:
                infer = ", or group_estimator= to infer them from X" if "group_estimator" in self.get_params() else ""
                raise ValueError(
                    f"{type(self).__name__}.{method} needs the group of every "
                    f"sample: pass sensitive_features=groups, or set "
                    "sensitive_column='gender' to read them from a column of a "
                    f"DataFrame X{infer}."
                )
            # a few rows to predict are not a small group worth a warning
            groups = check_groups(sensitive_features, warn_small=method == "fit")
        else:
            groups = groups_from_column(
                X, column, owner=f"sensitive_column={column!r}", given=sensitive_features,
                other_route=f"pass sensitive_features to {method}",
            )
        check_same_length(X=_num_samples(X), sensitive_features=len(groups))
        return groups

    def _split(self, X, y, groups):
        """Train and validation indices, stratified on class x group where possible."""
        return class_group_split(len(y), self.validation_fraction, y, groups.to_numpy(),
                                 random_state=self.random_state)

    def _check_fit_inputs(self, X, y, sensitive_features, sample_weight, fit_params):
        """Checked labels and groups, and the wrapped estimator's fit parameters."""
        groups = self._groups(X, sensitive_features, "fit")
        y = check_labels(y, "y")
        check_same_length(y=len(y), sensitive_features=len(groups))
        if type_of_target(y) != "binary":
            raise ValueError(
                f"{type(self).__name__} needs binary labels (two classes); y has "
                f"the classes {show_items(np.unique(y))}."
            )
        if pd.unique(groups).size < 2:
            raise ValueError(
                f"sensitive_features has only one group {show_items(pd.unique(groups))}; "
                f"{type(self).__name__} compares at least 2 groups."
            )
        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **fit_params)
            return y, groups, routed.estimator.fit
        _raise_for_params(fit_params, self, "fit")
        return y, groups, ({} if sample_weight is None else {"sample_weight": sample_weight})

    def _save(self, path, state, members=None):
        """Write the fitted network and this estimator's JSON ``state`` to one
        ``.keras`` file, with what every group-aware meta-estimator keeps: its
        class, parameters and per-group accuracies."""
        from .. import _serialization

        check_is_fitted(self)
        path = _serialization.check_model_path(path)
        estimator = _saveable(self.estimator_, "estimator_")
        params, _ = _serialization.json_params(self)
        for name in ("estimator", "group_estimator"):
            params.pop(name, None)
        state = {
            "class": type(self).__name__,
            "params": params,
            "groups": _serialization.to_json(self.group_accuracy_.index.tolist()),
            "group_accuracy": self.group_accuracy_.tolist(),
            "group_name": _serialization.to_json(self.group_accuracy_.index.name),
            **state,
        }
        return _serialization.save_estimator(estimator, path, wrapper=state, members=members)

    @classmethod
    def _restore(cls, estimator, state, **estimators):
        """The estimator :meth:`_save` wrote, around its loaded network; the
        other loaded ``estimators`` (by parameter name) are cloned into its
        parameters. Returns it and its groups; subclasses restore the rest."""
        from .._serialization import from_json

        params = from_json(state["params"])
        clones = {name: None if value is None else clone(value) for name, value in estimators.items()}
        self = cls(estimator if params.get("prefit") else clone(estimator), **clones, **params)
        self.estimator_ = estimator
        self.classes_ = np.asarray(estimator.classes_)
        groups = from_json(state["groups"])
        self.group_accuracy_ = pd.Series(dict(zip(groups, state["group_accuracy"])), name="accuracy")
        self.group_accuracy_.index.name = from_json(state["group_name"])
        return self, groups

    def _binary_classes(self, estimator):
        """The fitted estimator's two classes, or a ValueError."""
        classes = np.asarray(estimator.classes_)
        if classes.size != 2:
            raise ValueError(
                f"{type(self).__name__} needs a binary estimator; estimator_.classes_ "
                f"is {show_items(classes)}."
            )
        return classes

    def get_metadata_routing(self):
        """Metadata routing of this object.

        ``sample_weight`` and other fit parameters go to the estimator's
        ``fit`` where it requests them; this classifier's own
        ``sensitive_features`` (fit, predict, score) can be requested from
        an enclosing router with ``set_fit_request`` / ``set_predict_request``.

        Returns
        -------
        routing : MetadataRouter
            The routing information.
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                estimator=self.estimator,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        )
