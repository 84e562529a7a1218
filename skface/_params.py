"""What FaceCNNClassifier accepts: its parameter constraints and the checks they cannot say.

scikit-learn's ``_validate_params`` checks each parameter against
:data:`CONSTRAINTS`; :func:`check` adds what a constraint cannot express
(unknown keywords, with a suggestion; the contents of ``image_size`` and
``filters``; backbone weights) and runs before any work of ``fit``.
"""

import difflib
import os
from collections.abc import Hashable
from numbers import Integral, Real

import keras
import tensorflow as tf
from sklearn.utils._param_validation import Interval, StrOptions

from . import _validation
from ._options import (
    BACKBONES,
    CNN,
    DISTRIBUTIONS,
    DRO_GROUPS,
    FAIRNESS,
    GROUP_SAMPLING,
    ON_BAD_IMAGE,
    PRECISIONS,
    SCORING,
)

#: scikeras's routed parameter prefixes (``optimizer__learning_rate``, ...)
ROUTING_PREFIXES = ("model", "fit", "compile", "predict", "optimizer", "loss", "metrics", "callbacks")

CONSTRAINTS = {
    "model": [None, callable],
    "image_size": [Interval(Integral, 8, None, closed="left"), tuple, list],
    "image_column": [Hashable],
    "backbone": [StrOptions({CNN, *BACKBONES})],
    "backbone_weights": [None, str, os.PathLike],
    "trainable_backbone": ["boolean"],
    "filters": [tuple, list],
    "dense_units": [Interval(Integral, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "augment": ["boolean"],
    "focal_gamma": [Interval(Real, 0, None, closed="left")],
    "focal_alpha": [Interval(Real, 0, 1, closed="both")],
    "apply_class_balancing": ["boolean"],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "threshold": [Interval(Real, 0, 1, closed="both"), StrOptions({"auto"})],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "min_images": [Interval(Integral, 0, None, closed="left")],
    "scoring": [StrOptions(set(SCORING))],
    "sensitive_column": [None, Hashable],
    "fairness": [None, StrOptions(set(FAIRNESS))],
    "dro_groups": [StrOptions(set(DRO_GROUPS))],
    "dro_step_size": [Interval(Real, 0, None, closed="left")],
    "dro_adjustment": [Interval(Real, 0, None, closed="left")],
    "gap_weight": [Interval(Real, 0, None, closed="left")],
    "group_sampling": [None, StrOptions(set(GROUP_SAMPLING))],
    "precision": [StrOptions(set(PRECISIONS))],
    "distribution": [None, StrOptions(set(DISTRIBUTIONS)), tf.distribute.Strategy],
    "optimizer": [str, keras.optimizers.Optimizer, type],
    "loss": [None, str, keras.losses.Loss, type, callable],
    "metrics": [None, list, tuple],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "epochs": [Interval(Integral, 1, None, closed="left")],
    "callbacks": [None, list, tuple],
    "class_weight": [None, StrOptions({"balanced"}), dict],
    "warm_start": ["boolean"],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "run_eagerly": ["boolean"],
    "on_bad_image": [StrOptions(set(ON_BAD_IMAGE))],
    "cache_images": [StrOptions({"auto"}), "boolean"],
    "checkpoint_dir": [None, str, os.PathLike],
}


def check(estimator):
    """Refuse unknown keywords (with a suggestion), then validate every
    parameter against :data:`CONSTRAINTS` and the few rules that constraints
    cannot say (the contents of ``image_size`` and ``filters``)."""
    prefixes = tuple(p + "__" for p in ROUTING_PREFIXES)
    known = list(CONSTRAINTS)  # every parameter of the signature has a constraint
    for key in estimator.get_params(deep=False):
        if key not in known and not key.startswith(prefixes):
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(
                f"FaceCNNClassifier got an unexpected keyword argument {key!r}{hint}; besides "
                "its parameters it accepts only scikeras routed parameters starting "
                f"with {', '.join(prefixes)}."
            )
    estimator._validate_params()
    _validation.check_image_size(estimator.image_size)
    if estimator.backbone != "cnn":
        _validation.check_backbone_weights(estimator.backbone_weights)
    filters = estimator.filters
    if estimator.backbone == "cnn" and (
        len(filters) == 0 or not all(isinstance(f, Integral) and not isinstance(f, bool) and f >= 1 for f in filters)
    ):
        raise ValueError(f"filters={filters!r} is not accepted; accepted: a non-empty sequence of ints >= 1.")
