"""skface/_load.py: skface.load and what it refuses."""

import keras
import pytest
from conftest import TINY

from skface import FaceCNNClassifier, load


def test_load_refuses_code_and_foreign_files(tmp_path):
    from skface import load

    inputs = keras.Input((4,))
    lambda_model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    path = tmp_path / "lambda.keras"
    lambda_model.save(path)
    with pytest.raises(ValueError, match="no skface estimator"):
        load(path)
    not_a_model = tmp_path / "notes.keras"
    not_a_model.write_text("hello")
    with pytest.raises(ValueError, match="is not a skface model file"):
        load(not_a_model)
    with pytest.raises(ValueError, match="does not exist"):
        load(tmp_path / "missing.keras")


def test_load_refuses_a_lambda_model_even_with_skface_metadata(tiny_fitted, tmp_path):
    import zipfile

    from skface import load

    inputs = keras.Input((16, 16, 3))
    outputs = keras.layers.Lambda(lambda t: t[:, :1, 0, 0])(inputs)
    path = tmp_path / "evil.keras"
    keras.Model(inputs, outputs).save(path)
    good = tiny_fitted.save(tmp_path / "good.keras")
    with zipfile.ZipFile(good) as archive, zipfile.ZipFile(path, "a") as evil:
        evil.writestr("skface.json", archive.read("skface.json"))
    with pytest.raises(ValueError, match="would run arbitrary code"):
        load(path)


def test_load_is_silent_unless_asked(tmp_path, toy):
    X, y = toy
    path = FaceCNNClassifier(**TINY, verbose=2).fit(X, y).save(tmp_path / "m.keras")
    assert load(path).verbose == 0
    assert load(path, verbose=1).verbose == 1
