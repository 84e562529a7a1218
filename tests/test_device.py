"""skface/_device.py: precision and distribution strategies."""

import keras
import numpy as np
import pytest
from conftest import TINY, make_toy_images
from sklearn.utils._param_validation import InvalidParameterError

from skface import FaceCNNClassifier


def test_precision_is_set_per_layer_and_the_global_policy_is_untouched(toy):
    X, y = toy
    before = keras.config.dtype_policy().name
    clf = FaceCNNClassifier(**{**TINY, "epochs": 1}, precision="mixed_bfloat16").fit(X, y)
    assert keras.config.dtype_policy().name == before
    assert clf.precision_ == "mixed_bfloat16"
    assert clf.model_.get_layer("conv1").dtype_policy.name == "mixed_bfloat16"
    assert clf.model_.get_layer("output").dtype_policy.name == "float32"
    assert clf.predict_proba(X).dtype == np.float64


def test_auto_precision_follows_the_hardware():
    import tensorflow as tf

    from skface._device import cpu_has_bfloat16, resolve_precision

    expected = (
        "mixed_float16"
        if tf.config.list_physical_devices("GPU")
        else ("mixed_bfloat16" if cpu_has_bfloat16() else "float32")
    )
    assert resolve_precision("auto") == expected


def test_mirrored_by_name_is_a_new_mirrored_strategy():
    import tensorflow as tf

    from skface._device import resolve_distribution

    strategy = resolve_distribution("mirrored")
    assert isinstance(strategy, tf.distribute.MirroredStrategy)
    assert resolve_distribution(strategy) is strategy and resolve_distribution(None) is None


@pytest.mark.parametrize("distribution", ["mirror", 2])
def test_bad_distribution_is_rejected_at_fit(distribution):
    X, y = make_toy_images(n=8, size=16)
    clf = FaceCNNClassifier(distribution=distribution)  # __init__ only stores
    assert clf.distribution == distribution
    # scikit-learn's parameter validation: an InvalidParameterError is both a ValueError and a TypeError
    with pytest.raises(InvalidParameterError) as info:
        clf.fit(X, y)
    assert str(info.value) == (
        "The 'distribution' parameter of FaceCNNClassifier must be None, a str among {'mirrored'} or "
        f"an instance of 'tensorflow.python.distribute.distribute_lib.Strategy'. Got {distribution!r} instead."
    )


@pytest.mark.parametrize(
    "distribution, error, message",
    [
        ("mirror", ValueError, "distribution='mirror' is not accepted; accepted: None (one device), 'mirrored'"),
        (2, TypeError, "distribution=2 (a int) is not accepted; accepted: None (one device), 'mirrored'"),
    ],
)
def test_resolve_distribution_names_what_is_accepted(distribution, error, message):
    from skface._device import resolve_distribution

    with pytest.raises(error) as info:
        resolve_distribution(distribution)
    assert str(info.value).startswith(message)
    assert "tf.distribute.Strategy instance" in str(info.value)
