"""
Transfer learning with a Keras application backbone
===================================================

``backbone="resnet50" | "mobilenet_v2" | "efficientnet_b0"`` puts a Keras
application under a Dense 512 + Dropout + sigmoid head, as the reference's
transfer-learning experiment did with a frozen ResNet50 (0.817 test accuracy,
below the small CNN).

``backbone_weights`` decides where the backbone's weights come from:
``None`` (random, nothing downloaded), ``"imagenet"`` (Keras downloads them
on first use) or **the path of a local weights file**. This example makes
such a file itself -- on a machine with internet access you would save the
ImageNet weights once, with
``keras.applications.MobileNetV2(include_top=False, weights="imagenet",
pooling="avg").save_weights("mobilenet_v2.weights.h5")``, and copy the file
-- so it runs offline. The weights here are random, so the frozen backbone is
a random feature extractor: the numbers show the mechanics, not the value of
pretraining.
"""

import os
import shutil
import tempfile

import keras
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from skface import FaceCNNClassifier
from skface.datasets import make_faces
from skface.metrics import fair_metric

# sphinx_gallery_thumbnail_path = "_static/faces_grid.png"
FAST = os.environ.get("SKFACE_DOCS_FAST", "0") not in ("", "0")
n_samples = 400 if FAST else 3000
image_size = 32 if FAST else 96  # Keras applications need at least 32x32
epochs = 2 if FAST else 10

# %%
# A local weights file
# --------------------
# The backbone without its top and with global average pooling, as skface
# builds it. A ``.weights.h5`` file holds its weights only.
folder = tempfile.mkdtemp(prefix="skface-weights-")
weights_path = os.path.join(folder, "mobilenet_v2.weights.h5")
backbone = keras.applications.MobileNetV2(
    include_top=False, weights=None, input_shape=(image_size, image_size, 3), pooling="avg"
)
backbone.save_weights(weights_path)
print(f"{backbone.count_params():,} backbone weights saved to {os.path.basename(weights_path)}")

# %%
# Train a frozen and a fine-tuned backbone, and the small CNN
# -----------------------------------------------------------
faces = make_faces(n_samples, image_size=image_size, random_state=0)
X_train, X_test, y_train, y_test, g_train, g_test = train_test_split(
    faces.images,
    faces.target,
    faces.gender,
    test_size=0.25,
    stratify=list(zip(faces.target, faces.gender)),
    random_state=0,
)
common = dict(image_size=image_size, epochs=epochs, random_state=0)
models = {
    "MobileNetV2, frozen": FaceCNNClassifier(
        backbone="mobilenet_v2", backbone_weights=weights_path, **common
    ),
    "MobileNetV2, fine-tuned": FaceCNNClassifier(
        backbone="mobilenet_v2",
        backbone_weights=weights_path,
        trainable_backbone=True,
        learning_rate=1e-4,
        **common,
    ),
    "small CNN": FaceCNNClassifier(**common),
}
results = {}
for name, model in models.items():
    model.fit(X_train, y_train)
    y_pred = model.predict(X_test)
    trainable = sum(int(np.prod(w.shape)) for w in model.model_.trainable_weights)
    results[name] = {
        "trainable weights": trainable,
        "all weights": model.model_.count_params(),
        "epochs": len(model.history_["loss"]),
        "accuracy": np.mean(y_pred == y_test),
        "Fair_Metric": fair_metric(y_test, y_pred, sensitive_features=g_test),
    }
results = pd.DataFrame(results).T.astype(
    {"trainable weights": int, "all weights": int, "epochs": int}
)
shutil.rmtree(folder)  # remove the weights file
results.round(3)

# %%
# A frozen backbone trains only its head, so it is fast per epoch but cannot
# adapt its features to hair colour and eyeglasses; with ImageNet weights
# the reference still found it worse than the small CNN trained from
# scratch. Fine-tuning adapts everything, with a smaller learning rate so as
# not to wreck pretrained features.
