"""
=====================================================
Reducing the accuracy gap between genders
=====================================================

A face-attribute classifier is trained on synthetic faces to predict "blond
hair or eyeglasses". Blond hair is mostly a women's attribute and eyeglasses
mostly a men's, and women are over-represented, so the model is not equally
accurate for both genders. We compare, on the same held-out test faces:

1. the plain model;
2. the model trained with per-gender sample weights -- the reference's
   manual ``{-1: 1.0, 1: 0.1}`` and scikit-learn-style ``"balanced"``;
3. the model trained on gender-balanced data (undersampling);
4. the plain model with one decision threshold per gender, tuned on
   validation faces to maximise Fair_Metric.

Fair_Metric is ``mean(acc_women, acc_men) - 2 * |acc_women - acc_men|``.
It takes under two minutes on a 2-core CPU. It is one seed and one test
set, next to the majority-class baseline; the user guide's fairness
benchmark compares the same methods over several seeds. With ``SKFACE_DOCS_FAST=1``
(the documentation build in CI) it uses 500 faces and 2 epochs instead, and
its numbers only show that the code runs.
"""

# %%
# Data: synthetic faces split 60 / 20 / 20
# ----------------------------------------
# Stratified on label x gender so that every split has the same mix.
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

from skface import FaceCNNClassifier
from skface.datasets import make_faces
from skface.fairness import (
    FairThresholdClassifier,
    balance_groups,
    fairness_report,
    group_sample_weight,
    plot_fairness,
)
from skface.metrics import fair_metric, group_accuracy

FAST = os.environ.get("SKFACE_DOCS_FAST", "0") not in ("", "0")
n_samples = 500 if FAST else 6000
epochs = 2 if FAST else 15

faces = make_faces(n_samples=n_samples, image_size=32, random_state=0)
X, y, gender = faces.images, faces.target, faces.gender
strata = 2 * y + (gender == 1)
index = np.arange(len(y))
train, rest = train_test_split(index, test_size=0.4, stratify=strata, random_state=0)
val, test = train_test_split(rest, test_size=0.5, stratify=strata[rest], random_state=0)
print(f"train {len(train)}, validation {len(val)}, test {len(test)} faces; "
      f"women {np.mean(gender == -1):.0%}, positives {np.mean(y):.0%}")

# %%
# Five models
# -----------
# The reference architecture and loss, on 32x32 images. Each model holds out
# 20 % of its training faces for early stopping.
params = dict(image_size=32, epochs=epochs, random_state=0)
rows = {}


def evaluate(name, y_pred):
    """Test accuracy per gender, overall, and Fair_Metric with its bootstrap s.e."""
    per_gender = group_accuracy(y[test], y_pred, sensitive_features=gender[test])
    rng = np.random.RandomState(0)
    resamples = [rng.randint(0, len(test), len(test)) for _ in range(200)]
    rows[name] = {
        "accuracy women (-1)": per_gender[-1],
        "accuracy men (1)": per_gender[1],
        "accuracy": accuracy_score(y[test], y_pred),
        "Fair_Metric": fair_metric(y[test], y_pred, sensitive_features=gender[test]),
        # how much Fair_Metric would move on another test set of this size
        "s.e.": np.std([
            fair_metric(y[test][r], y_pred[r], sensitive_features=gender[test][r])
            for r in resamples
        ]),
    }


# the floor every model must clear: always the most frequent label
majority = DummyClassifier(strategy="most_frequent").fit(X[train], y[train])
evaluate("majority class", majority.predict(X[test]))

plain = FaceCNNClassifier(**params).fit(X[train], y[train])
evaluate("unweighted", plain.predict(X[test]))

weights = group_sample_weight(gender[train], {-1: 1.0, 1: 0.1})
weighted = FaceCNNClassifier(**params).fit(X[train], y[train], sample_weight=weights)
evaluate("weighted {-1: 1.0, 1: 0.1}", weighted.predict(X[test]))

weights = group_sample_weight(gender[train], "balanced")
weighted = FaceCNNClassifier(**params).fit(X[train], y[train], sample_weight=weights)
evaluate('weighted "balanced"', weighted.predict(X[test]))

# balance_groups works on the table of samples; its index gives the images
kept = balance_groups(faces.frame.iloc[train], "gender", random_state=0).index
undersampled = FaceCNNClassifier(**params).fit(X[kept], y[kept])
evaluate(f"undersampled ({len(kept)} faces)", undersampled.predict(X[test]))

# thresholds for the plain model, tuned on the validation faces
fair = FairThresholdClassifier(plain, prefit=True)
fair.fit(X[val], y[val], sensitive_features=gender[val])
evaluate("per-gender thresholds", fair.predict(X[test], sensitive_features=gender[test]))
print("thresholds:", {g: round(t, 3) for g, t in fair.thresholds_.items()})

# %%
# Results on the test faces
# -------------------------
# A gap of one point of accuracy costs two points of Fair_Metric, so
# Fair_Metric is noisy: differences within about two standard errors
# (``s.e.``, from 200 bootstrap resamples of the test faces) may be chance.
table = pd.DataFrame(rows).T.round(3)
print(table.to_string())

# %%
fig_bars, ax = plt.subplots(figsize=(9, 4), layout="constrained")
columns = ["accuracy women (-1)", "accuracy men (1)", "Fair_Metric"]
positions = np.arange(len(table))
for i, column in enumerate(columns):
    bars = ax.bar(positions + (i - 1) * 0.27, table[column], 0.27, label=column)
    ax.bar_label(bars, fmt="%.2f", fontsize=7)
ax.errorbar(positions + 0.27, table["Fair_Metric"], yerr=2 * table["s.e."],
            fmt="none", ecolor="black", capsize=3, label="Fair_Metric +/- 2 s.e.")
ax.set_xticks(positions, table.index, rotation=12)
ax.set_ylim(min(0.0, (table["Fair_Metric"] - 2 * table["s.e."]).min() - 0.05), 1.15)
ax.set_ylabel("test accuracy / Fair_Metric")
ax.legend(loc="lower left", ncols=2, fontsize=8)
plt.show()

# %%
# A fairlearn audit of the thresholded model
# ------------------------------------------
frame = fairness_report(
    y[test],
    fair.predict(X[test], sensitive_features=gender[test]),
    sensitive_features=pd.Series(gender[test], name="gender"),
    y_proba=fair.predict_proba(X[test]),
)
print(frame.by_group.round(3).to_string())
fig = plot_fairness(frame)  # a matplotlib Figure, not tied to pyplot: fig.savefig(...)
