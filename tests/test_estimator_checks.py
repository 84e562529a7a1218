"""scikit-learn's estimator checks, run on FaceCNNClassifier through a thin adapter.

FaceCNNClassifier takes images, not tabular rows, so its tags say
``two_d_array=False`` and ``check_estimator`` would skip every check. To run
the checks anyway, ``_TabularFaceCNN`` (a subclass used only here) turns each
row of a 2-D array into a small grayscale image (features squashed into
(0, 1) by a sigmoid, zero-padded to a square) and hands it to the real
estimator. Every check that fails is listed below with its reason; a check in
the list that starts to pass fails the test, so the list stays true.
"""

import math

import numpy as np
from sklearn.utils.estimator_checks import parametrize_with_checks

from skface import FaceCNNClassifier


def _rows_to_images(X):
    if not hasattr(X, "__array__") and not isinstance(X, list):
        return X  # sparse matrices and others: let the real estimator judge them
    X = np.asarray(X)
    if X.ndim != 2 or X.dtype.kind == "c":
        return X
    try:
        X = X.astype(np.float64)
    except (TypeError, ValueError):
        return X
    side = math.ceil(math.sqrt(X.shape[1]))
    padded = np.zeros((X.shape[0], side * side))
    with np.errstate(over="ignore", invalid="ignore"):
        # non-finite values stay NaN so that the estimator still sees them
        padded[:, : X.shape[1]] = np.where(np.isfinite(X), 1.0 / (1.0 + np.exp(-X)), np.nan)
    return padded.reshape(-1, side, side, 1)


class _TabularFaceCNN(FaceCNNClassifier):
    def fit(self, X, y, sample_weight=None, **kwargs):
        return super().fit(_rows_to_images(X), y, sample_weight=sample_weight, **kwargs)

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        return super().partial_fit(_rows_to_images(X), y, classes=classes, sample_weight=sample_weight)

    def predict_proba(self, X, **kwargs):
        return super().predict_proba(_rows_to_images(X), **kwargs)

    def score(self, X, y, sample_weight=None):
        return super().score(_rows_to_images(X), y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        # a 2-filter, 1-epoch network on squashed tabular rows is no strong learner
        tags.classifier_tags.poor_score = True
        return tags


_BINARY = "FaceCNNClassifier is a binary classifier: y with 3 or more classes is refused"
_NO_N_FEATURES = "images have no feature count: n_features_in_/feature_names_in_ are not set"
EXPECTED_FAILED = {
    "check_classifiers_train": _BINARY,
    "check_n_features_in": _NO_N_FEATURES,
    "check_n_features_in_after_fitting": _NO_N_FEATURES,
    "check_dataframe_column_names_consistency": _NO_N_FEATURES,
    "check_estimators_partial_fit_n_features": (
        "images of any size are accepted and resized to image_size, so a later "
        "partial_fit with other-sized images is not an error"
    ),
    "check_estimators_empty_data_messages": (
        "0 features becomes a 0x0 image, refused with an image-specific message "
        "rather than scikit-learn's tabular '0 feature(s)' wording"
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "mini-batch SGD: repeating a sample changes the batches, so weights and "
        "repetitions give close but not equal probabilities"
    ),
    "check_mixin_order": (
        "inherited from scikeras.wrappers.KerasClassifier(BaseWrapper, ClassifierMixin); "
        "the order cannot be changed in a subclass, and __sklearn_tags__ sets the "
        "classifier tags explicitly instead"
    ),
    "check_estimator_tags_renamed": (
        "scikeras's BaseWrapper defines the pre-1.6 _more_tags; FaceCNNClassifier "
        "defines __sklearn_tags__, which scikit-learn uses"
    ),
}


@parametrize_with_checks(
    # run_eagerly: the scikit-learn contract, not the graph, is under test, and
    # the checks fit the network many times over
    [
        _TabularFaceCNN(
            image_size=8, filters=(2,), dense_units=2, epochs=1, early_stopping=False, run_eagerly=True,
            random_state=0,
        )
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
