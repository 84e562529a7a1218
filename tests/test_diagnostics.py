"""skface._diagnostics: telling a model that learned nothing from one that did."""

import numpy as np
import pytest

from skface._diagnostics import degenerate_predictions


def test_one_class_everywhere():
    message = degenerate_predictions(np.full(40, 0.2), classes=(-1, 1))
    assert message.startswith(
        "The model predicts -1 for all 40 images, with probabilities of class 1 between 0.200 and 0.200: "
        "it looks like a model that learned nothing. Try training longer (a larger epochs=, or a larger "
        "n_iter_no_change="
    )


def test_nearly_every_image_counts():
    proba = np.r_[np.full(199, 0.9), 0.1]
    assert degenerate_predictions(proba).startswith("The model predicts 1 for 199 of the 200 images")
    assert degenerate_predictions(np.r_[np.full(190, 0.9), np.full(10, 0.1)]) is None


def test_a_flat_model_around_the_threshold():
    proba = 0.5 + np.linspace(-0.005, 0.005, 60)  # both classes, but no information
    message = degenerate_predictions(proba)
    assert message.startswith("The model's probabilities of class 1 between 0.495 and 0.505 for all 60 "
                              "images barely differ")


def test_predict_proba_columns_and_threshold():
    proba = np.linspace(0.3, 0.45, 30)
    both = np.column_stack([1 - proba, proba])
    assert degenerate_predictions(both) == degenerate_predictions(proba)
    assert degenerate_predictions(proba).startswith("The model predicts 0 for all 30")
    assert degenerate_predictions(proba, threshold=0.4) is None


def test_few_predictions_are_not_judged():
    assert degenerate_predictions(np.full(19, 0.1)) is None
    assert degenerate_predictions(np.full(5, 0.1), min_samples=5) is not None


def test_nan_probabilities_mean_divergence():
    proba = np.r_[np.full(30, np.nan), np.linspace(0, 1, 10)]
    assert degenerate_predictions(proba) == (
        "The model gives NaN or infinite probabilities to 30 of the 40 images: its training diverged. "
        "Try a smaller learning_rate=."
    )


@pytest.mark.parametrize("seed", range(3))
def test_a_model_that_separates_is_fine(seed):
    rng = np.random.default_rng(seed)
    assert degenerate_predictions(rng.beta(0.5, 2, 500)) is None
