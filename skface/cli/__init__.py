"""The ``skface`` command: ``demo``, ``train``, ``predict`` and ``evaluate``.

This package owns the command line: how options map to the library's API
(``_parser``, with the argument types of ``_types`` and, through
``_library``, the names and defaults of ``skface._options``, the module the
estimator reads them from too: never a copy), what each
command does (``_commands``), what a user reads on stderr (``_messages``:
the error policy, library messages in option names, warning lines, quiet
TensorFlow) and the HTML report of ``demo`` and ``evaluate``
(``_html_report``, not to be confused with the fairness audit
:func:`skface.fairness.fairness_report`).

Run ``skface --help`` or ``python -m skface --help``; see ``docs/cli.rst``.
Exit status: 0 on success, 2 for a usage error (reported by argparse), 1 for
a data error (a missing file, a bad CSV, labels that are not binary, ...),
reported as one line ``skface: error: ...`` on stderr without a traceback.
Data errors are recognised by their type (``skface.cli._messages.USER_ERRORS``);
a traceback means a bug in skface.

Only the standard library is imported at start-up: NumPy, pandas,
scikit-learn, matplotlib and TensorFlow are imported inside the commands
that use them, so ``skface --help`` answers at once.
"""

import importlib
import sys

from . import _messages
from ._parser import build_parser, prepare_argv

__all__ = ["main"]


def main(argv=None):
    """Run the ``skface`` command line; return its exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 1 for a data error, 2 for a usage error, 130 when
        interrupted.

    Examples
    --------
    >>> from skface.cli import main
    >>> main(["--version"])
    skface ...
    0

    A data error returns 1 and prints one line ``skface: error: ...`` on
    stderr (here: the folder holds no images):

    >>> import tempfile
    >>> main(["predict", "--model", "missing.keras", "--images", tempfile.mkdtemp(),
    ...       "--output", "p.csv"])
    1
    """
    parser = build_parser()
    argv = prepare_argv(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
        if getattr(args, "check", None) is not None:
            args.check(args)  # checks that involve several options
    except SystemExit as exc:  # --help, --version or a usage error
        return exc.code if isinstance(exc.code, int) else 2
    run = getattr(importlib.import_module("._commands", __name__), args.run)
    try:
        with _messages.warnings_as_lines():
            return run(args) or 0
    except KeyboardInterrupt:
        print("skface: interrupted", file=sys.stderr)
        return 130
    except _messages.USER_ERRORS as exc:
        sys.stdout.flush()  # what the command printed comes before the error
        print(_messages.error_line(exc), file=sys.stderr)
        return 1
