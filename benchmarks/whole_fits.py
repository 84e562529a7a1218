"""Whole fits, as a user and a search make them: part of ``benchmarks.run``.

The speed cases (``benchmarks/cases.py``) time one epoch of a model that is
already built and traced. A user's ``fit`` (and every candidate and fold of a
``GridSearchCV``) also builds the network, traces its functions, reads the
data and returns: this module times that, against raw Keras doing the same
from a float32 array, at the precision ``precision="auto"`` picks here.

- :func:`time_whole_fits`: a new estimator per fit, ``epochs`` 1 and 3, the
  set-ups interleaved round by round. Besides the whole fit it records every
  epoch's seconds (steady epochs: the 2nd and later) and the pause between
  Keras's ``on_train_end`` and the return of ``fit``.
- :func:`time_grid_search`: ``GridSearchCV`` of 8 candidates x 3 folds on the
  JPEG paths against a loop of the same 24 raw Keras fits and predictions.
- :func:`matmul_peak`: the GFLOP/s of a large matrix product in float32 and
  bfloat16, the machine's reachable peak that training throughput is read
  against.
"""

import gc
import time

import numpy as np

from .cases import SEED, raw_network
from .common import epoch_timer

#: the set-ups of a whole fit: key -> (title, what the fit reads, estimator parameters)
WHOLE_FIT_SETUPS = {
    "raw": ("raw Keras: build, compile, `fit` on a float32 array", "f32", None),
    "array": ("FaceCNNClassifier(), uint8 array", "u8", {}),
    "paths": ("FaceCNNClassifier(), JPEG paths (decoded once when epochs > 1)", "paths", {}),
    "paths-stream": ("FaceCNNClassifier(cache_images=False), JPEG paths decoded every epoch", "paths",
                     {"cache_images": False}),
}


def resolved_precision():
    from skface._device import resolve_precision

    return resolve_precision("auto")


def _raw_fit(x, y, w, cfg, epochs, timer=None, *, learning_rate=0.001, dropout=0.5):
    import keras

    keras.utils.set_random_seed(SEED)
    model = raw_network(cfg.hw, resolved_precision(), learning_rate=learning_rate, dropout=dropout)
    model.fit(x, y, sample_weight=w, batch_size=cfg.batch_size, epochs=epochs, shuffle=True, verbose=0,
              callbacks=[] if timer is None else [timer])
    return model


def one_whole_fit(key, data, cfg, epochs):
    """Seconds of one whole fit of set-up ``key`` (see :data:`WHOLE_FIT_SETUPS`) and its epoch timings."""
    from skface import FaceCNNClassifier

    _, source, params = WHOLE_FIT_SETUPS[key]
    x = {"f32": data.X_train_f32, "u8": data.X_train_u8, "paths": data.paths_train}[source]
    timer = epoch_timer()
    start = time.perf_counter()
    if params is None:
        _raw_fit(x, data.y_train, data.w_train, cfg, epochs, timer)
    else:
        FaceCNNClassifier(
            image_size=cfg.hw, batch_size=cfg.batch_size, epochs=epochs, early_stopping=False,
            learning_rate=0.001, random_state=SEED, callbacks=[timer], **params,
        ).fit(x, data.y_train, sample_weight=data.w_train)
    end = time.perf_counter()
    return {"seconds": end - start, "epoch_seconds": timer.seconds, "after_training_seconds": end - timer.train_end}


def time_whole_fits(data, cfg, log, *, epochs=(1, 3), rounds=None):
    """Interleaved rounds of whole fits; one row per (set-up, epochs) with every round's timings."""
    rounds = rounds or cfg.repeats
    keys = list(WHOLE_FIT_SETUPS)
    rows = {(k, e): {"key": k, "title": WHOLE_FIT_SETUPS[k][0], "epochs": e, "rounds": []}
            for e in epochs for k in keys}
    for k in keys:  # warm-up: the first fit of a process pays TensorFlow's own start-up
        one_whole_fit(k, data, cfg, 1)
    for r in range(rounds):
        order = keys[r % len(keys):] + keys[: r % len(keys)]
        for e in epochs:
            for k in order:
                run = one_whole_fit(k, data, cfg, e)
                rows[k, e]["rounds"].append(run)
                gc.collect()
                log(f"whole fit round {r + 1}/{rounds}, {e} epoch(s), {k}: {run['seconds']:.2f} s "
                    f"(after training {run['after_training_seconds']:.2f} s)")
    return {"precision": resolved_precision(), "n_images": len(data.y_train), "rows": list(rows.values())}


def whole_fit_ratio(whole, key, epochs, *, steady=False):
    """raw Keras's seconds over ``key``'s (higher is faster), per round paired: median, min, max.

    ``steady``: the epochs after the first (mean per epoch within each fit) instead of the whole fit.
    """
    rows = {(r["key"], r["epochs"]): r for r in whole["rows"]}
    if (key, epochs) not in rows or ("raw", epochs) not in rows:
        return None

    def seconds(run):
        return float(np.mean(run["epoch_seconds"][1:])) if steady else run["seconds"]

    paired = [seconds(b) / seconds(a) for a, b in zip(rows[key, epochs]["rounds"], rows["raw", epochs]["rounds"])]
    return {"median": float(np.median(paired)), "min": min(paired), "max": max(paired)}


GRID = {"learning_rate": [1e-3, 5e-4, 3e-4, 1e-4], "dropout": [0.3, 0.5]}


def time_grid_search(data, cfg, log, *, folds=3):
    """GridSearchCV(FaceCNNClassifier) over :data:`GRID` on the JPEG paths, one epoch per fit, against
    a loop of raw Keras fits of the same candidates on the same folds (from the float32 array), each
    followed by a prediction of its held-out fold, as the search scores it."""
    from sklearn.model_selection import GridSearchCV, ParameterGrid, StratifiedKFold

    from skface import FaceCNNClassifier

    cv = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    splits = list(cv.split(np.zeros(len(data.y_train)), data.y_train))
    candidates = list(ParameterGrid(GRID))
    start = time.perf_counter()
    for params in candidates:
        for train, test in splits:
            model = _raw_fit(data.X_train_f32[train], data.y_train[train], data.w_train[train], cfg, 1,
                             **params)
            model.predict(data.X_train_f32[test], batch_size=cfg.predict_batch_size, verbose=0)
            del model
            gc.collect()
    raw = time.perf_counter() - start
    log(f"raw Keras loop: {len(candidates) * folds} fits in {raw:.1f} s")
    search = GridSearchCV(
        FaceCNNClassifier(image_size=cfg.hw, batch_size=cfg.batch_size, epochs=1, early_stopping=False,
                          random_state=SEED),
        GRID, cv=splits, refit=False, n_jobs=1,
    )
    start = time.perf_counter()
    search.fit(data.paths_train, data.y_train, sample_weight=data.w_train)
    skface = time.perf_counter() - start
    log(f"GridSearchCV: {len(candidates) * folds} fits in {skface:.1f} s")
    n_fits = len(candidates) * folds
    return {"candidates": len(candidates), "folds": folds, "n_fits": n_fits, "raw_seconds": raw,
            "search_seconds": skface, "raw_seconds_per_fit": raw / n_fits, "search_seconds_per_fit": skface / n_fits,
            "precision": resolved_precision(), "grid": GRID}


def matmul_peak(size=2048, repeats=20, rounds=3):
    """GFLOP/s of ``size`` x ``size`` matrix products in float32 and bfloat16 (the best of ``rounds``)."""
    import tensorflow as tf

    out = {}
    for name, dtype in (("float32", tf.float32), ("bfloat16", tf.bfloat16)):
        a = tf.random.stateless_uniform((size, size), seed=(1, 2), dtype=tf.float32)
        a = tf.cast(a, dtype)

        @tf.function
        def chain(m):
            # each product feeds the next, so that none can be merged with another or left out;
            # the scale keeps the entries near 1 (uniform [0, 1) entries sum to about size / 2)
            x = m
            for _ in range(repeats):
                x = tf.linalg.matmul(x, m) * tf.cast(2.0 / size, dtype)
            return tf.reduce_sum(tf.cast(x[:1, :1], tf.float32))

        chain(a).numpy()  # trace and warm up
        best = None
        for _ in range(rounds):
            start = time.perf_counter()
            chain(a).numpy()
            seconds = time.perf_counter() - start
            best = seconds if best is None else min(best, seconds)
        out[name] = 2 * size**3 * repeats / best / 1e9
    out["size"] = size
    return out
