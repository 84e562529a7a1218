"""Noise from the libraries skface runs on: quiet unless the user asks for it.

TensorFlow's C++ runtime prints start-up lines (``Could not find cuda
drivers``, ``failed call to cuInit``, the absl notice) and per-error lines
(``Local rendezvous is aborting ...``) that hide skface's one-line messages,
and its Python logger warns about ``tf.function`` retracing whenever a search
builds a new network per fit, which is what a search does. The C++ level is
read once, when TensorFlow is imported, so :func:`quiet_tensorflow_startup`
runs before skface imports it. TensorFlow 2.21 writes its start-up lines
before its logging is initialised, ignoring that level, so
:func:`import_tensorflow` imports it and starts its runtime with the
process's standard error (file descriptor 2) set aside. Neither happens when
the user has set ``TF_CPP_MIN_LOG_LEVEL``. The Python warnings are quieted
only while a ``verbose=0`` estimator trains or predicts. Warnings that other libraries
raise about their own code, which a skface user can do nothing about, are
filtered here and only here (:data:`THIRD_PARTY_WARNINGS`, installed when
skface is imported).
"""

import contextlib
import logging
import os
import sys
import tempfile
import warnings

#: the C++ log level skface sets when the user has not set one: errors surface
#: as Python exceptions, so the runtime's own lines add nothing but noise
TF_CPP_LOG_LEVEL = "3"


_user_log_level = None


def quiet_tensorflow_startup():
    """Set ``TF_CPP_MIN_LOG_LEVEL`` unless the user has: call before importing TensorFlow."""
    global _user_log_level
    if _user_log_level is None:
        _user_log_level = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_CPP_LOG_LEVEL)


@contextlib.contextmanager
def _native_stderr_set_aside():
    """Send what C++ code writes to file descriptor 2 to a temporary file;
    replay it if the block raises, so that nothing that explains a failure is lost."""
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+b") as aside:
        saved = os.dup(2)
        os.dup2(aside.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            aside.seek(0)
            sys.stderr.write(aside.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow():
    """Import TensorFlow and start its runtime, its start-up lines set aside
    unless the user has chosen a log level; returns the module."""
    quiet_tensorflow_startup()
    if "tensorflow" in sys.modules or _user_log_level:
        import tensorflow as tf

        return tf
    with _native_stderr_set_aside():
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # where the CUDA probe logs its failure
    return tf


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


#: warnings that dependencies raise about their own code, which a skface user
#: can do nothing about: (message regex, category, module regex)
THIRD_PARTY_WARNINGS = (
    # Keras's Variable.__array__ takes no ``copy`` argument, which NumPy 2
    # deprecates: raised by model.save, pickling and get_weights
    (r"__array__ implementation doesn't accept a copy keyword", DeprecationWarning, r"keras\."),
    # fairlearn's reductions set Series values with .at on new keys, which
    # pandas 3 deprecates (a Pandas4Warning, a DeprecationWarning subclass)
    (r"Setting a value on a Series via \.at with a key that does not exist", DeprecationWarning, r"fairlearn\."),
)


def filter_third_party_warnings():
    """Ignore :data:`THIRD_PARTY_WARNINGS`, each only from the module that raises it."""
    for message, category, module in THIRD_PARTY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(message, category=UserWarning):
    """``warnings.warn`` attributed to the first frame outside skface: the
    user's line (``clf.fit(...)``), whatever path inside skface led here,
    rather than a line of skface's own."""
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
