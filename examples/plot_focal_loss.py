"""
The reference architecture and focal loss under label noise
===========================================================

:class:`~skface.FaceCNNClassifier`'s defaults are the reference network,
trained with binary focal cross-entropy (gamma 5). This example shows the
network, checks a finding about the reference loss -- Keras ignores ``alpha``
unless ``apply_class_balancing=True``, so the reference trained without it --
and compares focal loss with plain binary cross-entropy on faces whose labels
are noisy, scoring both against the clean labels.
"""

import os

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import train_test_split

from skface import FaceCNNClassifier
from skface.datasets import make_faces
from skface.metrics import fair_metric, group_accuracy

FAST = os.environ.get("SKFACE_DOCS_FAST", "0") not in ("", "0")
n_samples = 400 if FAST else 3000
image_size = 32
epochs = 2 if FAST else 10

# %%
# The reference architecture
# --------------------------
# With the defaults (80x80 input) the network has 4,288,577 weights: Conv2D
# 32/64/128 with 3x3 kernels, each followed by 2x2 max-pooling, Flatten,
# Dense 512, Dropout 0.5 and one sigmoid unit. Smaller images give a smaller
# Dense layer, nothing else changes.
faces = make_faces(n_samples, image_size=image_size, label_noise=0.15, random_state=0)
X_train, X_test, y_train, y_test, g_train, g_test, clean_train, clean_test = train_test_split(
    faces.images,
    faces.target,
    faces.gender,
    faces.target_clean,
    test_size=0.25,
    stratify=list(zip(faces.target, faces.gender)),
    random_state=0,
)
focal = FaceCNNClassifier(image_size=image_size, epochs=epochs, random_state=0)
focal.fit(X_train, y_train)
focal.model_.summary()

# %%
# Keras ignores ``alpha`` without class balancing
# -----------------------------------------------
# The reference compiled ``BinaryFocalCrossentropy(gamma=5.0, alpha=0.25)``.
# The loss values are the same as with any other alpha: Keras uses ``alpha``
# only when ``apply_class_balancing=True``. So the reference trained without
# alpha, and skface's defaults (``focal_alpha=0.25``,
# ``apply_class_balancing=False``) do the same.
y_true = np.array([[1.0], [1.0], [0.0], [0.0]])
y_prob = np.array([[0.9], [0.3], [0.2], [0.6]])
for alpha, balancing in [(0.25, False), (0.5, False), (0.25, True)]:
    loss = keras.losses.BinaryFocalCrossentropy(
        gamma=5.0, alpha=alpha, apply_class_balancing=balancing
    )
    print(f"alpha={alpha}, apply_class_balancing={balancing}: "
          f"loss = {float(loss(y_true, y_prob)):.5f}")

# %%
# Focal loss or cross-entropy under label noise
# ---------------------------------------------
# The faces above have 15 % of their labels flipped (``label_noise=0.15``).
# Both models train on the noisy labels; the test compares their predictions
# with the clean labels (``target_clean``), which a real data set does not
# have.
bce = FaceCNNClassifier(
    image_size=image_size, epochs=epochs, loss="binary_crossentropy", random_state=0
)
bce.fit(X_train, y_train)

rows = {}
for name, model in [("focal (gamma 5)", focal), ("cross-entropy", bce)]:
    y_pred = model.predict(X_test)
    accuracy = group_accuracy(clean_test, y_pred, sensitive_features=g_test)
    rows[name] = {
        "women": accuracy[-1],
        "men": accuracy[1],
        "Fair_Metric": fair_metric(clean_test, y_pred, sensitive_features=g_test),
        "epochs": len(model.history_["loss"]),
    }
    print(f"{name:>16}: accuracy on clean labels {np.mean(y_pred == clean_test):.3f}, "
          f"on noisy labels {np.mean(y_pred == y_test):.3f}")
# the floor: always predicting the most frequent training label
y_majority = DummyClassifier(strategy="most_frequent").fit(X_train, y_train).predict(X_test)
print(f"{'majority class':>16}: accuracy on clean labels {np.mean(y_majority == clean_test):.3f}, "
      f"on noisy labels {np.mean(y_majority == y_test):.3f}")

# %%
# Per-gender accuracy on the clean labels, and the spread of the predicted
# probabilities: focal loss stops pushing examples it already gets right
# towards 0 or 1, so its probabilities stay nearer the middle.
fig, (ax_bar, ax_hist) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
names = list(rows)
for i, key in enumerate(["women", "men", "Fair_Metric"]):
    values = [rows[name][key] for name in names]
    bars = ax_bar.bar(np.arange(len(names)) + (i - 1) * 0.27, values, 0.27, label=key)
    ax_bar.bar_label(bars, fmt="%.2f", fontsize=8)
ax_bar.set_xticks(np.arange(len(names)), names)
ax_bar.set_ylim(min(0, *[r["Fair_Metric"] for r in rows.values()]), 1.1)
ax_bar.set_title("Scored against the clean labels")
ax_bar.legend(loc="lower right")
for name, model in [("focal (gamma 5)", focal), ("cross-entropy", bce)]:
    ax_hist.hist(model.predict_proba(X_test)[:, 1], bins=20, range=(0, 1),
                 histtype="step", linewidth=2, label=name)
ax_hist.set_xlabel("predicted probability of class 1")
ax_hist.set_ylabel("test faces")
ax_hist.legend()
plt.show()
