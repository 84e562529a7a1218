import os

# Quiet TensorFlow's C++ start-up logging in test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from PIL import Image

from skface.utils import configure_threads

# Under pytest-xdist every worker's TensorFlow would size its thread pools to
# all the cores and the workers would fight over them (make test's two
# workers on two cores took 15 % longer that way). Each gets its share, set
# here because TensorFlow reads it once, before any test module starts it.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    _CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    configure_threads(max(1, _CORES // _WORKERS))


def make_toy_images(n=96, size=16, seed=0):
    """Bright images are class 1, dark images class 0, with texture noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    rng.shuffle(y)
    base = np.where(y == 1, 170, 40)[:, None, None, None]
    X = np.clip(base + rng.normal(0, 25, (n, size, size, 3)), 0, 255).astype(np.uint8)
    return X, y


def write_pngs(directory, X):
    paths = []
    for i, image in enumerate(X):
        path = os.path.join(directory, f"img_{i:04d}.png")
        Image.fromarray(image.squeeze() if image.shape[-1] == 1 else image).save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def toy():
    return make_toy_images()


@pytest.fixture(scope="session")
def toy_paths(toy, tmp_path_factory):
    directory = tmp_path_factory.mktemp("toy")
    return write_pngs(str(directory), toy[0])


# A small, fast configuration of the network for tests. run_eagerly: on tiny
# models, tracing the Keras graph (tf.function) costs more than it saves
# (a fit and predict of TINY took 0.9 s of CPU instead of 2.2 s). Tests whose
# subject is graph mode, the default users get, pass run_eagerly=False.
TINY = dict(
    image_size=16, filters=(4, 8), dense_units=8, epochs=2, learning_rate=0.01, random_state=0, run_eagerly=True,
)


@pytest.fixture(scope="module")
def eager_functions():
    """Run every tf.function eagerly, from the first test that asks for it to
    the end of its module (module scope, so that module-scoped fixtures that
    train are covered too).

    For tests that train through code without a ``run_eagerly`` parameter
    (the command line, docstring examples, the benchmark), where what is
    tested is not the graph; tf.data pipelines are not affected.
    """
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    try:
        yield
    finally:
        tf.config.run_functions_eagerly(False)


#: the files that take longest (50 s to 150 s each on 2 cores), run first: with
#: pytest-xdist's --dist loadfile a worker takes whole files in collection order,
#: and one of these collected last (alphabetically) leaves the other worker idle
#: at the end of the run (make test used 170 % of 2 cores that way).
_LONGEST_FIRST = ("test_cli.py", "test_persistence.py", "test_classifier.py", "test_estimator_checks.py",
                  "test_group_training.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return _LONGEST_FIRST.index(name) if name in _LONGEST_FIRST else len(_LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file, and of the other files, stays
    # TensorFlow warns that tf.data ignores run_functions_eagerly: known, wanted
    for item in items:
        if "eager_functions" in item.fixturenames:
            item.add_marker(pytest.mark.filterwarnings("ignore:Even though the `tf.config.experimental_run"))


@pytest.fixture(scope="session")
def tiny_fitted(toy):
    """TINY trained eagerly on ``toy``, for tests that only read the result."""
    from skface import FaceCNNClassifier

    X, y = toy
    return FaceCNNClassifier(**TINY).fit(X, y)
