"""skface.load: reads any estimator skface saved, whichever class wrote it.

The file says which class saved it (``FaceCNNClassifier`` alone, or one of
the meta-estimators of :mod:`skface.fairness` around it); the network is
read in Keras safe mode by :mod:`skface._serialization`.
"""

import os

from . import _serialization
from ._classifier import FaceCNNClassifier


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
