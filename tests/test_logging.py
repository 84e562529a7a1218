"""TensorFlow's own noise stays off the terminal unless the user asks for it."""

import logging
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from skface import _logging

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FIT = (
    "import sys, numpy as np\n"
    "from skface import FaceCNNClassifier\n"
    "X = np.zeros((4, 16, 16, 3), np.uint8); y = np.array([0, 1, 0, 1])\n"
    "FaceCNNClassifier(image_size=16, filters=(4,), dense_units=4, epochs=1, early_stopping=False,\n"
    "                  run_eagerly=True).fit(X, y).predict(X)\n"
    "print('done', file=sys.stderr)\n"
)


def _run(env_level):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if env_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = env_level
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", FIT], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_a_fit_prints_nothing_on_stderr_by_default():
    result = _run(None)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == ["done"]


@pytest.mark.slow
def test_a_log_level_the_user_chose_is_respected():
    result = _run("0")
    assert result.returncode == 0, result.stderr
    # TensorFlow's own start-up lines reach the terminal
    assert len(result.stderr.strip().splitlines()) > 1


def test_python_warnings_are_quieted_only_for_verbose_0():
    logger = logging.getLogger("tensorflow")
    before = logger.level
    with _logging.quiet_tensorflow_warnings(0):
        assert logger.level == logging.ERROR
    assert logger.level == before
    with _logging.quiet_tensorflow_warnings(1):
        assert logger.level == before


def test_third_party_warnings_are_filtered_only_from_their_module():
    message = "__array__ implementation doesn't accept a copy keyword, so passing copy=False failed."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _logging.filter_third_party_warnings()
        warnings.warn_explicit(message, DeprecationWarning, "core.py", 1, module="keras.src.backend.core")
        warnings.warn_explicit(message, DeprecationWarning, "mine.py", 1, module="mine")
    assert [w.filename for w in caught] == ["mine.py"]


def test_skface_warnings_point_at_the_callers_line(tmp_path):
    """A warning of fit names the line that called fit, not a line of skface."""
    import inspect

    from conftest import TINY, write_pngs

    from skface import FaceCNNClassifier

    X = np.zeros((24, 16, 16, 3), dtype=np.uint8)  # one colour: a model that learns nothing
    paths = write_pngs(str(tmp_path), X)
    (tmp_path / "bad.png").write_text("not an image")
    y = np.arange(25) % 2
    clf = FaceCNNClassifier(**{**TINY, "epochs": 1}, early_stopping=False, on_bad_image="skip")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        clf.fit([*paths, str(tmp_path / "bad.png")], y)
    ours = [w for w in caught if "left out 1 of 25" in str(w.message) or "learned nothing" in str(w.message)]
    assert len(ours) == 2, [str(w.message)[:80] for w in caught]
    assert all((w.filename, w.lineno) == (__file__, line) for w in ours), [(w.filename, w.lineno) for w in ours]
