"""skface/_params.py: what FaceCNNClassifier accepts, checked before any work of fit."""

import re

import pytest
from conftest import TINY
from sklearn.utils._param_validation import InvalidParameterError

from skface import FaceCNNClassifier


def test_unknown_keyword_is_rejected_at_fit(toy):
    clf = FaceCNNClassifier(epoch=3)  # __init__ only stores, as scikit-learn requires
    with pytest.raises(TypeError, match="unexpected keyword argument 'epoch'"):
        clf.fit(*toy)


def _constraint_message(name, value):
    return rf"The '{name}' parameter of FaceCNNClassifier must be .* Got {re.escape(repr(value))} instead"


@pytest.mark.parametrize(
    "name, value",
    [
        ("backbone", "vgg"),
        ("precision", "half"),
        ("validation_fraction", 1.5),
        ("threshold", 2),
        ("threshold", "x"),
        ("epochs", 0),
        ("focal_gamma", -1.0),
        ("focal_alpha", 1.5),
        ("learning_rate", 0.0),
        ("augment", "yes"),
        ("early_stopping", 1),
        ("trainable_backbone", "no"),
        ("apply_class_balancing", None),
        ("warm_start", "true"),
        ("verbose", -1),
        ("run_eagerly", 0.5),
        ("on_bad_image", "ignore"),
        ("class_weight", "auto"),
    ],
)
def test_bad_parameters_are_refused_by_their_constraints(toy, name, value):
    X, y = toy
    with pytest.raises(InvalidParameterError, match=_constraint_message(name, value)):
        FaceCNNClassifier(**{**TINY, name: value}).fit(X, y)


@pytest.mark.parametrize(
    "param, match",
    [
        ({"image_size": 4}, "The 'image_size' parameter of FaceCNNClassifier must be"),
        ({"image_size": (16, 4)}, r"image_size=\(16, 4\) is not accepted"),
        ({"filters": ()}, r"filters=\(\) is not accepted"),
        ({"filters": (4, 0)}, r"filters=\(4, 0\) is not accepted"),
    ],
)
def test_bad_parameters(toy, param, match):
    X, y = toy
    with pytest.raises(ValueError, match=match):
        FaceCNNClassifier(**{**TINY, **param}).fit(X, y)


def test_predict_validates_threshold(toy):
    X, y = toy
    clf = FaceCNNClassifier(**TINY).fit(X, y)
    clf.threshold = "x"
    with pytest.raises(InvalidParameterError, match=_constraint_message("threshold", "x")):
        clf.predict(X)


def test_unknown_keyword_suggests_the_parameter(toy):
    X, y = toy
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'epoch' \(did you mean 'epochs'\?\)"):
        FaceCNNClassifier(**TINY, epoch=3).fit(X, y)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'zzz'; besides its parameters"):
        FaceCNNClassifier(**TINY, zzz=3).fit(X, y)


def test_backbone_weights_must_be_a_file(toy):
    X, y = toy
    with pytest.raises(ValueError, match="backbone_weights='nowhere.h5' is not a file"):
        FaceCNNClassifier(image_size=32, backbone="mobilenet_v2", backbone_weights="nowhere.h5").fit(X, y)
