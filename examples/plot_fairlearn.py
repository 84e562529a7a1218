"""
Auditing and post-processing with fairlearn and FairThresholdClassifier
=======================================================================

Train the reference CNN once, then

1. audit it per gender with a fairlearn ``MetricFrame``
   (:func:`~skface.fairness.fairness_report`, :func:`~skface.fairness.plot_fairness`);
2. post-process it with fairlearn's ``ThresholdOptimizer`` (equalized odds);
3. post-process it with :class:`~skface.fairness.FairThresholdClassifier`,
   one threshold per gender chosen to maximise Fair_Metric.

Both post-processors are tuned on a validation set and judged on a separate
test set: thresholds tuned and scored on the same data flatter themselves.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import train_test_split

from skface import FaceCNNClassifier
from skface.datasets import make_faces
from skface.fairness import FairThresholdClassifier, fairness_report, plot_fairness
from skface.metrics import fair_metric, group_accuracy

FAST = os.environ.get("SKFACE_DOCS_FAST", "0") not in ("", "0")
n_samples = 500 if FAST else 4000
image_size = 32 if FAST else 64
epochs = 2 if FAST else 10

# %%
# Train, validation and test sets: 60 / 20 / 20
# ---------------------------------------------
faces = make_faces(n_samples, image_size=image_size, random_state=0)
strata = list(zip(faces.target, faces.gender))
idx_train, idx_rest = train_test_split(
    np.arange(n_samples), test_size=0.4, stratify=strata, random_state=0
)
idx_val, idx_test = train_test_split(
    idx_rest, test_size=0.5, stratify=[strata[i] for i in idx_rest], random_state=0
)
X, y, gender = faces.images, faces.target, faces.gender

model = FaceCNNClassifier(image_size=image_size, epochs=epochs, random_state=0)
model.fit(X[idx_train], y[idx_train])

# %%
# 1. The audit
# ------------
# ``fairness_report`` is a fairlearn ``MetricFrame``: ``by_group``,
# ``difference()``, ``ratio()`` all work, and ``fair_metric`` is added.
y_pred = model.predict(X[idx_test])
report = fairness_report(
    y[idx_test],
    y_pred,
    sensitive_features=gender[idx_test],
    y_proba=model.predict_proba(X[idx_test]),
)
print(report.by_group.round(3).to_string())
print("largest gap between the genders:")
print(report.difference().round(3))
print(f"Fair_Metric: {report.fair_metric:.3f}")
fig = plot_fairness(report)

# %%
# 2. fairlearn's ThresholdOptimizer
# ---------------------------------
# It picks (randomised) per-gender thresholds on the probabilities so that
# true and false positive rates match between the genders (equalized odds).
post = ThresholdOptimizer(
    estimator=model,
    prefit=True,
    predict_method="predict_proba",
    constraints="equalized_odds",
)
post.fit(X[idx_val], y[idx_val], sensitive_features=gender[idx_val])
y_post = post.predict(X[idx_test], sensitive_features=gender[idx_test], random_state=0)

# %%
# 3. FairThresholdClassifier
# --------------------------
# It searches, exactly, the pair of per-gender thresholds that maximises
# Fair_Metric on the validation data.
fair = FairThresholdClassifier(model, prefit=True)
fair.fit(X[idx_val], y[idx_val], sensitive_features=gender[idx_val])
print("thresholds:", {g: round(t, 3) for g, t in fair.thresholds_.items()})
print(f"Fair_Metric on the validation data: {fair.best_score_:.3f}")
y_fair = fair.predict(X[idx_test], sensitive_features=gender[idx_test])

# %%
# Compare on the test set
# -----------------------
# ThresholdOptimizer optimises its own constraint, not Fair_Metric; measure
# everything with the same yardstick.
results = {}
majority = DummyClassifier(strategy="most_frequent").fit(X[idx_train], y[idx_train])
for name, predictions in [
    ("majority class", majority.predict(X[idx_test])),
    ("threshold 0.5", y_pred),
    ("ThresholdOptimizer", y_post),
    ("FairThresholdClassifier", y_fair),
]:
    accuracy = group_accuracy(y[idx_test], predictions, sensitive_features=gender[idx_test])
    results[name] = {
        "women": accuracy[-1],
        "men": accuracy[1],
        "accuracy": np.mean(predictions == y[idx_test]),
        "Fair_Metric": fair_metric(
            y[idx_test], predictions, sensitive_features=gender[idx_test]
        ),
    }
results = pd.DataFrame(results).T
print(results.round(3))

ax = results[["women", "men", "Fair_Metric"]].plot.barh(figsize=(7, 3.5))
ax.set_xlabel("test accuracy / Fair_Metric")
ax.set_title("Post-processing the same CNN")
ax.legend(loc="lower left")
plt.tight_layout()
plt.show()
