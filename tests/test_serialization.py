"""skface/_serialization.py: parameters and fitted state as JSON, and the
archive members beside the Keras model (the round trips of whole estimators,
across processes, are in test_persistence.py)."""

import json
import pathlib
import zipfile

import numpy as np
import pytest

from skface import _serialization as ser


@pytest.mark.parametrize(
    "value",
    [None, True, 3, 0.5, "gender", (80, 80), [1, (2, 3)], {"a": (1, 2), "b": [None, "x"]}],
)
def test_parameters_round_trip_through_json(value):
    assert ser.from_json(json.loads(json.dumps(ser.to_json(value)))) == value


def test_json_forms_of_numpy_scalars_and_paths():
    assert ser.to_json(np.int64(3)) == 3 and isinstance(ser.to_json(np.float32(0.5)), float)
    assert ser.to_json(pathlib.Path("runs") / "ckpt") == "runs/ckpt"
    for refused in (object(), {1: "not a str key"}, np.zeros(2)):
        with pytest.raises(TypeError):
            ser.to_json(refused)


@pytest.mark.parametrize("classes", [np.array([-1, 1]), np.array(["no", "yes"], dtype=object),
                                     np.array([False, True]), np.array([0.0, 1.0], dtype=np.float32)])
def test_classes_keep_their_values_and_dtype(classes):
    back = ser.classes_from_json(json.loads(json.dumps(ser.classes_to_json(classes))))
    np.testing.assert_array_equal(back, classes)
    assert back.dtype == classes.dtype


def test_groups_round_trip_and_none():
    groups = np.array([-1, 1])
    assert ser.groups_from_json({"sensitive_groups": None}) is None
    state = {"sensitive_groups": json.loads(json.dumps(ser.groups_to_json(groups)))}
    np.testing.assert_array_equal(ser.groups_from_json(state), groups)


def test_model_paths_must_end_in_keras():
    assert ser.check_model_path(pathlib.Path("m.keras")) == "m.keras"
    with pytest.raises(ValueError, match=r"path='m.h5' must end in '.keras' \(Keras's model file format\)."):
        ser.check_model_path("m.h5")


def test_read_member_writes_it_to_a_temporary_keras_file(tmp_path):
    archive = tmp_path / "a.keras"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("inner.keras", b"bytes of another file")
    with ser.read_member(archive, "inner.keras") as path:
        assert path.endswith(".keras") and open(path, "rb").read() == b"bytes of another file"
    assert not pathlib.Path(path).exists()  # removed afterwards
    with pytest.raises(ValueError, match="is damaged: its member 'missing.keras' is missing"):
        with ser.read_member(archive, "missing.keras"):
            pass


def test_files_of_other_kinds_are_refused(tmp_path):
    text = tmp_path / "notes.keras"
    text.write_text("not a zip")
    with pytest.raises(ValueError, match="is not a skface model file"):
        ser.read_model_file(text)
    plain = tmp_path / "plain.keras"
    with zipfile.ZipFile(plain, "w") as handle:
        handle.writestr("config.json", "{}")
    with pytest.raises(ValueError, match=r"holds no skface estimator \(skface.json is missing\)"):
        ser.read_model_file(plain)
    with pytest.raises(ValueError, match="does not exist"):
        ser.read_model_file(tmp_path / "nowhere.keras")
