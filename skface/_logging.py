"""TensorFlow's own logging: quiet unless the user asks for it.

TensorFlow's C++ runtime prints start-up lines (``Could not find cuda
drivers``, ``failed call to cuInit``, the absl notice) and per-error lines
(``Local rendezvous is aborting ...``) that hide skface's one-line messages,
and its Python logger warns about ``tf.function`` retracing whenever a search
builds a new network per fit, which is what a search does. The C++ level is
read once, when TensorFlow is imported, so :func:`quiet_tensorflow_startup`
runs before skface imports it; the Python warnings are quieted only while a
``verbose=0`` estimator trains or predicts.
"""

import contextlib
import logging
import os

#: the C++ log level skface sets when the user has not set one: errors surface
#: as Python exceptions, so the runtime's own lines add nothing but noise
TF_CPP_LOG_LEVEL = "3"


def quiet_tensorflow_startup():
    """Set ``TF_CPP_MIN_LOG_LEVEL`` unless the user has: call before importing TensorFlow."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_CPP_LOG_LEVEL)


@contextlib.contextmanager
def quiet_tensorflow_warnings(verbose):
    """With ``verbose=0``, raise TensorFlow's Python logger to ERROR for the
    duration, then put the caller's level back."""
    if verbose:
        yield
        return
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
