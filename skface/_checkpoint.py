"""Per-epoch checkpoints of FaceCNNClassifier, and resuming from them.

A checkpoint is one file, ``<checkpoint_dir>/checkpoint.keras``, in the same
format as :meth:`FaceCNNClassifier.save` (so :func:`skface.load` reads it):
the Keras model with its optimizer state, and ``skface.json`` with the
estimator's parameters, classes, precision and history, plus a
``"checkpoint"`` entry saying how many epochs are done, at which epoch the
fit that wrote it was to end, and whether that fit finished. It is rewritten
atomically after every epoch, so a crash leaves the previous epoch's file.
"""

import copy
import json
import os
import zipfile
from collections import defaultdict

import keras

from . import _atomic, _serialization, _validation

CHECKPOINT_NAME = "checkpoint.keras"

# Parameters that shape the network: resuming with other values would load
# weights into a different architecture (or fail deep inside Keras).
_ARCHITECTURE = (
    "image_size",
    "backbone",
    "trainable_backbone",
    "filters",
    "dense_units",
    "dropout",
    "augment",
)


def checkpoint_path(directory):
    return os.path.join(os.fspath(directory), CHECKPOINT_NAME)


def prepare(directory):
    """Create ``directory`` and remove temporary files a killed run left there."""
    directory = os.fspath(directory)
    _validation.check_folder(directory, "checkpoint_dir")
    os.makedirs(directory, exist_ok=True)
    _atomic.remove_stale(directory)


class Checkpoint:
    """A checkpoint file found in ``checkpoint_dir``; the model loads on demand."""

    def __init__(self, path, state):
        self.path = path
        self.state = state
        info = state["checkpoint"]
        self.epochs_done = int(info["epoch"])
        self.fit_end_epoch = int(info["fit_end_epoch"])
        self.finished = bool(info["finished"])

    @property
    def epochs_left(self):
        """Epochs the interrupted fit still had to train."""
        return max(self.fit_end_epoch - self.epochs_done, 0)

    def classes(self):
        return _serialization.classes_from_json(self.state)

    def groups(self):
        """The sensitive groups the checkpointed fit trained on, or None."""
        return _serialization.groups_from_json(self.state)

    def restore(self, estimator):
        """Give ``estimator`` the checkpoint's model (compiled, with its
        optimizer state), classes, precision and history."""
        model, state = _serialization.read_model_file(self.path)
        _serialization.restore_state(estimator, model, state)


def resume_point(estimator, warm_start):
    """The checkpoint ``estimator.fit`` resumes from, or None.

    Creates ``checkpoint_dir`` (and clears what a killed run left there) when
    one is set. Only with ``warm_start``: an unfinished checkpoint (an
    interrupted fit) always wins; a finished one only when the estimator has
    no model in memory (a new process), since one in memory is at least as new.
    """
    if estimator.checkpoint_dir is None:
        return None
    prepare(estimator.checkpoint_dir)
    if not warm_start:
        return None
    checkpoint = find(estimator.checkpoint_dir, estimator)
    if checkpoint is not None and checkpoint.finished and estimator.__sklearn_is_fitted__():
        return None
    return checkpoint


def callback(estimator, fit_end_epoch):
    """The callback that checkpoints ``estimator``'s fit ending at ``fit_end_epoch``."""
    params, _ = _serialization.json_params(estimator)
    state = _serialization.estimator_state(estimator, params, history={})
    return EpochCheckpoint(checkpoint_path(estimator.checkpoint_dir), state, estimator.history_, fit_end_epoch)


def find(directory, estimator):
    """The checkpoint in ``directory`` as a :class:`Checkpoint`, or None.

    Raises ``ValueError`` if the file is not a checkpoint or was written by an
    estimator with another architecture.
    """
    path = checkpoint_path(directory)
    if not os.path.isfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            state = json.loads(archive.read(_serialization.MEMBER))
        state["checkpoint"]["epoch"]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError):
        raise ValueError(
            f"{path!r} is not a skface checkpoint; remove it or pass another "
            "checkpoint_dir (or warm_start=False to start over and replace it)."
        ) from None
    saved = state.get("params", {})
    for name in _ARCHITECTURE:
        here = _serialization.to_json(getattr(estimator, name))
        if name in saved and saved[name] != here:
            raise ValueError(
                f"checkpoint_dir={os.fspath(directory)!r} holds a checkpoint of another "
                f"network: {name}={_serialization.from_json(saved[name])!r} there, "
                f"{getattr(estimator, name)!r} here. Use the same {name}, another "
                "checkpoint_dir, or warm_start=False to start over."
            )
    return Checkpoint(path, state)


class EpochCheckpoint(keras.callbacks.Callback):
    """Write the checkpoint after every epoch, and once more when training
    ends (after early stopping has restored the best weights)."""

    def __init__(self, path, state, history, fit_end_epoch):
        super().__init__()
        self.path = path
        self.state = state
        self._history = defaultdict(list, copy.deepcopy(dict(history)))
        self.fit_end_epoch = fit_end_epoch
        self.epochs_done = len(self._history.get("loss", []))

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self._history[key].append(float(value))
        self.epochs_done = epoch + 1
        self._write(finished=False)

    def on_train_end(self, logs=None):
        self._write(finished=True)

    def _write(self, *, finished):
        state = dict(
            self.state,
            history=dict(self._history),
            checkpoint={
                "epoch": self.epochs_done,
                "fit_end_epoch": self.fit_end_epoch,
                "finished": finished,
            },
        )
        _serialization.write_model_file(self.model, state, self.path)
