"""What a user of ``skface`` reads on stderr: errors, warnings, and no TensorFlow chatter.

- The error policy: an exception of a user-error type (:data:`USER_ERRORS`)
  becomes one line ``skface: error: ...`` and exit status 1; anything else
  is a bug and keeps its traceback.
- Library messages speak the library's parameter names (``Pass
  image_dir= if ...``); :func:`speak_options` rewrites them, once, with the
  option names of the command line (``--image-dir``), from one mapping,
  :data:`OPTIONS`.
- TensorFlow is imported without its start-up lines (``Could not find cuda
  drivers``, ``cuInit``, ``All log messages before absl::InitializeLog()``)
  and its log level keeps out the per-op lines of a failed decode (``Local
  rendezvous``, ``[[{{node ...}}]]``), which would bury the one line that
  matters (:mod:`skface._logging` does both); its Python loggers are set to
  ERROR.
- Python warnings raised while a command runs become one line each,
  ``skface: warning: ...``; only ``UserWarning`` (what skface and its
  libraries tell users) is shown, not the deprecation notices meant for
  developers.
"""

import contextlib
import logging
import re
import sys
import warnings

__all__ = ["CommandError", "USER_ERRORS", "OPTIONS", "speak_options", "error_line", "warn",
           "warnings_as_lines", "import_tensorflow"]


class CommandError(Exception):
    """A problem with the user's data, files or options found by the command itself."""


#: The exception types that are the user's to fix: skface's validation raises
#: ValueError and TypeError naming the parameter or file; OSError covers
#: missing, unreadable and unwritable files. Subclasses count too:
#: scikit-learn's InvalidParameterError, pandas' ParserError and
#: EmptyDataError, UnicodeDecodeError (a CSV that is not text) are ValueErrors.
#: The type decides, not which module raised: a ValueError that is a bug in
#: skface is reported in one line too, so a traceback always means a bug of
#: another type (a KeyError, an AttributeError, ...).
USER_ERRORS = (CommandError, ValueError, TypeError, OSError)

#: library parameter name -> what a user of the command line calls it
OPTIONS = {
    "csv_path": "--csv",
    "image_dir": "--image-dir",
    "image_column": "--image-column",
    "sensitive_features": "the --sensitive column",
    "weights": "--weights",
    "root": "--celeba",
    "split": "--split",
    "on_bad_image": "--on-bad-image",
    "checkpoint_dir": "--checkpoint-dir",
    "image_size": "--image-size",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "filters": "--filters",
    "dense_units": "--dense-units",
    "learning_rate": "--learning-rate",
    "n_iter_no_change": "--n-iter-no-change",
    "random_state": "--random-state",
    "backbone": "--backbone",
    "backbone_weights": "--backbone-weights",
    "threshold": "--threshold",
    "fairness": "--fairness",
    "group_sampling": "--group-sampling",
    "scoring": "--scoring",
    "dro_groups": "--dro-groups",
    "dro_step_size": "--dro-step-size",
    "dro_adjustment": "--dro-adjustment",
    "gap_weight": "--gap-weight",
}

# A value after "name=": 'quoted', (a, tuple), [a, list] or a bare token.
_VALUE = r"(?:'(?P<quoted>[^']*)'|(?P<bracketed>\([^)]*\)|\[[^\]]*\])|(?P<bare>[\w.+-]*\w))?"


def _pattern():
    # A name with an underscore is unmistakably a parameter wherever it stands.
    # A name that is also an English word ("weights", "epochs", "split") is one
    # only when a value is assigned to it ("weights=") or it opens the message
    # ("weights has no entry ..."), not in prose ("the backbone's weights").
    coded = "|".join(sorted((n for n in OPTIONS if "_" in n), key=len, reverse=True))
    plain = "|".join(sorted((n for n in OPTIONS if "_" not in n), key=len, reverse=True))
    return re.compile(
        rf"(?<![\w.\-'\"])(?:(?P<coded>{coded})|(?P<assigned>{plain})(?==)|^(?P<first>{plain})(?= ))"
        rf"(?![\w])(?:={_VALUE})?"
    )


_NAMES = _pattern()


def speak_options(message):
    """Rewrite the library's parameter names in ``message`` as option names.

    Examples
    --------
    >>> from skface.cli._messages import speak_options
    >>> speak_options("2 images do not exist. Pass image_dir= if the paths are relative to another folder.")
    '2 images do not exist. Pass --image-dir if the paths are relative to another folder.'
    >>> speak_options("weights has no entry for the groups [-1] of sensitive_features.")
    '--weights has no entry for the groups [-1] of the --sensitive column.'
    >>> speak_options("on_bad_image='skip' left no image; the backbone's weights stay.")
    "--on-bad-image 'skip' left no image; the backbone's weights stay."
    """

    def option(match):
        name = match.group("coded") or match.group("assigned") or match.group("first")
        value = match.group("bracketed") or match.group("bare")
        if match.group("quoted") is not None:
            value = f"'{match.group('quoted')}'"  # kept quoted: it may be a path with spaces
        return f"{OPTIONS[name]} {value}" if value else OPTIONS[name]

    return _NAMES.sub(option, message)


def error_line(exc):
    """The one line that reports ``exc``: ``skface: error: ...``."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    return f"skface: error: {speak_options(message)}"


def warn(message):
    """Print ``skface: warning: MESSAGE`` on stderr, in the command line's option names."""
    message = " ".join(str(message).split())
    print(f"skface: warning: {speak_options(message)}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def warnings_as_lines():
    """Show each Python warning raised inside as one ``skface: warning:`` line.

    Python's own format (``path.py:123: UserWarning: ...`` and the source
    line) points into skface's code, which is no help to someone at a shell.
    """
    seen = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        if issubclass(category, UserWarning) and text not in seen:
            seen.add(text)
            warn(text)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def import_tensorflow():
    """Import TensorFlow without its start-up lines, then turn its Python loggers down.

    The C++ side is :func:`skface._logging.import_tensorflow`'s (the log
    level and the start-up lines set aside, unless the user set
    ``TF_CPP_MIN_LOG_LEVEL``). A command's user also has no use for the
    Python loggers' warnings (``tf.function`` retracing, absl notices of
    Keras), whatever the Keras verbosity of the training.
    """
    from .._logging import import_tensorflow as import_quietly

    tf = import_quietly()
    tf.get_logger().setLevel(logging.ERROR)
    with contextlib.suppress(ImportError):  # absl's Python logger, which TensorFlow brings
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    return tf
