"""Interrupted training: per-epoch checkpoints, resuming, and files that are
never half-written."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from conftest import make_toy_images
from PIL import Image

import skface
from skface import FaceCNNClassifier
from skface.datasets import write_faces

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# run_eagerly: tracing the graph of a tiny model costs more than it saves;
# the killed-and-resumed test also runs in graph mode, the default users get
SMALL = dict(
    image_size=16, filters=(4, 8), dense_units=8, early_stopping=False, batch_size=8,
    learning_rate=0.01, random_state=0, run_eagerly=True,
)
STEPS = 3  # 24 images in batches of 8


def temp_files(directory):
    return [name for name in os.listdir(directory) if name.startswith(".skface-")]


def optimizer_state(model):
    return {v.path: np.array(v.numpy()) for v in model.optimizer.variables}


# ------------------------------------------------------ killed and resumed
TRAIN_SCRIPT = textwrap.dedent(
    """
    import os, sys, time, zipfile
    import numpy as np
    import keras
    from skface import FaceCNNClassifier

    data = np.load(sys.argv[1])
    kill_point, checkpoint_dir = sys.argv[2], sys.argv[3]

    class Announce(keras.callbacks.Callback):
        # the test kills this process with SIGKILL once it prints the marker
        def on_train_batch_end(self, batch, logs=None):
            if kill_point == "mid-epoch" and self.epoch == 2 and batch == 0:
                print("IN EPOCH 3", flush=True)
                time.sleep(120)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_epoch_end(self, epoch, logs=None):
            print("LOSS", epoch, repr(float(logs["loss"])), flush=True)

    if kill_point == "mid-save":
        # hold the third checkpoint write after the model is in the temporary file
        writestr, calls = zipfile.ZipFile.writestr, []

        def slow_writestr(self, name, *args, **kwargs):
            calls.append(name)
            if calls.count("skface.json") == 3:
                print("SAVING EPOCH 3", flush=True)
                time.sleep(120)
            return writestr(self, name, *args, **kwargs)

        zipfile.ZipFile.writestr = slow_writestr

    params = {params!r}
    FaceCNNClassifier(**params, epochs=5, checkpoint_dir=checkpoint_dir,
                      callbacks=[Announce()]).fit(data["X"], data["y"])
    print("FINISHED", flush=True)
    """
)


def run_and_kill(tmp_path, kill_point, X, y, params=SMALL):
    np.savez(tmp_path / "data.npz", X=X, y=y)
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT.format(params=params))
    checkpoint_dir = tmp_path / "checkpoints"
    env = {**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "data.npz"), kill_point, str(checkpoint_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    losses = []
    try:
        deadline = time.monotonic() + 300
        for line in process.stdout:
            if line.startswith("LOSS"):
                losses.append(float(line.split()[2]))
            if line.startswith(("IN EPOCH 3", "SAVING EPOCH 3")):
                process.send_signal(signal.SIGKILL)
                break
            assert time.monotonic() < deadline
        else:
            pytest.fail(f"training ended without reaching epoch 3: {process.stderr.read()[-2000:]}")
        assert process.wait(timeout=60) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()
    return checkpoint_dir, losses


# a kill mid-epoch, in graph mode as users train (a resumed network is loaded
# with its saved compile settings, so the resumed fit runs in that mode too);
# a kill mid-save, eagerly
@pytest.mark.slow  # a fresh Python, with TensorFlow, trains and is killed
@pytest.mark.parametrize("kill_point, run_eagerly", [("mid-epoch", False), ("mid-save", True)])
def test_a_killed_fit_resumes_after_the_last_completed_epoch(tmp_path, kill_point, run_eagerly):
    X, y = make_toy_images(24, seed=1)
    params = {**SMALL, "run_eagerly": run_eagerly}
    checkpoint_dir, losses = run_and_kill(tmp_path, kill_point, X, y, params)
    path = checkpoint_dir / "checkpoint.keras"
    # the killed process had finished 2 epochs (3 when killed while saving the third)
    assert len(losses) == (2 if kill_point == "mid-epoch" else 3)

    # epochs 1 and 2 are on disk, exactly as trained, in a file that loads,
    # with a temporary file left only by the mid-save kill
    saved = skface.load(path)
    assert saved.history_["loss"] == pytest.approx(losses[:2], rel=1e-6)
    assert saved.model_.optimizer.iterations.numpy() == 2 * STEPS
    assert np.isfinite(saved.predict_proba(X)).all()
    assert len(temp_files(checkpoint_dir)) == (kill_point == "mid-save")

    resumed = FaceCNNClassifier(**params, epochs=5, checkpoint_dir=checkpoint_dir, warm_start=True)
    resumed.fit(X, y)
    # the interrupted fit is finished: 3 more epochs, 5 in all, nothing retrained
    assert len(resumed.history_["loss"]) == 5
    np.testing.assert_array_equal(resumed.history_["loss"][:2], saved.history_["loss"])
    assert resumed.model_.optimizer.iterations.numpy() == 5 * STEPS
    proba = resumed.predict_proba(X)
    assert proba.shape == (24, 2) and np.isfinite(proba).all()
    assert temp_files(checkpoint_dir) == []  # the stale one was cleaned up
    final = skface.load(path)
    assert len(final.history_["loss"]) == 5
    np.testing.assert_allclose(final.predict_proba(X), proba, atol=1e-6)


# ------------------------------------------------------------ in process
@pytest.fixture(scope="module")
def toy():
    return make_toy_images(24, seed=2)


def test_checkpoint_holds_model_optimizer_and_history(tmp_path, toy):
    X, y = toy
    clf = FaceCNNClassifier(**SMALL, epochs=2, checkpoint_dir=tmp_path / "new" / "dir").fit(X, y)
    loaded = skface.load(tmp_path / "new" / "dir" / "checkpoint.keras")
    assert loaded.history_ == clf.history_
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    expected, restored = optimizer_state(clf.model_), optimizer_state(loaded.model_)
    assert expected.keys() == restored.keys() and len(expected) > 2  # iterations, Adam moments
    for name in expected:
        np.testing.assert_array_equal(restored[name], expected[name])
    with zipfile.ZipFile(tmp_path / "new" / "dir" / "checkpoint.keras") as archive:
        assert b'"finished": true' in archive.read("skface.json")
    # a pathlib.Path parameter is saved as its string, without a warning
    assert loaded.get_params()["checkpoint_dir"] == str(tmp_path / "new" / "dir")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        clf.save(tmp_path / "model.keras")


def test_warm_start_from_a_finished_checkpoint_trains_more_epochs(tmp_path, toy):
    X, y = toy
    FaceCNNClassifier(**SMALL, epochs=2, checkpoint_dir=tmp_path).fit(X, y)
    more = FaceCNNClassifier(**SMALL, epochs=1, checkpoint_dir=tmp_path, warm_start=True).fit(X, y)
    assert len(more.history_["loss"]) == 3
    assert more.model_.optimizer.iterations.numpy() == 3 * STEPS
    # without warm_start a fit starts over and replaces the checkpoint
    again = FaceCNNClassifier(**SMALL, epochs=1, checkpoint_dir=tmp_path).fit(X, y)
    assert len(again.history_["loss"]) == 1
    assert len(skface.load(tmp_path / "checkpoint.keras").history_["loss"]) == 1


@pytest.mark.slow  # resumes from checkpoints: make test-all
def test_a_resumed_network_is_loaded_under_the_distribution_strategy(tmp_path, toy):
    import tensorflow as tf

    X, y = toy
    # graph mode: under a strategy, eager steps cost more than tracing them
    params = {**SMALL, "epochs": 1, "checkpoint_dir": tmp_path, "distribution": "mirrored", "run_eagerly": False}
    FaceCNNClassifier(**params).fit(X, y)
    resumed = FaceCNNClassifier(**params, warm_start=True).fit(X, y)
    assert len(resumed.history_["loss"]) == 2
    assert isinstance(resumed.model_.distribute_strategy, tf.distribute.MirroredStrategy)


def test_early_stopping_checkpoint_holds_the_restored_best_weights(tmp_path, toy):
    X, _ = toy
    noise = np.random.default_rng(0).integers(0, 2, len(X))
    params = {**SMALL, "early_stopping": True, "epochs": 6, "optimizer__learning_rate": 0.05}
    clf = FaceCNNClassifier(**params, checkpoint_dir=tmp_path).fit(X, noise)
    np.testing.assert_allclose(
        skface.load(tmp_path / "checkpoint.keras").predict_proba(X), clf.predict_proba(X), atol=1e-6
    )


def test_resuming_with_another_network_or_a_foreign_file_is_refused(tmp_path, toy):
    X, y = toy
    FaceCNNClassifier(**SMALL, epochs=1, checkpoint_dir=tmp_path).fit(X, y)
    other = FaceCNNClassifier(**{**SMALL, "filters": (4,)}, checkpoint_dir=tmp_path, warm_start=True)
    with pytest.raises(ValueError, match=r"holds a checkpoint of another network: filters=\(4, 8\) there, \(4,\) here"):
        other.fit(X, y)
    (tmp_path / "checkpoint.keras").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="is not a skface checkpoint"):
        FaceCNNClassifier(**SMALL, checkpoint_dir=tmp_path, warm_start=True).fit(X, y)


def test_checkpoint_dir_is_validated(tmp_path, toy):
    X, y = toy
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="checkpoint_dir=.*file' is a file"):
        FaceCNNClassifier(**SMALL, checkpoint_dir=tmp_path / "file").fit(X, y)
    with pytest.raises(TypeError, match="The 'checkpoint_dir' parameter of FaceCNNClassifier must be None"):
        FaceCNNClassifier(**SMALL, checkpoint_dir=3).fit(X, y)


# -------------------------------------------------- never half-written files
def test_a_failed_checkpoint_write_keeps_the_previous_epoch(tmp_path, toy, monkeypatch):
    X, y = toy
    writes = []
    real = skface._serialization.write_model_file

    def failing(model, state, path):
        writes.append(state["checkpoint"]["epoch"])
        if len(writes) == 2:
            with skface._atomic.atomic_path(path) as tmp:
                open(tmp, "wb").write(b"half a model")
                raise OSError("disk full")
        return real(model, state, path)

    monkeypatch.setattr(skface._serialization, "write_model_file", failing)
    with pytest.raises(OSError, match="disk full"):
        FaceCNNClassifier(**SMALL, epochs=3, checkpoint_dir=tmp_path).fit(X, y)
    assert temp_files(tmp_path) == []
    assert len(skface.load(tmp_path / "checkpoint.keras").history_["loss"]) == 1


def test_save_and_write_faces_never_leave_half_written_files(tmp_path, toy, monkeypatch):
    X, y = toy
    clf = FaceCNNClassifier(**SMALL, epochs=1).fit(X, y)
    path = clf.save(tmp_path / "model.keras")
    before = open(path, "rb").read()

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(zipfile.ZipFile, "writestr", interrupted)
        with pytest.raises(KeyboardInterrupt):
            clf.save(path)
    assert open(path, "rb").read() == before and temp_files(tmp_path) == []

    faces = tmp_path / "faces"
    write_faces(faces, 4, image_size=8, random_state=0)
    first = {name: open(faces / name, "rb").read() for name in os.listdir(faces)}
    real_save, saved = Image.Image.save, []

    def save_half_then_fail(self, fp, *args, **kwargs):
        saved.append(fp)
        if len(saved) == 3:  # the third image: write some bytes, then crash
            open(fp, "wb").write(b"\xff\xd8\xff")
            raise KeyboardInterrupt
        return real_save(self, fp, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Image.Image, "save", save_half_then_fail)
        with pytest.raises(KeyboardInterrupt):
            write_faces(faces, 4, image_size=8, random_state=1)
    # images 1-2 are new and whole, images 3-4 and the CSV are the old ones
    assert sorted(os.listdir(faces)) == sorted(first)
    for name in ("face_00002.jpg", "face_00003.jpg", "labels.csv"):
        assert open(faces / name, "rb").read() == first[name]
    for name in ("face_00000.jpg", "face_00001.jpg"):
        with Image.open(faces / name) as image:
            image.load()
    assert len(pd.read_csv(faces / "labels.csv")) == 4


@pytest.mark.slow  # resumes from checkpoints: make test-all
def test_resume_and_warm_start_follow_run_eagerly(tmp_path, toy):
    X, y = toy
    graph = FaceCNNClassifier(**{**SMALL, "epochs": 1, "run_eagerly": False}, checkpoint_dir=tmp_path).fit(X, y)
    assert graph.model_.run_eagerly is False
    resumed = FaceCNNClassifier(**{**SMALL, "epochs": 1, "run_eagerly": True}, checkpoint_dir=tmp_path,
                                warm_start=True).fit(X, y)
    assert resumed.model_.run_eagerly is True
    graph.set_params(run_eagerly=True, warm_start=True, checkpoint_dir=None).fit(X, y)
    assert graph.model_.run_eagerly is True
