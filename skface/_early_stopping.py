"""Early stopping whose patience does not shrink with the data set.

This module owns the stopping rule of :class:`skface.FaceCNNClassifier`:
when to stop, and which epoch's weights to keep. The estimator only builds
the callback from its parameters (``n_iter_no_change``, ``tol``,
``min_images``); it has no stopping logic of its own.

Why not ``keras.callbacks.EarlyStopping(patience=1)`` as the reference
workflow used: its epochs were CelebA's, 2,979 optimiser steps (95,000
images) each, so one epoch without improvement meant thousands of steps. On
a few thousand faces an epoch is 50-150 steps, and the validation loss of a
network trained with the focal loss (gamma 5) wobbles by more than its
early gains; one worse epoch then stopped training after 150-300 steps
with a model that predicted class 1 for 5 % of the faces where 20 % are
positive (``make_faces(8000, image_size=64)``). Counting the patience in
epochs made the rule 20 times more impatient on small data.

The rule here: the validation loss is checked once per epoch (so
``history_`` keeps one ``val_loss`` per epoch); an epoch improves on the best
when its loss is lower than the best by more than ``tol``; training stops
once ``patience`` epochs in a row have not improved *and* the network has
been trained on at least ``min_images`` images; at the end the weights of
the best epoch are restored. The estimator's default ``min_images``, 32,000 images
(1,000 steps of 32), is a third of a CelebA epoch, so there it is over
within the first epoch and the rule is the reference's (patience 1 cannot
stop before the second epoch anyway); on small data it keeps training until
the network has had 1,000 optimiser steps. It was chosen by replaying rules
on measured learning curves at 32 and 64 px (``benchmarks/default_learns.py``,
``docs/default_learns.md``): 16,000 and 24,000 still let a 64 px seed stop
in the early wobble (restoring epoch 2 or 3 of 10), 32,000 is the smallest
tried that restored the same epoch as never stopping on all six curves (three
seeds at 32 and at 64 px), and more only cost epochs.

Images are counted as the optimizer's ``iterations`` times the batch size.
``iterations`` is part of the optimizer state that checkpoints and
``warm_start`` keep, so the count survives a resume from ``checkpoint_dir``
(a resumed fit does not warm up again) and a ``warm_start`` continuation of a
trained network starts past the warm-up, with the reference patience. The
best loss, its weights and the epochs waited are not saved: a resumed fit
starts them afresh, which can only make it stop later, never earlier, and
restores the best epoch since the resume.
"""

import math
import numbers

import keras
import numpy as np


class EarlyStopping(keras.callbacks.Callback):
    """Stop when the validation loss stops improving, but not before the
    network has been trained on ``min_images`` images.

    Parameters
    ----------
    batch_size : int
        Images per optimiser step (the global batch).
    patience : int, default=1
        Epochs in a row without improvement after which training stops.
    tol : float, default=0.0
        An epoch improves when its monitored value is lower than the best by
        more than ``tol`` (absolute, as scikit-learn's ``tol``).
    min_images : int, default=0
        Training does not stop before the network has been trained on this
        many images (optimiser steps x ``batch_size``, counted over the
        network's life, so across resumed and warm-started fits).
    monitor : str, default="val_loss"
        The logged quantity to watch.
    mode : {"min", "max"}, default="min"
        Whether lower ("min", a loss) or higher ("max", an accuracy) is better.
    restore_best_weights : bool, default=True
        Keep the weights of the best epoch when training ends.

    Attributes
    ----------
    best : float
        Best monitored value of this fit, negated when ``mode="max"`` (``inf``
        before the first epoch).
    best_epoch : int
        Epoch (0-based, as Keras counts) of ``best``.
    stopped_epoch : int or None
        Epoch after which training was stopped, None if it was not.
    """

    def __init__(self, *, batch_size, patience=1, tol=0.0, min_images=0, monitor="val_loss", mode="min",
                 restore_best_weights=True):
        super().__init__()
        # the estimator passes its parameters through unchecked: refuse bad ones here
        if not isinstance(min_images, numbers.Integral) or isinstance(min_images, bool) or min_images < 0:
            raise ValueError(f"min_images={min_images!r} is not accepted; accepted: an int >= 0.")
        if not isinstance(tol, numbers.Real) or isinstance(tol, bool) or not tol >= 0:
            raise ValueError(f"tol={tol!r} is not accepted; accepted: a float >= 0.")
        self.batch_size = batch_size
        self.patience = patience
        self.tol = tol
        self.min_images = min_images
        if mode not in ("min", "max"):
            raise ValueError(f"mode={mode!r} is not accepted; accepted: 'min', 'max'.")
        self.monitor = monitor
        self.mode = mode
        self.restore_best_weights = restore_best_weights

    def images_seen(self):
        """Images the network has been trained on, over all its fits."""
        return int(self.model.optimizer.iterations) * self.batch_size

    def on_train_begin(self, logs=None):
        # reset, so that one instance can serve several fits
        self.best = math.inf
        self.best_epoch = None
        self.best_weights = None
        self.wait = 0
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None or not np.isfinite(current):
            # a NaN loss is never an improvement, so it counts as a waited epoch
            current = math.inf
        elif self.mode == "max":
            current = -float(current)  # one rule for both: lower is better
        if current < self.best - self.tol or self.best_epoch is None:
            self.best, self.best_epoch, self.wait = float(current), epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
        if self.wait >= self.patience and self.images_seen() >= self.min_images:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
