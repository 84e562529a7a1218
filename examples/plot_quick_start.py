"""
Quick start: from synthetic faces to Fair_Metric
================================================

Train the reference CNN on synthetic faces, then measure its accuracy for
each gender and Fair_Metric, the mean of the per-gender accuracies minus twice
their gap.
"""

import os

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import train_test_split

from skface import FaceCNNClassifier
from skface.datasets import make_faces
from skface.fairness import fairness_report, plot_fairness
from skface.metrics import fair_metric, group_accuracy

# %%
# Sizes: ``SKFACE_DOCS_FAST=1`` (the documentation build in CI) uses a few
# hundred small images and two epochs; by default the example uses 3,000
# faces of 64x64 pixels (the reference's are 80x80, a third slower to train)
# and up to 10 epochs.
FAST = os.environ.get("SKFACE_DOCS_FAST", "0") not in ("", "0")
n_samples = 400 if FAST else 3000
image_size = 32 if FAST else 64
epochs = 2 if FAST else 10

# %%
# Data
# ----
# :func:`~skface.datasets.make_faces` draws faces with the statistics of
# CelebA: about 59 % women, class 1 (blond hair or eyeglasses) rare, 3 % of
# the labels flipped. ``gender`` is -1 for women and 1 for men.
faces = make_faces(n_samples, image_size=image_size, random_state=0)
print(faces.frame.groupby("gender")["target"].agg(["count", "mean"]))

# %%
# Hold out 20 % for testing, stratified on label x gender so that both
# genders and both classes keep their shares.
X_train, X_test, y_train, y_test, g_train, g_test = train_test_split(
    faces.images,
    faces.target,
    faces.gender,
    test_size=0.2,
    stratify=list(zip(faces.target, faces.gender)),
    random_state=0,
)

# %%
# Train
# -----
# The defaults are the reference network and training: three convolution
# blocks, Dense 512, dropout 0.5, binary focal cross-entropy (gamma 5), Adam,
# early stopping on a 20 % validation split.
clf = FaceCNNClassifier(image_size=image_size, epochs=epochs, random_state=0)
clf.fit(X_train, y_train)
print(f"{len(clf.history_['loss'])} epochs, {clf.model_.count_params():,} weights")

# %%
# Evaluate
# --------
y_pred = clf.predict(X_test)
print(f"accuracy: {np.mean(y_pred == y_test):.3f}")
# the floor: always predicting the most frequent label
majority = DummyClassifier(strategy="most_frequent").fit(X_train, y_train)
print(f"majority class (always {majority.predict(X_test[:1])[0]}): {majority.score(X_test, y_test):.3f}")
print(group_accuracy(y_test, y_pred, sensitive_features=g_test))
print(f"Fair_Metric: {fair_metric(y_test, y_pred, sensitive_features=g_test):.3f}")

# %%
# A fuller audit per gender: a fairlearn ``MetricFrame`` with accuracy,
# selection rate, true and false positive rates and ROC AUC, and its plot.
report = fairness_report(
    y_test, y_pred, sensitive_features=g_test, y_proba=clf.predict_proba(X_test)
)
print(report.by_group.round(3).to_string())
fig = plot_fairness(report)
