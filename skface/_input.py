"""The one data path: validate X, y and sample_weight, then stream them with tf.data.

X arrives in one of three forms and leaves as a :class:`ImageSet`:

1. an array ``(n, H, W)``, ``(n, H, W, 1)`` or ``(n, H, W, 3)``, uint8 in
   0-255 or float in 0-1;
2. a 1-D sequence of image file paths (JPEG, PNG, BMP, GIF, WebP);
3. a :class:`pandas.DataFrame` whose ``image_column`` holds paths.

:func:`make_dataset` turns an ImageSet (and optionally labels and weights)
into a ``tf.data.Dataset`` of float32 batches in [0, 1] at ``image_size``:
arrays are gathered batch by batch from one in-memory tensor, paths are read
and decoded in parallel, one file at a time, so that a list of 200,000 paths
never holds more than a few batches of pixels.
"""

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: file suffixes the decoder reads (tf.io.decode_image)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
#: the formats named in error messages
ACCEPTED_FORMATS = "JPEG, PNG, BMP, GIF or WebP files"
_SHOW = 5  # how many offending files an error message names


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


def _name_files(files, total=None):
    total = len(files) if total is None else total
    shown = ", ".join(repr(str(f)) for f in files[:_SHOW])
    more = f" and {total - _SHOW} more" if total > _SHOW else ""
    return f"{shown}{more}"


def check_images(X, *, image_column="filename", check_files=True):
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
        return _check_paths(X[image_column], check_files, f"X[{image_column!r}]")
    if isinstance(X, pd.Series):
        return _check_paths(X, check_files, "X")
    if isinstance(X, (str, os.PathLike)):
        raise TypeError(
            f"X is a single path {str(X)!r}; pass a list of image paths, "
            "an image array or a DataFrame with an image column."
        )
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
        return _check_array(X)
    if isinstance(X, (list, tuple, np.ndarray)):
        if len(X) and all(isinstance(x, (str, os.PathLike)) for x in X):
            return _check_paths(np.asarray(X, dtype=object), check_files, "X")
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


def _check_paths(paths, check_files, name):
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
    if check_files:
        _check_files_exist(paths)
    return ImageSet(paths=paths)


def _check_files_exist(paths):
    """Cheap up-front check (one stat per file) for missing and empty files."""
    missing, empty = [], []
    for p in paths:
        try:
            if os.stat(p).st_size == 0:
                empty.append(p)
        except OSError:
            missing.append(p)
    if missing:
        raise ValueError(
            f"{len(missing)} of {len(paths)} image files do not exist: {_name_files(missing)}."
        )
    if empty:
        raise ValueError(
            f"{len(empty)} of {len(paths)} image files are empty (0 bytes): "
            f"{_name_files(empty)}. Accepted: {ACCEPTED_FORMATS}."
        )


def decode(raw):
    """Decode one encoded image to ``(H, W, 3)`` uint8, whatever its channels.

    ``tf.io.decode_image(channels=3)`` is not used: it refuses RGBA WebP
    files ("Number of channels requested does not match input"). Decoding
    with the file's own channels and then fixing them up accepts every
    format TensorFlow reads: grayscale (and gray + alpha) is repeated to
    RGB, alpha is dropped (as ``channels=3`` does for PNG), CMYK JPEGs come
    out as RGB from the decoder itself, and 16-bit PNGs come out as uint8
    (``decode_image``'s default dtype rescales them, 65535 -> 255).

    JPEGs are decoded with libjpeg's accurate integer IDCT: TensorFlow's
    default (``decode_image`` offers no choice) is the fast one, which moves
    pixels of a quality-95 JPEG by up to 4-7 levels (2.5 on average for a
    gray gradient) away from what PIL, and so ``keras.utils.load_img`` and
    most code that builds image arrays, decodes; it is no faster here.
    """
    import tensorflow as tf

    x = tf.cond(
        tf.io.is_jpeg(raw),
        lambda: tf.io.decode_jpeg(raw, channels=0, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_image(raw, channels=0, expand_animations=False),
    )
    x = tf.cond(
        tf.shape(x)[-1] >= 3,
        lambda: x[..., :3],
        lambda: tf.repeat(x[..., :1], 3, axis=-1),
    )
    return tf.ensure_shape(x, (None, None, 3))


def find_unreadable(paths):
    """Return a boolean mask: True where a file cannot be read or decoded.

    One parallel ``tf.data`` pass decodes every file with the same
    :func:`decode` the training pipeline uses (so the two never disagree) and
    ``ignore_errors`` drops the failures; each surviving element carries its
    index, so the dropped files are known exactly. A missing or unreadable
    file fails in ``read_file`` and is dropped the same way.
    """
    import tensorflow as tf

    paths = np.asarray(paths, dtype=object).astype(str)
    n = len(paths)

    def probe(i, path):
        # return the decoded shape: an unused decode would be pruned from the graph
        return i, tf.shape(decode(tf.io.read_file(path)))

    ds = (
        tf.data.Dataset.from_tensor_slices((np.arange(n, dtype=np.int64), paths))
        .map(probe, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
        .ignore_errors()
        .batch(1024)
    )
    readable = np.zeros(n, dtype=bool)
    for index, _ in ds.as_numpy_iterator():
        readable[index] = True
    return ~readable


def unreadable_error(paths):
    """A ValueError naming the unreadable files among ``paths``, or None."""
    paths = np.asarray(paths, dtype=object)
    bad = paths[find_unreadable(paths)]
    if not len(bad):
        return None
    return ValueError(
        f"{len(bad)} of {len(paths)} image files cannot be decoded: {_name_files(list(bad))}. "
        f"Accepted: {ACCEPTED_FORMATS} (truncated or non-image files are not)."
    )


def check_sample_weight(sample_weight, n_samples):
    """Validate per-sample weights: finite, non-negative, not all zero, right length."""
    if sample_weight is None:
        return None
    if np.isscalar(sample_weight):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    try:
        sw = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            "sample_weight must be numeric (a 1-D array of non-negative floats); "
            f"got {np.asarray(sample_weight).dtype} values."
        ) from None
    if sw.ndim != 1:
        raise ValueError(f"sample_weight must be 1-D; got shape {sw.shape}.")
    if len(sw) != n_samples:
        raise ValueError(
            f"sample_weight has {len(sw)} values but X has {n_samples} samples; "
            "pass one weight per sample."
        )
    if not np.isfinite(sw).all():
        raise ValueError("sample_weight contains NaN or infinite values; weights must be finite.")
    if (sw < 0).any():
        raise ValueError(
            f"sample_weight contains negative values (min {sw.min():g}); weights must be >= 0."
        )
    if not sw.any():
        raise ValueError(
            "sample_weight is all zeros: no sample would count in training. "
            "Give at least one sample a positive weight."
        )
    return sw


def make_dataset(
    images,
    *,
    image_size,
    batch_size,
    y=None,
    sample_weight=None,
    indices=None,
    shuffle=False,
    seed=None,
    repeat=False,
):
    """Build the tf.data pipeline for ``images`` (an :class:`ImageSet`).

    Parameters
    ----------
    images : ImageSet
    image_size : tuple of int
        ``(height, width)`` of the images the model sees.
    batch_size : int
    y, sample_weight : ndarray of shape (n_samples,), optional
        Travel with each image; the dataset yields ``(x, y, w)``, ``(x, y)``
        or ``x``.
    indices : ndarray of int, optional
        Subset (e.g. the training part of a validation split), in this order.
    shuffle : bool
        Reshuffle the order every epoch (seeded by ``seed``).
    repeat : bool
        Repeat forever: Keras then keeps one iterator across epochs (use with
        ``steps_per_epoch``), which avoids a stall at every epoch start.
    """
    import tensorflow as tf

    n = len(images)
    indices = np.arange(n) if indices is None else np.asarray(indices)
    height, width = image_size
    extras = []
    if y is not None:
        extras.append(np.asarray(y, dtype=np.float32)[indices])
        if sample_weight is not None:
            extras.append(np.asarray(sample_weight, dtype=np.float32)[indices])

    def finish(x):
        x = tf.cast(x, tf.float32)
        if x.shape[-1] == 1:
            x = tf.image.grayscale_to_rgb(x)
        return x

    if images.kind == "array":
        array = images.array
        source = tf.constant(array)
        scale = 1.0 / 255.0 if array.dtype == np.uint8 else 1.0
        same_size = array.shape[1:3] == (height, width)

        def load_batch(idx, *rest):
            x = tf.cast(tf.gather(source, idx), tf.float32) * scale
            if not same_size:
                x = tf.image.resize(x, (height, width), antialias=True)
            x = finish(x)
            x = tf.ensure_shape(x, (None, height, width, 3))
            return (x, *rest) if rest else x

        ds = tf.data.Dataset.from_tensor_slices((indices.astype(np.int64), *extras))
        if shuffle:
            ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size).map(load_batch, num_parallel_calls=tf.data.AUTOTUNE)
    else:

        # Each file is decoded to uint8 and the batch is converted to float
        # once: batching a quarter of the bytes and one vectorised cast per
        # batch cut the pipeline's CPU time per image by about a fifth
        # (benchmarks/), which matters on a machine whose cores the model
        # already keeps busy. An image of another size is resized and rounded
        # back to uint8 (at most half a grey level, the precision of its pixels).
        def load_one(path, *rest):
            x = decode(tf.io.read_file(path))  # uint8
            shape = tf.shape(x)
            # resize the uint8 image (resize returns float32): converting a
            # 4000x4000 photo to float first would hold 192 MB per image in
            # flight and take three times as long
            x = tf.cond(
                tf.logical_and(tf.equal(shape[0], height), tf.equal(shape[1], width)),
                lambda: x,
                lambda: tf.cast(
                    tf.clip_by_value(tf.round(tf.image.resize(x, (height, width), antialias=True)), 0, 255),
                    tf.uint8,
                ),
            )
            x = tf.ensure_shape(x, (height, width, 3))
            return (x, *rest) if rest else x

        def to_float(x, *rest):
            x = tf.cast(x, tf.float32) * (1.0 / 255.0)
            return (x, *rest) if rest else x

        paths = images.paths[indices].astype(str)
        ds = tf.data.Dataset.from_tensor_slices((paths, *extras))
        if shuffle:
            ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
        ds = ds.map(load_one, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.batch(batch_size).map(to_float, num_parallel_calls=tf.data.AUTOTUNE)
    if repeat:
        ds = ds.repeat()
    return ds.prefetch(tf.data.AUTOTUNE)
