"""
===========================================================
Choosing a fairness criterion: thresholds under constraints
===========================================================

One trained network, several ways to set one decision threshold per gender.
:class:`~skface.fairness.FairThresholdClassifier` maximises an objective on
validation faces, under constraints if asked: Fair_Metric (the default),
accuracy alone, accuracy with equal opportunity (the true positive rates of
the two genders within 2 points) and accuracy with demographic parity (their
selection rates within 2 points). Its ``frontier_`` shows the trade-off the
search saw: the threshold pairs that no other pair beats on both accuracy and
Fair_Metric.

Each choice is then judged on test faces it never saw, with the audit of
:func:`~skface.fairness.fairness_report`: a constraint holds on the data the
thresholds were tuned on, and only approximately on new data. It takes about
two minutes on a 2-core CPU, one seed; with ``SKFACE_DOCS_FAST=1`` (the
documentation build in CI) it uses 600 faces and 2 epochs, and its numbers
only show that the code runs. Its last part shows the same comparison
measured over 3 seeds, on synthetic faces and on photographs.
"""

# %%
# Data and one network
# --------------------
# Synthetic faces, 60 / 20 / 20 train / validation / test, stratified on
# class x gender; the network trains on the train part only.
import os

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from skface import FaceCNNClassifier
from skface.datasets import make_faces
from skface.fairness import FairThresholdClassifier, fairness_report, plot_frontier

FAST = os.environ.get("SKFACE_DOCS_FAST", "0") not in ("", "0")
faces = make_faces(n_samples=600 if FAST else 6000, image_size=32, random_state=0)
X, y, gender = faces.images, faces.target, faces.gender
strata = 2 * y + (gender == 1)
train, rest = train_test_split(np.arange(len(y)), test_size=0.4, stratify=strata, random_state=0)
val, test = train_test_split(rest, test_size=0.5, stratify=strata[rest], random_state=0)

network = FaceCNNClassifier(image_size=32, epochs=2 if FAST else 10, random_state=0)
network.fit(X[train], y[train])

# %%
# Four criteria, tuned on the validation faces
# --------------------------------------------
criteria = {
    "Fair_Metric": {},
    "accuracy": {"objective": "accuracy"},
    "accuracy, equal opportunity <= 0.02": {
        "objective": "accuracy", "constraints": {"equal_opportunity_difference": 0.02}},
    "accuracy, demographic parity <= 0.02": {
        "objective": "accuracy", "constraints": {"demographic_parity_difference": 0.02}},
}
rows, fitted = [], {}
for name, params in criteria.items():
    clf = FairThresholdClassifier(network, prefit=True, **params)
    try:
        clf.fit(X[val], y[val], sensitive_features=gender[val])
    except ValueError as error:  # a constraint no threshold pair meets on these faces
        print(f"{name}: {error}")
        continue
    fitted[name] = clf
    audit = fairness_report(y[test], clf.predict(X[test], sensitive_features=gender[test]),
                            sensitive_features=gender[test])
    tuned = clf.frontier_[clf.frontier_["chosen"]].iloc[0]
    rows.append({
        "criterion": name,
        "thresholds (women, men)": f"{clf.thresholds_[-1]:.2f}, {clf.thresholds_[1]:.2f}",
        "validation: EO difference": round(tuned["equal_opportunity_difference"], 3),
        "validation: DP difference": round(tuned["demographic_parity_difference"], 3),
        "test: accuracy": round(audit.overall["accuracy"], 3),
        "test: Fair_Metric": round(audit.fair_metric, 3),
        "test: EO difference": round(audit.difference()["true_positive_rate"], 3),
        "test: DP difference": round(audit.demographic_parity_difference, 3),
        "test: worst gender x class": round(audit.worst_group_accuracy, 3),
    })
table = pd.DataFrame(rows).set_index("criterion")
print(table.T.to_string())

# %%
# The trade-off the search saw
# ----------------------------
# Every point is a pair of thresholds that no other pair beats on both
# accuracy and Fair_Metric (on the validation faces); the circle is the pair
# that criterion chose. Moving along the frontier buys Fair_Metric with
# accuracy; where it is flat, fairness costs nothing.
fig = plot_frontier(fitted["accuracy"].frontier_)  # a matplotlib Figure, not tied to pyplot

# %%
# Which criterion when
# --------------------
# - **Fair_Metric** (and ``accuracy_difference``) asks for equal accuracy:
#   the reference task's criterion.
# - **Equal opportunity** asks that the positives be found equally often in
#   each group, whatever the negatives: for a screening task where a missed
#   positive is the harm.
# - **Demographic parity** asks for equal selection rates whatever the
#   labels; when the groups' positive rates differ (here about twice as many
#   women are positive), it can only be met by mislabelling some faces.
# - The constraints hold on the tuning faces; judge them on test faces, with
#   an interval (``fairness_report(..., n_boot=1000)``), as above.

# %%
# The same choice, measured on photographs
# ----------------------------------------
# One network and one seed say little. ``benchmarks/fairness_criteria.py``
# ran this comparison over 3 seeds on synthetic faces (20,000 test faces)
# and on UTKFace photographs of adults (task: aged 40 or more), and its JSON
# ships with the repository (``benchmarks/results/``): numbers only, since UTKFace's license keeps
# its faces out of these pages. Per criterion, the test-face means over the
# seeds where the criterion could be met:
import json
from pathlib import Path

import matplotlib.pyplot as plt

# the gallery runs each example in its own folder, without __file__
here = Path(globals().get("__file__", "plot_fairness_criteria.py")).resolve().parent
results = here.parent / "benchmarks" / "results"
measured = json.loads((results / "fairness_criteria.json").read_text())
summary = {}
for key, data in measured["datasets"].items():
    for seed in data["seeds"]:
        for criterion, entry in seed["criteria"].items():
            if entry["feasible"]:
                summary.setdefault((key, criterion), []).append(entry["test"])
table = pd.DataFrame({
    (data_set, criterion): pd.DataFrame(rows)[["accuracy", "fair_metric", "worst_group_accuracy",
                                               "equal_opportunity_difference"]].mean()
    for (data_set, criterion), rows in summary.items()
}).T.round(3)
print(table.to_string())

# %%
# The frontier of seed 0 on each kind of face: the threshold pairs that were
# best on the validation faces (grey), and the same pairs on the test faces
# (blue). On test faces the curve keeps its shape but moves: what the search
# saw on validation faces is an estimate, and so is any bound it met there.
fig, axes = plt.subplots(1, len(measured["datasets"]), figsize=(10, 4), squeeze=False)
for ax, data in zip(axes[0], measured["datasets"].values()):
    frontier = data["seeds"][0]["frontier"]
    for part, color in (("validation", "0.6"), ("test", "C0")):
        ax.plot([p[part]["accuracy"] for p in frontier], [p[part]["fair_metric"] for p in frontier],
                ".-", ms=3, color=color, label=f"{part} faces")
    ax.set(title=data["title"].split(",")[0], xlabel="accuracy", ylabel="Fair_Metric")
    ax.locator_params(axis="x", nbins=5)
    ax.legend()
fig.tight_layout()
