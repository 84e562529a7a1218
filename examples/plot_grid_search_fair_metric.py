"""
GridSearchCV scored on Fair_Metric: routing or a DataFrame column
=================================================================

A scikit-learn scorer is called as ``scorer(estimator, X, y)``: it does not
see the genders. :func:`skface.metrics.make_fair_scorer` gets them in one of
two ways:

1. **metadata routing**: ``fair_scorer`` requests ``sensitive_features``;
   with routing enabled, ``GridSearchCV.fit(X, y, sensitive_features=g)``
   splits the genders along with X and y in every fold;
2. **a DataFrame column**: ``make_fair_scorer(sensitive_column="gender")``
   reads them from X, a DataFrame of image paths with a ``gender`` column
   (:class:`~skface.FaceCNNClassifier` reads only its image column).
"""

import os
import shutil
import tempfile

import pandas as pd
import sklearn
from sklearn.dummy import DummyClassifier
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV

from skface import FaceCNNClassifier
from skface.datasets import load_faces, make_faces, write_faces
from skface.fairness import group_sample_weight
from skface.metrics import fair_metric, fair_scorer, make_fair_scorer

# sphinx_gallery_thumbnail_path = "_static/faces_grid.png"
FAST = os.environ.get("SKFACE_DOCS_FAST", "0") not in ("", "0")
n_samples = 300 if FAST else 3000
image_size = 32
epochs = 1 if FAST else 10
cv = 2

# %%
# Route 1: metadata routing
# -------------------------
# Enable routing for this block only (``sklearn.set_config`` would enable it
# globally). The search passes ``sensitive_features`` to the scorer and,
# because the classifier requests it, ``sample_weight`` to ``fit``: here the
# reference's gender weights, women 1.0 and men 0.1. ``refit="fair"`` keeps
# the candidate with the best Fair_Metric. Accuracy is recorded too; under
# routing every scorer must say whether it wants ``sample_weight``, and this
# one does not (the weights are for training).
faces = make_faces(n_samples, image_size=image_size, random_state=0)
# the floor every candidate must clear: always predicting the most frequent label
majority = DummyClassifier(strategy="most_frequent").fit(faces.images, faces.target)
print(f"majority class: accuracy {majority.score(faces.images, faces.target):.3f}, Fair_Metric "
      f"{fair_metric(faces.target, majority.predict(faces.images), sensitive_features=faces.gender):.3f}")
weights = group_sample_weight(faces.gender, {-1: 1.0, 1: 0.1})

with sklearn.config_context(enable_metadata_routing=True):
    model = FaceCNNClassifier(image_size=image_size, epochs=epochs, random_state=0)
    model.set_fit_request(sample_weight=True)
    search = GridSearchCV(
        model,
        {"class_weight": [None, "balanced"]},
        scoring={
            "fair": fair_scorer,
            "accuracy": make_scorer(accuracy_score).set_score_request(sample_weight=False),
        },
        refit="fair",
        cv=cv,
    )
    search.fit(faces.images, faces.target, sensitive_features=faces.gender,
               sample_weight=weights)

results = pd.DataFrame(search.cv_results_)
results["class_weight"] = [str(p["class_weight"]) for p in search.cv_results_["params"]]
print(results[["class_weight", "mean_test_fair", "std_test_fair", "mean_test_accuracy"]].round(3))
print("best:", search.best_params_, f"Fair_Metric {search.best_score_:.3f}")

# %%
# Route 2: a DataFrame column
# ---------------------------
# Write faces to a folder with a CSV (``filename,gender,class``) and read it
# back with absolute paths: the reference's data layout. The scorer reads the
# genders from the ``gender`` column; nothing needs to be configured.
folder = tempfile.mkdtemp(prefix="skface-faces-")
csv_path = write_faces(folder, n_samples, image_size=image_size, random_state=1)
frame = load_faces(csv_path)
print(frame.head(3))

search = GridSearchCV(
    FaceCNNClassifier(image_size=image_size, epochs=epochs, random_state=0),
    {"dense_units": [64, 512]},
    scoring=make_fair_scorer(sensitive_column="gender"),
    cv=cv,
)
search.fit(frame, frame["class"])
print(pd.DataFrame(search.cv_results_)[["param_dense_units", "mean_test_score"]].round(3))
print("best:", search.best_params_, f"Fair_Metric {search.best_score_:.3f}")

# %%
# ``search.best_estimator_`` is a fitted :class:`~skface.FaceCNNClassifier`
# that predicts from the same kind of DataFrame.
print(search.best_estimator_.predict(frame.head(5)))
shutil.rmtree(folder)  # remove the example's files
