"""skface/_model.py: the reference network, the backbones, augmentation."""

import keras
import numpy as np
import pytest
from conftest import TINY

from skface import FaceCNNClassifier


def test_reference_architecture_has_4288577_parameters():
    from skface._model import build_model

    model = build_model(image_size=(80, 80))
    assert model.count_params() == 4_288_577
    kinds = [type(layer).__name__ for layer in model.layers[1:]]
    assert kinds == ["Conv2D", "MaxPooling2D"] * 3 + ["Flatten", "Dense", "Dropout", "Dense"]
    assert [layer.padding for layer in model.layers if hasattr(layer, "padding")][:5:2] == ["valid"] * 3


@pytest.mark.parametrize("size", [16, 20, 22, 32])
def test_small_images_build(size):
    from skface._model import build_model

    model = build_model(image_size=(size, size), filters=(4, 8, 16), dense_units=8)
    assert model.output_shape == (None, 1)


def test_augmentation_is_only_active_in_training(toy):
    X, y = toy
    clf = FaceCNNClassifier(**TINY, augment=True).fit(X, y)
    assert any(layer.name.startswith("aug_") for layer in clf.model_.layers)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("backbone", ["mobilenet_v2", "efficientnet_b0", "resnet50"])
def test_backbones_build_without_downloading(backbone):
    from skface._model import build_model

    model = build_model(image_size=(32, 32), backbone=backbone, dense_units=8)
    assert model.output_shape == (None, 1)
    base = [layer for layer in model.layers if isinstance(layer, keras.Model)][0]
    assert base.trainable is False


def test_fine_tuning_pretrained_weights_keeps_batch_norm_in_inference_mode(tmp_path):
    from skface._model import build_model

    shape, rng = (32, 32, 3), np.random.default_rng(0)
    # "pretrained" weights: batch-norm statistics and scales of its own, as ImageNet's would have
    pretrained = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=shape, pooling="avg")
    for layer in pretrained.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.uniform(0.0, 0.2, n), rng.normal(0, 0.1, n),
                               rng.uniform(0.5, 2.0, n)])
    path = str(tmp_path / "mobilenet_v2.weights.h5")
    pretrained.save_weights(path)
    x = rng.random((4, *shape)).astype(np.float32)

    def parts(weights):
        # seeded: with an unlucky draw every unit of the small head is dead on these 4 images, and the
        # backbone gets no gradient at all
        model = build_model(image_size=shape[:2], backbone="mobilenet_v2", backbone_weights=weights,
                            trainable_backbone=True, dense_units=8, dropout=0.0, seed=0)
        base = next(layer for layer in model.layers if isinstance(layer, keras.Model))
        bn = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
        return model, base, bn

    model, base, bn = parts(path)
    assert bn and not any(layer.trainable for layer in bn)
    assert base.trainable and all(layer.trainable for layer in base.layers if layer not in bn)
    np.testing.assert_allclose(model(x, training=True), model(x, training=False), rtol=1e-5)
    # a training step moves the convolutions (the last one: random weights leave the first next to no
    # gradient), not the batch-norm statistics or scales
    bn_before, conv_before = [layer.get_weights() for layer in bn], base.get_layer("Conv_1").get_weights()[0]
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy", run_eagerly=True)
    model.train_on_batch(x, np.array([0, 1, 0, 1], np.float32))
    assert all(np.array_equal(b, a) for layer, was in zip(bn, bn_before) for b, a in zip(was, layer.get_weights()))
    assert not np.array_equal(conv_before, base.get_layer("Conv_1").get_weights()[0])
    # random weights have no statistics to keep: batch-norm trains, on the batch's statistics
    model, _, bn = parts(None)
    assert all(layer.trainable for layer in bn)
    assert not np.allclose(model(x, training=True), model(x, training=False), rtol=1e-3)


@pytest.mark.slow  # MobileNetV2, even eagerly at 32 px
def test_frozen_backbone_trains_its_head_only(toy):
    X, y = toy
    # run_eagerly: tracing MobileNetV2's graph costs more than 3 eager steps
    clf = FaceCNNClassifier(
        image_size=32, backbone="mobilenet_v2", dense_units=8, epochs=1, warm_start=True, run_eagerly=True,
        random_state=0,
    ).initialize(X, y)
    base = next(layer for layer in clf.model_.layers if isinstance(layer, keras.Model))
    before, head = base.get_weights(), clf.model_.get_layer("output").get_weights()
    clf.fit(X, y)
    # batch-norm moving statistics included, although fit runs in training mode
    assert all(np.array_equal(b, a) for b, a in zip(before, base.get_weights()))
    assert not all(np.array_equal(b, a) for b, a in zip(head, clf.model_.get_layer("output").get_weights()))
    assert clf.predict_proba(X).shape == (len(X), 2)
