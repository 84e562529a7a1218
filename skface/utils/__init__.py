"""Process-level helpers for running skface at scale.

- :func:`configure_threads` -- limit TensorFlow's CPU threads in this process
  (call it in each worker of a parallel search, before TensorFlow starts).
"""

from ._threads import configure_threads

__all__ = ["configure_threads"]
