"""Property-based tests: for any X, labels, weights and groups, fit, predict,
fair_metric and group_sample_weight either give a correct result or raise a
ValueError/TypeError that names the parameter, never an error from deep
inside TensorFlow, NumPy or pandas."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from skface import FaceCNNClassifier
from skface.fairness import group_sample_weight
from skface.metrics import fair_metric

# run_eagerly: tracing the graph of a tiny model costs more than it saves
SMALL = dict(
    image_size=8, filters=(2,), dense_units=4, epochs=1, early_stopping=False,
    batch_size=4, random_state=0, run_eagerly=True,
)
FAST = settings(max_examples=200, deadline=None, derandomize=True)
SLOW = settings(
    max_examples=20, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def names(error, *parameters):
    """True if the message of ``error`` names one of ``parameters`` as a word."""
    pattern = r"(?<![\w])(" + "|".join(re.escape(p) for p in parameters) + r")(?![\w])"
    return re.search(pattern, str(error)) is not None


# ------------------------------------------------------------------- images
DTYPES = ["uint8", "uint16", "int8", "int64", "float16", "float32", "float64", "bool", "object", "complex64"]
LAYOUTS = {"hw": (), "hw1": (1,), "hw3": (3,), "hw2": (2,), "hw4": (4,), "flat": None}


@st.composite
def image_arrays(draw, n=None, broken=None):
    """Arrays of any layout and dtype; returns (X, valid) where ``valid`` is
    whether skface promises to accept them. ``broken=False`` draws only
    acceptable arrays, True or None anything."""
    broken = draw(st.booleans()) if broken is None else broken
    low = 0 if broken else 1
    n = draw(st.integers(low, 6)) if n is None else n
    h, w = draw(st.integers(low, 12)), draw(st.integers(low, 12))
    layout = draw(st.sampled_from(list(LAYOUTS) if broken else ["hw", "hw1", "hw3"]))
    dtype = draw(st.sampled_from(DTYPES if broken else [d for d in DTYPES if d not in ("bool", "complex64")]))
    in_range = draw(st.booleans()) if broken else True
    as_list = draw(st.booleans()) and n * h * w <= 300
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (n, h * w) if LAYOUTS[layout] is None else (n, h, w, *LAYOUTS[layout])
    if dtype in ("float16", "float32", "float64", "object", "complex64"):
        values = rng.random(shape)
        if not in_range:
            values = values * 3 - 1
            if values.size:
                values.flat[rng.integers(values.size)] = draw(st.sampled_from([np.nan, np.inf, 2.0]))
    elif dtype == "bool":
        values = rng.random(shape) > 0.5
    else:
        high = 128 if dtype == "int8" else 256
        values = rng.integers(0, high, shape)
        if not in_range and values.size:
            values.flat[rng.integers(values.size)] = -1 if dtype in ("int8", "int64") else 300
            if dtype == "uint8":
                in_range = True  # no uint8 value is out of range
    X = values.astype(dtype)
    valid = (
        n >= 1
        and h >= 1
        and w >= 1
        and layout in ("hw", "hw1", "hw3")
        and dtype not in ("bool", "complex64")
        and in_range
    )
    if as_list:
        X = X.tolist()
    return X, valid


def check_proba(proba, n):
    assert proba.shape == (n, 2)
    assert np.isfinite(proba).all() and (proba >= 0).all() and (proba <= 1).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    y = np.arange(12) % 2
    X = (rng.random((12, 8, 8, 3)) * 100 + 100 * y[:, None, None, None]).astype(np.uint8)
    return FaceCNNClassifier(**SMALL).fit(X, y)


@SLOW
@given(data=image_arrays())
def test_predict_any_array(fitted, data):
    X, valid = data
    try:
        proba = fitted.predict_proba(X)
    except (ValueError, TypeError) as error:
        event("refused")
        assert not valid, f"valid X refused: {error}"
        assert names(error, "X"), error
        return
    event("accepted")
    assert valid, "invalid X accepted"
    check_proba(proba, len(X))
    assert set(fitted.predict(X)) <= set(fitted.classes_)


# ------------------------------------------------------------------- labels
ENCODINGS = {
    "01": [0, 1],
    "pm1": [-1, 1],
    "bool": [False, True],
    "str": ["no", "yes"],
    "float": [0.0, 1.0],
    "np.int8": list(np.array([3, 7], dtype=np.int8)),
}
LABEL_FAULTS = ["none", "none", "none", "nan", "third", "one class", "mixed", "length", "continuous"]


def is_missing(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


def describe_labels(values, n):
    """What is wrong with a list of labels, if anything."""
    missing = any(is_missing(v) for v in values)
    present = [v for v in values if not is_missing(v)]
    mixed = len({isinstance(v, str) for v in present}) > 1
    continuous = any(isinstance(v, float) and v != int(v) for v in present)
    n_classes = len(set(present)) if not mixed else None
    return {
        "ok": len(values) == n and not missing and not mixed and not continuous,
        "binary": n_classes == 2,
    }


@st.composite
def labels(draw, n, broken=None, encoding=None):
    """Labels of length ``n`` in some encoding and form, possibly broken;
    returns (y, description)."""
    encoding = draw(st.sampled_from(list(ENCODINGS))) if encoding is None else encoding
    broken = draw(st.booleans()) if broken is None else broken
    fault = draw(st.sampled_from(LABEL_FAULTS[3:])) if broken else "none"
    form = draw(st.sampled_from(["list", "array", "series", "object series", "categorical", "column"]))
    codes = [i % 2 for i in range(n)]
    codes = draw(st.permutations(codes)) if n > 1 else codes
    values = [ENCODINGS[encoding][c] for c in codes]
    if fault == "nan" and n:
        values[draw(st.integers(0, n - 1))] = None if encoding == "str" else np.nan
    elif fault == "third" and n:
        values[0] = "maybe" if encoding == "str" else 5
    elif fault == "one class":
        values = [values[0]] * n if n else values
    elif fault == "mixed" and n:
        values[0] = str(values[0]) if encoding != "str" else 1
    elif fault == "length":
        values = values + values[:1] if n else [0]
    elif fault == "continuous" and n:
        values = [0.25 + 0.5 * c for c in codes]
    description = describe_labels(values, n)
    if form == "array":
        y = np.array(values, dtype=object if fault == "mixed" else None)
    elif form == "series":
        y = pd.Series(values, index=np.arange(100, 100 + len(values)), name="class")
    elif form == "object series":
        y = pd.Series(values, dtype=object)
    elif form == "categorical":
        try:
            y = pd.Categorical(values)
        except (TypeError, ValueError):
            y = values
    elif form == "column":
        y = np.array(values, dtype=object if fault == "mixed" else None).reshape(-1, 1)
    else:
        y = values
    return y, description


@st.composite
def weights(draw, n, broken=None):
    broken = draw(st.booleans()) if broken is None else broken
    kinds = ["negative", "nan", "zeros", "length", "text", "2d"] if broken else ["none", "ok"]
    kind = draw(st.sampled_from(kinds))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = rng.random(n) * 3 + 0.1
    if kind == "none":
        return None, True
    if kind == "ok":
        return (w if draw(st.booleans()) else w.tolist()), True
    if kind == "negative" and n:
        w[0] = -1.0
    elif kind == "nan" and n:
        w[-1] = np.nan
    elif kind == "zeros":
        w = np.zeros(n)
    elif kind == "length":
        w = np.append(w, 1.0)
    elif kind == "text":
        return ["heavy"] * n, False
    elif kind == "2d":
        w = w.reshape(-1, 1) if n != 1 else np.ones((1, 2))
        return w, False
    return w, False


@pytest.mark.slow
@settings(SLOW, max_examples=15)  # each accepted example trains a network
@given(data=st.data())
def test_fit_any_images_labels_and_weights(data):
    # one part at most is broken on purpose, so that half the fits succeed
    broken = data.draw(st.sampled_from(["nothing", "nothing", "nothing", "X", "y", "sample_weight"]))
    n = data.draw(st.integers(1, 10), label="n")
    X, x_valid = data.draw(image_arrays(n=n, broken=broken == "X"), label="X")
    y, y_description = data.draw(labels(n, broken=broken == "y"), label="y")
    y_valid = y_description["ok"] and y_description["binary"]
    w, w_valid = data.draw(weights(n, broken=broken == "sample_weight"), label="sample_weight")
    early_stopping = data.draw(st.booleans(), label="early_stopping")
    # early stopping holds out ceil(n * 0.2) samples and needs one left to train
    split_ok = not early_stopping or (n >= 2 and math.ceil(n * 0.2) < n)
    clf = FaceCNNClassifier(**{**SMALL, "early_stopping": early_stopping})
    try:
        clf.fit(X, y, sample_weight=w)
    except (ValueError, TypeError) as error:
        event("refused")
        assert not (x_valid and y_valid and w_valid and split_ok), f"valid input refused: {error}"
        assert names(error, "X", "y", "sample_weight", "early_stopping"), error
        return
    event("accepted")
    assert x_valid and y_valid and w_valid and split_ok, "invalid input accepted"
    y_values = np.asarray(y).ravel()
    np.testing.assert_array_equal(clf.classes_, np.unique(y_values))
    check_proba(clf.predict_proba(X), n)
    assert set(clf.predict(X).tolist()) <= set(y_values.tolist())


# ----------------------------------------------------------- fairness inputs
GROUP_CODINGS = {"pm1": [-1, 1], "str": ["F", "M"], "three": ["a", "b", "c"], "float": [0.0, 1.0]}


@st.composite
def groups(draw, n, broken=None):
    coding = draw(st.sampled_from(list(GROUP_CODINGS)))
    broken = draw(st.booleans()) if broken is None else broken
    faults = ["nan", "mixed", "one group", "length", "2d", "dict"] if broken else ["none"]
    fault = draw(st.sampled_from(faults))
    values = [draw(st.sampled_from(GROUP_CODINGS[coding])) for _ in range(n)]
    if not n and fault in ("nan", "mixed", "dict"):
        fault = "none"
    if fault == "nan":
        values[-1] = None
    elif fault == "mixed":
        values[0] = 1 if coding in ("str", "three") else "F"
    elif fault == "one group":
        values = [GROUP_CODINGS[coding][0]] * n
    elif fault == "length":
        values = values[:-1]
    elif fault == "2d":
        return np.array([values, values], dtype=object).T, fault
    elif fault == "dict":
        values[0] = {"group": 1}
    form = draw(st.sampled_from(["list", "series", "frame"]))
    if form == "series":
        values = pd.Series(values, name="gender")
    elif form == "frame":
        values = pd.DataFrame({"gender": values})
    return values, fault


def expected_fair_metric(y_true, y_pred, g, w):
    accuracies = []
    for group in pd.unique(np.asarray(g, dtype=object)):
        mask = np.array([v == group for v in g])
        ww = np.ones(mask.sum()) if w is None else np.asarray(w, dtype=float)[mask]
        correct = np.asarray(y_true, dtype=object)[mask] == np.asarray(y_pred, dtype=object)[mask]
        accuracies.append(np.sum(ww * correct) / np.sum(ww))
    return np.mean(accuracies) - 2 * (max(accuracies) - min(accuracies))


@FAST
@given(data=st.data())
def test_fair_metric_any_labels_groups_and_weights(data):
    broken = data.draw(st.sampled_from(["nothing", "nothing", "y_true", "y_pred", "groups", "weights"]))
    n = data.draw(st.integers(1, 12), label="n")
    encoding = data.draw(st.sampled_from(list(ENCODINGS)))
    y_true, true_description = data.draw(labels(n, broken == "y_true", encoding), label="y_true")
    # y_pred in another encoding than y_true is an error: only when broken
    other = None if broken == "y_pred" else encoding
    y_pred, pred_description = data.draw(labels(n, broken == "y_pred", other), label="y_pred")
    g, g_fault = data.draw(groups(n, broken=broken == "groups"), label="sensitive_features")
    w, w_valid = data.draw(weights(n, broken=broken == "weights"), label="sample_weight")
    try:
        value = fair_metric(y_true, y_pred, sensitive_features=g, sample_weight=w)
    except (ValueError, TypeError) as error:
        event("refused")
        assert names(error, "y_true", "y_pred", "sensitive_features", "sample_weight"), error
        return
    event("accepted")
    # any number of classes is fine here (a subsample may hold one); these are not
    assert true_description["ok"] and pred_description["ok"], "invalid labels accepted"
    assert g_fault in ("none", "one group") and w_valid, "invalid groups or weights accepted"
    gs = np.asarray(g).ravel().tolist()
    assert len(set(gs)) >= 2
    expected = expected_fair_metric(
        np.asarray(y_true).ravel(), np.asarray(y_pred).ravel(), gs, None if w is None else np.ravel(w)
    )
    assert value == pytest.approx(expected, abs=1e-9)


@FAST
@given(data=st.data())
def test_group_sample_weight_any_groups_and_weights(data):
    n = data.draw(st.integers(0, 12), label="n")
    g, g_fault = data.draw(groups(n), label="sensitive_features")
    g_valid = g_fault in ("none", "one group", "length")  # no y: any length is fine
    present = list(dict.fromkeys(np.asarray(g, dtype=object).ravel().tolist())) if g_valid else [-1, 1]
    kind = data.draw(st.sampled_from(["balanced", "mapping", "mapping", "any mapping", "other"]))
    if kind == "balanced":
        spec = "balanced"
    elif kind == "mapping":
        spec = data.draw(st.fixed_dictionaries({k: st.floats(0, 5) for k in present}), label="weights")
    elif kind == "any mapping":
        spec = data.draw(
            st.dictionaries(
                st.sampled_from([-1, 1, 0, "F", "M", "x", *present]),
                st.floats(allow_nan=True, allow_infinity=True),
                max_size=4,
            ),
            label="weights",
        )
    else:
        spec = data.draw(st.sampled_from(["equal", "", None, 3, [1.0, 0.1]]), label="weights")
    try:
        result = group_sample_weight(g, spec)
    except (ValueError, TypeError) as error:
        event("refused")
        assert names(error, "sensitive_features", "weights", "y"), error
        return
    event("accepted")
    assert g_valid, "invalid groups accepted"
    gs = np.asarray(g, dtype=object).ravel()
    assert result.shape == (len(gs),) and result.dtype == float
    assert np.isfinite(result).all() and (result >= 0).all()
    if spec == "balanced":
        totals = pd.Series(result).groupby(gs.tolist()).sum()
        np.testing.assert_allclose(totals, len(gs) / len(totals))
    else:
        np.testing.assert_array_equal(result, [spec[v] for v in gs])


# ------------------------------------------------ bugs the properties found
def test_numbers_in_an_object_column_are_labels():
    # scikit-learn calls an object array of numbers an "unknown" target: this
    # failed with "can't handle a mix of unknown and binary targets"
    y_true = pd.Series([0, 1, 0, 1], dtype=object)
    assert fair_metric(y_true, [0, 1, 1, 1], sensitive_features=[1, 1, 2, 2]) == -0.25


def test_labels_encoded_two_ways_name_both_parameters():
    # was scikit-learn's "Mix of label input types (string and number)"
    with pytest.raises(TypeError, match=r"y_true holds str labels \(\['no', 'yes'\]\) but y_pred holds number labels"):
        fair_metric(["no", "yes"], [0, 1], sensitive_features=[1, 2])
