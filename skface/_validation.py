"""Why an input was refused: the one module that checks what users pass.

It owns the checks of images (arrays, path lists, DataFrames, files on
disk), targets and label columns, sample weights, sensitive groups and
the scalar arguments of the dataset functions, and the one formatter that
names "the first few offending items" in an error message
(:func:`show_items`). Every public entry point calls these, so the same bad
input gets the same message everywhere. Nothing here imports TensorFlow:
the decoding checks of image files live beside the decoder, in ``_input``.
"""

import numbers
import os
from collections.abc import Hashable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_sample_weight, column_or_1d

#: how many offending items an error message names
SHOW = 5


def show_items(values, *, total=None, limit=SHOW):
    """Format the first ``limit`` of ``values`` for an error message.

    ``total`` is the number of offending items when ``values`` holds only
    some of them. ``[1, 2, 3, 4, 5, ... (12 in all)]``.
    """
    values = list(values)
    total = len(values) if total is None else total
    text = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in values[:limit])
    if total > limit:
        text += f", ... ({total} in all)"
    return f"[{text}]"


# ----------------------------------------------------------------- numbers
def check_int(value, name, *, minimum):
    """Return ``value`` as an int, or raise naming ``name`` and the bound."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer >= {minimum}, got {value!r} "
            f"of type {type(value).__name__}."
        )
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_probability(value, name, *, high=1.0):
    """Return ``value`` as a float in [0, high], or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a number in [0, {high:g}], got {value!r} "
            f"of type {type(value).__name__}."
        )
    value = float(value)
    if not 0.0 <= value <= high:  # also rejects NaN
        raise ValueError(f"{name} must be a number in [0, {high:g}], got {value!r}.")
    return value


def check_rate_pair(value, name):
    """Return a (women, men) pair of probabilities.

    A single number applies to both groups.
    """
    accepted = "a probability in [0, 1] or a pair (women, men) of them"
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        value = (value, value)
    try:
        pair = tuple(value)
    except TypeError:
        raise TypeError(
            f"{name} must be {accepted}, got {value!r} of type {type(value).__name__}."
        ) from None
    if len(pair) != 2:
        raise ValueError(f"{name} must be {accepted}, got {value!r} ({len(pair)} values).")
    for item in pair:
        if (
            isinstance(item, (bool, np.bool_))
            or not isinstance(item, numbers.Real)
            or not 0.0 <= float(item) <= 1.0
        ):
            raise ValueError(f"{name} must be {accepted}, got {value!r}.")
    return float(pair[0]), float(pair[1])


# ------------------------------------------------------ labels and groups
# Shown whenever Fair_Metric is asked for without groups: it says how to
# supply them, because with scorers the cause is usually the routing set-up.
MISSING_GROUPS_MESSAGE = (
    "Fair_Metric needs the group of every sample, but sensitive_features was "
    "not given. Supply the groups in one of two ways: "
    "(1) metadata routing: enable it with "
    "sklearn.set_config(enable_metadata_routing=True) (or inside "
    "sklearn.config_context(enable_metadata_routing=True)), score with "
    "skface.metrics.fair_scorer and pass sensitive_features=groups to "
    "fit (GridSearchCV, TunedThresholdClassifierCV) or in params= "
    "(cross_validate); "
    "(2) a DataFrame column: make X a pandas DataFrame with a column of groups "
    "and score with skface.metrics.make_fair_scorer(sensitive_column='gender'). "
    "TunedThresholdClassifierCV calls the metric without X, so it needs (1)."
)


def _kind(value):
    if isinstance(value, (numbers.Number, np.bool_)):
        return "number"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def _where(positions, index=None):
    """Name rows by the caller's index labels, else by position."""
    if index is None:
        return f"position{'s' if len(positions) > 1 else ''} {show_items(positions)}"
    return f"row{'s' if len(positions) > 1 else ''} {show_items(index[list(positions)])}"


def check_one_type(values, name, *, original=None, index=None, what="value"):
    """Raise ``TypeError`` if ``values`` mixes numbers, strings and other types.

    ``np.asarray`` silently turns a list such as ``[1, "a"]`` into the
    strings ``["1", "a"]``: pass the caller's object as ``original`` to check
    the values as given. ``index`` (a pandas index) names rows by label.
    Returns None; unhashable values (dicts, lists) are also refused.
    """
    if original is not None and not isinstance(original, (np.ndarray, pd.Series, pd.Index)):
        try:
            values = np.asarray(original, dtype=object).reshape(-1)
        except (TypeError, ValueError):
            pass
    values = np.asarray(values)
    if values.dtype != object:
        return
    kinds = [_kind(v) for v in values.ravel()]
    distinct = list(dict.fromkeys(kinds))
    unhashable = [i for i, v in enumerate(values.ravel()) if not isinstance(v, Hashable)]
    if unhashable:
        raise TypeError(
            f"{name} holds {type(values.ravel()[unhashable[0]]).__name__} values at "
            f"{_where(unhashable, index)}; accepted: numbers or strings, one per sample."
        )
    if len(distinct) > 1:
        odd = [i for i, k in enumerate(kinds) if k != kinds[0]]
        raise TypeError(
            f"{name} mixes {what} types ({', '.join(distinct)}): {values.ravel()[0]!r} at "
            f"{_where([0], index)} but {values.ravel()[odd[0]]!r} at {_where(odd, index)}. "
            "Use one type for every sample, e.g. all numbers (-1/1) or all strings."
        )


def groups_from_column(X, column, *, owner, given=None, other_route):
    """The groups in column ``column`` of a DataFrame X, checked, for the one
    who reads them there (``owner``, e.g. ``"sensitive_column='gender'"``).

    The one place every estimator and scorer with a ``sensitive_column``
    reads it, so their errors agree: both routes given (``given``: the
    ``sensitive_features`` passed as well) is a ValueError, X not a
    DataFrame a TypeError, a missing column a ValueError that lists X's
    columns. ``other_route`` says what to do instead of the column.
    """
    if given is not None:
        raise ValueError(
            f"{owner} reads the groups from X, but sensitive_features were passed as well. "
            f"Use one route: {other_route}, or the column."
        )
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"{owner} reads the groups from a column of X, so X must be a pandas DataFrame; "
            f"got {type(X).__name__}. Pass a DataFrame with a {column!r} column, or {other_route}."
        )
    if column not in X.columns:
        raise ValueError(
            f"sensitive_column={column!r} is not a column of X; its columns are {show_items(X.columns, limit=12)}."
        )
    return check_groups(X[column], name=f"X[{column!r}] (sensitive_column)")


#: intersectional groups smaller than this get a warning: their accuracies are noisy
SMALL_GROUP = 30


def _intersectional_groups(frame, name, warn_small):
    """One tuple of ``frame``'s values per row, checked: the groups of several attributes."""
    for column in frame.columns:
        check_groups(frame[column], name=f"{name}[{column!r}]")
    values = [tuple(v.item() if isinstance(v, np.generic) else v for v in row)
              for row in frame.itertuples(index=False, name=None)]
    series = pd.Series(values, dtype=object, name=" x ".join(map(str, frame.columns)))
    sizes = series.value_counts()
    small = sizes[sizes < SMALL_GROUP]
    if warn_small and len(small):
        import warnings

        shown = ", ".join(f"{group!r}: {count}" for group, count in small.sort_values().items())
        warnings.warn(
            f"{name}: {len(small)} of the {len(sizes)} groups of {series.name} have fewer than {SMALL_GROUP} "
            f"samples ({shown}); their accuracies and the metrics built on them are noisy.",
            UserWarning,
            stacklevel=3,
        )
    return series


def check_groups(sensitive_features, *, name="sensitive_features", warn_small=True):
    """Return the groups as a named 1-D pandas Series with a fresh RangeIndex.

    Accepts a list, a 1-D array, an ``(n, 1)`` array, a Series or a
    DataFrame. The Series keeps the caller's name (``None`` otherwise) so
    that fairlearn labels its output the same way. A DataFrame of several
    columns gives intersectional groups: one tuple of its values per sample,
    e.g. ``('women', 'Black')``, named after the columns joined by " x ";
    with ``warn_small``, groups of fewer than :data:`SMALL_GROUP` samples get
    a warning that names them and their sizes.
    """
    if sensitive_features is None:
        raise ValueError(MISSING_GROUPS_MESSAGE)
    if isinstance(sensitive_features, pd.DataFrame):
        if sensitive_features.shape[1] == 0:
            raise ValueError(f"{name} is a DataFrame without columns; give at least one column of groups.")
        if sensitive_features.shape[1] > 1:
            return _intersectional_groups(sensitive_features, name, warn_small)
        sensitive_features = sensitive_features.iloc[:, 0]
    index = None
    if isinstance(sensitive_features, pd.Series):
        index = sensitive_features.index
        series = sensitive_features.reset_index(drop=True)
    else:
        if isinstance(sensitive_features, (str, bytes)) or np.ndim(sensitive_features) == 0:
            raise TypeError(
                f"{name} must be array-like with one group per sample; got "
                f"{type(sensitive_features).__name__} {sensitive_features!r}. "
                "Accepted: a list, a 1-D array, a Series or a one-column DataFrame."
            )
        array = np.asarray(sensitive_features)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1:
            raise ValueError(
                f"{name} must be one column of groups; got an array of shape "
                f"{array.shape}. Accepted: a list, a 1-D array, an (n, 1) array, "
                "a Series or a DataFrame (several columns: intersectional groups)."
            )
        series = pd.Series(array)
    missing = np.flatnonzero(series.isna().to_numpy())
    if missing.size:
        raise ValueError(
            f"{name} contains missing values (NaN/None) at positions "
            f"{show_items(missing)}; every sample needs a group. Drop those samples "
            "or give them a group of their own, e.g. 'unknown'."
        )
    check_one_type(series.to_numpy(), name, original=sensitive_features, index=index)
    return series


def check_labels(y, name):
    """Return ``y`` as a 1-D array without missing values."""
    if y is None:
        raise ValueError(f"{name} is None; expected one label per sample.")
    try:
        array = column_or_1d(y, dtype=None, warn=False)
    except ValueError:
        raise ValueError(
            f"{name} must be one column of labels; got shape {np.shape(y)}. "
            "Accepted: a list, a 1-D array, an (n, 1) array or a Series."
        ) from None
    missing = np.flatnonzero(pd.isna(array))
    if missing.size:
        raise ValueError(
            f"{name} contains missing values (NaN/None) at positions "
            f"{show_items(missing)}; every sample needs a label such as 0/1 or -1/1."
        )
    check_one_type(array, name, original=y)
    if array.dtype == object and len(array) and _kind(array[0]) == "number":
        # numbers in an object array (a pandas object column, say) are
        # "unknown" targets to scikit-learn's metrics: give them a numeric dtype
        array = np.array(array.tolist())
    return array


def _label_kind(array):
    """"str" or "number" for labels already checked by check_labels (None if empty)."""
    if array.dtype.kind in "US":
        return "str"
    if array.dtype.kind in "biuf":
        return "number"
    return _kind(array[0]) if len(array) else None


def check_not_continuous(array, name):
    """Refuse float labels that are not whole numbers (probabilities, say)."""
    if array.dtype.kind == "f" and not np.all(np.mod(array, 1) == 0):
        raise ValueError(
            f"{name} holds continuous values such as {array[np.mod(array, 1) != 0][0].item()!r}; "
            "expected class labels such as 0/1 or -1/1."
        )


def check_target(y, n_samples, classes=None, *, estimator="FaceCNNClassifier"):
    """Validate the labels of a binary classifier's ``fit``.

    Returns ``(y, classes)``: ``y`` as a 1-D array in the caller's encoding
    and its two sorted labels (``classes`` gives them when ``y`` may hold
    only one, as in ``partial_fit``).
    """
    if y is None:
        raise ValueError(f"{estimator} requires y to be passed, but the target y is None.")
    original = y
    index = y.index if isinstance(y, (pd.Series, pd.DataFrame)) else None
    y = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per image); got shape {y.shape}.")
    if y.dtype.kind == "f" and len(y) and np.isfinite(y).all() and type_of_target(y) == "continuous":
        raise ValueError(
            f"Unknown label type: y holds continuous values; {estimator} needs "
            "two class labels (e.g. 0/1, -1/1, bool or two strings)."
        )
    if len(y) != n_samples:
        raise ValueError(
            f"X has {n_samples} samples but y has {len(y)} labels; pass one label per sample."
        )
    missing = np.flatnonzero(pd.isna(y))
    if missing.size:
        raise ValueError(
            f"y contains {missing.size} missing (NaN/None) labels at "
            f"{_where(missing, index)}; every sample needs one of two labels."
        )
    check_one_type(y, "y", original=original, index=index, what="label")
    try:
        found = np.unique(y)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in y})
        raise TypeError(
            f"y mixes label types {kinds}; use one type for both labels "
            "(e.g. 0/1, -1/1, bool or two strings)."
        ) from None
    if classes is not None:
        classes = np.unique(np.asarray(classes))
        unknown = np.setdiff1d(found, classes)
        if len(unknown):
            raise ValueError(f"y has labels {unknown.tolist()} not in classes={classes.tolist()}.")
        found = classes
    if len(found) != 2:
        raise ValueError(
            f"y has {len(found)} class{'es' if len(found) != 1 else ''} "
            f"({found.tolist()[:10]}); {estimator} needs exactly 2 classes "
            "(binary labels such as 0/1, -1/1, bool or two strings). "
            "Only binary classification is supported."
        )
    return y, found


def check_columns(frame, columns, source):
    """Raise unless ``frame`` has every column of ``columns`` (what names it -> column name)."""
    for what, column in columns.items():
        if column not in frame.columns:
            raise ValueError(
                f"{source} has no column {column!r} ({what} {column}); its columns are "
                f"{show_items(frame.columns, limit=12)}."
            )


def check_label_column(values, name):
    """A label column of 0/1, -1/1 or bool as an int array of -1/1 (the reference's labels)."""
    series = pd.Series(values).reset_index(drop=True)
    missing = np.flatnonzero(series.isna().to_numpy())
    if missing.size:
        raise ValueError(
            f"{name} has empty values at positions {show_items(missing)}; every image needs a label."
        )
    found = set(series.unique().tolist())
    numeric = all(isinstance(v, (numbers.Number, np.bool_)) for v in found)
    for positive, accepted in ((1, {0, 1}), (1, {-1, 1}), (True, {False, True})):
        if numeric and found <= accepted:
            return np.where(series.to_numpy() == positive, 1, -1)
    raise ValueError(
        f"{name} must hold binary labels 0/1 or -1/1; found {show_items(sorted(map(str, found)))}."
    )


def check_same_length(**lengths):
    """Raise naming every input and its length unless all ``lengths`` agree."""
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{key}: {value}" for key, value in lengths.items())
        raise ValueError(
            f"{', '.join(lengths)} must have the same length (one entry per "
            f"sample); got {shown}."
        )


def check_fairness_inputs(
    y_true, y_pred, sensitive_features, sample_weight=None, *, min_groups=2
):
    """Validate the inputs of a per-group metric.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Labels; any encoding, no missing values.
    sensitive_features : array-like of shape (n_samples,) or one-column DataFrame
        The group of every sample.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    min_groups : int, default=2
        Fewest distinct groups accepted.

    Returns
    -------
    y_true, y_pred : ndarray of shape (n_samples,)
    groups : pandas.Series of shape (n_samples,)
        The groups, with the caller's name and a RangeIndex.
    sample_weight : ndarray of shape (n_samples,) or None
    """
    groups = check_groups(sensitive_features)
    y_true = check_labels(y_true, "y_true")
    y_pred = check_labels(y_pred, "y_pred")
    check_not_continuous(y_true, "y_true")
    check_not_continuous(y_pred, "y_pred")
    kinds = {name: _label_kind(values) for name, values in (("y_true", y_true), ("y_pred", y_pred))}
    if None not in kinds.values() and kinds["y_true"] != kinds["y_pred"]:
        raise TypeError(
            f"y_true holds {kinds['y_true']} labels ({show_items(pd.unique(y_true))}) but y_pred "
            f"holds {kinds['y_pred']} labels ({show_items(pd.unique(y_pred))}); encode both the same "
            "way, e.g. both 0/1 or both -1/1."
        )
    lengths = {"y_true": len(y_true), "y_pred": len(y_pred), "sensitive_features": len(groups)}
    if sample_weight is not None:
        lengths["sample_weight"] = len(np.atleast_1d(np.asarray(sample_weight)))
    check_same_length(**lengths)
    if len(y_true) == 0:
        raise ValueError("y_true is empty; expected at least one sample per group.")
    unique = pd.unique(groups)
    if len(unique) < min_groups:
        raise ValueError(
            f"sensitive_features has only {len(unique)} group {show_items(unique)}; "
            f"Fair_Metric compares the accuracies of at least {min_groups} groups. "
            "Check that sensitive_features is the intended column and that every "
            "group is present in this (sub)sample."
        )
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, len(y_true))
    return y_true, y_pred, groups, sample_weight


# ------------------------------------------------------------------ images
#: the formats named in error messages
ACCEPTED_FORMATS = "JPEG, PNG, BMP, GIF or WebP files"


@dataclass(frozen=True)
class ImageSet:
    """Validated images: either an array or a list of paths, never both."""

    array: np.ndarray | None = None  # (n, H, W, 1 | 3), uint8 or float32
    paths: np.ndarray | None = None  # (n,) of str

    def __len__(self):
        return len(self.array) if self.array is not None else len(self.paths)

    @property
    def kind(self):
        return "array" if self.array is not None else "paths"

    def subset(self, keep):
        """The images selected by ``keep`` (a boolean mask or indices)."""
        if self.array is not None:
            return ImageSet(array=self.array[keep])
        return ImageSet(paths=self.paths[keep])


def check_image_size(image_size, name="image_size"):
    """``image_size`` as ``(height, width)``: an int >= 8 or a pair of them."""
    size = image_size
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (size, size)
    ok = (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 8 for s in size)
    )
    if not ok:
        raise ValueError(
            f"{name}={image_size!r} is not accepted; accepted: an int >= 8 "
            "or a pair (height, width) of ints >= 8."
        )
    return int(size[0]), int(size[1])


def check_backbone_weights(weights, name="backbone_weights"):
    """None, "imagenet" or the path of an existing weights file."""
    if weights is not None and weights != "imagenet" and not os.path.isfile(weights):
        raise ValueError(
            f"{name}={weights!r} is not a file; accepted: None, 'imagenet' "
            "or the path to a weights file for the backbone without its top."
        )


def check_folder(path, name):
    """A folder path that is not a file (it is created if missing)."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(
            f"{name}={os.fspath(path)!r} is a file; accepted: None or a folder (created if missing)."
        )


def check_images(X, *, image_column="filename", stat_files=True):
    """Validate ``X`` in any of the accepted forms and return an :class:`ImageSet`.

    Raises ``TypeError`` for a form that is not accepted and ``ValueError``
    for accepted forms with bad content (empty, wrong channels, out-of-range
    values, missing or empty files).
    """
    if hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            "Sparse data is not supported: X must be an image array, a sequence of "
            "image paths or a DataFrame with an image column."
        )
    if not isinstance(X, (np.ndarray, pd.DataFrame, pd.Series)) and hasattr(X, "__array__"):
        X = np.asarray(X)  # array-likes (xarray, tensors, ...)
    if isinstance(X, np.ndarray) and X.dtype.kind == "c":
        raise ValueError("Complex data not supported: X must hold real pixel values.")
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim > 1:
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                "X is an object array that is neither numbers nor image paths; accepted: "
                "an image array of uint8 (0-255) or float (0-1), or a 1-D sequence of paths."
            ) from None
    if isinstance(X, pd.DataFrame):
        if image_column not in X.columns:
            raise ValueError(
                f"X is a DataFrame without the image column {image_column!r} "
                f"(image_column={image_column!r}); its columns are {list(X.columns)}. "
                "Pass image_column=<name of the column that holds the image paths>."
            )
        return _check_paths(X[image_column], stat_files, f"X[{image_column!r}]")
    if isinstance(X, pd.Series):
        return _check_paths(X, stat_files, "X")
    if isinstance(X, (str, os.PathLike)):
        raise TypeError(
            f"X is a single path {str(X)!r}; pass a list of image paths, "
            "an image array or a DataFrame with an image column."
        )
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
        return _check_array(X)
    if isinstance(X, (list, tuple, np.ndarray)):
        if len(X) and all(isinstance(x, (str, os.PathLike)) for x in X):
            return _check_paths(np.asarray(X, dtype=object), stat_files, "X")
        try:
            array = np.asarray(X)
        except ValueError:  # ragged nested lists
            array = None
        if array is not None and array.dtype.kind in "biuf":
            return _check_array(array)
        if array is not None and array.size == 0:
            raise ValueError("X is empty: it holds 0 images.")
    raise TypeError(
        f"X of type {type(X).__name__} is not accepted. Accepted: an image array "
        "(n, H, W), (n, H, W, 1) or (n, H, W, 3) of uint8 (0-255) or float (0-1); "
        "a 1-D sequence of image file paths; or a pandas DataFrame whose "
        "image_column holds paths."
    )


def _check_array(X):
    if X.ndim == 3:
        X = X[..., np.newaxis]
    if X.ndim != 4:
        raise ValueError(
            f"X has shape {X.shape}. Reshape your data: an image array must be "
            "(n, H, W), (n, H, W, 1) or (n, H, W, 3)."
        )
    if X.shape[0] == 0:
        raise ValueError("X is empty: it holds 0 images.")
    if X.shape[-1] not in (1, 3):
        raise ValueError(
            f"X has {X.shape[-1]} channels (shape {X.shape}); accepted: 1 (grayscale) "
            "or 3 (RGB) channels in the last axis."
        )
    if X.shape[1] < 1 or X.shape[2] < 1:
        raise ValueError(f"X has shape {X.shape}: images must be at least 1x1 pixels.")
    if X.dtype == np.uint8:
        return ImageSet(array=X)
    if X.dtype.kind == "b":
        raise TypeError(
            "X is a boolean array; accepted image dtypes: uint8 (0-255) or float (0-1)."
        )
    if X.dtype.kind in "iu":
        lo, hi = X.min(), X.max()
        if lo < 0 or hi > 255:
            raise ValueError(
                f"X is an integer array with values in [{lo}, {hi}]; integer images "
                "must lie in 0-255 (pass uint8, or float scaled to 0-1)."
            )
        return ImageSet(array=X.astype(np.uint8))
    X = X.astype(np.float32, copy=False)
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values; float images must lie in [0, 1].")
    lo, hi = float(X.min()), float(X.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(
            f"X is a float array with values in [{lo:g}, {hi:g}]; float images must lie "
            "in [0, 1]. Pass uint8 images (0-255) or divide by 255."
        )
    return ImageSet(array=X)


def _check_paths(paths, stat_files, name):
    index = paths.index if isinstance(paths, pd.Series) else None
    paths = np.asarray(paths, dtype=object).ravel()
    if len(paths) == 0:
        raise ValueError(f"{name} is empty: it holds 0 image paths.")
    # every entry is checked (not a sample): one NaN in 200,000 rows would
    # otherwise fail later inside os.fspath or TensorFlow without a row number
    bad = [i for i, p in enumerate(paths) if not isinstance(p, (str, os.PathLike))]
    if bad:
        first = paths[bad[0]]
        if index is not None:
            label = index[bad[0]]
            where = f"row {label.item() if isinstance(label, np.generic) else label!r}"
        else:
            where = f"position {bad[0]}"
        what = "a missing value" if pd.isna(first) else f"{type(first).__name__} value {first!r}"
        raise TypeError(
            f"{name} must hold image file paths (str or os.PathLike); found {what} "
            f"at {where}" + (f" ({len(bad)} such entries in all)" if len(bad) > 1 else "") + "."
        )
    paths = np.array([os.fspath(p) for p in paths], dtype=object)
    if stat_files:
        check_files(paths)
    return ImageSet(paths=paths)


def check_files(paths, *, listed_in=None, under=None, hint="", error=ValueError, allow_missing=False):
    """The one up-front check of image files on disk: one ``stat`` per file.

    Raises ``error`` when files are missing (``listed_in`` says which list
    named them, ``under`` which folder they were looked for in, ``hint`` what
    to try), else ``ValueError`` when files are empty (0 bytes). Once it has
    to fail, it also reads the first bytes of the other files and names those
    that are no image (text saved as ``.jpg``, say) in the same message, so
    that one run lists every kind of bad file. With ``allow_missing`` nothing
    is raised and the mask of missing or empty files is returned, so that a
    caller can skip them.
    """
    bad = np.zeros(len(paths), dtype=bool)
    missing, empty = [], []
    for i, p in enumerate(paths):
        try:
            if os.stat(p).st_size == 0:
                empty.append(p)
                bad[i] = True
        except OSError:
            missing.append(p)
            bad[i] = True
    if allow_missing:
        return bad
    if not (missing or empty):
        return bad
    not_images = [p for p, b in zip(paths, bad) if not b and not _has_image_header(p)]
    folder = f" under {under!r}" if under else ""
    kinds = [(files, text) for files, text in ((missing, f"do not exist{folder}"), (empty, "are empty (0 bytes)"),
                                               (not_images, f"are not {ACCEPTED_FORMATS}")) if files]
    head = f" of the {len(paths)} image files" + (f" listed in {listed_in}" if listed_in else "")
    if len(kinds) == 1:
        (files, text), = kinds
        message = f"{len(files)}{head} {text}: {show_items(files)}."
    else:
        message = (f"{sum(len(f) for f, _ in kinds)}{head} cannot be used: "
                   + "; ".join(f"{len(files)} {text}: {show_items(files)}" for files, text in kinds) + ".")
    if empty or not_images:
        message += f" Accepted: {ACCEPTED_FORMATS}."
    if missing:
        raise error(message + (" " + hint if hint else ""))
    raise ValueError(message)


#: the first bytes of the formats the decoder reads
_IMAGE_HEADERS = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")


def _has_image_header(path):
    """Whether a file starts like a JPEG, PNG, GIF, BMP or WebP file (the end is not read)."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(12)
    except OSError:
        return False
    return start.startswith(_IMAGE_HEADERS) or (start[:4] == b"RIFF" and start[8:12] == b"WEBP")


# ----------------------------------------------------------------- weights
class FitInputs(NamedTuple):
    """What :func:`check_fit_inputs` returns: every input of a fit, checked."""

    images: "ImageSet"
    y: np.ndarray
    classes: np.ndarray
    sample_weight: np.ndarray | None
    groups: pd.Series | None  # the raw groups, checked; coded by skface._groups.fit_groups
    groups_name: str  # how messages name them


def check_fit_inputs(X, y, sample_weight, sensitive_features, *, image_column, sensitive_column, classes=None,
                     stat_files=True):
    """Check every input of ``FaceCNNClassifier.fit`` at once, before any work.

    The groups come from ``sensitive_features`` or from the ``sensitive_column``
    of a DataFrame X (never both); ``classes`` fixes the labels of a
    continued fit.
    """
    images = check_images(X, image_column=image_column, stat_files=stat_files)
    n = len(images)
    y, classes = check_target(y, n, classes)
    sample_weight = check_sample_weight(sample_weight, n)
    name = "sensitive_features"
    if sensitive_column is not None:
        sensitive_features = groups_from_column(
            X, sensitive_column, owner=f"sensitive_column={sensitive_column!r}", given=sensitive_features,
            other_route="pass sensitive_features to fit",
        )  # fmt: skip
        name = f"X[{sensitive_column!r}] (sensitive_column)"
    groups = None
    if sensitive_features is not None:
        groups = check_groups(sensitive_features, name=name)
        check_same_length(X=n, **{name: len(groups)})
    return FitInputs(images, y, classes, sample_weight, groups, name)


def check_sample_weight(sample_weight, n_samples):
    """Validate per-sample weights with scikit-learn's own check (length, 1-D,
    finite, non-negative), and refuse weights that are all zero.

    Returns None or a float64 array of shape ``(n_samples,)``.
    """
    if sample_weight is None:
        return None
    try:
        sw = _check_sample_weight(
            sample_weight, np.empty(n_samples), dtype=np.float64, ensure_non_negative=True
        )
    except (TypeError, ValueError) as exc:
        text = str(exc)
        if "sample_weight" not in text:
            text = f"sample_weight must hold one non-negative number per sample: {text}"
        raise type(exc)(text) from None
    if not sw.any():
        raise ValueError(
            "sample_weight is all zeros: no sample would count in training. "
            "Give at least one sample a positive weight."
        )
    return sw
