"""
Transfer learning with a Keras application backbone
===================================================

``backbone="resnet50" | "mobilenet_v2" | "efficientnet_b0"`` puts a Keras
application under a Dense 512 + Dropout + sigmoid head, as the reference's
transfer-learning experiment did with a frozen ResNet50 (0.817 test accuracy,
below its small CNN).

**What this page shows, and what it does not.** The docs build has no
internet access, so no ImageNet weights can be downloaded here, and a
MobileNetV2 with random weights has nothing to transfer: the two short fits
below, on a few hundred faces, are for the mechanics (skface's warning after
the fine-tuned one says that it learned next to nothing). So this page
shows how the pieces work -- where the weights come from, what trains and
what does not, what an epoch costs -- not whether pretraining helps. The one accuracy it
reports is the small default CNN's, next to the majority class: the baseline
any backbone must beat.

``backbone_weights`` decides where the backbone's weights come from:
``None`` (random, nothing downloaded), ``"imagenet"`` (Keras downloads them
on first use) or **the path of a local weights file**. On a machine with
internet access you would save the ImageNet weights once, with
``keras.applications.MobileNetV2(include_top=False, weights="imagenet",
pooling="avg").save_weights("mobilenet_v2.weights.h5")``, and copy the file
to the offline machine. This example makes such a file itself, with random
weights and batch-norm statistics measured on faces.
"""

import os
import shutil
import tempfile
import time

import keras
import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import train_test_split

from skface import FaceCNNClassifier
from skface.datasets import make_faces
from skface.metrics import fair_metric

# sphinx_gallery_thumbnail_path = "_static/faces_grid.png"
FAST = os.environ.get("SKFACE_DOCS_FAST", "0") not in ("", "0")
image_size = 32  # the smallest size Keras applications accept
n_mechanics = 128 if FAST else 384  # faces for the backbone's mechanics
n_samples = 400 if FAST else 3000  # faces for the small CNN
epochs = 1 if FAST else 2

# %%
# A local weights file
# --------------------
# The backbone without its top and with global average pooling, as skface
# builds it. A ``.weights.h5`` file holds its weights only.
#
# Pretrained weights come with the batch-norm statistics they were learned
# with (ImageNet's, for ImageNet weights); a random network's are the
# untrained defaults, under which a deep network in inference mode passes on
# next to nothing. So the stand-in gets statistics that match its weights
# from one pass over faces scaled as MobileNetV2 expects (-1 to 1): with
# momentum 0, a batch-norm layer in training mode sets its moving statistics
# to the batch's.
keras.utils.set_random_seed(0)
faces = make_faces(n_samples, image_size=image_size, random_state=0)
X_small, y_small = faces.images[:n_mechanics], faces.target[:n_mechanics]
folder = tempfile.mkdtemp(prefix="skface-weights-")
weights_path = os.path.join(folder, "mobilenet_v2.weights.h5")
stand_in = keras.applications.MobileNetV2(
    include_top=False, weights=None, input_shape=(image_size, image_size, 3), pooling="avg"
)
batch_norms = [layer for layer in stand_in.layers if isinstance(layer, keras.layers.BatchNormalization)]
momenta = [layer.momentum for layer in batch_norms]
for layer in batch_norms:
    layer.momentum = 0.0
stand_in(X_small.astype("float32") / 127.5 - 1.0, training=True)
for layer, momentum in zip(batch_norms, momenta):
    layer.momentum = momentum
stand_in.save_weights(weights_path)

# What the file holds, loaded into a fresh MobileNetV2 of the same shape.
from_file = keras.applications.MobileNetV2(
    include_top=False, weights=None, input_shape=(image_size, image_size, 3), pooling="avg"
)
from_file.load_weights(weights_path)
file_weights = from_file.get_weights()
print(f"{from_file.count_params():,} backbone weights in {len(file_weights)} arrays")

# %%
# A frozen and a fine-tuned backbone loaded from the file
# -------------------------------------------------------
# ``compile__jit_compile=False``: XLA made a trainable MobileNetV2 about five
# times slower per step on this CPU. ``precision="float32"``: about twice as
# fast as the bfloat16 that ``"auto"`` picks on this CPU. A fine-tuned
# backbone gets a smaller learning rate, so as not to wreck pretrained
# features.


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def backbone_of(clf):
    """The Keras application inside skface's network: its one nested Model."""
    return next(layer for layer in clf.model_.layers if isinstance(layer, keras.Model))


def batch_norm_weights(clf):
    """The backbone's batch-norm arrays: scale, offset and moving statistics."""
    return [
        w
        for layer in backbone_of(clf).layers
        if isinstance(layer, keras.layers.BatchNormalization)
        for w in layer.get_weights()
    ]


def head_weights(clf):
    return [w for name in ("dense", "output") for w in clf.model_.get_layer(name).get_weights()]


def n_weights(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


def n_changed(before, after):
    return sum(not np.array_equal(b, a) for b, a in zip(before, after))


common = dict(
    image_size=image_size,
    backbone="mobilenet_v2",
    backbone_weights=weights_path,
    compile__jit_compile=False,
    precision="float32",
    early_stopping=False,  # a fixed number of epochs on all the faces
    epochs=epochs,
    warm_start=True,  # fit trains the network initialize built
    random_state=0,
)
models = {
    "frozen": FaceCNNClassifier(**common),
    "fine-tuned": FaceCNNClassifier(trainable_backbone=True, learning_rate=1e-4, **common),
}
rows = {}
for name, clf in models.items():
    clf.initialize(X_small, y_small)
    backbone_before = backbone_of(clf).get_weights()
    batch_norm_before = batch_norm_weights(clf)
    head_before = head_weights(clf)
    timer = EpochTimer()
    clf.set_params(callbacks=[timer])
    clf.fit(X_small, y_small)
    backbone_after = backbone_of(clf).get_weights()
    rows[name] = {
        "trainable weights": n_weights(clf.model_.trainable_weights),
        "all weights": clf.model_.count_params(),
        "backbone = file before fit": n_changed(file_weights, backbone_before) == 0,
        "backbone arrays changed by fit": f"{n_changed(backbone_before, backbone_after)} / {len(backbone_after)}",
        "of which batch-norm": f"{n_changed(batch_norm_before, batch_norm_weights(clf))} / {len(batch_norm_before)}",
        "head arrays changed by fit": f"{n_changed(head_before, head_weights(clf))} / {len(head_before)}",
        "1st epoch (s)": timer.seconds[0],
        "later epochs (s)": np.mean(timer.seconds[1:]) if len(timer.seconds) > 1 else np.nan,
    }
shutil.rmtree(folder)  # remove the weights file
mechanics = pd.DataFrame(rows).T
print(mechanics.to_string(float_format="{:.1f}".format))

# %%
# Both networks start from the file's weights. Frozen, only the head's
# weights train: ``fit`` leaves every backbone array as it was, batch-norm
# statistics included, and an epoch costs little. Fine-tuned, every
# backbone array changes but batch-norm's: with pretrained weights skface
# keeps the batch-norm layers frozen in inference mode, as Keras's
# transfer-learning guide advises, so that small batches of faces do not
# replace the statistics the weights were learned with. Fine-tuning costs
# more per epoch; the first epoch of each also pays for tracing the training
# graph.
#
# skface warns after the fine-tuned fit that the model "looks like a model
# that learned nothing": it predicts class 0 for nearly every face. The
# frozen fit passes that check, which only tells a network that answers one
# class from one that does not; neither is evaluated here. Random backbone
# weights and a couple of epochs on a few hundred faces are here for the
# mechanics above, not for their predictions.
#
# The baseline a backbone must beat
# ---------------------------------
# The small default CNN on 3,000 faces, next to always predicting the
# majority class.
X_train, X_test, y_train, y_test, g_train, g_test = train_test_split(
    faces.images,
    faces.target,
    faces.gender,
    test_size=0.25,
    stratify=list(zip(faces.target, faces.gender)),
    random_state=0,
)
# The dummy ignores the images: it always answers the training set's most
# frequent class.
majority = DummyClassifier(strategy="most_frequent").fit(X_train, y_train)
cnn = FaceCNNClassifier(image_size=image_size, epochs=1 if FAST else 10, random_state=0)
start = time.perf_counter()
cnn.fit(X_train, y_train)
cnn_seconds = time.perf_counter() - start
scores = {}
for name, y_pred in {
    "majority class": majority.predict(X_test),
    "small CNN": cnn.predict(X_test),
}.items():
    scores[name] = {
        "accuracy": np.mean(y_pred == y_test),
        "Fair_Metric": fair_metric(y_test, y_pred, sensitive_features=g_test),
    }
scores = pd.DataFrame(scores).T
print(scores.round(3).to_string())
print(f"small CNN: {len(cnn.history_['loss'])} epochs in {cnn_seconds:.0f} s")

# %%
# The small CNN trained from scratch is well above the majority class. A
# backbone earns its place only if it beats this row -- with ImageNet
# weights and a larger image size, the reference's frozen ResNet50 did not.
