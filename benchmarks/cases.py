"""The compared training set-ups, each behind the same small interface.

Every case trains the same network (``skface._model.build_model``) with the
same loss (binary focal cross-entropy, gamma 5), optimizer (Adam 0.001),
metric, batch size and per-sample weights, so the only differences are the
wrapper and the input pipeline. A case is built and warmed up once (model
built, train and predict functions traced on a short subset whose size is not
a multiple of the batch size, so the partial-batch trace happens then too);
after that each ``train_epoch`` call is one timed epoch over the training set
and each ``predict`` call one timed pass over it.
"""

import resource
import time

import numpy as np

SEED = 0


def cpu_seconds():
    """User + system CPU time of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def focal_loss():
    import keras

    return keras.losses.BinaryFocalCrossentropy(gamma=5.0)


def _accuracy_metric():
    import keras

    return [keras.metrics.BinaryAccuracy(name="accuracy")]


def raw_network(image_size, precision, *, learning_rate=0.001, dropout=0.5, **compile_kwargs):
    """skface's network compiled as a raw Keras user would: the focal loss, Adam (with loss scaling
    in float16), the accuracy metric; ``compile_kwargs`` (``jit_compile``, ``steps_per_execution``)
    passed on. Only Keras is imported, so any backend runs it."""
    import keras

    from skface._model import build_model

    model = build_model(image_size=tuple(image_size), dtype=precision, dropout=dropout, seed=SEED)
    optimizer = keras.optimizers.Adam(learning_rate)
    if precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(optimizer=optimizer, loss=focal_loss(), metrics=_accuracy_metric(), **compile_kwargs)
    return model


class Case:
    """One set-up. Subclasses fill ``_build``, ``_fit`` and ``_predict``."""

    #: "array" or "paths": which form of the data the case reads
    source = "array"

    def __init__(self, key, title, *, precision="float32", jit=None, steps_per_execution=None, note=""):
        self.key, self.title, self.precision, self.jit, self.note = key, title, precision, jit, note
        #: Keras's compile(steps_per_execution=...): training steps per call from Python into the graph
        self.steps_per_execution = steps_per_execution
        self.train_seconds, self.predict_seconds = [], []
        self.train_cpu_seconds, self.predict_cpu_seconds = [], []
        self.resolved_precision = precision

    def setup(self, data, cfg):
        import keras

        self.data, self.cfg = data, cfg
        keras.utils.set_random_seed(SEED)
        self._build()
        n = min(len(data.y_train), 10 * cfg.batch_size + cfg.batch_size // 2)
        self._fit(slice(0, n))
        self._predict(slice(0, min(len(data.y_train), cfg.predict_batch_size + 8)))

    def train_epoch(self):
        start, cpu = time.perf_counter(), cpu_seconds()
        self._fit(slice(None))
        self.train_seconds.append(time.perf_counter() - start)
        self.train_cpu_seconds.append(cpu_seconds() - cpu)

    def predict(self):
        start, cpu = time.perf_counter(), cpu_seconds()
        proba = self._predict(slice(None))
        self.predict_seconds.append(time.perf_counter() - start)
        self.predict_cpu_seconds.append(cpu_seconds() - cpu)
        if len(proba) != len(self.data.y_train):
            raise RuntimeError(f"{self.key}: predicted {len(proba)} rows for {len(self.data.y_train)} images")

    def test_accuracy(self):
        proba = self._predict(None)
        return float(np.mean((np.asarray(proba).reshape(-1) > 0.5) == (self.data.y_test == 1)))

    def _x(self, part, which):
        """The case's own form of the training (``part`` a slice) or test (None) images."""
        d = self.data
        if part is None:
            return {"f32": d.X_test_f32, "u8": d.X_test_u8, "paths": d.paths_test}[which]
        return {"f32": d.X_train_f32, "u8": d.X_train_u8, "paths": d.paths_train}[which][part]

    def _yw(self, part):
        return self.data.y_train[part], self.data.w_train[part]


class RawKeras(Case):
    """(1) keras.Model.fit on an in-memory float32 array (uint8 / 255, converted once, untimed)."""

    def _build(self):
        kwargs = {} if self.jit is None else {"jit_compile": self.jit}
        if self.steps_per_execution is not None:
            kwargs["steps_per_execution"] = self.steps_per_execution
        self.model = raw_network(self.cfg.hw, self.precision, **kwargs)

    def _fit(self, part):
        y, w = self._yw(part)
        self.model.fit(
            self._x(part, "f32"), y, sample_weight=w, batch_size=self.cfg.batch_size,
            epochs=1, shuffle=True, verbose=0,
        )

    def _predict(self, part):
        return self.model.predict(self._x(part, "f32"), batch_size=self.cfg.predict_batch_size, verbose=0)


class SciKeras(Case):
    """(2) scikeras.wrappers.KerasClassifier with the same build function, on the float32 array."""

    def _build(self):
        from scikeras.wrappers import KerasClassifier

        from skface._model import build_model

        hw, precision = self.cfg.hw, self.precision

        def build_fn(meta=None, compile_kwargs=None):
            return build_model(image_size=hw, dtype=precision, seed=SEED)

        extra = {} if self.jit is None else {"compile__jit_compile": self.jit}
        self.clf = KerasClassifier(
            model=build_fn, loss=focal_loss(), optimizer="adam", optimizer__learning_rate=0.001,
            metrics=_accuracy_metric(), batch_size=self.cfg.batch_size,
            predict__batch_size=self.cfg.predict_batch_size, epochs=1, warm_start=True,
            random_state=SEED, verbose=0, **extra,
        )

    def _fit(self, part):
        y, w = self._yw(part)
        self.clf.fit(self._x(part, "f32"), y, sample_weight=w)

    def _predict(self, part):
        return self.clf.predict_proba(self._x(part, "f32"))[:, 1]


class Skface(Case):
    """(3), (4), (6): FaceCNNClassifier on the uint8 array or on the JPEG paths."""

    def __init__(self, key, title, *, source, **kwargs):
        super().__init__(key, title, **kwargs)
        self.source = source

    def _build(self):
        from skface import FaceCNNClassifier

        extra = {} if self.jit is None else {"compile__jit_compile": self.jit}
        if self.steps_per_execution is not None:
            extra["compile__steps_per_execution"] = self.steps_per_execution
        self.clf = FaceCNNClassifier(
            image_size=self.cfg.hw, precision=self.precision, batch_size=self.cfg.batch_size,
            predict__batch_size=self.cfg.predict_batch_size, epochs=1, early_stopping=False,
            learning_rate=0.001, warm_start=True, random_state=SEED, **extra,  # raw Keras's Adam(0.001)
        )

    def _fit(self, part):
        y, w = self._yw(part)
        self.clf.fit(self._x(part, "u8" if self.source == "array" else "paths"), y, sample_weight=w)
        self.resolved_precision = self.clf.precision_

    def _predict(self, part):
        return self.clf.predict_proba(self._x(part, "u8" if self.source == "array" else "paths"))[:, 1]


def tf_keras_available():
    try:
        import tf_keras  # noqa: F401
    except ImportError:
        return False
    return True


class ImageDataGeneratorCase(Case):
    """(5) the reference's pipeline: tf_keras ImageDataGenerator.flow_from_dataframe(weight_col=...).

    Keras 3 no longer has ImageDataGenerator and does not accept a tf_keras
    Sequence, so the iterator is handed to ``model.fit`` through a
    ``keras.utils.PyDataset`` with ``workers=1``: read and decode happen in
    the training thread, as with tf.keras 2's default ``workers=1``.
    """

    source = "paths"

    def _build(self):
        RawKeras._build(self)

    def _flow(self, frame, *, train):
        import keras
        from tf_keras.preprocessing.image import ImageDataGenerator

        gen = ImageDataGenerator(rescale=1.0 / 255)
        if train:
            it = gen.flow_from_dataframe(
                frame, x_col="filename", y_col="label", weight_col="weight", class_mode="raw",
                target_size=self.cfg.hw, batch_size=self.cfg.batch_size, shuffle=True, seed=SEED,
                validate_filenames=False,
            )
        else:
            it = gen.flow_from_dataframe(
                frame, x_col="filename", y_col=None, class_mode=None, target_size=self.cfg.hw,
                batch_size=self.cfg.predict_batch_size, shuffle=False, validate_filenames=False,
            )

        class Adapter(keras.utils.PyDataset):
            def __init__(self):
                super().__init__(workers=1, use_multiprocessing=False)

            def __len__(self):
                return len(it)

            def __getitem__(self, i):
                batch = it[i]
                if train:  # (x, y, w): float32 labels for the float32 loss
                    return batch[0], batch[1].astype("float32"), batch[2].astype("float32")
                return batch

            def on_epoch_end(self):
                it.on_epoch_end()

        return Adapter()

    def _frame(self, part):
        d = self.data
        if part is None:
            return d.test_frame
        return d.train_frame.iloc[part]

    def _fit(self, part):
        self.model.fit(self._flow(self._frame(part), train=True), epochs=1, verbose=0)

    def _predict(self, part):
        return self.model.predict(self._flow(self._frame(part), train=False), verbose=0)


def reference_cases(profile):
    """The cases of the issue, in table order, for ``profile`` "cpu" or "gpu"."""
    cases = [
        RawKeras("1", "raw Keras `model.fit`, float32 array"),
        SciKeras("2", "plain scikeras `KerasClassifier`, float32 array"),
        Skface("3", "FaceCNNClassifier(precision='float32'), uint8 array", source="array"),
        Skface("4", "FaceCNNClassifier(precision='float32'), JPEG paths", source="paths"),
    ]
    if tf_keras_available():
        cases.append(ImageDataGeneratorCase("5", "tf_keras ImageDataGenerator.flow_from_dataframe(weight_col=...)"))
    cases.append(Skface("6", "FaceCNNClassifier() (precision='auto'), JPEG paths", source="paths", precision="auto"))
    if profile == "cpu":
        cases.append(
            Skface("6b", "FaceCNNClassifier(precision='mixed_bfloat16'), JPEG paths", source="paths",
                   precision="mixed_bfloat16")
        )
        from skface._device import cpu_has_bfloat16

        if cpu_has_bfloat16():
            # precision="auto" trains in mixed_bfloat16 here: raw Keras at that same precision is the
            # baseline that matters, from the same uint8 array and from JPEG paths
            cases += [
                RawKeras("1-bf16", "raw Keras `model.fit`, mixed_bfloat16, float32 array",
                         precision="mixed_bfloat16"),
                # the same again: the distance of the two copies' ratio from 1 is this run's noise
                RawKeras("1-bf16-copy", "raw Keras `model.fit`, mixed_bfloat16, float32 array (a copy)",
                         precision="mixed_bfloat16"),
                Skface("3-auto", "FaceCNNClassifier() (precision='auto'), uint8 array", source="array",
                       precision="auto"),
                # fewer calls from Python per epoch: Keras runs 8 training steps per call
                RawKeras("1-bf16-spe8", "raw Keras `model.fit`, mixed_bfloat16, float32 array, "
                         "steps_per_execution=8", precision="mixed_bfloat16", steps_per_execution=8),
                Skface("3-auto-spe8", "FaceCNNClassifier(compile__steps_per_execution=8), uint8 array",
                       source="array", precision="auto", steps_per_execution=8),
            ]
    else:
        # XLA on and off, explicitly (Keras's default "auto" turns it on for a GPU)
        cases += [
            RawKeras("1-xla", "raw Keras, float32 array, XLA on", jit=True),
            RawKeras("1-mf16", "raw Keras, float32 array, mixed_float16, XLA off",
                     precision="mixed_float16", jit=False),
            RawKeras("1-mf16-xla", "raw Keras, float32 array, mixed_float16, XLA on",
                     precision="mixed_float16", jit=True),
            Skface("4-xla", "FaceCNNClassifier(precision='float32'), paths, XLA on", source="paths", jit=True),
            Skface("4-noxla", "FaceCNNClassifier(precision='float32'), paths, XLA off", source="paths", jit=False),
            Skface("6-xla", "FaceCNNClassifier(precision='mixed_float16'), paths, XLA on", source="paths",
                   precision="mixed_float16", jit=True),
            Skface("6-noxla", "FaceCNNClassifier(precision='mixed_float16'), paths, XLA off", source="paths",
                   precision="mixed_float16", jit=False),
        ]
    return cases
