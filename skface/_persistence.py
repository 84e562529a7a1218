"""Saving and loading FaceCNNClassifier without pickle.

A saved estimator is one Keras ``.keras`` file (a zip archive) with one more
member, ``skface.json``: the estimator's JSON-representable parameters and its
fitted state (classes, history, precision). Loading uses Keras safe mode, so a
file cannot run code of its own (a ``Lambda`` layer, say) on your machine.
"""

import json
import os
import warnings
import zipfile
from collections import defaultdict

import numpy as np

from ._atomic import atomic_path
from ._version import __version__

_MEMBER = "skface.json"


def _to_json(value):
    """JSON form of a parameter value, or raise TypeError."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):  # e.g. checkpoint_dir=pathlib.Path(...)
        return os.fspath(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _to_json(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)


def _from_json(value):
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_from_json(v) for v in value["__tuple__"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def estimator_state(estimator, params, history=None):
    """The JSON state saved beside the Keras model (``skface.json``)."""
    history = estimator.history_ if history is None else history
    return {
        "skface_version": __version__,
        "params": params,
        "classes": _to_json(estimator.classes_.tolist()),
        "classes_dtype": estimator.classes_.dtype.str if estimator.classes_.dtype != object else "O",
        "precision": estimator.precision_,
        "history": {k: [float(v) for v in vals] for k, vals in history.items()},
    }


def write_model_file(model, state, path):
    """Write ``model`` (with its optimizer state) and ``state`` to one
    ``.keras`` file, atomically: a crash leaves the previous file intact."""
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(_MEMBER, json.dumps(state, indent=1))


def json_params(estimator):
    """The estimator's parameters that JSON can hold, and the names of the others."""
    params, skipped = {}, []
    for name, value in estimator.get_params(deep=False).items():
        try:
            params[name] = _to_json(value)
        except TypeError:
            skipped.append(name)
    return params, skipped


def save_estimator(estimator, path):
    """Write ``estimator`` to ``path`` atomically; see :meth:`FaceCNNClassifier.save`."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"path={path!r} must end in '.keras' (Keras's model file format).")
    params, skipped = json_params(estimator)
    if skipped:
        warnings.warn(
            f"Parameters {skipped} are not JSON values and are not saved; the loaded "
            "estimator has their defaults (the trained network keeps its loss and optimizer).",
            UserWarning,
            stacklevel=3,
        )
    state = estimator_state(estimator, params)
    write_model_file(estimator.model_, state, path)
    return path


def load(path):
    """Load a :class:`~skface.FaceCNNClassifier` saved with ``save``.

    The network is loaded in Keras safe mode: a file whose model would run
    arbitrary code (a ``Lambda`` layer) is refused. Pickle files, by contrast,
    run whatever code they hold when loaded: unpickle estimators only from
    sources you trust.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.keras`` file written by ``FaceCNNClassifier.save``.

    Returns
    -------
    FaceCNNClassifier
        Fitted, ready to ``predict``.

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
    from ._classifier import FaceCNNClassifier

    model, state = read_model_file(path)
    estimator = FaceCNNClassifier(**_from_json(state["params"]))
    restore_state(estimator, model, state)
    return estimator


def restore_state(estimator, model, state):
    """Give ``estimator`` the fitted state read by :func:`read_model_file`."""
    dtype = object if state["classes_dtype"] == "O" else np.dtype(state["classes_dtype"])
    estimator.classes_ = np.asarray(_from_json(state["classes"]), dtype=dtype)
    estimator.precision_ = state["precision"]
    estimator.history_ = defaultdict(list, state["history"])
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
        if _MEMBER not in archive.namelist():
            raise ValueError(
                f"{path!r} holds no skface estimator ({_MEMBER} is missing): it was not "
                "written by FaceCNNClassifier.save. Load a plain Keras model with "
                "keras.saving.load_model."
            )
        state = json.loads(archive.read(_MEMBER))
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
