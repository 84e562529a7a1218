"""How a run is saved: the one serialisation module (model files and their JSON state).

A saved estimator, and a checkpoint, is one Keras ``.keras`` file (a zip
archive) with one more member, ``skface.json``: the estimator's
JSON-representable parameters and its fitted state (classes, history,
precision, and for a checkpoint its progress). This module writes and reads
such files, turns parameters and classes into JSON and back, and imports no
estimator, so that the estimator and the checkpoint callback both use it
without importing each other. Loading uses Keras safe mode, so a file cannot
run code of its own (a ``Lambda`` layer, say) on your machine.
"""

import contextlib
import json
import os
import tempfile
import warnings
import zipfile
from collections import defaultdict

import numpy as np

from ._atomic import atomic_path
from ._version import __version__

MEMBER = "skface.json"


def to_json(value):
    """JSON form of a parameter value, or raise TypeError."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):  # e.g. checkpoint_dir=pathlib.Path(...)
        return os.fspath(value)
    if isinstance(value, tuple):
        return {"__tuple__": [to_json(v) for v in value]}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: to_json(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)


def from_json(value):
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(from_json(v) for v in value["__tuple__"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def classes_to_json(classes):
    """The fitted ``classes_`` as JSON: the labels and their dtype."""
    return {
        "classes": to_json(classes.tolist()),
        "classes_dtype": _dtype_name(classes),
    }


def classes_from_json(state):
    """The ``classes_`` array saved by :func:`classes_to_json`."""
    dtype = object if state["classes_dtype"] == "O" else np.dtype(state["classes_dtype"])
    return np.asarray(from_json(state["classes"]), dtype=dtype)


def estimator_state(estimator, params, history=None):
    """The JSON state saved beside the Keras model (``skface.json``)."""
    history = estimator.history_ if history is None else history
    return {
        "skface_version": __version__,
        "params": params,
        **classes_to_json(estimator.classes_),
        "precision": estimator.precision_,
        # None in a checkpoint written before the first fit has chosen one
        "threshold": getattr(estimator, "threshold_", None),
        "history": {k: [float(v) for v in vals] for k, vals in history.items()},
        "sensitive_groups": groups_to_json(getattr(estimator, "sensitive_groups_", None)),
    }


def groups_to_json(groups):
    """The fitted ``sensitive_groups_`` (or None) as JSON."""
    return None if groups is None else {"values": to_json(groups.tolist()), "dtype": _dtype_name(groups)}


def groups_from_json(state):
    """The ``sensitive_groups_`` array saved by :func:`groups_to_json`, or None."""
    saved = state.get("sensitive_groups")
    if saved is None:
        return None
    values = from_json(saved["values"])
    if saved["dtype"] != "O":
        return np.asarray(values, dtype=np.dtype(saved["dtype"]))
    # filled one by one: np.asarray would make tuples (intersectional groups) a 2-D array
    groups = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        groups[i] = value
    return groups


def _dtype_name(array):
    return array.dtype.str if array.dtype != object else "O"


def write_model_file(model, state, path, *, include_optimizer=True, members=None):
    """Write ``model`` and ``state`` to one ``.keras`` file, atomically: a
    crash leaves the previous file intact.

    ``include_optimizer=False`` leaves out the optimizer's variables (Adam's
    two moments double the file), which only resuming training needs.
    ``members`` maps more archive member names to their bytes (a second
    estimator's own file, for a meta-estimator).
    """
    with atomic_path(path, suffix=".keras") as tmp:
        if include_optimizer or model.optimizer is None:
            model.save(tmp)
        else:
            _save_without_optimizer(model, tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(MEMBER, json.dumps(state, indent=1))
            for name, data in (members or {}).items():
                archive.writestr(name, data)


def _save_without_optimizer(model, path):
    """``model.save`` without the optimizer's state, the model itself untouched.

    Keras 3's ``.keras`` format saves a compiled model's optimizer, and a
    compiled model always has one, so the file is written from an uncompiled
    clone holding the same weights. The estimator compiles a loaded network
    from its parameters when it trains again (``warm_start``); prediction
    needs no compilation. A model that cannot be cloned (a subclassed one)
    is saved as it is, optimizer included.
    """
    try:
        # from the configuration, not keras.models.clone_model, which
        # compiles the clone like the original (optimizer included)
        clone = model.__class__.from_config(model.get_config())
    except (NotImplementedError, TypeError, ValueError):
        model.save(path)
        return
    clone.set_weights(model.get_weights())
    clone.save(path)


def json_params(estimator):
    """The estimator's parameters that JSON can hold, and the names of the others."""
    params, skipped = {}, []
    for name, value in estimator.get_params(deep=False).items():
        try:
            params[name] = to_json(value)
        except TypeError:
            skipped.append(name)
    return params, skipped


def check_model_path(path):
    """``path`` as a string, refused unless it ends in ``.keras``."""
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"path={path!r} must end in '.keras' (Keras's model file format).")
    return path


def save_estimator(estimator, path, *, include_optimizer=False, wrapper=None, members=None):
    """Write ``estimator`` to ``path`` atomically; see :meth:`FaceCNNClassifier.save`.

    A meta-estimator around it (``FairThresholdClassifier``) saves through
    here too: ``wrapper`` is its JSON state, kept in ``skface.json`` beside
    the network's, and ``members`` the files of any further estimators.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    path = check_model_path(path)
    params, skipped = json_params(estimator)
    if skipped:
        warnings.warn(
            f"Parameters {skipped} are not JSON values and are not saved; the loaded "
            "estimator has their defaults.",
            UserWarning,
            stacklevel=3,
        )
    state = estimator_state(estimator, params)
    if wrapper is not None:
        state["wrapper"] = wrapper
    write_model_file(estimator.model_, state, path, include_optimizer=include_optimizer, members=members)
    return path


def saved_bytes(save):
    """The bytes of the ``.keras`` file that ``save(path)`` writes (to a
    temporary folder): a model in memory, for pickle or for a member of
    another file."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "file.keras")
        save(path)
        with open(path, "rb") as handle:
            return handle.read()


@contextlib.contextmanager
def keras_file(data):
    """A temporary ``.keras`` file holding ``data``; yields its path (Keras
    loads models from paths), removed afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "file.keras")
        with open(path, "wb") as handle:
            handle.write(data)
        yield path


def estimator_file_bytes(estimator):
    """The file ``estimator.save`` writes, as bytes (a member of another file)."""
    return saved_bytes(estimator.save)


def read_member(path, name):
    """Member ``name`` of the skface file ``path`` as a temporary ``.keras``
    file: a context manager that yields its path."""
    with zipfile.ZipFile(path) as archive:
        if name not in archive.namelist():
            raise ValueError(f"{path!r} is damaged: its member {name!r} is missing.")
        return keras_file(archive.read(name))


def read_estimator(path, estimator_class, **params):
    """Build ``estimator_class`` from the file's parameters (``params`` win)
    and give it the saved network and fitted state."""
    model, state = read_model_file(path)
    estimator = estimator_class(**{**from_json(state["params"]), **params})
    restore_state(estimator, model, state)
    return estimator, state


def restore_state(estimator, model, state):
    """Give ``estimator`` the fitted state read by :func:`read_model_file`."""
    estimator.classes_ = classes_from_json(state)
    estimator.precision_ = state["precision"]
    if state.get("threshold") is not None:  # files written before threshold_ existed have none
        estimator.threshold_ = float(state["threshold"])
    else:
        estimator.__dict__.pop("threshold_", None)
    estimator.history_ = defaultdict(list, state["history"])
    groups = groups_from_json(state)
    if groups is None:
        estimator.__dict__.pop("sensitive_groups_", None)
    else:
        estimator.sensitive_groups_ = groups
    estimator.model_ = model


def read_model_file(path):
    """Read a file written by :func:`write_model_file` in Keras safe mode.

    Returns the Keras model (compiled, with its optimizer state, when it was
    saved compiled) and the ``skface.json`` state. Raises ``ValueError`` for a
    missing file, a file of another kind, or a model that would run code.
    """
    import keras

    from . import _model  # noqa: F401  (registers skface's layers for loading)

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"Model file {path!r} does not exist.")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path!r} is not a skface model file: accepted are '.keras' files written "
            "by FaceCNNClassifier.save (a zip archive)."
        )
    with zipfile.ZipFile(path) as archive:
        if MEMBER not in archive.namelist():
            raise ValueError(
                f"{path!r} holds no skface estimator ({MEMBER} is missing): it was not "
                "written by FaceCNNClassifier.save. Load a plain Keras model with "
                "keras.saving.load_model."
            )
        state = json.loads(archive.read(MEMBER))
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except ValueError as exc:
        if "safe_mode" in str(exc) or "Lambda" in str(exc):
            raise ValueError(
                f"{path!r} holds a model that would run arbitrary code when loaded "
                "(e.g. a Lambda layer); skface loads models only in Keras safe mode."
            ) from exc
        raise
    return model, state
