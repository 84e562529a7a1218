"""skface/_options.py: the one home of the option names and the estimator's defaults."""

import inspect
import subprocess
import sys

import pytest

from skface import FaceCNNClassifier, _options


def test_the_estimators_signature_takes_every_default_from_the_options_module():
    signature = inspect.signature(FaceCNNClassifier).parameters
    defaults = {n: p.default for n, p in signature.items() if n not in ("model", "kwargs")}
    assert defaults == dict(_options.DEFAULTS)
    assert FaceCNNClassifier().get_params()["epochs"] == _options.DEFAULTS["epochs"]


@pytest.mark.parametrize(("parameter", "values"), [
    ("backbone", (_options.CNN, *_options.BACKBONES)),
    ("fairness", _options.FAIRNESS),
    ("dro_groups", _options.DRO_GROUPS),
    ("group_sampling", _options.GROUP_SAMPLING),
    ("scoring", tuple(_options.SCORING)),
    ("on_bad_image", _options.ON_BAD_IMAGE),
    ("precision", _options.PRECISIONS),
])
def test_the_estimator_accepts_exactly_the_options_names(parameter, values):
    for value in values:
        FaceCNNClassifier(**{parameter: value})._validate_params()
    with pytest.raises(ValueError, match=f"'{parameter}' parameter"):
        FaceCNNClassifier(**{parameter: "no-such-value"})._validate_params()


def test_balance_groups_accepts_exactly_the_options_strategies():
    import pandas as pd

    from skface.fairness import balance_groups

    frame = pd.DataFrame({"gender": [-1, -1, -1, 1]})
    for strategy in _options.BALANCE_STRATEGIES:
        balanced = balance_groups(frame, "gender", strategy=strategy, random_state=0)
        assert balanced["gender"].value_counts().nunique() == 1
    with pytest.raises(ValueError, match="undersample"):
        balance_groups(frame, "gender", strategy="smote")


def test_used_only_with_names_real_parameters_and_values():
    for name, wanted in _options.USED_ONLY_WITH.items():
        assert name in _options.DEFAULTS
        for other, values in wanted.items():
            FaceCNNClassifier(**{other: values[0]})._validate_params()


def test_importing_it_loads_the_standard_library_only():
    code = ("import sys; before = set(sys.modules); import skface._options; "
            "print('\\n'.join(sorted(set(sys.modules) - before)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    outside = [m for m in loaded if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "skface"]
    assert not outside
