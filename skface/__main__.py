"""``python -m skface``: the ``skface`` command line (see :mod:`skface.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
