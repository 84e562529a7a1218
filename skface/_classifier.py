"""FaceCNNClassifier: where the estimator trains and predicts (orchestration only).

The class holds the parameters and their constraints, and runs ``fit`` /
``predict`` by calling the modules that own each concern: input checks
(``_validation``), the tf.data pipeline (``_input``), the network
(``_model``), where it runs (``_device``), the hold-out split (``_split``),
checkpoints and resuming (``_checkpoint``) and model files
(``_serialization``). :func:`load` reads a saved estimator back.
"""

import contextlib
import difflib
import inspect
import math
import os
import random
import warnings
from collections import defaultdict
from collections.abc import Hashable
from numbers import Integral, Real

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator
from sklearn.metrics import accuracy_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils._tags import ClassifierTags
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted

from . import (
    _checkpoint,
    _device,
    _early_stopping,
    _group_objective,
    _groups,
    _input,
    _model,
    _serialization,
    _split,
    _validation,
)
from ._diagnostics import degenerate_predictions
from ._logging import quiet_tensorflow_warnings, warn_at_caller

_ROUTING_PREFIXES = ("model", "fit", "compile", "predict", "optimizer", "loss", "metrics", "callbacks")
#: at most this many images are predicted after fit to tell whether the model learned anything
_DIAGNOSTIC_IMAGES = 1024


@contextlib.contextmanager
def _seeded(seed):
    """Seed Python, NumPy, TensorFlow and Keras's generator, then give the
    caller's Python and NumPy global states back.

    scikeras's own seeding does not reset Keras 3's global seed generator,
    which the initialisers and dropout draw from: ``keras.utils.set_random_seed``
    does.
    """
    if seed is None:
        yield
        return
    py_state, np_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


class FaceCNNClassifier(KerasClassifier):
    """The reference face-attribute CNN as a scikit-learn binary classifier.

    A :class:`scikeras.wrappers.KerasClassifier` whose defaults reproduce the
    reference network: Conv2D 32/64/128 (3x3, ReLU) each followed by 2x2
    max-pooling, Flatten, Dense 512 ReLU, Dropout 0.5, one sigmoid unit,
    trained with binary focal cross-entropy (gamma 5) and Adam, with early
    stopping on a stratified validation hold-out. Images stream through one
    ``tf.data`` pipeline (parallel decode, resize, batch, prefetch), so a list
    of file paths trains without loading every image in memory.

    Parameters
    ----------
    model : None, callable or keras.Model, default=None
        None builds the network from the parameters below. A callable or a
        Keras model follows scikeras's rules (it receives ``meta``,
        ``compile_kwargs`` and ``model__`` parameters) and must take
        ``(H, W, 3)`` float images in [0, 1].
    image_size : int or (int, int), default=(80, 80)
        Height and width the images are resized to.
    image_column : str, default="filename"
        When X is a DataFrame, the column that holds the image paths. Other
        columns (e.g. ``gender``) are ignored by the estimator and stay
        available to scorers.
    backbone : {"cnn", "resnet50", "mobilenet_v2", "efficientnet_b0"}, default="cnn"
        "cnn" is the reference small CNN. The others put a Keras application
        (without its top, global average pooling) under a Dense + Dropout +
        sigmoid head.
    backbone_weights : None, "imagenet" or path, default=None
        Weights of the backbone. "imagenet" downloads them through Keras on
        first use; a path loads a local weights file.
    trainable_backbone : bool, default=False
        Train the backbone too; frozen by default (batch-norm in inference
        mode). Fine-tuning pretrained ``backbone_weights`` trains every layer
        but batch-norm, which keeps the weights' statistics in inference mode;
        a backbone with random weights (``None``) trains its batch-norm too.
    filters : sequence of int, default=(32, 64, 128)
        Filters of the small CNN's convolution blocks.
    dense_units : int, default=512
        Units of the Dense layer before the output.
    dropout : float, default=0.5
        Dropout rate before the output.
    augment : bool, default=False
        Random horizontal flip, small rotation, zoom and contrast, active only
        while training.
    focal_gamma : float, default=5.0
        Focusing parameter of the binary focal cross-entropy.
    focal_alpha : float, default=0.25
        Weight of class 1 in the focal loss. Keras applies it only with
        ``apply_class_balancing=True``.
    apply_class_balancing : bool, default=False
        Use ``focal_alpha``. The reference passed ``alpha=0.25`` without it,
        so it trained without alpha; the default reproduces what it did.
    learning_rate : float, default=0.001
        Learning rate of the optimizer (``optimizer__learning_rate`` wins
        when given).
    threshold : float, default=0.5
        ``predict`` returns class 1 where ``predict_proba[:, 1] > threshold``.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data (stratified on
        y, and on y x group when ``fit`` has the sensitive groups), stop when
        the ``scoring`` on it has not improved for ``n_iter_no_change``
        epochs once the network has been trained on ``min_images`` images,
        and restore the best weights.
    validation_fraction : float, default=0.2
        Share of the training data held out when ``early_stopping``.
    n_iter_no_change : int, default=1
        Patience of early stopping, in epochs (the validation loss is checked
        once per epoch).
    tol : float, default=0.0
        An epoch improves on the best validation ``scoring`` only when it is
        better by more than ``tol`` (absolute).
    min_images : int, default=32000
        Early stopping never stops before the network has been trained on
        this many images (optimiser steps x ``batch_size``, counted over the
        network's life, so a ``checkpoint_dir`` resume or a ``warm_start``
        continuation does not warm up again). The reference's patience of one
        CelebA epoch waited 95,000 images; one epoch of a few thousand faces
        is a few thousand images, which stops an undertrained network. 32,000
        images (1,000 steps of 32) is passed within the first CelebA epoch,
        so there the rule is the reference's; ``min_images=0`` is the
        reference's rule at every scale.
    scoring : {"loss", "accuracy", "fair_metric", "worst_group_accuracy"}, default="loss"
        What early stopping watches on the validation hold-out (as
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`'s
        ``scoring``): the loss (lower is better), the accuracy, Fair_Metric
        over the sensitive groups, or the lowest accuracy over Group DRO's
        groups (``dro_groups``). The last two need the sensitive groups.
    sensitive_column : None or str, default=None
        When X is a DataFrame, the column holding each image's sensitive
        group (e.g. ``"gender"``): ``fit`` reads the groups from it, with no
        ``sensitive_features`` and no metadata routing needed.
    fairness : {None, "group_dro", "gap_penalty"}, default=None
        What the network trains on. None: the loss (the reference). With the
        sensitive groups given to ``fit``: "group_dro" is online Group DRO
        (Sagawa et al., 2020): the loss of each of ``dro_groups``' groups in
        the batch, weighted by adversarial weights q that grow for the groups
        with the highest loss (``q <- q exp(dro_step_size (L_g + C /
        sqrt(n_g)))``, renormalised); "gap_penalty" is the mean loss times
        ``1 + gap_weight x`` the spread (max - min) of the sensitive groups'
        soft accuracies in the batch. See :ref:`fair-training`. Measured at
        their defaults (3 seeds, :ref:`fair-training-measured`), neither
        raises Fair_Metric over plain training: Group DRO changed it by
        -0.008 [-0.016, +0.000] on synthetic faces and -0.027 [-0.045,
        -0.009] on UTKFace photographs while raising the worst group x class
        accuracy; tune it on validation data, and for the gap between groups
        prefer :class:`~skface.fairness.FairThresholdClassifier`.
    dro_groups : {"sensitive_x_class", "sensitive"}, default="sensitive_x_class"
        Group DRO's groups: sensitive group x class (the four cells of
        Sagawa et al.'s CelebA task) or the sensitive groups alone. Also the
        groups of ``scoring="worst_group_accuracy"``.
    dro_step_size : float, default=0.01
        Group DRO's step size for q (0 keeps q uniform: the mean of the
        groups' losses).
    dro_adjustment : float, default=0.0
        Group DRO's generalisation adjustment C: ``C / sqrt(n_g)`` is added
        to the loss of a group of ``n_g`` training samples in q's update.
    gap_weight : float, default=1.0
        Weight of the gap penalty, relative to the loss: a spread of 0.1
        between the groups' soft accuracies costs ``0.09 x gap_weight`` of the
        batch's mean loss (the spread is smoothed, by 0.01, so that it has a
        gradient at 0).
    group_sampling : {None, "balanced"}, default=None
        "balanced" draws the training batches so that every sensitive group x
        class cell is seen equally often (each sample with probability
        proportional to 1 / the size of its cell: Idrissi et al., 2022);
        an epoch keeps ``ceil(n / batch_size)`` steps. Needs the groups.
    precision : {"auto", "float32", "mixed_bfloat16", "mixed_float16"}, default="auto"
        Compute precision of the layers (the output layer stays float32).
        "auto" picks mixed_float16 on a GPU, mixed_bfloat16 on a CPU with
        bfloat16 matrix instructions (AVX512-BF16 or AMX) and float32
        otherwise. Set per layer: Keras's global policy is left alone.
    distribution : None, "mirrored" or tf.distribute.Strategy, default=None
        Where the network trains. None: one device, TensorFlow's choice.
        "mirrored": a new :class:`tf.distribute.MirroredStrategy` over all
        local GPUs (the CPU when there is none), which also prefetches each
        batch onto its GPU. A Strategy object of one host (e.g.
        ``tf.distribute.MirroredStrategy(devices)``) is used as given and
        shared, not copied, by :func:`~sklearn.base.clone`. A
        ``MultiWorkerMirroredStrategy`` of several workers is refused with a
        ``ValueError``: Keras 3's ``fit`` cannot train under it (see the
        "Scaling" user guide). The network is built, compiled, trained
        and predicts under the strategy; it applies when a network is built
        (not on a ``warm_start`` continuation). ``batch_size`` is the global
        batch, split evenly across the replicas, and the loss is the mean over
        the global batch, so the same ``learning_rate`` gives the same update
        as on one device; scale it yourself if you scale ``batch_size`` with
        the number of replicas. A Strategy object is neither saved nor
        pickled (a warning says so): the loaded estimator has
        ``distribution=None``. See the "Scaling" user guide.
    optimizer : str, keras.optimizers.Optimizer or class, default="adam"
        As in scikeras; ``optimizer__<name>`` parameters are routed to it.
    loss : None, str, keras.losses.Loss or class, default=None
        None is the binary focal cross-entropy configured above.
    metrics : list or None, default=None
        Keras metrics; None records accuracy in ``history_``.
    batch_size : int, default=32
        Training batch size.
    epochs : int, default=10
        Maximum number of epochs.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks, as in scikeras.
    class_weight : None, "balanced" or dict, default=None
        Multiplies ``sample_weight`` by per-class weights.
    warm_start : bool, default=False
        Continue training the current model on the next ``fit``.
    random_state : int, RandomState or None, default=None
        Seeds weights, dropout, the validation split and the shuffling: two
        fits with the same integer give the same ``predict_proba`` on a CPU.
    verbose : int, default=0
        0 is silent, 1 shows Keras progress bars, 2 one line per epoch.
    run_eagerly : bool, default=False
        Run Keras eagerly (debugging).
    on_bad_image : {"raise", "skip"}, default="raise"
        What ``fit`` does with image files that cannot be read (missing,
        empty, truncated, not an image). "raise" stops with a ``ValueError``
        naming them. "skip" leaves them out, with their labels and weights,
        and emits one ``UserWarning`` with their count and first names; the
        skipped paths are in ``skipped_images_``. "skip" costs one extra
        parallel decoding pass over the files before training. ``predict``
        and ``predict_proba`` never skip: they return one row per input or
        raise.
    checkpoint_dir : None or path, default=None
        Folder where, after every epoch, the model, its optimizer state and
        the history so far are saved atomically to ``checkpoint.keras`` (a
        file :func:`skface.load` reads). If a ``fit`` is interrupted, a new
        ``fit`` with the same ``checkpoint_dir`` and ``warm_start=True``
        resumes after the last completed epoch and trains the epochs left
        over; only the epoch in progress is lost. Without ``warm_start`` a
        fit starts over and replaces the checkpoint.
    **kwargs
        scikeras routed parameters: ``optimizer__*``, ``loss__*``,
        ``metrics__*``, ``model__*``, ``compile__*``, ``fit__*``,
        ``predict__*`` (e.g. ``predict__batch_size``, 256 by default, 1024
        when a GPU is visible).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two labels, sorted; ``predict`` returns them.
    model_ : keras.Model
        The trained network.
    history_ : dict of list
        Per-epoch ``loss``, ``accuracy`` and, with early stopping,
        ``val_loss`` and ``val_accuracy``. When ``fit`` had the sensitive
        groups, also ``accuracy[<group>]``, ``fair_metric`` and
        ``worst_group_accuracy`` (``val_`` ones on the hold-out) and, with
        Group DRO, ``group_weight[<group>]`` (q at the end of each epoch).
    sensitive_groups_ : ndarray
        The sensitive groups of the training data, sorted (only when ``fit``
        had them).
    group_weights_ : pandas.Series
        Group DRO's weights q after the last epoch, indexed by group (and
        class, with ``dro_groups="sensitive_x_class"``). Only with
        ``fairness="group_dro"``; a ``warm_start`` fit, a ``checkpoint_dir``
        resume and a saved or pickled estimator continue from them.
    precision_ : str
        The dtype policy used ("float32", "mixed_bfloat16" or "mixed_float16").
    skipped_images_ : ndarray of str
        Image files the last ``fit`` left out with ``on_bad_image="skip"``
        (empty when none).

    Examples
    --------
    >>> import numpy as np
    >>> from skface import FaceCNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 64)
    >>> X = (rng.random((64, 16, 16, 3)) * 80 + 150 * y[:, None, None, None]).astype("uint8")
    >>> clf = FaceCNNClassifier(image_size=16, filters=(4, 8), dense_units=8,
    ...                         epochs=3, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    # Under metadata routing, a search given sensitive_features for its
    # scorer (fair_scorer) also passes them to fit, where they stratify the
    # hold-out and fill the per-group history (and group-aware training
    # needs them): requested by default, so that the routing set-up a
    # Fair_Metric search already has keeps working.
    # set_fit_request(sensitive_features=False) opts out.
    __metadata_request__fit = {"sensitive_features": True}
    __metadata_request__partial_fit = {"sensitive_features": True}

    _parameter_constraints = {
        "model": [None, callable],
        "image_size": [Interval(Integral, 8, None, closed="left"), tuple, list],
        "image_column": [Hashable],
        "backbone": [StrOptions({"cnn", *_model.BACKBONES})],
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
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "min_images": [Interval(Integral, 0, None, closed="left")],
        "scoring": [StrOptions(set(_groups.SCORING))],
        "sensitive_column": [None, Hashable],
        "fairness": [None, StrOptions(set(_groups.FAIRNESS))],
        "dro_groups": [StrOptions(set(_groups.DRO_GROUPS))],
        "dro_step_size": [Interval(Real, 0, None, closed="left")],
        "dro_adjustment": [Interval(Real, 0, None, closed="left")],
        "gap_weight": [Interval(Real, 0, None, closed="left")],
        "group_sampling": [None, StrOptions(set(_groups.GROUP_SAMPLING))],
        "precision": [StrOptions(set(_device.PRECISIONS))],
        "distribution": [None, StrOptions(set(_device.DISTRIBUTIONS)), tf.distribute.Strategy],
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
        "on_bad_image": [StrOptions({"raise", "skip"})],
        "checkpoint_dir": [None, str, os.PathLike],
    }

    def __init__(
        self,
        model=None,
        *,
        image_size=(80, 80),
        image_column="filename",
        backbone="cnn",
        backbone_weights=None,
        trainable_backbone=False,
        filters=(32, 64, 128),
        dense_units=512,
        dropout=0.5,
        augment=False,
        focal_gamma=5.0,
        focal_alpha=0.25,
        apply_class_balancing=False,
        learning_rate=0.001,
        threshold=0.5,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=1,
        tol=0.0,
        min_images=32_000,  # chosen from measurement: see skface/_early_stopping.py
        scoring="loss",
        sensitive_column=None,
        fairness=None,
        dro_groups="sensitive_x_class",
        dro_step_size=0.01,
        dro_adjustment=0.0,
        gap_weight=1.0,
        group_sampling=None,
        precision="auto",
        distribution=None,
        optimizer="adam",
        loss=None,
        metrics=None,
        batch_size=32,
        epochs=10,
        callbacks=None,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        run_eagerly=False,
        on_bad_image="raise",
        checkpoint_dir=None,
        **kwargs,
    ):
        # scikeras's BaseWrapper.__init__ is not called on purpose: it would
        # add parameters this estimator does not use (build_fn,
        # validation_split, shuffle, ...) to get_params.
        self.model = model
        self.image_size = image_size
        self.image_column = image_column
        self.backbone = backbone
        self.backbone_weights = backbone_weights
        self.trainable_backbone = trainable_backbone
        self.filters = filters
        self.dense_units = dense_units
        self.dropout = dropout
        self.augment = augment
        self.focal_gamma = focal_gamma
        self.focal_alpha = focal_alpha
        self.apply_class_balancing = apply_class_balancing
        self.learning_rate = learning_rate
        self.threshold = threshold
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.min_images = min_images
        self.scoring = scoring
        self.sensitive_column = sensitive_column
        self.fairness = fairness
        self.dro_groups = dro_groups
        self.dro_step_size = dro_step_size
        self.dro_adjustment = dro_adjustment
        self.gap_weight = gap_weight
        self.group_sampling = group_sampling
        self.precision = precision
        self.distribution = distribution
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.epochs = epochs
        self.callbacks = callbacks
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.run_eagerly = run_eagerly
        self.on_bad_image = on_bad_image
        self.checkpoint_dir = checkpoint_dir
        vars(self).update(kwargs)

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        # scikeras lists BaseEstimator before ClassifierMixin, so the mixin's
        # tags never apply; set what a binary image classifier is.
        tags = BaseEstimator.__sklearn_tags__(self)
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags(multi_class=False)
        tags.target_tags.required = True
        tags.non_deterministic = True  # only reproducible with an int random_state on a CPU
        tags.input_tags.two_d_array = False  # images, not tabular features
        tags.input_tags.three_d_array = True
        tags.input_tags.string = True  # image paths
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_") and hasattr(self, "classes_")

    def __repr__(self, N_CHAR_MAX=700):
        return BaseEstimator.__repr__(self, N_CHAR_MAX=N_CHAR_MAX)

    def __sklearn_clone__(self):
        # A Strategy owns devices (and, across hosts, a cluster connection):
        # clones, e.g. GridSearchCV's, share it rather than deep-copy it.
        strategy = self.distribution
        if not isinstance(strategy, tf.distribute.Strategy):
            return super().__sklearn_clone__()
        shallow = object.__new__(type(self))  # not copy.copy: it would pickle (__getstate__)
        shallow.__dict__.update(self.__dict__, distribution=None)
        twin = shallow.__sklearn_clone__()
        twin.distribution = strategy
        return twin

    def __getstate__(self):
        state = super().__getstate__()
        if isinstance(state.get("distribution"), tf.distribute.Strategy):
            warnings.warn(
                f"distribution={state['distribution']!r} is a tf.distribute.Strategy, which "
                "cannot be pickled: the unpickled estimator has distribution=None (its "
                "trained network predicts on one device). Pass distribution='mirrored' "
                "or set the strategy again after loading.",
                UserWarning,
                stacklevel=2,
            )
            state = {**state, "distribution": None}
        return state

    # ------------------------------------------------------------ validation
    def _image_hw(self):
        return _validation.check_image_size(self.image_size)

    def _check_params(self):
        """Refuse unknown keywords (with a suggestion), then validate every
        parameter against ``_parameter_constraints`` and the few rules that
        constraints cannot say (the contents of ``image_size`` and ``filters``)."""
        prefixes = tuple(p + "__" for p in _ROUTING_PREFIXES)
        known = list(inspect.signature(FaceCNNClassifier.__init__).parameters)
        for key in self.get_params(deep=False):
            if key not in known and not key.startswith(prefixes):
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise TypeError(
                    f"FaceCNNClassifier got an unexpected keyword argument {key!r}{hint}; besides "
                    "its parameters it accepts only scikeras routed parameters starting "
                    f"with {', '.join(prefixes)}."
                )
        self._validate_params()
        self._image_hw()
        if self.backbone != "cnn":
            _validation.check_backbone_weights(self.backbone_weights)
        if self.backbone == "cnn" and (
            len(self.filters) == 0
            or not all(isinstance(f, Integral) and not isinstance(f, bool) and f >= 1 for f in self.filters)
        ):
            raise ValueError(
                f"filters={self.filters!r} is not accepted; accepted: a non-empty sequence of ints >= 1."
            )

    def _draw_seed(self):
        """The one seed of a fit: the network, the hold-out split and the
        shuffle all derive from it, so a RandomState advances once per fit."""
        if self.random_state is None:
            return None
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    # -------------------------------------------------------------- building
    def _build_keras_model(self, seed=None):
        if self.model is not None:
            self._random_state = seed
            return super()._build_keras_model()
        return _model.build_model(
            image_size=self._image_hw(),
            filters=tuple(self.filters),
            dense_units=self.dense_units,
            dropout=self.dropout,
            backbone=self.backbone,
            backbone_weights=self.backbone_weights,
            trainable_backbone=self.trainable_backbone,
            augment=self.augment,
            dtype=self.precision_,
            seed=seed,
        )

    def _check_model_param(self):
        # scikeras's version also reads build_fn, which this estimator does not have
        model = self.model
        if isinstance(model, keras.Model):
            return lambda: model
        return model

    def _get_compile_kwargs(self):
        params = self.get_params()
        kwargs = super()._get_compile_kwargs()
        if kwargs["loss"] is None:
            kwargs["loss"] = keras.losses.BinaryFocalCrossentropy(
                gamma=self.focal_gamma,
                alpha=self.focal_alpha,
                apply_class_balancing=self.apply_class_balancing,
            )
        if kwargs["metrics"] is None:
            kwargs["metrics"] = [keras.metrics.BinaryAccuracy(name="accuracy")]
        optimizer = kwargs["optimizer"]
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            optimizer = optimizer()  # a class without routed parameters
        elif optimizer is self.optimizer:
            # never train (and so mutate) the caller's optimizer instance
            optimizer = optimizer.__class__.from_config(optimizer.get_config())
        if not isinstance(self.optimizer, keras.optimizers.Optimizer) and (
            "optimizer__learning_rate" not in params
        ):
            optimizer.learning_rate = self.learning_rate
        if self.precision_ == "mixed_float16" and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer
        ):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        kwargs["optimizer"] = optimizer
        kwargs.update({k[len("compile__"):]: v for k, v in params.items() if k.startswith("compile__")})
        return kwargs

    def _ensure_compiled_model(self):
        model = self.model_
        if not model.compiled:
            model.compile(**self._get_compile_kwargs())
        # a loaded, resumed or warm-started network keeps the run_eagerly it was
        # compiled with, and its traced functions: follow the parameter instead
        if bool(model.run_eagerly) != bool(self.run_eagerly):
            model.run_eagerly = bool(self.run_eagerly)
            model.train_function = model.test_function = model.predict_function = None

    def _new_network(self, classes, seed):
        """A freshly built and compiled network for ``classes`` (under the
        caller's strategy scope), with an empty history."""
        self.classes_ = classes
        self.precision_ = _device.resolve_precision(self.precision)
        self.model_ = self._build_keras_model(seed)
        self.history_ = defaultdict(list)
        self._ensure_compiled_model()

    def initialize(self, X, y):
        """Build and compile the network for images ``X`` and labels ``y``
        without training it; ``predict`` then gives the untrained network's
        answers, and ``fit`` with ``warm_start=True`` trains it further.

        Returns
        -------
        self : FaceCNNClassifier
        """
        self._check_params()
        images = _validation.check_images(X, image_column=self.image_column, stat_files=False)
        _, classes = _validation.check_target(y, len(images))
        seed = self._draw_seed()
        strategy = _device.resolve_distribution(self.distribution)
        with _seeded(seed), _device.strategy_scope(strategy):
            self._new_network(classes, seed)
        self._initialize_callbacks()
        return self

    # --------------------------------------------------------------- fitting
    def fit(self, X, y, sample_weight=None, *, sensitive_features=None, **kwargs):
        """Train the network on images ``X`` with labels ``y``.

        Parameters
        ----------
        X : array of shape (n, H, W[, C]), sequence of paths, or DataFrame
            uint8 (0-255) or float (0-1) images of any size (resized to
            ``image_size``), grayscale or RGB; image file paths (JPEG, PNG,
            BMP, GIF), read lazily; or a DataFrame whose ``image_column``
            holds paths.
        y : array-like of shape (n,)
            Two distinct labels of any type (0/1, -1/1, bool, strings).
        sample_weight : array-like of shape (n,), default=None
            Non-negative weight of each sample in the training loss and in the
            validation loss used by early stopping.
        sensitive_features : array-like of shape (n,), default=None
            The sensitive group of each sample (e.g. gender -1/1; at least two
            groups, no missing values), or set ``sensitive_column``. Needed by
            ``fairness``, ``group_sampling`` and a group ``scoring``; when
            given, the validation hold-out is stratified on class x group and
            ``history_`` has every group's accuracy. Under scikit-learn
            metadata routing it is requested by default, so a search's
            ``fit(X, y, sensitive_features=g)`` passes it on (opt out with
            ``set_fit_request(sensitive_features=False)``).
        **kwargs
            Passed to ``keras.Model.fit`` (prefer ``fit__`` parameters).

        Returns
        -------
        self : FaceCNNClassifier
        """
        epochs = kwargs.pop("epochs", getattr(self, "fit__epochs", self.epochs))
        return self._fit(
            X,
            y,
            sample_weight,
            sensitive_features,
            epochs=epochs,
            warm_start=self.warm_start,
            hold_out=self.early_stopping,
            fit_kwargs=kwargs,
            resume=True,
        )

    def partial_fit(self, X, y, classes=None, sample_weight=None, *, sensitive_features=None, **kwargs):
        """Train for one epoch, keeping the current weights (no early stopping).

        ``classes`` gives both labels on a first call whose ``y`` holds only
        one; ``sensitive_features`` are as in :meth:`fit`.
        """
        return self._fit(
            X,
            y,
            sample_weight,
            sensitive_features,
            epochs=1,
            warm_start=True,
            hold_out=False,
            classes=classes,
            fit_kwargs=kwargs,
        )

    def _fit(
        self,
        X,
        y,
        sample_weight,
        sensitive_features,
        *,
        epochs,
        warm_start,
        hold_out,
        classes=None,
        fit_kwargs,
        resume=False,
    ):
        self._check_params()
        # with "skip", missing and empty files are found by the decode pass
        # below instead of raising in the stat check
        images = _validation.check_images(
            X, image_column=self.image_column, stat_files=self.on_bad_image == "raise"
        )
        n = len(images)
        checkpoint = _checkpoint.resume_point(self, warm_start)
        warm = warm_start and (self.__sklearn_is_fitted__() or checkpoint is not None)
        if warm and classes is None:
            classes = checkpoint.classes() if checkpoint is not None else self.classes_
        y, classes = _validation.check_target(y, n, classes)
        sample_weight = _validation.check_sample_weight(sample_weight, n)
        previous = None
        if warm:
            previous = checkpoint.groups() if checkpoint is not None else getattr(self, "sensitive_groups_", None)
        groups = _groups.fit_groups(self, X, sensitive_features, n, previous=previous)
        self.skipped_images_ = np.array([], dtype=object)
        if self.on_bad_image == "skip":
            images, y, sample_weight, groups, self.skipped_images_ = _input.leave_out_unreadable(
                images, y, sample_weight, groups
            )
        if self.class_weight is not None:
            class_w = compute_sample_weight(self.class_weight, y)
            sample_weight = class_w if sample_weight is None else sample_weight * class_w
        y_bin = (y == classes[1]).astype(np.float32)
        seed = self._draw_seed()

        # A new network, and one resumed from a checkpoint (loaded afresh), is
        # built or loaded under the strategy, so that its variables (and the
        # optimizer's) are mirrored; Keras then trains and predicts with it.
        fresh = not warm or checkpoint is not None
        strategy = _device.resolve_distribution(self.distribution) if fresh else None
        with _seeded(seed):
            with _device.strategy_scope(strategy):
                if checkpoint is not None:
                    checkpoint.restore(self)
                    if resume and not checkpoint.finished:
                        epochs = checkpoint.epochs_left  # finish the interrupted fit
                elif not warm:
                    self._new_network(classes, seed)
                self._ensure_compiled_model()
            self._initialize_callbacks()
            train_idx, val_idx = self._split(y_bin, hold_out, seed, groups)
            if groups is not None:
                self.sensitive_groups_ = groups.values
            elif fresh and checkpoint is None:
                self.__dict__.pop("sensitive_groups_", None)
            self._attach_objective(groups, y_bin, train_idx)
            history = self._run_keras_fit(
                images, y_bin, sample_weight, groups, train_idx, val_idx, epochs, seed, fit_kwargs
            )
        for key, values in history.history.items():
            self.history_[key] += list(values)
        if val_idx is None:
            self._warn_if_degenerate(images, train_idx, "training data")
        else:
            self._warn_if_degenerate(images, val_idx, "validation hold-out")
        return self

    def _split(self, y_bin, hold_out, seed, groups=None):
        indices = np.arange(len(y_bin))
        if not hold_out:
            return indices, None
        n_val = math.ceil(len(indices) * self.validation_fraction)
        if len(indices) < 2 or n_val >= len(indices):
            raise ValueError(
                f"early_stopping holds out validation_fraction={self.validation_fraction} "
                f"of {len(indices)} samples, which leaves none to train on; pass more "
                "samples or early_stopping=False."
            )
        codes = None if groups is None else groups.codes
        return _split.class_group_split(indices, n_val, y_bin, codes, random_state=seed)

    def _attach_objective(self, groups, y_bin, train_idx):
        """Give the network the group objective of this fit (or none)."""
        network = self.model_
        if not isinstance(network, _model.FaceNetwork):
            if groups is not None:
                raise ValueError(
                    f"sensitive_features (or sensitive_column) need the network skface builds, but "
                    f"model={self.model!r} gave a {type(network).__name__}. Leave model=None and "
                    "choose the network with backbone, filters and dense_units, or fit without groups."
                )
            return
        if groups is None:
            if network.group_objective is not None:
                network.attach(None)
            return
        config = dict(
            group_names=groups.names(),
            fairness=self.fairness,
            dro_groups=self.dro_groups,
            step_size=self.dro_step_size,
            adjustment=self.dro_adjustment,
            gap_weight=self.gap_weight,
            cell_counts=_groups.cell_counts(groups.subset(train_idx), y_bin[train_idx]),
            threshold=self.threshold,
            loss=network.loss,
        )
        current = network.group_objective
        if current is not None and current.key == _group_objective.config_key(**config):
            # a continuation (partial_fit, warm_start) with the same objective
            # keeps it, its q and the traced training step
            return
        initial = None
        if self.fairness == "group_dro":
            weights = getattr(self, "group_weights_", None)
            initial = None if weights is None else weights.to_numpy()
        with network.distribute_strategy.scope():
            objective = _group_objective.GroupObjective(initial_weights=initial, **config)
        network.attach(objective)

    @property
    def group_weights_(self):
        """Group DRO's weights q after the last epoch (see the class docstring)."""
        groups = self.__dict__.get("sensitive_groups_")
        if self.fairness != "group_dro" or groups is None or not hasattr(self, "history_"):
            raise AttributeError(
                "group_weights_ exists after a fit with fairness='group_dro' and sensitive groups."
            )
        names = _groups.dro_names(_groups.group_names(groups), self.classes_, self.dro_groups)
        keys = [_groups.weight_key(name) for name in names]
        if not all(self.history_.get(key) for key in keys):
            raise AttributeError(
                "group_weights_: this estimator has not trained with fairness='group_dro' and "
                f"dro_groups={self.dro_groups!r} yet."
            )
        return _groups.weights_series(groups, [self.history_[key][-1] for key in keys], self.classes_,
                                      self.dro_groups)

    def _run_keras_fit(
        self, images, y_bin, sample_weight, groups, train_idx, val_idx, epochs, seed, fit_kwargs
    ):
        params = self.get_params()
        fit_args = {k[len("fit__"):]: v for k, v in params.items() if k.startswith("fit__") and k != "fit__epochs"}
        fit_args.update(fit_kwargs)
        batch_size = fit_args.pop("batch_size", self.batch_size)
        image_size = self._image_hw()
        replicas = _device.replicas(self.model_, batch_size, "batch_size")
        train_idx = _device.fill_replicas(train_idx, replicas)
        # with groups the labels carry them: (class, group code)
        y_data = y_bin if groups is None else np.column_stack([y_bin, groups.codes]).astype(np.float32)
        train = _input.make_dataset(
            images,
            image_size=image_size,
            batch_size=batch_size,
            y=y_data,
            sample_weight=sample_weight,
            indices=train_idx,
            shuffle=True,
            seed=seed,
            repeat=True,
            balance=None if self.group_sampling is None else groups.cells(y_bin),
        )
        callbacks = list(self._fit_callbacks)
        if groups is not None and self.fairness == "group_dro":
            callbacks.append(_group_objective.GroupWeightsLogger(
                _groups.dro_names(groups.names(), self.classes_, self.dro_groups)
            ))
        validation = {}
        if val_idx is not None:
            val_batch = fit_args.pop("validation_batch_size", None) or _device.round_up(
                max(batch_size, _device.default_predict_batch()), replicas
            )
            _device.replicas(self.model_, val_batch, "validation_batch_size")
            val_idx = _device.fill_replicas(val_idx, replicas)
            validation = {
                "validation_data": _input.make_dataset(
                    images,
                    image_size=image_size,
                    batch_size=val_batch,
                    y=y_data,
                    sample_weight=sample_weight,
                    indices=val_idx,
                    repeat=True,
                ),
                "validation_steps": math.ceil(len(val_idx) / val_batch),
            }
            monitor, mode = _groups.SCORING[self.scoring]
            callbacks.append(
                _early_stopping.EarlyStopping(
                    batch_size=batch_size,
                    patience=self.n_iter_no_change,
                    tol=self.tol,
                    min_images=self.min_images,
                    monitor=monitor,
                    mode=mode,
                )
            )
        initial_epoch = len(self.history_.get("loss", []))
        if self.checkpoint_dir is not None:
            # last, so that it saves the weights early stopping restored
            callbacks.append(_checkpoint.callback(self, initial_epoch + epochs))
        with _input.naming_bad_files(images), quiet_tensorflow_warnings(self.verbose):
            return self.model_.fit(
                train,
                epochs=initial_epoch + epochs,
                initial_epoch=initial_epoch,
                steps_per_epoch=math.ceil(len(train_idx) / batch_size),
                callbacks=callbacks,
                verbose=self.verbose,
                shuffle=False,  # the dataset reshuffles itself every epoch
                **validation,
                **fit_args,
            )

    # ------------------------------------------------------------ prediction
    def predict_proba(self, X, **kwargs):
        """Probabilities of the two classes, shape ``(n, 2)``, columns in ``classes_`` order."""
        check_is_fitted(self)
        self._validate_params()
        images = _validation.check_images(X, image_column=self.image_column)
        p1 = self._positive_proba(images, np.arange(len(images)), **kwargs)
        return np.column_stack([1.0 - p1, p1])

    def embed(self, X, **kwargs):
        """The features the network's output layer reads, one row per image.

        With the default network, the activations of the dense layer after
        the convolutions (``dense_units`` columns; dropout is off at
        prediction). A linear model on them is what the output layer is:
        :class:`skface.fairness.DeepFeatureReweighting` retrains one on
        group-balanced data. Images are streamed as in :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of images, list of paths or DataFrame
            As in :meth:`predict_proba`.
        **kwargs : dict
            Passed to Keras's ``predict`` (``batch_size``, ``verbose``).

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
        """
        check_is_fitted(self)
        self._validate_params()
        images = _validation.check_images(X, image_column=self.image_column)
        last = self.model_.layers[-1]
        with _device.strategy_scope(self.model_.distribute_strategy):
            features = keras.Model(self.model_.inputs, last.input, name="features")
        return self._network_outputs(features, images, np.arange(len(images)), **kwargs)

    def _positive_proba(self, images, indices, **kwargs):
        """The network's probability of class 1 for ``images[indices]``."""
        return self._network_outputs(self.model_, images, indices, **kwargs).reshape(-1)

    def _network_outputs(self, network, images, indices, *, verbose=None, **kwargs):
        """``network``'s outputs for ``images[indices]``, float64, one row per
        image (``verbose`` is Keras's, by default the estimator's)."""
        verbose = self.verbose if verbose is None else verbose
        params = self.get_params()
        batch_size = kwargs.pop("batch_size", params.get("predict__batch_size") or _device.default_predict_batch())
        # even shares for the replicas; the padding is dropped below
        n, replicas = len(indices), _device.replicas(self.model_)
        batch_size = _device.round_up(batch_size, replicas)
        dataset = _input.make_dataset(
            images,
            image_size=self._image_hw(),
            batch_size=batch_size,
            indices=_device.fill_replicas(np.asarray(indices), replicas),
        )
        if not hasattr(self, "_predict_callbacks"):
            self._initialize_callbacks()
        with _input.naming_bad_files(images), quiet_tensorflow_warnings(verbose):
            outputs = network.predict(dataset, verbose=verbose, callbacks=self._predict_callbacks, **kwargs)
        outputs = np.asarray(outputs, dtype=np.float64)
        return outputs.reshape(len(outputs), -1)[:n]

    def _warn_if_degenerate(self, images, indices, where):
        """One ``UserWarning`` when the trained network gives (nearly) every
        image of the hold-out (or, without one, of the training data) the same
        class or about the same probability: a model that learned nothing.

        At most :data:`_DIAGNOSTIC_IMAGES` images, evenly spread, are predicted.
        """
        step = max(1, len(indices) // _DIAGNOSTIC_IMAGES)
        # silent: a progress bar of an internal check would read as a predict the user asked for
        proba = self._positive_proba(images, indices[::step][:_DIAGNOSTIC_IMAGES], verbose=0)
        message = degenerate_predictions(proba, self.threshold, classes=tuple(self.classes_.tolist()))
        if message is not None:
            warn_at_caller(f"After fit, on {len(proba)} images of the {where}: {message}")

    def predict(self, X, **kwargs):
        """Labels in the caller's encoding: ``classes_[1]`` where the probability of
        class 1 exceeds ``threshold``, else ``classes_[0]``."""
        proba = self.predict_proba(X, **kwargs)
        return self.classes_[(proba[:, 1] > self.threshold).astype(int)]

    def score(self, X, y, sample_weight=None):
        """(Weighted) accuracy of ``predict(X)`` against ``y``."""
        check_is_fitted(self)
        y_pred = self.predict(X)
        y = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y).ravel()
        if len(y) != len(y_pred):
            raise ValueError(
                f"X has {len(y_pred)} samples but y has {len(y)} labels; pass one label per sample."
            )
        sample_weight = _validation.check_sample_weight(sample_weight, len(y))
        return float(accuracy_score(y, y_pred, sample_weight=sample_weight))

    # ----------------------------------------------------------- persistence
    def save(self, path, *, include_optimizer=False):
        """Save to a ``.keras`` file: the Keras model plus this estimator's
        parameters, classes and history as JSON. Load it with :func:`skface.load`,
        which uses Keras safe mode (no pickle, no arbitrary code).

        Parameters
        ----------
        path : str or os.PathLike
            Ends in ``.keras``; written atomically.
        include_optimizer : bool, default=False
            Also save the optimizer's state (Adam's moments double the file);
            only needed to continue training with the same optimizer state.
            Checkpoints (``checkpoint_dir``) always include it.

        Returns
        -------
        path : str
        """
        return _serialization.save_estimator(self, path, include_optimizer=include_optimizer)


def load(path, *, verbose=0):
    """Load a skface estimator saved with ``save``.

    Reads what :meth:`FaceCNNClassifier.save`,
    :meth:`skface.fairness.FairThresholdClassifier.save` and
    :meth:`skface.fairness.DeepFeatureReweighting.save` write (and
    checkpoints). The networks are loaded in Keras safe mode: a file whose
    model would run arbitrary code (a ``Lambda`` layer) is refused. Pickle
    files, by contrast, run whatever code they hold when loaded: unpickle
    estimators only from sources you trust.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.keras`` file written by ``save`` (or a checkpoint written with
        ``checkpoint_dir``).
    verbose : int, default=0
        The loaded estimators' ``verbose``: the file's own value (how it was
        trained) is not what a later ``predict`` should print.

    Returns
    -------
    FaceCNNClassifier, FairThresholdClassifier or DeepFeatureReweighting
        Fitted, ready to ``predict``: the class that saved the file.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> from skface import FaceCNNClassifier, load
    >>> X = np.random.default_rng(0).integers(0, 255, (20, 16, 16, 3), dtype=np.uint8)
    >>> y = np.arange(20) % 2
    >>> clf = FaceCNNClassifier(image_size=16, filters=(4,), dense_units=4, epochs=1,
    ...                         early_stopping=False, random_state=0).fit(X, y)
    >>> path = clf.save(os.path.join(tempfile.mkdtemp(), "model.keras"))
    >>> np.allclose(load(path).predict_proba(X), clf.predict_proba(X))
    True
    """
    estimator, state = _serialization.read_estimator(path, FaceCNNClassifier, verbose=verbose)
    # a file saved without the optimizer holds an uncompiled network; compiled,
    # it predicts exactly as it did before saving (same Keras graph settings)
    estimator._ensure_compiled_model()
    wrapper = state.get("wrapper")
    if wrapper is None:
        return estimator
    from .fairness import DeepFeatureReweighting, FairThresholdClassifier

    wrappers = {cls.__name__: cls for cls in (FairThresholdClassifier, DeepFeatureReweighting)}
    if wrapper.get("class") not in wrappers:
        raise ValueError(
            f"{os.fspath(path)!r} holds a {wrapper.get('class')!r}, which this skface "
            f"{_serialization.__version__} cannot read (it reads FaceCNNClassifier, "
            f"{' and '.join(wrappers)} files): it was written by a newer skface."
        )
    group_estimator = None
    if wrapper.get("group_estimator"):
        with _serialization.read_member(path, wrapper["group_estimator"]) as member:
            group_estimator = load(member, verbose=verbose)
    return wrappers[wrapper["class"]]._from_saved(estimator, group_estimator, wrapper)
