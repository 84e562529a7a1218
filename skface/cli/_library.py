"""What the command line takes from the library: names and defaults, without importing it.

The options of ``skface`` mirror the library: ``--backbone`` accepts the
backbones of :class:`skface.FaceCNNClassifier`, ``predict --images`` picks
up the suffixes the decoder reads, and every model option defaults to the
estimator's own default. Those values live in modules that import Keras
(``skface._model``) or pandas and scikit-learn (``skface._validation``),
which take seconds to import, and ``skface --help`` must answer at once.

So the parser reads them from the library's source with :mod:`ast`: a
literal constant such as ``BACKBONES = {...}`` or a keyword default in
``FaceCNNClassifier.__init__`` is evaluated with :func:`ast.literal_eval`,
which runs no code. The library stays the one place that defines them; the
command line holds no copy. Should a value stop being a literal (or the
source be unavailable, as in a zipped install), the module is imported
instead: slower, never wrong.
"""

import ast
import functools
import importlib
import inspect
import os

#: where FaceCNNClassifier is defined, as ``skface.__init__`` resolves it lazily
_ESTIMATOR = "FaceCNNClassifier"


@functools.lru_cache(maxsize=None)
def _tree(module):
    # the file is found from skface's own folder, not with importlib.util.find_spec,
    # which would import the parent package (skface.fairness imports pandas)
    import skface

    parts = module.split(".")
    path = os.path.join(os.path.dirname(skface.__file__), *parts[1:-1], parts[-1] + ".py")
    with open(path, encoding="utf-8") as handle:
        return ast.parse(handle.read(), filename=path)


def _estimator_module():
    import skface

    return importlib.import_module(skface._LAZY[_ESTIMATOR], "skface")


def constant(module, name):
    """The value of the module-level constant ``name`` of ``module``.

    Examples
    --------
    >>> from skface.cli._library import constant
    >>> ".png" in constant("skface._validation", "IMAGE_SUFFIXES")
    True
    """
    try:
        for node in _tree(module).body:
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets = [node.target]
            else:
                continue
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return ast.literal_eval(node.value)
    except (OSError, TypeError, ValueError, SyntaxError, AttributeError):
        pass
    return getattr(importlib.import_module(module), name)


@functools.lru_cache(maxsize=None)
def estimator_defaults():
    """The keyword defaults of ``FaceCNNClassifier.__init__``, by parameter name.

    Examples
    --------
    >>> from skface.cli._library import estimator_defaults
    >>> estimator_defaults()["backbone"]
    'cnn'
    """
    import skface

    module = "skface" + skface._LAZY[_ESTIMATOR]
    try:
        for node in _tree(module).body:
            if isinstance(node, ast.ClassDef) and node.name == _ESTIMATOR:
                init = next(f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
                args = init.args
                return {
                    **{a.arg: ast.literal_eval(d) for a, d in zip(args.args[::-1], args.defaults[::-1])},
                    **{a.arg: ast.literal_eval(d) for a, d in zip(args.kwonlyargs, args.kw_defaults)
                       if d is not None},
                }
    except (OSError, TypeError, ValueError, SyntaxError, AttributeError, StopIteration):
        pass
    estimator = getattr(_estimator_module(), _ESTIMATOR)
    return {
        name: p.default for name, p in inspect.signature(estimator).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def backbones():
    """The names ``FaceCNNClassifier(backbone=...)`` accepts: its default
    (the reference small CNN) and the Keras applications of ``skface._model``."""
    return (estimator_defaults()["backbone"], *constant("skface._model", "BACKBONES"))


def image_suffixes():
    """The image file suffixes the decoder reads (``skface._validation.IMAGE_SUFFIXES``)."""
    return tuple(constant("skface._validation", "IMAGE_SUFFIXES"))


class EstimatorDefault:
    """The argparse default of an option that leaves a parameter to the estimator.

    A command passes an option to :class:`~skface.FaceCNNClassifier` only
    when the user gave it, so the estimator's own default applies otherwise;
    ``str()`` shows that default in ``--help`` (``%(default)s``).
    """

    def __init__(self, name, show=str):
        self.name = name
        self.value = estimator_defaults()[name]
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
