"""Where the network runs: compute precision, distribution strategy, replica padding.

The estimator asks this module three things: which dtype policy to build
the layers with (``precision``), which ``tf.distribute.Strategy`` to build,
train and predict under (``distribution``), and how to pad a set of images
and size a batch so that every replica gets an equal share of each batch.
TensorFlow is imported only inside the functions that need it.
"""

import contextlib
import os
import warnings

import numpy as np

from ._options import DISTRIBUTIONS, PRECISIONS


def cpu_has_bfloat16():
    """True when the CPU has bfloat16 matrix instructions (AVX512-BF16 or AMX-BF16)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def available_memory():
    """Bytes of memory available to a new allocation now: Linux's MemAvailable,
    else free physical pages; 0 where neither can be read (caching nothing)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (OSError, ValueError, AttributeError):
        return 0


def resolve_precision(precision):
    """Turn the ``precision`` parameter into a Keras dtype policy name."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r} is not accepted; accepted: {PRECISIONS}.")
    if precision != "auto":
        return precision
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return "mixed_float16"
    if cpu_has_bfloat16():
        return "mixed_bfloat16"
    return "float32"


def check_distribution(distribution):
    """Raise unless ``distribution`` is None, "mirrored" or a ``tf.distribute.Strategy``."""
    import tensorflow as tf

    if isinstance(distribution, tf.distribute.MultiWorkerMirroredStrategy):
        _refuse_several_workers(distribution)
    if distribution is None or isinstance(distribution, tf.distribute.Strategy):
        return
    accepted = (
        "None (one device), 'mirrored' (tf.distribute.MirroredStrategy over all local "
        "GPUs, or the CPU) or a tf.distribute.Strategy instance of one host, such as "
        "tf.distribute.MirroredStrategy(devices)"
    )
    if isinstance(distribution, str):
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution={distribution!r} is not accepted; accepted: {accepted}.")
        return
    raise TypeError(
        f"distribution={distribution!r} (a {type(distribution).__name__}) is not accepted; "
        f"accepted: {accepted}."
    )


#: where Keras 3's fit fails under a MultiWorkerMirroredStrategy of several workers
KERAS_MULTI_WORKER_ISSUE = "https://github.com/keras-team/keras/issues/20585"


def _refuse_several_workers(strategy):
    """Refuse a MultiWorkerMirroredStrategy whose cluster has more than one task.

    Keras 3's ``Model.fit`` cannot train under it: it averages the first
    batch over the replicas to build the model, and then each step's scalar
    metrics along an axis they do not have, and the collective strategy
    refuses both (``PerReplica ... to a Tensor``; "Invalid reduction
    dimension 0"). Failing here says so before any image is read. One with
    a single worker (no ``TF_CONFIG``) is left to Keras.
    """
    import keras

    cluster = strategy.cluster_resolver.cluster_spec().as_dict() if strategy.cluster_resolver else {}
    tasks = sum(len(v) for v in cluster.values())
    if tasks > 1:
        raise ValueError(
            f"distribution={strategy!r} spans {tasks} workers, which Keras {keras.__version__} cannot train "
            f"with: Model.fit fails under a MultiWorkerMirroredStrategy of several workers "
            f"({KERAS_MULTI_WORKER_ISSUE}). Train on the GPUs of one host with distribution='mirrored', or "
            "spread a hyper-parameter search over hosts with dask (see the Scaling guide)."
        )


def resolve_distribution(distribution):
    """Turn the ``distribution`` parameter into a ``tf.distribute.Strategy`` or None.

    "mirrored" makes a new :class:`tf.distribute.MirroredStrategy` over every
    local GPU (the CPU when there is none); a Strategy is used as given, so
    that the caller decides its devices and cross-device communication.
    """
    check_distribution(distribution)
    if distribution == "mirrored":
        import tensorflow as tf

        return tf.distribute.MirroredStrategy()
    return distribution


_DEFAULT_PREDICT_BATCH = 256
# a GPU is starved by small inference batches
_DEFAULT_PREDICT_BATCH_GPU = 1024


def default_predict_batch():
    """Default prediction (and validation) batch: larger when a GPU is visible."""
    import tensorflow as tf

    if tf.config.list_logical_devices("GPU"):
        return _DEFAULT_PREDICT_BATCH_GPU
    return _DEFAULT_PREDICT_BATCH


def strategy_scope(strategy):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def fill_replicas(indices, replicas):
    """Repeat the first few of ``indices`` so that their number is a multiple of
    ``replicas``: with a batch size that is one too, every batch then splits
    evenly over the replicas.

    Otherwise a strategy hands the replicas unequal shares of a batch, which
    Keras cannot build the model from (it averages the shares of the first
    batch), and empty ones for a last batch smaller than the replicas, on which
    TensorFlow's oneDNN CPU convolution fails. At most ``replicas - 1`` images
    are repeated.
    """
    missing = -len(indices) % replicas
    return np.concatenate([indices, indices[:missing]]) if missing else indices


def replicas(model, batch_size=None, name=None):
    """The number of replicas the model runs on; ``batch_size`` must split evenly."""
    replicas = model.distribute_strategy.num_replicas_in_sync
    if batch_size is not None and batch_size % replicas:
        raise ValueError(
            f"{name}={batch_size} is not accepted with the {replicas} replicas of the "
            f"distribution strategy: it is the global batch, split evenly across the "
            f"replicas; accepted: a multiple of {replicas}."
        )
    return replicas


def round_up(batch_size, replicas):
    return -(-batch_size // replicas) * replicas


def clone_sharing_strategy(estimator, clone):
    """``clone()`` of ``estimator`` whose ``distribution`` Strategy is shared, not copied.

    A Strategy owns devices (and, across hosts, a cluster connection):
    clones, e.g. GridSearchCV's, share it rather than deep-copy it.
    """
    import tensorflow as tf

    strategy = estimator.distribution
    if not isinstance(strategy, tf.distribute.Strategy):
        return clone()
    shallow = object.__new__(type(estimator))  # not copy.copy: it would pickle (__getstate__)
    shallow.__dict__.update(estimator.__dict__, distribution=None)
    twin = shallow.__sklearn_clone__()
    twin.distribution = strategy
    return twin


def picklable_state(state):
    """An estimator's pickle state without a Strategy object, which cannot be pickled (with a warning)."""
    import tensorflow as tf

    if isinstance(state.get("distribution"), tf.distribute.Strategy):
        warnings.warn(
            f"distribution={state['distribution']!r} is a tf.distribute.Strategy, which "
            "cannot be pickled: the unpickled estimator has distribution=None (its "
            "trained network predicts on one device). Pass distribution='mirrored' "
            "or set the strategy again after loading.",
            UserWarning,
            stacklevel=3,
        )
        state = {**state, "distribution": None}
    return state
