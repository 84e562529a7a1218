"""FaceCNNClassifier: the estimator's parameters, tags and protocol.

The class decides what kind of fit a call is (new, ``warm_start``, resumed
from a checkpoint, ``partial_fit``) and hands the work to the modules that
own each concern: one fit's data, hold-out and Keras ``fit``
(``_training``), the network and how it is compiled (``_model``), where it
runs (``_device``), checkpoints (``_checkpoint``), model files
(``_serialization``) and the tf.data pipeline that ``predict`` streams
through (``_input``); its defaults live in ``_options``. ``skface.load``
(``_load``) reads a saved estimator back.
"""

from collections import defaultdict

import keras
import numpy as np
import pandas as pd
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator
from sklearn.metrics import accuracy_score
from sklearn.utils import check_random_state
from sklearn.utils._tags import ClassifierTags
from sklearn.utils.validation import check_is_fitted

from . import _checkpoint, _device, _groups, _input, _model, _params, _serialization, _training, _validation
from ._options import DEFAULTS


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
        None builds the network from the parameters below; otherwise as in
        scikeras, taking ``(H, W, 3)`` float images in [0, 1].
    image_size : int or (int, int), default=(80, 80)
        Height and width the images are resized to.
    image_column : str, default="filename"
        The column of a DataFrame X that holds the image paths (the other
        columns stay available to scorers).
    backbone : {"cnn", "resnet50", "mobilenet_v2", "efficientnet_b0"}, default="cnn"
        The reference small CNN, or a Keras application under the same head.
    backbone_weights : None, "imagenet" or path, default=None
        Weights of the backbone ("imagenet" downloads them on first use).
    trainable_backbone : bool, default=False
        Train the backbone too (pretrained weights keep batch-norm in
        inference mode; see :ref:`training-backbones`).
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
        Weight of class 1 in the focal loss, applied only with
        ``apply_class_balancing=True`` (:ref:`training-focal-loss`).
    apply_class_balancing : bool, default=False
        Use ``focal_alpha`` (the reference did not).
    learning_rate : float, default=3e-4
        Of the optimizer (``optimizer__learning_rate`` wins when given); the
        reference's 0.001 learns less on photographs (:ref:`training-defaults`).
    threshold : float or "auto", default="auto"
        ``predict`` returns class 1 where ``predict_proba[:, 1] > threshold``;
        "auto": ``threshold_``, chosen by ``fit`` on the hold-out so that the
        share predicted class 1 is the share of class 1 (:ref:`training-threshold`).
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` (stratified on class, and group when
        given), stop when ``scoring`` has not improved for ``n_iter_no_change``
        epochs after ``min_images`` images, and restore the best weights.
    validation_fraction : float, default=0.2
        Share of the training data held out when ``early_stopping``.
    n_iter_no_change : int, default=3
        Patience of early stopping, in epochs (the reference's: 1).
    tol : float, default=0.0
        An epoch improves only when its ``scoring`` is better by more than ``tol``.
    min_images : int, default=32000
        Early stopping never stops before the network has been trained on
        this many images over its life (``0`` is the reference's rule); why
        32,000: :ref:`training-early-stopping`.
    scoring : {"loss", "accuracy", "fair_metric", "worst_group_accuracy"}, default="loss"
        What early stopping watches on the hold-out; the last two need the
        sensitive groups (worst group: over ``dro_groups``' groups).
    sensitive_column : None or str, default=None
        The column of a DataFrame X holding each image's sensitive group:
        ``fit`` reads the groups from it, no routing needed.
    fairness : {None, "group_dro", "gap_penalty"}, default=None
        What the network trains on, given the sensitive groups: the loss
        (None), online Group DRO (Sagawa et al., 2020: the groups' losses
        weighted by q, ``q <- q exp(dro_step_size (L_g + C / sqrt(n_g)))``),
        or the loss times ``1 + gap_weight x`` the spread of the groups' soft
        accuracies (:ref:`fair-training`). At their defaults neither raised
        Fair_Metric; Group DRO with balanced sampling and early stopping on
        Fair_Metric did on synthetic faces (:ref:`fair-training-measured`).
    dro_groups : {"sensitive_x_class", "sensitive"}, default="sensitive_x_class"
        Group DRO's groups (also those of ``scoring="worst_group_accuracy"``):
        sensitive group x class, or the sensitive groups alone.
    dro_step_size : float, default=0.01
        Group DRO's step size for q (0 keeps q uniform).
    dro_adjustment : float, default=0.0
        Group DRO's adjustment C, added as ``C / sqrt(n_g)`` in q's update.
    gap_weight : float, default=1.0
        Weight of the gap penalty relative to the loss.
    group_sampling : {None, "balanced"}, default=None
        "balanced" draws every sensitive group x class cell equally often
        (Idrissi et al., 2022); an epoch keeps ``ceil(n / batch_size)`` steps.
    precision : {"auto", "float32", "mixed_bfloat16", "mixed_float16"}, default="auto"
        Compute precision of the layers; "auto" picks mixed_float16 on a GPU,
        mixed_bfloat16 on a CPU with bfloat16 instructions, else float32
        (:ref:`training-precision`).
    distribution : None, "mirrored" or tf.distribute.Strategy, default=None
        Where the network trains: one device (None), a new
        :class:`tf.distribute.MirroredStrategy` over the local GPUs
        ("mirrored"), or a Strategy of one host, shared by ``clone`` and
        neither saved nor pickled. ``batch_size`` is the global batch. Several
        workers are refused: Keras 3's ``fit`` cannot train under them
        (:ref:`scaling`).
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
        Seeds weights, dropout, the hold-out and the shuffling (reproducible on a CPU).
    verbose : int, default=0
        0 is silent, 1 shows Keras progress bars, 2 one line per epoch.
    run_eagerly : bool, default=False
        Run Keras eagerly (debugging).
    on_bad_image : {"raise", "skip"}, default="raise"
        What ``fit`` does with image files it cannot read: stop with a
        ``ValueError`` naming them, or leave them out with one warning (one
        extra decode pass; see ``skipped_images_``). ``predict`` never skips
        (:ref:`reliability`).
    cache_images : "auto" or bool, default="auto"
        Decode image files once per ``fit`` and keep the pixels for the next
        epochs (True), or decode every epoch (False); "auto": when there is
        more than one epoch and they take at most 1/8 of the available memory
        (:ref:`performance-cache`).
    checkpoint_dir : None or path, default=None
        Folder where every epoch saves ``checkpoint.keras`` (model, optimizer,
        history) atomically; a later ``fit`` with ``warm_start=True`` resumes
        an interrupted one after its last completed epoch (:ref:`reliability`).
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
        Per-epoch ``loss``, ``accuracy`` (and ``val_`` ones); with the groups
        also ``accuracy[<group>]``, ``fair_metric``, ``worst_group_accuracy``
        and, with Group DRO, ``group_weight[<group>]`` (:ref:`fair-training-history`).
    sensitive_groups_ : ndarray
        The sorted sensitive groups of the training data (when ``fit`` had them).
    group_weights_ : pandas.Series
        Group DRO's q after the last epoch, by group (and class); continued
        by ``warm_start``, a resume, and a saved or pickled estimator.
    threshold_ : float
        The threshold "auto" chose (0.5 without a hold-out), else ``threshold``.
    precision_ : str
        The dtype policy used ("float32", "mixed_bfloat16" or "mixed_float16").
    skipped_images_ : ndarray of str
        Image files the last ``fit`` left out with ``on_bad_image="skip"``.

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

    # Requested by default: a search that routes sensitive_features to its
    # Fair_Metric scorer then also passes them to fit (stratified hold-out,
    # per-group history, group-aware training) with no set-up of its own.
    __metadata_request__fit = {"sensitive_features": True}
    __metadata_request__partial_fit = {"sensitive_features": True}

    _parameter_constraints = _params.CONSTRAINTS  # the defaults: _options, which the command line reads too
    def __init__(
        self,
        model=None,
        *,
        image_size=DEFAULTS["image_size"],
        image_column=DEFAULTS["image_column"],
        backbone=DEFAULTS["backbone"],
        backbone_weights=DEFAULTS["backbone_weights"],
        trainable_backbone=DEFAULTS["trainable_backbone"],
        filters=DEFAULTS["filters"],
        dense_units=DEFAULTS["dense_units"],
        dropout=DEFAULTS["dropout"],
        augment=DEFAULTS["augment"],
        focal_gamma=DEFAULTS["focal_gamma"],
        focal_alpha=DEFAULTS["focal_alpha"],
        apply_class_balancing=DEFAULTS["apply_class_balancing"],
        learning_rate=DEFAULTS["learning_rate"],
        threshold=DEFAULTS["threshold"],
        early_stopping=DEFAULTS["early_stopping"],
        validation_fraction=DEFAULTS["validation_fraction"],
        n_iter_no_change=DEFAULTS["n_iter_no_change"],
        tol=DEFAULTS["tol"],
        min_images=DEFAULTS["min_images"],
        scoring=DEFAULTS["scoring"],
        sensitive_column=DEFAULTS["sensitive_column"],
        fairness=DEFAULTS["fairness"],
        dro_groups=DEFAULTS["dro_groups"],
        dro_step_size=DEFAULTS["dro_step_size"],
        dro_adjustment=DEFAULTS["dro_adjustment"],
        gap_weight=DEFAULTS["gap_weight"],
        group_sampling=DEFAULTS["group_sampling"],
        precision=DEFAULTS["precision"],
        distribution=DEFAULTS["distribution"],
        optimizer=DEFAULTS["optimizer"],
        loss=DEFAULTS["loss"],
        metrics=DEFAULTS["metrics"],
        batch_size=DEFAULTS["batch_size"],
        epochs=DEFAULTS["epochs"],
        callbacks=DEFAULTS["callbacks"],
        class_weight=DEFAULTS["class_weight"],
        warm_start=DEFAULTS["warm_start"],
        random_state=DEFAULTS["random_state"],
        verbose=DEFAULTS["verbose"],
        run_eagerly=DEFAULTS["run_eagerly"],
        on_bad_image=DEFAULTS["on_bad_image"],
        cache_images=DEFAULTS["cache_images"],
        checkpoint_dir=DEFAULTS["checkpoint_dir"],
        **kwargs,
    ):
        # not scikeras's __init__: it would add parameters unused here (build_fn, shuffle...) to get_params
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
        self.cache_images = cache_images
        self.checkpoint_dir = checkpoint_dir
        vars(self).update(kwargs)

    def __sklearn_tags__(self):
        # scikeras lists BaseEstimator before ClassifierMixin: the mixin's tags never apply
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
        return _device.clone_sharing_strategy(self, super().__sklearn_clone__)

    def __getstate__(self):
        return _device.picklable_state(super().__getstate__())

    def _image_hw(self):
        return _validation.check_image_size(self.image_size)

    def _check_params(self):
        _params.check(self)

    def _draw_seed(self):
        """The one seed of a fit: the network, the hold-out split and the
        shuffle all derive from it, so a RandomState advances once per fit."""
        if self.random_state is None:
            return None
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _build_keras_model(self, seed=None):
        if self.model is not None:
            self._random_state = seed
            return super()._build_keras_model()
        return _model.build_model(
            image_size=self._image_hw(), filters=tuple(self.filters), dense_units=self.dense_units,
            dropout=self.dropout, backbone=self.backbone, backbone_weights=self.backbone_weights,
            trainable_backbone=self.trainable_backbone, augment=self.augment, dtype=self.precision_, seed=seed,
        )  # fmt: skip

    def _check_model_param(self):
        # scikeras's version also reads build_fn, which this estimator does not have
        model = self.model
        if isinstance(model, keras.Model):
            return lambda: model
        return model

    def _get_compile_kwargs(self):
        return _model.compile_kwargs(self, super()._get_compile_kwargs())

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
        """Build and compile the network for images ``X`` and labels ``y`` without
        training it (``fit`` with ``warm_start=True`` trains it); returns self."""
        self._check_params()
        images = _validation.check_images(X, image_column=self.image_column, stat_files=False)
        _, classes = _validation.check_target(y, len(images))
        seed = self._draw_seed()
        strategy = _device.resolve_distribution(self.distribution)
        with _training.seeded(seed), _device.strategy_scope(strategy):
            self._new_network(classes, seed)
        self._initialize_callbacks()
        return self

    def fit(self, X, y, sample_weight=None, *, sensitive_features=None, **kwargs):
        """Train the network on images ``X`` with labels ``y``.

        Parameters
        ----------
        X : array of shape (n, H, W[, C]), sequence of paths, or DataFrame
            uint8 (0-255) or float (0-1) images of any size, grayscale or RGB;
            image file paths, read lazily; or a DataFrame whose
            ``image_column`` holds paths (:ref:`input`).
        y : array-like of shape (n,)
            Two distinct labels of any type (0/1, -1/1, bool, strings).
        sample_weight : array-like of shape (n,), default=None
            Non-negative weight of each sample in the training loss and in the
            validation loss used by early stopping.
        sensitive_features : array-like of shape (n,), default=None
            The sensitive group of each sample (at least two groups), or set
            ``sensitive_column``. Needed by ``fairness``, ``group_sampling``
            and a group ``scoring``; stratifies the hold-out and adds every
            group's accuracy to ``history_``. Requested by default under
            metadata routing (opt out: ``set_fit_request(sensitive_features=False)``).
        **kwargs
            Passed to ``keras.Model.fit`` (prefer ``fit__`` parameters).

        Returns
        -------
        self : FaceCNNClassifier
        """
        epochs = kwargs.pop("epochs", getattr(self, "fit__epochs", self.epochs))
        return self._fit(X, y, sample_weight, sensitive_features, epochs=epochs, warm_start=self.warm_start,
                         hold_out=self.early_stopping, fit_kwargs=kwargs, resume=True)

    def partial_fit(self, X, y, classes=None, sample_weight=None, *, sensitive_features=None, **kwargs):
        """Train for one epoch, keeping the current weights (no early stopping).

        ``classes`` gives both labels on a first call whose ``y`` holds only
        one; ``sensitive_features`` are as in :meth:`fit`.
        """
        return self._fit(X, y, sample_weight, sensitive_features, epochs=1, warm_start=True, hold_out=False,
                         classes=classes, fit_kwargs=kwargs)

    def _fit(self, X, y, sample_weight, sensitive_features, *, epochs, warm_start, hold_out, classes=None,
             fit_kwargs, resume=False):
        self._check_params()
        checkpoint = _checkpoint.resume_point(self, warm_start)
        warm = warm_start and (self.__sklearn_is_fitted__() or checkpoint is not None)
        previous = None
        if warm:
            if classes is None:
                classes = checkpoint.classes() if checkpoint is not None else self.classes_
            previous = checkpoint.groups() if checkpoint is not None else getattr(self, "sensitive_groups_", None)
        data = _training.prepare(self, X, y, sample_weight, sensitive_features, classes=classes,
                                 previous_groups=previous)
        self.skipped_images_ = data.skipped
        seed = self._draw_seed()
        # a new or resumed network is built under the strategy, so that its
        # variables (and the optimizer's) are mirrored
        fresh = not warm or checkpoint is not None
        strategy = _device.resolve_distribution(self.distribution) if fresh else None
        with _training.seeded(seed):
            with _device.strategy_scope(strategy):
                if checkpoint is not None:
                    checkpoint.restore(self)
                    if resume and not checkpoint.finished:
                        epochs = checkpoint.epochs_left  # finish the interrupted fit
                elif not warm:
                    self._new_network(data.classes, seed)
                self._ensure_compiled_model()
            self._initialize_callbacks()
            if data.groups is not None:
                self.sensitive_groups_ = data.groups.values
            elif fresh and checkpoint is None:
                self.__dict__.pop("sensitive_groups_", None)
            _training.train(self, data, hold_out=hold_out, epochs=epochs, seed=seed, fit_kwargs=fit_kwargs)
        return self

    @property
    def group_weights_(self):
        """Group DRO's weights q after the last epoch (see the class docstring)."""
        return _groups.group_weights(self)

    def predict_proba(self, X, **kwargs):
        """Probabilities of the two classes, shape ``(n, 2)``, columns in ``classes_`` order."""
        check_is_fitted(self)
        self._validate_params()
        images = _validation.check_images(X, image_column=self.image_column)
        p1 = self._network_outputs(self.model_, images, np.arange(len(images)), **kwargs).reshape(-1)
        return np.column_stack([1.0 - p1, p1])

    def embed(self, X, **kwargs):
        """The features the network's output layer reads: one float64 row per image.

        With the default network, the ``dense_units`` activations before the
        output layer, which :class:`skface.fairness.DeepFeatureReweighting`
        retrains on group-balanced data. ``X`` and ``**kwargs`` (Keras's
        ``predict``: ``batch_size``, ``verbose``) as in :meth:`predict_proba`,
        streamed the same way.
        """
        check_is_fitted(self)
        self._validate_params()
        images = _validation.check_images(X, image_column=self.image_column)
        last = self.model_.layers[-1]
        with _device.strategy_scope(self.model_.distribute_strategy):
            features = keras.Model(self.model_.inputs, last.input, name="features")
        return self._network_outputs(features, images, np.arange(len(images)), **kwargs)

    def _network_outputs(self, network, images, indices, *, verbose=None, **kwargs):
        """``network``'s outputs for ``images[indices]``, float64, one row per image."""
        if not hasattr(self, "_predict_callbacks"):
            self._initialize_callbacks()
        default_batch = self.get_params().get("predict__batch_size") or _device.default_predict_batch()
        return _input.network_outputs(
            network, images, indices, image_size=self._image_hw(), batch_size=kwargs.pop("batch_size", default_batch),
            verbose=self.verbose if verbose is None else verbose, callbacks=self._predict_callbacks, **kwargs,
        )  # fmt: skip

    def predict(self, X, **kwargs):
        """Labels in the caller's encoding: ``classes_[1]`` where the probability of
        class 1 exceeds ``threshold`` (or ``threshold_``), else ``classes_[0]``."""
        proba = self.predict_proba(X, **kwargs)
        return self.classes_[(proba[:, 1] > _training.decision_threshold(self)).astype(int)]

    def score(self, X, y, sample_weight=None):
        """(Weighted) accuracy of ``predict(X)`` against ``y``."""
        check_is_fitted(self)
        y_pred = self.predict(X)
        y = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y).ravel()
        if len(y) != len(y_pred):
            raise ValueError(f"X has {len(y_pred)} samples but y has {len(y)} labels; pass one label per sample.")
        sample_weight = _validation.check_sample_weight(sample_weight, len(y))
        return float(accuracy_score(y, y_pred, sample_weight=sample_weight))

    def save(self, path, *, include_optimizer=False):
        """Save the network, parameters, classes and history to one ``.keras``
        file (atomically), which :func:`skface.load` reads in Keras safe mode.

        Parameters
        ----------
        path : str or os.PathLike
            Ends in ``.keras``.
        include_optimizer : bool, default=False
            Also save the optimizer's state (doubles the file), to continue
            training with it; checkpoints always include it.

        Returns
        -------
        path : str
        """
        return _serialization.save_estimator(self, path, include_optimizer=include_optimizer)

