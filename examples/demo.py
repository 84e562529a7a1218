"""The main job on built-in synthetic faces: train the reference CNN, report per class and gender.

Run by ``make demo``. Set ``SKFACE_DEMO_SAMPLES`` for a smaller or larger run.
"""

import os
import time

import numpy as np
from sklearn.model_selection import train_test_split

from skface import FaceCNNClassifier
from skface.datasets import make_faces

n_samples = int(os.environ.get("SKFACE_DEMO_SAMPLES", "3000"))
faces = make_faces(n_samples, random_state=0)
y = np.where(faces.target == 1, 1, -1)  # the reference's -1/1 labels
strata = [f"{c}{g}" for c, g in zip(y, faces.gender)]
X_train, X_test, y_train, y_test, g_train, g_test = train_test_split(
    faces.images, y, faces.gender, test_size=0.2, stratify=strata, random_state=0
)
print(f"{n_samples} synthetic 80x80 faces: {len(y_train)} to train, {len(y_test)} to test")

start = time.perf_counter()
clf = FaceCNNClassifier(random_state=0, verbose=2).fit(X_train, y_train)
print(f"trained {len(clf.history_['loss'])} epochs in {time.perf_counter() - start:.0f} s "
      f"(precision {clf.precision_})")

pred = clf.predict(X_test)
print(f"\ntest accuracy {np.mean(pred == y_test):.3f}")
for label in clf.classes_:
    mask = y_test == label
    print(f"  class {label:+d}: accuracy {np.mean(pred[mask] == label):.3f}  (n={mask.sum()})")
for group, name in [(-1, "women"), (1, "men")]:
    mask = g_test == group
    print(f"  {name:>6}: accuracy {np.mean(pred[mask] == y_test[mask]):.3f}  (n={mask.sum()})")
