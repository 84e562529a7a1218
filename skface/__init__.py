"""skface: a Keras face-attribute CNN as a scikit-learn estimator, with fairness.

The public names:

- :class:`FaceCNNClassifier` -- the reference CNN wrapped as a scikit-learn
  classifier (built on :class:`scikeras.wrappers.KerasClassifier`);
- :func:`load` -- load an estimator saved with ``FaceCNNClassifier.save``;
- :mod:`skface.metrics` -- Fair_Metric, per-group accuracy and scorers;
- :mod:`skface.fairness` -- weighting, balancing, thresholds, audits;
- :mod:`skface.datasets` -- synthetic faces and loaders for image folders;
- :mod:`skface.utils` -- process-level helpers for scaling out (threads).

TensorFlow (and scikeras, which imports it) is imported only when one of the
names that needs it is first used, so ``import skface`` stays fast; its C++
logging is quieted first unless ``TF_CPP_MIN_LOG_LEVEL`` is set.
"""

import importlib

from ._logging import filter_third_party_warnings, import_tensorflow, quiet_tensorflow_startup
from ._version import __version__

# before TensorFlow is first imported (by FaceCNNClassifier, say): its C++
# start-up lines would bury skface's messages; TF_CPP_MIN_LOG_LEVEL overrides
quiet_tensorflow_startup()
filter_third_party_warnings()  # what dependencies say about their own code

__all__ = [
    "FaceCNNClassifier",
    "load",
    "datasets",
    "fairness",
    "metrics",
    "utils",
    "__version__",
]

# name -> module that defines it; resolved on first attribute access
_LAZY = {
    "FaceCNNClassifier": "._classifier",
    "load": "._load",
}
_SUBPACKAGES = {"datasets", "fairness", "metrics", "utils"}


def __getattr__(name):
    if name in _LAZY:
        import_tensorflow()  # first, so that its start-up lines stay off the terminal
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module("." + name, __name__)
    else:
        raise AttributeError(f"module 'skface' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
