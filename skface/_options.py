"""The values skface's options accept, and FaceCNNClassifier's defaults.

One home for what the library and the command line both need: the library
validates its parameters against these names (``_params.CONSTRAINTS``) and
``FaceCNNClassifier.__init__`` takes its defaults from :data:`DEFAULTS`; the
command line offers the same names as choices and shows the same defaults in
``skface --help``. Only the standard library is imported here, so that the
command line reads them in milliseconds, without importing Keras, pandas or
scikit-learn (seconds).
"""

from types import MappingProxyType

#: the reference small CNN, FaceCNNClassifier's default backbone
CNN = "cnn"
#: Keras application backbones by the name FaceCNNClassifier accepts, with the
#: input scaling each one's ImageNet weights expect (see _model.ImagePreprocessing)
BACKBONES = MappingProxyType({
    "resnet50": ("ResNet50", "caffe"),
    "mobilenet_v2": ("MobileNetV2", "tf"),
    "efficientnet_b0": ("EfficientNetB0", "raw"),
})
#: file suffixes the decoder reads (tf.io.decode_image)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
#: what fit does with an unreadable image: stop, or leave it out and say so
ON_BAD_IMAGE = ("raise", "skip")
FAIRNESS = ("group_dro", "gap_penalty")
DRO_GROUPS = ("sensitive_x_class", "sensitive")
GROUP_SAMPLING = ("balanced",)
#: scoring -> (the logged quantity early stopping watches, "min" or "max")
SCORING = MappingProxyType({
    "loss": ("val_loss", "min"),
    "accuracy": ("val_accuracy", "max"),
    "fair_metric": ("val_fair_metric", "max"),
    "worst_group_accuracy": ("val_worst_group_accuracy", "max"),
})
#: the group-aware parameters used only with some values of others: the
#: estimator ignores them otherwise, and the command line refuses them
USED_ONLY_WITH = MappingProxyType({
    "dro_step_size": {"fairness": ("group_dro",)},
    "dro_adjustment": {"fairness": ("group_dro",)},
    "gap_weight": {"fairness": ("gap_penalty",)},
    "dro_groups": {"fairness": ("group_dro",), "scoring": ("worst_group_accuracy",)},
})
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
#: the strategy names ``distribution`` accepts besides None and a Strategy object
DISTRIBUTIONS = ("mirrored",)
#: how skface.fairness.balance_groups equalises the groups
BALANCE_STRATEGIES = ("undersample", "oversample")

#: FaceCNNClassifier's keyword defaults (``model`` aside); its signature reads them here
DEFAULTS = MappingProxyType({
    "image_size": (80, 80),
    "image_column": "filename",
    "backbone": CNN,
    "backbone_weights": None,
    "trainable_backbone": False,
    "filters": (32, 64, 128),
    "dense_units": 512,
    "dropout": 0.5,
    "augment": False,
    "focal_gamma": 5.0,
    "focal_alpha": 0.25,
    "apply_class_balancing": False,
    # chosen from measurement on photographs and on synthetic faces (docs/training.rst,
    # "Training defaults"): the reference's were 0.001, patience 1 and 0.5
    "learning_rate": 3e-4,
    "threshold": "auto",
    "early_stopping": True,
    "validation_fraction": 0.2,
    "n_iter_no_change": 3,
    "tol": 0.0,
    "min_images": 32_000,  # chosen from measurement: see skface/_early_stopping.py
    "scoring": "loss",
    "sensitive_column": None,
    "fairness": None,
    "dro_groups": "sensitive_x_class",
    "dro_step_size": 0.01,
    "dro_adjustment": 0.0,
    "gap_weight": 1.0,
    "group_sampling": None,
    "precision": "auto",
    "distribution": None,
    "optimizer": "adam",
    "loss": None,
    "metrics": None,
    "batch_size": 32,
    "epochs": 10,
    "callbacks": None,
    "class_weight": None,
    "warm_start": False,
    "random_state": None,
    "verbose": 0,
    "run_eagerly": False,
    "on_bad_image": "raise",
    "cache_images": "auto",
    "checkpoint_dir": None,
})
