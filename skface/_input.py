"""The one data path: stream validated images (and labels, weights) with tf.data.

X arrives in one of three forms and is checked by
:func:`skface._validation.check_images`, which returns an
:class:`~skface._validation.ImageSet`:

1. an array ``(n, H, W)``, ``(n, H, W, 1)`` or ``(n, H, W, 3)``, uint8 in
   0-255 or float in 0-1;
2. a 1-D sequence of image file paths (JPEG, PNG, BMP, GIF, WebP);
3. a :class:`pandas.DataFrame` whose ``image_column`` holds paths.

This module owns decoding (:func:`decode`, and the decode pass that finds
unreadable files) and :func:`make_dataset`, which turns an ImageSet (and
optionally labels and weights) into a ``tf.data.Dataset`` of float32 batches in [0, 1] at ``image_size``:
arrays are gathered batch by batch from one in-memory tensor, paths are read
and decoded in parallel, one file at a time, so that a list of 200,000 paths
never holds more than a few batches of pixels.
"""

import contextlib
from dataclasses import replace

import numpy as np

from . import _device
from ._logging import quiet_tensorflow_warnings, warn_at_caller
from ._validation import ACCEPTED_FORMATS, ImageSet, show_items

#: cache_images="auto" keeps decoded images when they take at most this share of the available memory:
#: the array and the tensors the training, hold-out and check pipelines copy it into hold up to four
#: times the pixels, which leaves half the memory to the network and the rest
CACHE_SHARE = 0.125


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
        .with_options(fixed_tuning())
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
        f"{len(bad)} of the {len(paths)} image files cannot be decoded: {show_items(bad)}. "
        f"Accepted: {ACCEPTED_FORMATS} (truncated or non-image files are not)."
    )


@contextlib.contextmanager
def naming_bad_files(images):
    """TensorFlow's decode errors do not name the file: find and name it."""
    import tensorflow as tf

    try:
        yield
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError, tf.errors.NotFoundError) as exc:
        if images.kind == "paths":
            error = unreadable_error(images.paths)
            if error is not None:
                raise error from None
        raise exc


def leave_out_unreadable(data):
    """``on_bad_image="skip"``: ``data`` (a :class:`skface._training.FitData`)
    without the unreadable files and their labels, weights and groups, which
    it lists in ``skipped``, with one warning.

    "raise" (the default) pays nothing up front beyond the stat check of
    ``check_images``: a file TensorFlow cannot decode stops training, and
    :func:`naming_bad_files` then finds and names it. "skip" has to know the
    bad files before the validation split and ``steps_per_epoch`` are fixed,
    so it decodes every file once, in one parallel pass
    (:func:`find_unreadable`). Dropping failures inside the training pipeline
    with ``ignore_errors`` instead would shift epoch boundaries, unbalance the
    stratified split, and could not say which files went.
    """
    images = data.images
    if images.kind != "paths":
        return data
    bad = find_unreadable(images.paths)
    if not bad.any():
        return data
    n, names = len(bad), show_items(images.paths[bad])
    if bad.all():
        raise ValueError(
            f"on_bad_image='skip' left no image to train on: none of the {n} image "
            f"files can be read: {names}. Accepted: {ACCEPTED_FORMATS}."
        )
    warn_at_caller(
        f"on_bad_image='skip': left out {int(bad.sum())} of {n} image files that "
        f"cannot be read (missing, empty, truncated or not an image): {names}. "
        "Their paths are in skipped_images_."
    )
    kept = data.subset(~bad)
    if kept.sample_weight is not None and not kept.sample_weight.any():
        raise ValueError(
            "on_bad_image='skip' left only samples whose sample_weight is 0; "
            "no sample would count in training."
        )
    return replace(kept, skipped=images.paths[bad])


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
    balance=None,
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
        or ``x``. ``y`` may also be ``(n_samples, 2)``: the class and the
        group code, for group-aware training.
    indices : ndarray of int, optional
        Subset (e.g. the training part of a validation split), in this order.
    shuffle : bool
        Reshuffle the order every epoch (seeded by ``seed``).
    repeat : bool
        Repeat forever: Keras then keeps one iterator across epochs (use with
        ``steps_per_epoch``), which avoids a stall at every epoch start.
    balance : ndarray of int of shape (n_samples,), optional
        A cell (group x class, say) per sample: draw the cells equally often
        instead of going through the samples once per epoch, i.e. each sample
        with probability proportional to 1 / (size of its cell) (Idrissi et
        al., 2022, "Simple data balancing achieves competitive
        worst-group-accuracy": their RWG). Within a cell the samples come in
        an order reshuffled at every pass. The stream is endless (use with
        ``steps_per_epoch``); it implies ``shuffle`` and ``repeat``.
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

        ds = _ordered((indices.astype(np.int64), *extras), indices, shuffle, seed, balance)
        ds = ds.batch(batch_size).map(load_batch, num_parallel_calls=tf.data.AUTOTUNE)
    else:

        # Each file is decoded to uint8 and the batch is converted to float
        # once: batching a quarter of the bytes and one vectorised cast per
        # batch cut the pipeline's CPU time per image by about a fifth
        # (benchmarks/), which matters on a machine whose cores the model
        # already keeps busy.
        load_one = _file_loader(height, width)

        def to_float(x, *rest):
            x = tf.cast(x, tf.float32) * (1.0 / 255.0)
            return (x, *rest) if rest else x

        paths = images.paths[indices].astype(str)
        ds = _ordered((paths, *extras), indices, shuffle, seed, balance)
        ds = ds.map(load_one, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.batch(batch_size).map(to_float, num_parallel_calls=tf.data.AUTOTUNE)
    if repeat and balance is None:
        ds = ds.repeat()
    return ds.prefetch(tf.data.AUTOTUNE).with_options(fixed_tuning())


def fixed_tuning():
    """tf.data options without the autotuning model.

    Its background thread made ``keras.Model.fit`` return 1.2-2 s after the
    last epoch on about half of the fits here (6 of 11, and 0 of 11 without
    it), when the iterator is destroyed, which every fold and candidate of a
    search paid; the parallel map and prefetch then use the cores' number
    and the prefetch buffer's own tuning, which trained as fast (steady epochs
    1.14 s against 1.20 s, interleaved, on 2 cores).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def _file_loader(height, width):
    """A tf.data map function: an image file's path (and whatever travels with
    it) to the image, decoded to uint8 and resized to ``(height, width)``."""
    import tensorflow as tf

    def load_one(path, *rest):
        x = decode(tf.io.read_file(path))  # uint8
        shape = tf.shape(x)
        # An image of another size is resized and rounded back to uint8 (at
        # most half a grey level, the precision of its pixels). Resizing the
        # uint8 image (resize returns float32): converting a 4000x4000 photo
        # to float first would hold 192 MB per image in flight and take three
        # times as long.
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

    return load_one


def decoded_once(images, cache, image_size, epochs):
    """``images`` as a fit with ``epochs`` epochs should read them: files
    decoded once into a uint8 array that every later pass reads (an
    :class:`ImageSet` of kind "array"), or left as they are.

    ``cache`` is the estimator's ``cache_images``: True decodes any files,
    False never; "auto" decodes them when they will be read again (more than
    one epoch) and their pixels take at most :data:`CACHE_SHARE` of the
    memory available now. The array holds the same pixels the file pipeline
    gives, so training sees the same numbers either way.
    """
    if images.kind != "paths" or cache is False:
        return images
    height, width = image_size
    n_bytes = len(images) * height * width * 3
    if cache == "auto" and (epochs < 2 or n_bytes > CACHE_SHARE * _device.available_memory()):
        return images
    import tensorflow as tf

    array = np.empty((len(images), height, width, 3), dtype=np.uint8)
    dataset = (
        tf.data.Dataset.from_tensor_slices(images.paths.astype(str))
        .map(_file_loader(height, width), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(256)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(fixed_tuning())
    )
    start = 0
    with naming_bad_files(images):
        for batch in dataset.as_numpy_iterator():
            array[start : start + len(batch)] = batch
            start += len(batch)
    return ImageSet(array=array)


def _ordered(columns, indices, shuffle, seed, balance):
    """The samples ``columns`` (aligned with ``indices``) in training order:
    as given, reshuffled every epoch, or drawn cell by cell (``balance``)."""
    import tensorflow as tf

    if balance is None:
        ds = tf.data.Dataset.from_tensor_slices(columns)
        if shuffle:
            ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
        return ds
    cells = np.asarray(balance)[indices]
    streams = []
    for i, cell in enumerate(np.unique(cells)):
        rows = np.flatnonzero(cells == cell)
        stream = tf.data.Dataset.from_tensor_slices(tuple(c[rows] for c in columns))
        cell_seed = None if seed is None else seed + i
        streams.append(stream.shuffle(len(rows), seed=cell_seed, reshuffle_each_iteration=True).repeat())
    return tf.data.Dataset.sample_from_datasets(streams, seed=seed, stop_on_empty_dataset=False)


def network_outputs(network, images, indices, *, image_size, batch_size, verbose, callbacks, **kwargs):
    """``network.predict`` on ``images[indices]`` streamed through :func:`make_dataset`:
    float64, one row per image, in order; Keras's ``kwargs`` passed on."""
    # even shares for the replicas; the padding is dropped below
    n, replicas = len(indices), _device.replicas(network)
    dataset = make_dataset(
        images, image_size=image_size, batch_size=_device.round_up(batch_size, replicas),
        indices=_device.fill_replicas(np.asarray(indices), replicas),
    )  # fmt: skip
    with naming_bad_files(images), quiet_tensorflow_warnings(verbose):
        outputs = network.predict(dataset, verbose=verbose, callbacks=callbacks, **kwargs)
    outputs = np.asarray(outputs, dtype=np.float64)
    return outputs.reshape(len(outputs), -1)[:n]
