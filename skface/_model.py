"""The one model builder: the reference small CNN or a Keras application backbone.

Both take float32 images in [0, 1] of shape ``(H, W, 3)`` and end in a single
float32 sigmoid unit, whatever the compute precision of the layers before it.
"""

import contextlib
import random

import keras
from keras import layers, ops

from ._options import BACKBONES


@keras.saving.register_keras_serializable(package="skface")
class ImagePreprocessing(layers.Layer):
    """Map [0, 1] RGB images to the input scaling of an ImageNet backbone.

    ``mode`` is ``"caffe"`` (BGR, 0-255, ImageNet mean subtracted: ResNet50),
    ``"tf"`` (-1 to 1: MobileNetV2) or ``"raw"`` (0-255: EfficientNet, which
    normalises inside the model). A registered layer rather than a ``Lambda``
    so that saved models load in Keras safe mode.
    """

    _CAFFE_MEAN = (103.939, 116.779, 123.68)

    def __init__(self, mode="tf", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("caffe", "tf", "raw"):
            raise ValueError(f"mode={mode!r}; accepted: 'caffe', 'tf', 'raw'.")
        self.mode = mode

    def call(self, x):
        if self.mode == "tf":
            return x * 2.0 - 1.0
        x = x * 255.0
        if self.mode == "caffe":
            x = ops.flip(x, axis=-1) - ops.convert_to_tensor(self._CAFFE_MEAN, dtype=x.dtype)
        return x

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="skface")
class FaceNetwork(keras.Model):
    """The functional network skface builds, which can also train group-aware.

    With no group objective attached, or labels without groups, it is a plain
    functional model. The estimator attaches a
    :class:`skface._group_objective.GroupObjective` for a fit with
    sensitive groups and then feeds labels of shape ``(batch, 2)`` (class,
    group code): ``compute_loss`` trains on the objective (Group DRO or the
    gap penalty; the plain loss when ``fairness`` is None and on the
    validation hold-out) and ``compute_metrics`` adds each group's accuracy.
    The objective is not part of the saved model: its state (Group DRO's
    weights) is saved by the estimator.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        object.__setattr__(self, "_group_objective", None)

    # scikeras makes every keras.Model pickle through its own pack_keras_model,
    # which registers the model's class again under an empty package name
    # (its registry check compares a class with registered names): the class
    # is then saved as '>FaceNetwork', a name no other process knows, and
    # unpickling needs skface's classes registered although nothing imports
    # skface on the way. These two methods keep the registered name, and name
    # a loader in this module, so that unpickling imports it (and registers
    # the classes) first.
    def __reduce__(self):
        return _network_from_bytes, (_network_bytes(self),)

    def __deepcopy__(self, memo):
        copy = _network_from_bytes(_network_bytes(self))
        memo[id(self)] = copy
        return copy

    def attach(self, objective):
        """Train on ``objective`` from now on (None: the plain loss); retraces."""
        object.__setattr__(self, "_group_objective", objective)
        self.train_function = self.test_function = self.predict_function = None

    @property
    def group_objective(self):
        return self.__dict__.get("_group_objective")

    @property
    def metrics(self):
        metrics = super().metrics
        objective = self.group_objective
        return metrics if objective is None else [*metrics, objective.metric]

    def _with_groups(self, y):
        return self.group_objective is not None and y is not None and len(y.shape) == 2 and y.shape[-1] == 2

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not self._with_groups(y):
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        objective = self.group_objective
        label, cell = objective.split(y)
        if not training or objective.fairness is None:
            return super().compute_loss(x, label, y_pred, sample_weight, training=training)
        return objective.loss(label, cell, y_pred, sample_weight, extra_losses=self.losses)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if not self._with_groups(y):
            return super().compute_metrics(x, y, y_pred, sample_weight)
        objective = self.group_objective
        label, cell = objective.split(y)
        objective.metric.update_state(label, cell, y_pred, sample_weight)
        return super().compute_metrics(x, label, y_pred, sample_weight)


def _network_bytes(network):
    """The ``.keras`` file of ``network`` (compiled state included), as bytes."""
    from ._serialization import saved_bytes

    return saved_bytes(network.save)


def _network_from_bytes(data):
    """The network saved by :func:`_network_bytes` (pickle's loader)."""
    from ._serialization import keras_file

    with keras_file(data) as path:
        return keras.saving.load_model(path, compile=True)


@contextlib.contextmanager
def _global_dtype_policy(policy):
    """Keras applications take no dtype argument: build them under ``policy``
    and put the caller's global policy back afterwards."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


class _Seeds:
    """Explicit seeds for the random layers (initializers, dropout).

    Unseeded, Keras draws each layer's seed from Python's global ``random``
    when the layer is made. ``keras.utils.set_random_seed`` resets that
    generator, but every thread of the process shares it: in a dask worker,
    whose event loop uses ``random`` too, or with joblib's threading backend,
    two fits with the same ``random_state`` then started from different
    weights. These seeds come from a private generator seeded like the global
    one and are drawn in Keras's order, so the small CNN gets the weights it
    got before, but no other thread can move them. (A Keras application
    backbone still draws its own, unseeded, from the global generator: with
    ``backbone_weights=None`` its start is reproducible in one thread only.)
    ``seed=None`` keeps Keras's default.
    """

    def __init__(self, seed):
        self._random = None if seed is None else random.Random(seed)

    def next(self):
        # keras.src.random.seed_generator.make_default_seed, from our generator
        return None if self._random is None else self._random.randint(1, int(1e9))

    def kernel(self):
        return keras.initializers.GlorotUniform(seed=self.next())  # Keras's default, seeded

    def dropout(self, rate):
        return self.next() if rate > 0 else None  # Keras draws none for rate 0


def _small_cnn(x, *, filters, dtype, seeds):
    """Conv2D 3x3 ReLU + MaxPool 2x2 per entry of ``filters``, then Flatten.

    From 22 px up this is exactly the reference ('valid' convolutions). Smaller
    inputs switch a block to 'same' padding, and drop its pooling once the
    feature map is 1 pixel, so 16 px images still work.
    """
    size = min(x.shape[1], x.shape[2])
    for i, n_filters in enumerate(filters):
        padding = "valid" if size - 2 >= 2 else "same"
        x = layers.Conv2D(
            n_filters, 3, activation="relu", padding=padding, dtype=dtype, name=f"conv{i + 1}",
            kernel_initializer=seeds.kernel(),
        )(x)
        size = size - 2 if padding == "valid" else size
        if size >= 2:
            x = layers.MaxPooling2D(2, dtype=dtype, name=f"pool{i + 1}")(x)
            size //= 2
    return layers.Flatten(dtype=dtype, name="flatten")(x)


def _backbone(x, *, name, weights, trainable, dtype):
    app_name, mode = BACKBONES[name]
    x = ImagePreprocessing(mode, dtype=dtype, name="preprocess")(x)
    with _global_dtype_policy(dtype):
        base = getattr(keras.applications, app_name)(
            include_top=False, weights=weights, input_shape=tuple(x.shape[1:]), pooling="avg"
        )
    base.trainable = trainable
    # A frozen backbone keeps its batch-norm statistics because its layers are
    # not trainable (Keras 3 runs a non-trainable BatchNormalization in
    # inference mode); a training=False passed here would be overridden by
    # the outer model's training flag. Fine-tuning pretrained weights freezes
    # the batch-norm layers alone, as Keras's transfer-learning guide advises:
    # in training mode they would replace the statistics the weights were
    # learned with by those of small face batches, and undo what the weights
    # know in the first steps. Random weights have no such statistics to keep.
    if trainable and weights is not None:
        for layer in base.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False
    return base(x)


def _head(x, *, dense_units, dropout, dtype, seeds):
    """Dense ReLU + Dropout on the features, the same after either body."""
    x = layers.Dense(
        dense_units, activation="relu", dtype=dtype, name="dense", kernel_initializer=seeds.kernel()
    )(x)
    return layers.Dropout(dropout, dtype=dtype, name="dropout", seed=seeds.dropout(dropout))(x)


def _augmentation(x, seed, dtype):
    """Random flip, small rotation, zoom and contrast: active only in training."""
    seeds = [None] * 4 if seed is None else [seed + i for i in range(4)]
    x = layers.RandomFlip("horizontal", seed=seeds[0], dtype=dtype, name="aug_flip")(x)
    x = layers.RandomRotation(0.05, seed=seeds[1], dtype=dtype, name="aug_rotation")(x)
    x = layers.RandomZoom(0.1, seed=seeds[2], dtype=dtype, name="aug_zoom")(x)
    return layers.RandomContrast(0.1, seed=seeds[3], dtype=dtype, name="aug_contrast")(x)


def build_model(
    *,
    image_size,
    filters=(32, 64, 128),
    dense_units=512,
    dropout=0.5,
    backbone="cnn",
    backbone_weights=None,
    trainable_backbone=False,
    augment=False,
    dtype="float32",
    seed=None,
):
    """Build (not compile) the classifier network.

    Returns a functional :class:`FaceNetwork` from ``(H, W, 3)`` float images in
    [0, 1] to the probability of class 1, shape ``(n, 1)``, float32.
    """
    inputs = keras.Input(shape=(*image_size, 3), name="image")
    x = inputs
    if augment:
        x = _augmentation(x, seed, dtype)
    seeds = _Seeds(seed)
    if backbone == "cnn":
        x = _small_cnn(x, filters=filters, dtype=dtype, seeds=seeds)
    else:
        x = _backbone(x, name=backbone, weights=backbone_weights, trainable=trainable_backbone, dtype=dtype)
    x = _head(x, dense_units=dense_units, dropout=dropout, dtype=dtype, seeds=seeds)
    # the output stays float32 for a numerically stable loss
    outputs = layers.Dense(
        1, activation="sigmoid", dtype="float32", name="output", kernel_initializer=seeds.kernel()
    )(x)
    return FaceNetwork(inputs, outputs, name=f"skface_{backbone}")


def compile_kwargs(estimator, kwargs):
    """What ``estimator``'s network is compiled with: scikeras's routed
    ``kwargs`` completed with the estimator's focal loss, accuracy metric,
    learning rate and (for float16) loss scaling."""
    params = estimator.get_params()
    if kwargs["loss"] is None:
        kwargs["loss"] = keras.losses.BinaryFocalCrossentropy(
            gamma=estimator.focal_gamma,
            alpha=estimator.focal_alpha,
            apply_class_balancing=estimator.apply_class_balancing,
        )
    if kwargs["metrics"] is None:
        kwargs["metrics"] = [keras.metrics.BinaryAccuracy(name="accuracy")]
    optimizer = kwargs["optimizer"]
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        optimizer = optimizer()  # a class without routed parameters
    elif optimizer is estimator.optimizer:
        # never train (and so mutate) the caller's optimizer instance
        optimizer = optimizer.__class__.from_config(optimizer.get_config())
    if not isinstance(estimator.optimizer, keras.optimizers.Optimizer) and (
        "optimizer__learning_rate" not in params
    ):
        optimizer.learning_rate = estimator.learning_rate
    if estimator.precision_ == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    kwargs["optimizer"] = optimizer
    kwargs.update({k[len("compile__"):]: v for k, v in params.items() if k.startswith("compile__")})
    return kwargs
