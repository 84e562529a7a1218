"""Measure how learnable the synthetic faces are for the default FaceCNNClassifier.

Generates 10,000 faces of 80 x 80 pixels with the default statistics of
:func:`skface.datasets.make_faces`, splits them 60 / 20 / 20 (train /
validation / test) stratified on class x gender, trains the default
:class:`skface.FaceCNNClassifier` unweighted on the train + validation part
(its early stopping holds out the validation fifth), and prints the overall and
per-gender test accuracy and Fair_Metric (mean of the per-gender accuracies
minus twice their absolute gap).

This takes minutes on a CPU: ``python benchmarks/measure_synthetic_task.py``
(``--help`` for the options). The numbers are in docs/datasets.rst.
"""

import argparse
import time

import numpy as np
from sklearn.model_selection import train_test_split

from skface.datasets import make_faces


def fair_metric(y_true, y_pred, groups):
    accuracies = [np.mean(y_true[groups == g] == y_pred[groups == g]) for g in np.unique(groups)]
    return float(np.mean(accuracies) - 2 * (max(accuracies) - min(accuracies)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--image-size", type=int, default=80)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)

    from skface import FaceCNNClassifier

    start = time.perf_counter()
    faces = make_faces(args.n_samples, image_size=args.image_size, random_state=args.random_state)
    X, y, gender = faces.images, faces.target, faces.gender
    print(f"generated {len(y)} faces in {time.perf_counter() - start:.1f} s", flush=True)

    strata = 2 * y + (gender == 1)
    index = np.arange(len(y))
    fit_idx, test_idx = train_test_split(
        index, test_size=0.2, stratify=strata, random_state=args.random_state
    )
    # the classifier's early stopping holds out validation_fraction of what
    # it is given: 0.25 of the 80 % is the 20 % validation part
    clf = FaceCNNClassifier(
        image_size=args.image_size,
        validation_fraction=0.25,
        random_state=args.random_state,
        verbose=args.verbose,
    )
    start = time.perf_counter()
    clf.fit(X[fit_idx], y[fit_idx])
    fit_s = time.perf_counter() - start
    epochs = len(clf.history_["loss"]) if hasattr(clf, "history_") else "?"

    pred = clf.predict(X[test_idx])
    y_test, g_test = y[test_idx], gender[test_idx]
    acc = np.mean(pred == y_test)
    acc_w = np.mean(pred[g_test == -1] == y_test[g_test == -1])
    acc_m = np.mean(pred[g_test == 1] == y_test[g_test == 1])
    clean = faces.target_clean[test_idx]
    try:
        from skface.metrics import fair_metric as skface_fair_metric

        fair = skface_fair_metric(y_test, pred, sensitive_features=g_test)
    except ImportError:
        fair = fair_metric(y_test, pred, g_test)
    print(f"fit: {fit_s:.0f} s, {epochs} epochs")
    print(f"test accuracy {acc:.3f} (n={len(y_test)})")
    print(f"women {acc_w:.3f}  men {acc_m:.3f}  gap {acc_m - acc_w:+.3f}")
    print(f"Fair_Metric {fair:.3f}")
    print(
        f"against the clean labels: {np.mean(pred == clean):.3f} "
        f"(women {np.mean((pred == clean)[g_test == -1]):.3f}, "
        f"men {np.mean((pred == clean)[g_test == 1]):.3f})"
    )


if __name__ == "__main__":
    main()
