"""Scaling out: tf.distribute strategies, hyper-parameter search on dask, threads.

TensorFlow's logical devices can only be configured before its runtime starts,
so the MirroredStrategy check runs this file as a script in a fresh Python
(``python test_distributed.py mirrored``) and reads back one JSON line.
"""

import json
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import make_toy_images, write_pngs
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skface import FaceCNNClassifier
from skface.metrics import make_fair_scorer
from skface.utils import configure_threads

# One step per epoch (batch_size = n_samples) and no dropout: see
# _mirrored_run for why this makes the two runs comparable. Graph mode
# (run_eagerly=False, the default): under a strategy Keras runs each step as
# one tf.function over the replicas, and that is what is compared here.
# float32: "auto" picks mixed_bfloat16 on CPUs with bfloat16 instructions,
# whose rounding (~4e-4 here) would hide the float32 differences compared.
MIRRORED = dict(
    image_size=16, filters=(4, 8), dense_units=8, dropout=0.0, epochs=3, batch_size=40,
    learning_rate=0.01, early_stopping=False, run_eagerly=False, precision="float32", random_state=0,
)  # fmt: skip


# ------------------------------------------------------- MirroredStrategy
def _mirrored_run():
    """Train on one device and under MirroredStrategy over two logical CPUs.

    Runs in a fresh interpreter. Prints one JSON line with the results.

    The runs are comparable when nothing but the arithmetic differs:

    - one step per epoch (the global batch is the whole training set), because
      under a strategy Keras draws one batch to build the model before it
      trains, which advances the seeded shuffle: the same ``random_state``
      then visits the samples in another order than on one device;
    - no dropout, because each replica draws its own dropout mask.

    What remains is float32 summation order: each replica averages the loss
    over its half of the batch and the gradients are summed across replicas,
    where one device sums the whole batch at once.
    """
    out = {"threads_env": configure_threads(3)}  # before TensorFlow starts
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    tf.constant(1.0) + 1.0  # start the runtime; its inter-op threads are named tf_Compute
    tasks = "/proc/self/task"
    out["inter_op_threads"] = (
        sum(open(f"{tasks}/{t}/comm").read().strip() == "tf_Compute" for t in os.listdir(tasks))
        if os.path.isdir(tasks)
        else None
    )
    from sklearn.base import clone

    from skface import load

    X, y = make_toy_images(n=40, size=16, seed=1)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    one = FaceCNNClassifier(**MIRRORED).fit(X, y)
    two = FaceCNNClassifier(distribution=strategy, **MIRRORED).fit(X, y)
    out |= {
        "replicas": two.model_.distribute_strategy.num_replicas_in_sync,
        "proba_one": one.predict_proba(X).tolist(),
        "proba_two": two.predict_proba(X).tolist(),
        # 5 and 1 images do not split evenly over 2 replicas
        "proba_two_5": two.predict_proba(X[:5]).tolist(),
        "proba_two_1": two.predict_proba(X[:1]).tolist(),
        "loss_one": one.history_["loss"],
        "loss_two": two.history_["loss"],
        "clone_shares_strategy": clone(two).distribution is strategy,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        back = pickle.loads(pickle.dumps(two))
        path = two.save(os.path.join(sys.argv[2], "mirrored.keras"))
    out["warnings"] = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    out["unpickled_distribution"] = back.distribution
    out["unpickled_proba"] = back.predict_proba(X).tolist()
    out["loaded_proba"] = load(path).predict_proba(X).tolist()
    # 39 images in batches of 4 leave a last batch of 3, and 7 validation
    # images, which do not split evenly over 2 replicas
    odd = FaceCNNClassifier(
        distribution=strategy, **{**MIRRORED, "epochs": 1, "batch_size": 4, "early_stopping": True}
    )
    out["odd_batches_loss"] = odd.fit(X[:39], y[:39]).history_["val_loss"]
    out["odd_batches_proba"] = odd.predict_proba(X[:3]).tolist()
    # group-aware training: per-group sums are all-reduced, so every replica
    # makes the same Group DRO update and the gradient is the global batch's
    groups = np.where(np.arange(len(y)) % 4 == 0, "b", "a")
    for fairness in ("group_dro", "gap_penalty"):
        params = {**MIRRORED, "fairness": fairness, "dro_step_size": 1.0, "gap_weight": 3.0}
        one_g = FaceCNNClassifier(**params).fit(X, y, sensitive_features=groups)
        two_g = FaceCNNClassifier(distribution=strategy, **params).fit(X, y, sensitive_features=groups)
        out[f"{fairness}_proba_one"] = one_g.predict_proba(X).tolist()
        out[f"{fairness}_proba_two"] = two_g.predict_proba(X).tolist()
        out[f"{fairness}_loss_one"] = one_g.history_["loss"]
        out[f"{fairness}_loss_two"] = two_g.history_["loss"]
        if fairness == "group_dro":
            out["q_one"] = one_g.group_weights_.tolist()
            out["q_two"] = two_g.group_weights_.tolist()
    try:
        FaceCNNClassifier(distribution=strategy, **{**MIRRORED, "batch_size": 5}).fit(X, y)
    except ValueError as exc:
        out["batch_error"] = str(exc)
    print(json.dumps(out))


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "mirrored", str(tmp_path_factory.mktemp("mirrored"))],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # the mirrored fixture: a fresh Python trains under MirroredStrategy
def test_mirrored_strategy_matches_one_device(mirrored):
    assert mirrored["replicas"] == 2
    one, two = np.array(mirrored["proba_one"]), np.array(mirrored["proba_two"])
    # The models did learn (3 Adam steps move the probabilities by ~0.1),
    # and the runs differ by float32 rounding only: ~1e-7 was measured, so
    # 1e-5 leaves two orders of magnitude for other CPUs and libraries while
    # a different sample order or seed moves them by ~1e-2.
    assert one[:, 1].max() - one[:, 1].min() > 0.05
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-5)
    np.testing.assert_allclose(mirrored["loss_two"], mirrored["loss_one"], rtol=1e-5)
    # uneven splits over the replicas keep the order of the images
    np.testing.assert_allclose(mirrored["proba_two_5"], two[:5], rtol=0, atol=1e-6)
    np.testing.assert_allclose(mirrored["proba_two_1"], two[:1], rtol=0, atol=1e-6)


@pytest.mark.slow  # the mirrored fixture: a fresh Python trains under MirroredStrategy
def test_group_aware_training_under_mirrored_strategy_matches_one_device(mirrored):
    for fairness in ("group_dro", "gap_penalty"):
        one, two = np.array(mirrored[f"{fairness}_proba_one"]), np.array(mirrored[f"{fairness}_proba_two"])
        assert one[:, 1].max() - one[:, 1].min() > 0.05, fairness
        np.testing.assert_allclose(two, one, rtol=0, atol=1e-5, err_msg=fairness)
        np.testing.assert_allclose(mirrored[f"{fairness}_loss_two"], mirrored[f"{fairness}_loss_one"], rtol=1e-5)
    q_one, q_two = np.array(mirrored["q_one"]), np.array(mirrored["q_two"])
    assert np.abs(q_one - 0.25).max() > 1e-3  # q moved
    np.testing.assert_allclose(q_two, q_one, rtol=1e-5)


@pytest.mark.slow  # the mirrored fixture: a fresh Python trains under MirroredStrategy
def test_strategy_is_shared_by_clone_and_dropped_by_pickle_and_save(mirrored):
    assert mirrored["clone_shares_strategy"] is True
    assert mirrored["unpickled_distribution"] is None
    pickle_warning, save_warning = mirrored["warnings"]
    assert "is a tf.distribute.Strategy, which cannot be pickled" in pickle_warning
    assert "unpickled estimator has distribution=None" in pickle_warning
    assert "Parameters ['distribution'] are not JSON values and are not saved" in save_warning
    np.testing.assert_allclose(mirrored["unpickled_proba"], mirrored["proba_two"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(mirrored["loaded_proba"], mirrored["proba_two"], rtol=0, atol=1e-6)


@pytest.mark.slow  # the mirrored fixture: a fresh Python trains under MirroredStrategy
def test_every_replica_gets_an_image(mirrored):
    # image counts that do not split evenly are padded (Keras cannot build
    # from unequal shares, TensorFlow's CPU convolution fails on empty ones)
    assert np.isfinite(mirrored["odd_batches_loss"]).all()
    assert np.shape(mirrored["odd_batches_proba"]) == (3, 2)
    assert mirrored["batch_error"] == (
        "batch_size=5 is not accepted with the 2 replicas of the distribution strategy: "
        "it is the global batch, split evenly across the replicas; accepted: a multiple of 2."
    )


# --------------------------------------------------------------- threads
def test_configure_threads_rejects_bad_values():
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises((TypeError, ValueError), match=r"n_threads must be an integer >= 1, got "):
            configure_threads(bad)


def test_configure_threads_after_tensorflow_started_says_so(monkeypatch):
    import tensorflow as tf

    tf.constant(1.0) + 1.0  # make sure the runtime runs, with its own settings
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        monkeypatch.setenv(name, "")  # restored after the test
    current = tf.config.threading.get_intra_op_parallelism_threads()
    with pytest.raises(RuntimeError, match="came too late: TensorFlow's runtime has already started"):
        configure_threads(current + 3)


@pytest.mark.slow  # the mirrored fixture: a fresh Python trains under MirroredStrategy
def test_configure_threads_sets_tensorflow_before_it_starts(mirrored):
    # the MirroredStrategy script calls configure_threads(3) first thing
    assert mirrored["threads_env"] == {"TF_NUM_INTRAOP_THREADS": "3", "TF_NUM_INTEROP_THREADS": "3"}
    if mirrored["inter_op_threads"] is not None:  # Linux: count the pool's threads
        assert mirrored["inter_op_threads"] == 3


# ------------------------------------------------- search on dask workers
@pytest.fixture(scope="module")
def face_frame(tmp_path_factory):
    """48 PNG faces on disk: X is a DataFrame of paths and genders, not pixels."""
    images, y = make_toy_images(n=48, size=16, seed=2)
    paths = write_pngs(str(tmp_path_factory.mktemp("faces")), images)
    gender = np.where(np.random.default_rng(2).random(48) < 0.6, -1, 1)
    return pd.DataFrame({"filename": paths, "gender": gender}), np.where(y == 1, 1, -1)


def _search(**kwargs):
    # run_eagerly: the search, not the graph, is under test; tracing costs
    # more than the tiny fits in each worker
    estimator = FaceCNNClassifier(
        image_size=16, filters=(4, 8), dense_units=8, epochs=1, batch_size=12,
        early_stopping=False, run_eagerly=True, random_state=0,
    )  # fmt: skip
    return GridSearchCV(
        estimator,
        {"learning_rate": [0.03, 0.001]},
        scoring=make_fair_scorer(sensitive_column="gender"),  # Fair_Metric
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
        refit=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def utkface_frame(tmp_path_factory):
    """What load_utkface returns for a folder of 48 faces with UTKFace names (made here)."""
    from PIL import Image

    from skface.datasets import load_utkface

    images, y = make_toy_images(n=48, size=16, seed=3)
    folder = tmp_path_factory.mktemp("utk")
    for i, (image, label) in enumerate(zip(images, y)):
        age, utk_gender = (50 if label == 1 else 25), i % 2
        Image.fromarray(image).save(folder / f"{age}_{utk_gender}_{i % 5}_2017010{i:09d}.jpg.chip.jpg", quality=95)
    return load_utkface(folder)


def _routed_search(**kwargs):
    """The Scaling guide's search with the Fair_Metric scorer under metadata routing."""
    from skface.metrics import fair_scorer

    search = _search(**kwargs)
    search.set_params(scoring=fair_scorer)
    return search


@pytest.mark.slow  # 2 dask worker processes, each starting its own TensorFlow
def test_grid_search_on_dask_equals_serial(face_frame, utkface_frame):
    pytest.importorskip("distributed")
    import joblib
    import sklearn
    from distributed import Client, LocalCluster

    X, y = face_frame
    utk = utkface_frame
    utk_X, utk_y, utk_g = utk[["filename", "race"]], utk["class"].to_numpy(), utk["gender"].to_numpy()
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        env={"PYTHONPATH": os.pathsep.join(sys.path)},  # the workers import this skface
    ) as cluster, Client(cluster) as client:  # fmt: skip
        # before any task: each worker's TensorFlow starts with one thread per op
        client.run(configure_threads, 1)
        with joblib.parallel_backend("dask"):
            on_dask = _search(n_jobs=-1).fit(X, y)
            # load_utkface's frame, the groups routed to the scorer (and to fit) as metadata
            with sklearn.config_context(enable_metadata_routing=True):
                routed_on_dask = _routed_search(n_jobs=-1).fit(utk_X, utk_y, sensitive_features=utk_g)
        pids = set(client.run(os.getpid).values())
        threads = set(client.run(os.getenv, "TF_NUM_INTRAOP_THREADS").values())
    serial = _search(n_jobs=1).fit(X, y)
    with sklearn.config_context(enable_metadata_routing=True):
        routed_serial = _routed_search(n_jobs=1).fit(utk_X, utk_y, sensitive_features=utk_g)
    for key in ("split0_test_score", "split1_test_score", "rank_test_score"):
        np.testing.assert_array_equal(routed_on_dask.cv_results_[key], routed_serial.cv_results_[key], err_msg=key)
    assert np.isfinite(routed_serial.cv_results_["mean_test_score"]).all()

    assert os.getpid() not in pids and len(pids) == 2  # the fits ran in the workers
    assert threads == {"1"}
    results, expected = on_dask.cv_results_, serial.cv_results_
    for key in ("split0_test_score", "split1_test_score", "mean_test_score", "rank_test_score"):
        np.testing.assert_array_equal(results[key], expected[key], err_msg=key)
    assert on_dask.best_params_ == serial.best_params_
    assert len(set(expected["mean_test_score"])) > 1  # the candidates are told apart


# ---------------------------------------------------------- several hosts
_WORKER = """
import json, sys
import tensorflow as tf
strategy = tf.distribute.MultiWorkerMirroredStrategy()   # first, as the Scaling guide says

import pandas as pd
from skface import FaceCNNClassifier

frame = pd.read_csv(sys.argv[1])
said = {}
for name, params in (("plain", {}), ("group_dro", {"fairness": "group_dro", "sensitive_column": "gender"})):
    clf = FaceCNNClassifier(distribution=strategy, image_size=(20, 20), epochs=3,
                            batch_size=16 * strategy.num_replicas_in_sync, random_state=0, **params)
    try:
        clf.fit(frame, frame["label"])
        said[name] = "trained"
    except ValueError as error:
        said[name] = str(error)
print(json.dumps(said))
"""


def _free_ports(n):
    import socket

    sockets = [socket.socket() for _ in range(n)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_the_several_hosts_recipe_stops_at_once_with_the_reason(tmp_path):
    """The Scaling guide's multi-worker recipe, as written, on two worker
    processes of this machine (loopback only): Keras 3 cannot train it, so
    both workers stop at the start of fit with skface's message, within a
    bounded time, instead of failing inside Keras."""
    images, y = make_toy_images(n=64, size=20, seed=4)
    frame = pd.DataFrame({"filename": write_pngs(str(tmp_path), images), "label": y,
                          "gender": np.where(np.arange(64) % 3 == 0, -1, 1)})
    frame.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "train.py").write_text(_WORKER)
    ports = _free_ports(2)
    workers = []
    for index in range(2):
        config = {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                  "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config), "TF_CPP_MIN_LOG_LEVEL": "2"}
        workers.append(subprocess.Popen([sys.executable, str(tmp_path / "train.py"), str(tmp_path / "data.csv")],
                                        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=180)
            assert worker.returncode == 0, err[-2000:]
            outputs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            worker.kill()
    for said in outputs:
        for name in ("plain", "group_dro"):
            assert "MultiWorkerMirroredStrategy" in said[name] and "spans 2 workers, which Keras" in said[name]
            assert "https://github.com/keras-team/keras/issues/20585" in said[name]
            assert "distribution='mirrored'" in said[name] and "with dask" in said[name]


if __name__ == "__main__" and sys.argv[1:2] == ["mirrored"]:
    _mirrored_run()
