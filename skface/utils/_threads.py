"""configure_threads: one knob for TensorFlow's CPU thread pools in a process."""

import os
import sys

from .._validation import check_int

_ENV_INTRA = "TF_NUM_INTRAOP_THREADS"
_ENV_INTER = "TF_NUM_INTEROP_THREADS"


def configure_threads(n_threads):
    """Limit the CPU threads TensorFlow uses in this process to about ``n_threads``.

    Parallel hyper-parameter searches run one fit per worker process; left
    alone, TensorFlow in every worker sizes its thread pools to all the cores
    of the machine, and the workers fight over them. Give each worker
    ``n_threads`` = cores / workers (1 for one thread per worker).

    TensorFlow reads its thread settings once, when its runtime starts (the
    first operation it runs), so call this first thing in the worker: in a
    dask worker plugin, a Ray ``runtime_env`` or at the top of a script.

    Parameters
    ----------
    n_threads : int
        Threads for the operations themselves (TensorFlow's intra-op pool,
        which convolutions and matrix products use). The inter-op pool, which
        schedules independent operations and runs the ``tf.data`` input
        pipeline, gets ``max(2, n_threads)``: with one thread, an operation
        that waits for another could block it for good.

    Returns
    -------
    dict
        The environment variables set: ``TF_NUM_INTRAOP_THREADS`` and
        ``TF_NUM_INTEROP_THREADS``. Child processes started afterwards inherit
        them.

    Raises
    ------
    RuntimeError
        TensorFlow's runtime has already started in this process with other
        thread settings (they can no longer change).

    Examples
    --------
    >>> from skface.utils import configure_threads
    >>> configure_threads(1)  # doctest: +SKIP
    {'TF_NUM_INTRAOP_THREADS': '1', 'TF_NUM_INTEROP_THREADS': '2'}
    >>> configure_threads(0)
    Traceback (most recent call last):
    ...
    ValueError: n_threads must be an integer >= 1, got 0.

    On every worker of a dask cluster, before the search (``client.run``), or
    also on workers that join later (a worker plugin):

    >>> client.run(configure_threads, 1)  # doctest: +SKIP
    >>> from distributed import WorkerPlugin  # doctest: +SKIP
    >>> class TFThreads(WorkerPlugin):  # doctest: +SKIP
    ...     def setup(self, worker):
    ...         configure_threads(1)
    >>> client.register_plugin(TFThreads())  # doctest: +SKIP
    """
    n_threads = check_int(n_threads, "n_threads", minimum=1)
    intra, inter = n_threads, max(2, n_threads)
    env = {_ENV_INTRA: str(intra), _ENV_INTER: str(inter)}
    if "tensorflow" in sys.modules:
        _configure_imported_tensorflow(intra, inter, env)
    # TensorFlow reads these when its runtime starts, in this process or a child
    os.environ.update(env)
    return env


def _configure_imported_tensorflow(intra, inter, env):
    import tensorflow as tf

    threading = tf.config.threading
    current = (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    )
    # (0, 0) means "not set through tf.config": if this environment was
    # already in place, it is what configured a runtime that has started
    if current == (intra, inter) or (
        current == (0, 0) and all(os.environ.get(k) == v for k, v in env.items())
    ):
        return
    try:
        threading.set_intra_op_parallelism_threads(intra)
        threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:
        raise RuntimeError(
            f"configure_threads({intra}) came too late: TensorFlow's runtime has already "
            "started in this process with its own thread settings, which cannot change "
            "any more. Call it before the first fit or TensorFlow operation: in the "
            "worker's start-up (a dask WorkerPlugin or client.run before the search, "
            "a Ray runtime_env) or at the top of the script."
        ) from None
