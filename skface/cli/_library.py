"""What the command line takes from the library: names and defaults.

The options of ``skface`` mirror the library: ``--backbone`` accepts the
backbones of :class:`skface.FaceCNNClassifier`, ``predict --images`` picks
up the suffixes the decoder reads, and every model option defaults to the
estimator's own default. All of them come from :mod:`skface._options`, the
one home the estimator reads too; it imports only the standard library, so
``skface --help`` answers at once, without importing Keras.
"""

from .. import _options


def backbones():
    """The names ``FaceCNNClassifier(backbone=...)`` accepts: its default
    (the reference small CNN) and the Keras applications.

    Examples
    --------
    >>> from skface.cli._library import backbones
    >>> backbones()[0]
    'cnn'
    """
    return (_options.CNN, *_options.BACKBONES)


def image_suffixes():
    """The image file suffixes the decoder reads."""
    return _options.IMAGE_SUFFIXES


class EstimatorDefault:
    """The argparse default of an option that leaves a parameter to the estimator.

    A command passes an option to :class:`~skface.FaceCNNClassifier` only
    when the user gave it, so the estimator's own default applies otherwise;
    ``str()`` shows that default in ``--help`` (``%(default)s``).
    """

    def __init__(self, name, show=str):
        self.name = name
        self.value = _options.DEFAULTS[name]
        self._show = show

    def __str__(self):
        return self._show(self.value)

    def __repr__(self):
        return f"EstimatorDefault({self.name!r}: {self.value!r})"


def given(value):
    """False for an :class:`EstimatorDefault` (the option was not given)."""
    return not isinstance(value, EstimatorDefault)


def resolve(value):
    """The option's value, or the estimator's default it stands for."""
    return value.value if isinstance(value, EstimatorDefault) else value
