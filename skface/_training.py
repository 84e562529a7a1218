"""One fit of FaceCNNClassifier, from the caller's arguments to the trained network.

Data flows one way. :func:`prepare` checks ``X``, ``y``, ``sample_weight``
and the sensitive groups once, before any training, and returns one
:class:`FitData`; everything after it (the hold-out, the group objective,
the tf.data pipelines, the post-fit check) reads that carrier and subsets it
with :meth:`FitData.subset`, never four parallel arrays by hand.
:func:`train` then splits the hold-out, attaches the group objective, runs
``keras.Model.fit`` and records the history. The estimator keeps its
parameters and decides what kind of fit this is (new, warm, resumed).
"""

import contextlib
import math
import random
from dataclasses import dataclass, replace

import keras
import numpy as np
from scikeras._utils import route_params
from sklearn.utils.class_weight import compute_sample_weight

from . import _checkpoint, _device, _early_stopping, _group_objective, _groups, _input, _model, _split, _validation
from ._diagnostics import degenerate_predictions
from ._logging import quiet_tensorflow_warnings, warn_at_caller
from ._options import SCORING

#: at most this many images are predicted after fit to tell whether the model learned anything:
#: 1,024 JPEGs took 0.8-1.5 s of a 5 s one-epoch fit on 2 cores; 256 say "one class for all" as well
DIAGNOSTIC_IMAGES = 256


@contextlib.contextmanager
def seeded(seed):
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


@dataclass(frozen=True)
class FitData:
    """What one fit trains on, checked and aligned: sample ``i`` is
    ``images[i]`` with label ``y[i]``, weight ``sample_weight[i]`` and group
    ``groups.codes[i]``.

    Attributes
    ----------
    images : skface._validation.ImageSet
    y : ndarray
        Labels in the caller's encoding.
    classes : ndarray of shape (2,)
    sample_weight : ndarray or None
    groups : skface._groups.FitGroups or None
    skipped : ndarray of str
        Image files left out with ``on_bad_image="skip"``.
    """

    images: _validation.ImageSet
    y: np.ndarray
    classes: np.ndarray
    sample_weight: np.ndarray | None
    groups: _groups.FitGroups | None
    skipped: np.ndarray

    def __len__(self):
        return len(self.y)

    @property
    def y_bin(self):
        """The labels as the network sees them: 1.0 for ``classes[1]``."""
        return (self.y == self.classes[1]).astype(np.float32)

    def targets(self):
        """The labels the network trains on; with groups, (class, group code) per sample."""
        if self.groups is None:
            return self.y_bin
        return np.column_stack([self.y_bin, self.groups.codes]).astype(np.float32)

    def subset(self, keep):
        """The samples where the boolean mask ``keep`` is True, all fields together."""
        return replace(
            self,
            images=self.images.subset(keep),
            y=self.y[keep],
            sample_weight=None if self.sample_weight is None else self.sample_weight[keep],
            groups=None if self.groups is None else self.groups.subset(keep),
        )


def prepare(estimator, X, y, sample_weight, sensitive_features, *, classes=None, previous_groups=None):
    """Check every input of ``estimator.fit`` and return one :class:`FitData`.

    ``classes`` and ``previous_groups`` come from the fit being continued
    (a ``warm_start`` or a checkpoint): the labels and groups must match them.
    With ``on_bad_image="skip"`` the unreadable files (found by one decode
    pass) leave with their labels, weights and groups.
    """
    # with "skip", missing and empty files are found by the decode pass
    # below instead of raising in the stat check
    inputs = _validation.check_fit_inputs(
        X, y, sample_weight, sensitive_features, image_column=estimator.image_column,
        sensitive_column=estimator.sensitive_column, classes=classes, stat_files=estimator.on_bad_image == "raise",
    )  # fmt: skip
    groups = _groups.fit_groups(estimator, inputs.groups, inputs.groups_name, previous=previous_groups)
    data = FitData(inputs.images, inputs.y, inputs.classes, inputs.sample_weight, groups,
                   skipped=np.array([], dtype=object))
    if estimator.on_bad_image == "skip":
        data = _input.leave_out_unreadable(data)
    if estimator.class_weight is not None:
        class_w = compute_sample_weight(estimator.class_weight, data.y)
        weights = class_w if data.sample_weight is None else data.sample_weight * class_w
        data = replace(data, sample_weight=weights)
    return data


def holdout(data, validation_fraction, seed):
    """Training and validation indices: the validation part stratified on class
    (x group, when the fit has groups), or every index and None without a hold-out."""
    indices = np.arange(len(data))
    if validation_fraction is None:
        return indices, None
    n_val = math.ceil(len(indices) * validation_fraction)
    if len(indices) < 2 or n_val >= len(indices):
        raise ValueError(
            f"early_stopping holds out validation_fraction={validation_fraction} "
            f"of {len(indices)} samples, which leaves none to train on; pass more "
            "samples or early_stopping=False."
        )
    codes = None if data.groups is None else data.groups.codes
    return _split.class_group_split(indices, n_val, data.y_bin, codes, random_state=seed)


def train(estimator, data, *, hold_out, epochs, seed, fit_kwargs):
    """Train ``estimator.model_`` on ``data`` for ``epochs`` epochs, extend
    ``estimator.history_`` and set ``threshold_``; then warn once if the
    network learned nothing."""
    train_idx, val_idx = holdout(data, estimator.validation_fraction if hold_out else None, seed)
    images = _input.decoded_once(data.images, estimator.cache_images, estimator._image_hw(), epochs)
    data = replace(data, images=images)
    attach_objective(estimator, data, train_idx)
    history = keras_fit(estimator, data, train_idx, val_idx, epochs=epochs, seed=seed, fit_kwargs=fit_kwargs)
    for key, values in history.history.items():
        estimator.history_[key] += list(values)
    auto = estimator.threshold == "auto"
    chooses = auto and val_idx is not None  # the threshold, from every hold-out image
    checked = val_idx if val_idx is not None else train_idx
    if not chooses:  # at most DIAGNOSTIC_IMAGES images, evenly spread: the check alone needs no more
        checked = checked[:: max(1, len(checked) // DIAGNOSTIC_IMAGES)][:DIAGNOSTIC_IMAGES]
    proba = estimator._network_outputs(estimator.model_, data.images, checked, verbose=0).reshape(-1)
    if chooses:
        weights = None if data.sample_weight is None else data.sample_weight[val_idx]
        estimator.threshold_ = prior_matching_threshold(proba, data.y_bin[val_idx], weights)
    else:
        estimator.threshold_ = 0.5 if auto else float(estimator.threshold)
    warn_if_degenerate(estimator, proba, "training data" if val_idx is None else "validation hold-out")


def prior_matching_threshold(proba, y_bin, weights=None):
    """The threshold at which the hold-out's share of images predicted class 1
    (``proba > threshold``) equals its share of class 1, both weighted by
    ``weights`` (the sample and class weights of the fit: weights that shift
    the classes shift the threshold with them).

    It lies halfway between the probabilities of the last image predicted
    class 1 and the first predicted class 0, ordered from the most probable.
    """
    weights = np.ones(len(proba)) if weights is None else np.asarray(weights, dtype=np.float64)
    total = weights.sum()
    if len(proba) == 0 or total <= 0:
        return 0.5
    order = np.argsort(-proba, kind="stable")
    ranked = proba[order]
    share = float(np.dot(weights, y_bin) / total)
    # how many of the most probable images make up that share of the weight, or come closest to it
    reached = np.concatenate([[0.0], np.cumsum(weights[order]) / total])
    k = int(np.argmin(np.abs(reached - share)))
    if k <= 0:
        return float(min(1.0, ranked[0]))
    if k >= len(ranked):
        return float(max(0.0, np.nextafter(ranked[-1], -np.inf)))
    return float((ranked[k - 1] + ranked[k]) / 2)


def attach_objective(estimator, data, train_idx):
    """Give the network the group objective of this fit (or none)."""
    network, groups = estimator.model_, data.groups
    if not isinstance(network, _model.FaceNetwork):
        if groups is not None:
            raise ValueError(
                f"sensitive_features (or sensitive_column) need the network skface builds, but "
                f"model={estimator.model!r} gave a {type(network).__name__}. Leave model=None and "
                "choose the network with backbone, filters and dense_units, or fit without groups."
            )
        return
    if groups is None:
        if network.group_objective is not None:
            network.attach(None)
        return
    config = dict(
        group_names=groups.names(),
        fairness=estimator.fairness,
        dro_groups=estimator.dro_groups,
        step_size=estimator.dro_step_size,
        adjustment=estimator.dro_adjustment,
        gap_weight=estimator.gap_weight,
        cell_counts=_groups.cell_counts(groups.subset(train_idx), data.y_bin[train_idx]),
        # the training-time measures of the groups (soft accuracy, Fair_Metric in history_) use
        # 0.5 when the threshold is chosen after training
        threshold=0.5 if estimator.threshold == "auto" else estimator.threshold,
        loss=network.loss,
    )
    current = network.group_objective
    if current is not None and current.key == _group_objective.config_key(**config):
        # a continuation (partial_fit, warm_start) with the same objective
        # keeps it, its q and the traced training step
        return
    initial = None
    if estimator.fairness == "group_dro":
        weights = getattr(estimator, "group_weights_", None)
        initial = None if weights is None else weights.to_numpy()
    with network.distribute_strategy.scope():
        objective = _group_objective.GroupObjective(initial_weights=initial, **config)
    network.attach(objective)


class ConciseProgbar(keras.callbacks.ProgbarLogger):
    """Keras's progress output without the per-group values (``accuracy[-1]``,
    ``group_weight[...]``...): with groups they made an epoch line hundreds of
    characters long. ``history_`` keeps every value; Fair_Metric and the
    worst-group accuracy stay on the line."""

    @staticmethod
    def _shown(logs):
        return None if logs is None else {k: v for k, v in logs.items() if "[" not in k}

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, self._shown(logs))

    def on_test_batch_end(self, batch, logs=None):
        super().on_test_batch_end(batch, self._shown(logs))

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, self._shown(logs))

    def on_test_end(self, logs=None):
        super().on_test_end(self._shown(logs))


def keras_fit(estimator, data, train_idx, val_idx, *, epochs, seed, fit_kwargs):
    """``keras.Model.fit`` on tf.data pipelines of ``data``'s training and
    validation parts, with early stopping and checkpoints; returns its History."""
    params = estimator.get_params()
    # fit__ parameters, routed as scikeras routes them; fit__epochs is the estimator's epochs
    fit_args = {k: v for k, v in route_params(params, "fit", pass_filter=set(), strict=True).items() if k != "epochs"}
    fit_args.update(fit_kwargs)
    batch_size = fit_args.pop("batch_size", estimator.batch_size)
    network, groups = estimator.model_, data.groups
    replicas = _device.replicas(network, batch_size, "batch_size")
    train_idx = _device.fill_replicas(train_idx, replicas)
    pipeline = dict(image_size=estimator._image_hw(), y=data.targets(), sample_weight=data.sample_weight)
    train_data = _input.make_dataset(
        data.images, batch_size=batch_size, indices=train_idx, shuffle=True, seed=seed, repeat=True,
        balance=None if estimator.group_sampling is None else groups.cells(data.y_bin), **pipeline,
    )  # fmt: skip
    callbacks = list(estimator._fit_callbacks)
    if groups is not None and estimator.fairness == "group_dro":
        callbacks.append(_group_objective.GroupWeightsLogger(
            _groups.dro_names(groups.names(), estimator.classes_, estimator.dro_groups)
        ))
    validation = {}
    if val_idx is not None:
        val_batch = fit_args.pop("validation_batch_size", None) or _device.round_up(
            max(batch_size, _device.default_predict_batch()), replicas
        )
        _device.replicas(network, val_batch, "validation_batch_size")
        val_idx = _device.fill_replicas(val_idx, replicas)
        validation = {
            "validation_data": _input.make_dataset(
                data.images, batch_size=val_batch, indices=val_idx, repeat=True, **pipeline
            ),
            "validation_steps": math.ceil(len(val_idx) / val_batch),
        }
        monitor, mode = SCORING[estimator.scoring]
        callbacks.append(_early_stopping.EarlyStopping(
            batch_size=batch_size, patience=estimator.n_iter_no_change, tol=estimator.tol,
            min_images=estimator.min_images, monitor=monitor, mode=mode,
        ))  # fmt: skip
    initial_epoch = len(estimator.history_.get("loss", []))
    if estimator.checkpoint_dir is not None:
        # last, so that it saves the weights early stopping restored
        callbacks.append(_checkpoint.callback(estimator, initial_epoch + epochs))
    if estimator.verbose and groups is not None and not any(
        isinstance(c, keras.callbacks.ProgbarLogger) for c in callbacks
    ):
        callbacks.append(ConciseProgbar())  # in place of the one Keras would add
    with _input.naming_bad_files(data.images), quiet_tensorflow_warnings(estimator.verbose):
        return network.fit(
            train_data,
            epochs=initial_epoch + epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=math.ceil(len(train_idx) / batch_size),
            callbacks=callbacks,
            verbose=estimator.verbose,
            shuffle=False,  # the dataset reshuffles itself every epoch
            **validation,
            **fit_args,
        )


def warn_if_degenerate(estimator, proba, where):
    """One ``UserWarning`` when the trained network gives (nearly) every
    checked image (``proba``: the hold-out's, or without one the training
    data's) the same class or about the same probability: a model that
    learned nothing."""
    classes = tuple(estimator.classes_.tolist())
    message = degenerate_predictions(proba, decision_threshold(estimator), classes=classes)
    if message is not None:
        warn_at_caller(f"After fit, on {len(proba)} images of the {where}: {message}")


def decision_threshold(estimator):
    """The threshold ``predict`` applies: ``threshold``, or with "auto" the
    ``threshold_`` the last fit chose (0.5 for a network never fitted here)."""
    if estimator.threshold != "auto":
        return float(estimator.threshold)
    return getattr(estimator, "threshold_", 0.5)
