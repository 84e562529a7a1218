"""
Gender imbalance: undersampling or weighting
============================================

CelebA has 113,154 women and 79,422 men. The reference undersampled the
women to 79,422 before training. Weighting keeps every image and gives each
gender the same total weight instead. This example trains the reference CNN
three ways -- as is, undersampled with :func:`~skface.fairness.balance_groups`,
weighted with :func:`~skface.fairness.group_sample_weight` -- and compares
accuracy per gender and Fair_Metric.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from skface import FaceCNNClassifier
from skface.datasets import make_faces
from skface.fairness import balance_groups, group_sample_weight
from skface.metrics import fair_metric, group_accuracy

FAST = os.environ.get("SKFACE_DOCS_FAST", "0") not in ("", "0")
n_samples = 400 if FAST else 3000
image_size = 32 if FAST else 80
epochs = 2 if FAST else 10

# %%
# The samples as a table
# ----------------------
# ``faces.frame`` has one row per face; its index is the position of the
# image in ``faces.images``. Here the imbalance is stronger than CelebA's,
# 75 % women, to make the effect visible.
faces = make_faces(n_samples, image_size=image_size, female_fraction=0.75, random_state=0)
frame = faces.frame[["gender", "target"]]
train, test = train_test_split(
    frame, test_size=0.25, stratify=frame[["target", "gender"]], random_state=0
)
print(train["gender"].value_counts().rename({-1: "women", 1: "men"}))

# %%
# Undersampling draws the women down to the number of men, at random; the
# table keeps its index, so it still points at the images.
undersampled = balance_groups(train, "gender", random_state=0)
print(undersampled["gender"].value_counts().rename({-1: "women", 1: "men"}))

# %%
# Weighting gives every gender the same total weight (weights average 1).
weights = group_sample_weight(train["gender"])
print(pd.Series(weights, index=train.index).groupby(train["gender"]).agg(["first", "sum"]))

# %%
# Train the three models
# ----------------------
def train_model(rows, sample_weight=None):
    clf = FaceCNNClassifier(image_size=image_size, epochs=epochs, random_state=0)
    return clf.fit(faces.images[rows.index], rows["target"], sample_weight=sample_weight)


models = {
    "as is": (train_model(train), len(train)),
    "undersampled": (train_model(undersampled), len(undersampled)),
    "weighted": (train_model(train, sample_weight=weights), len(train)),
}

# %%
# Compare
# -------
X_test, y_test, g_test = faces.images[test.index], test["target"], test["gender"]
results = {}
for name, (model, n_images) in models.items():
    y_pred = model.predict(X_test)
    accuracy = group_accuracy(y_test, y_pred, sensitive_features=g_test)
    results[name] = {
        "training images": n_images,
        "accuracy": np.mean(y_pred == y_test),
        "women": accuracy[-1],
        "men": accuracy[1],
        "Fair_Metric": fair_metric(y_test, y_pred, sensitive_features=g_test),
    }
results = pd.DataFrame(results).T
print(results.round(3))

# %%
ax = results[["women", "men", "Fair_Metric"]].plot.bar(rot=0, figsize=(7, 4))
ax.set_ylabel("test accuracy / Fair_Metric")
ax.set_title("Gender imbalance: undersampling vs weighting")
ax.legend(loc="lower right")
plt.show()

# %%
# Undersampling throws images away: it trains on fewer faces, which costs
# accuracy when data are scarce. Weighting keeps them all but gives each
# man more weight, which can over-fit the few men. On CelebA's 192,000
# images the loss of data from undersampling is small.
