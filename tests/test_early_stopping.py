"""Early stopping: no stop before min_images, patience after it, best weights
restored, the reference rule reachable, the image count kept across fits."""

import keras
import numpy as np
import pytest
from conftest import TINY

import skface._early_stopping as es
from skface import FaceCNNClassifier

# 96 toy images, 0.2 held out: 76 train in batches of 32 -> 3 steps, 96 images an epoch
EPOCH_IMAGES = 3 * 32


def drive(callback, val_losses, images_per_epoch=100, iterations=0, key="val_loss"):
    """Run ``callback`` over epochs with the given validation losses; before
    each epoch's end the weights are set to the epoch number and the optimizer
    has taken ``images_per_epoch / batch_size`` more steps. Returns the epochs
    run and the weight the model ends with."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer="sgd", loss="mse")
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(iterations)
    model.stop_training = False
    callback.set_model(model)
    callback.on_train_begin()
    steps = images_per_epoch // callback.batch_size
    epochs = 0
    for epoch, loss in enumerate(val_losses):
        model.optimizer.iterations.assign_add(steps)
        model.set_weights([np.full((1, 1), float(epoch))])
        callback.on_epoch_end(epoch, {key: loss})
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return epochs, float(model.get_weights()[0][0, 0])


# ------------------------------------------------------------------ the rule
def test_does_not_stop_before_min_images():
    callback = es.EarlyStopping(batch_size=10, patience=1, min_images=500)
    # worse from the second epoch on: the reference rule would stop after epoch 2
    epochs, weight = drive(callback, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], images_per_epoch=100)
    assert epochs == 5  # 500 images are reached at the end of the fifth epoch
    assert weight == 0.0  # and the best (first) epoch's weights are restored
    assert callback.stopped_epoch == 4 and callback.best_epoch == 0


def test_stops_after_patience_once_past_the_minimum():
    callback = es.EarlyStopping(batch_size=10, patience=2, min_images=300)
    losses = [5.0, 4.0, 3.0, 2.0, 2.5, 1.0, 1.5, 1.6, 1.7, 0.1]
    epochs, weight = drive(callback, losses, images_per_epoch=100)
    # improvements up to epoch 6 (0-based 5), then two epochs without one
    assert epochs == 8 and weight == 5.0 and callback.best == 1.0


def test_reference_rule_is_min_images_zero_and_patience_one():
    epochs, weight = drive(es.EarlyStopping(batch_size=10, min_images=0), [1.0, 0.5, 0.6, 0.1])
    assert (epochs, weight) == (3, 1.0)
    # the same as Keras's EarlyStopping(patience=1, restore_best_weights=True)
    keras_stopping = keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    keras_stopping.batch_size = 10  # for drive()
    assert drive(keras_stopping, [1.0, 0.5, 0.6, 0.1]) == (epochs, weight)


@pytest.mark.parametrize("losses", [[1.0, 1.1, 0.5], [1.0, 0.9, 0.8, 0.85, 0.7], [1.0, 0.9, 0.95, 0.97]])
def test_celeba_sized_epochs_follow_the_reference_rule(losses):
    # the reference's epochs: 2,979 steps of 32 images, more than the default minimum
    celeba_epoch = 2979 * 32
    default = FaceCNNClassifier().min_images
    assert default <= celeba_epoch
    keras_stopping = keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    keras_stopping.batch_size = 32  # for drive()
    assert drive(es.EarlyStopping(batch_size=32, min_images=default), losses, celeba_epoch) == (
        drive(keras_stopping, losses, celeba_epoch)
    )


def test_mode_max_watches_a_score_that_rises():
    # scoring="fair_metric": higher is better; the best epoch (1) is restored
    callback = es.EarlyStopping(batch_size=10, patience=2, monitor="val_fair_metric", mode="max")
    epochs, weight = drive(callback, [0.5, 0.8, 0.7, 0.75, 0.9], key="val_fair_metric")
    assert (epochs, weight) == (4, 1.0)
    with pytest.raises(ValueError, match=r"mode='up' is not accepted; accepted: 'min', 'max'"):
        es.EarlyStopping(batch_size=10, mode="up")


def test_estimator_scoring_picks_what_early_stopping_watches():
    from skface._options import SCORING

    assert SCORING["fair_metric"] == ("val_fair_metric", "max")
    assert SCORING["loss"] == ("val_loss", "min")
    assert FaceCNNClassifier().scoring == "loss"


def test_tol_counts_small_improvements_as_none():
    losses = [1.0, 0.99, 0.98, 0.97]
    assert drive(es.EarlyStopping(batch_size=10, tol=0.0), losses)[0] == 4
    epochs, weight = drive(es.EarlyStopping(batch_size=10, tol=0.05), losses)
    assert (epochs, weight) == (2, 0.0)


def test_nan_loss_is_never_the_best():
    epochs, weight = drive(es.EarlyStopping(batch_size=10), [1.0, float("nan"), 0.5])
    assert (epochs, weight) == (2, 0.0)


def test_images_already_trained_on_count():
    # a network that has had 1,000 images (a warm start, a resumed fit) is past the warm-up
    callback = es.EarlyStopping(batch_size=10, min_images=500)
    assert drive(callback, [1.0, 2.0, 3.0], iterations=100)[0] == 2


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match=r"min_images=-1 is not accepted; accepted: an int >= 0"):
        es.EarlyStopping(batch_size=10, min_images=-1)
    with pytest.raises(ValueError, match=r"tol=-0.1 is not accepted; accepted: a float >= 0"):
        es.EarlyStopping(batch_size=10, tol=-0.1)


# ------------------------------------------------------------ the estimator
@pytest.fixture(scope="module")
def noise(toy):
    X, _ = toy
    return X, np.random.default_rng(0).integers(0, 2, len(X))


FAST = {**TINY, "run_eagerly": True, "optimizer__learning_rate": 0.03}


def estimator(**params):
    return FaceCNNClassifier(**{**FAST, **params})


def test_estimator_reference_rule_stops_where_the_default_trains_on(noise):
    X, y = noise
    reference = estimator(epochs=8, min_images=0, n_iter_no_change=1).fit(X, y)  # the reference's rule
    val_loss = reference.history_["val_loss"]
    assert len(val_loss) < 8 and int(np.argmin(val_loss)) == len(val_loss) - 2
    # a minimum of 5 epochs of images: no stop before the fifth epoch
    trained = estimator(epochs=8, min_images=5 * EPOCH_IMAGES, n_iter_no_change=1).fit(X, y)
    assert 5 <= len(trained.history_["val_loss"]) <= 8
    assert len(trained.history_["val_loss"]) == len(trained.history_["loss"])  # one per epoch


def test_estimator_restores_the_best_epoch(noise):
    X, y = noise
    clf = estimator(epochs=3, min_images=10**9).fit(X, y)
    # ran every epoch; predicts with the weights of the best validation epoch
    best = int(np.argmin(clf.history_["val_loss"]))
    assert len(clf.history_["val_loss"]) == 3
    again = estimator(epochs=best + 1, min_images=10**9).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), again.predict_proba(X), atol=1e-5)


def test_defaults():
    # 32,000 images: a third of a CelebA epoch, measured in benchmarks/default_learns.py
    assert FaceCNNClassifier().min_images == 32_000 and FaceCNNClassifier().tol == 0.0


def images_seen_per_epoch(monkeypatch):
    seen = []
    real = es.EarlyStopping.on_epoch_end

    def spy(self, epoch, logs=None):
        seen.append(self.images_seen())
        return real(self, epoch, logs)

    monkeypatch.setattr(es.EarlyStopping, "on_epoch_end", spy)
    return seen


@pytest.mark.slow  # resumes from checkpoints: make test-all
def test_warm_start_and_resume_keep_counting_images(noise, tmp_path, monkeypatch):
    X, y = noise
    seen = images_seen_per_epoch(monkeypatch)
    params = {"epochs": 2, "min_images": 10**9, "checkpoint_dir": tmp_path}
    clf = estimator(**params).fit(X, y)
    clf.set_params(warm_start=True, epochs=1).fit(X, y)
    assert seen == [EPOCH_IMAGES, 2 * EPOCH_IMAGES, 3 * EPOCH_IMAGES]

    # a new process resuming from the checkpoint: the optimizer's step count is restored
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    seen.clear()
    with pytest.raises(KeyboardInterrupt):
        estimator(**params, callbacks=[Interrupt()]).fit(X, y)
    estimator(**params, warm_start=True).fit(X, y)
    assert seen == [EPOCH_IMAGES, 2 * EPOCH_IMAGES]
