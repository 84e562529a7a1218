"""skface._atomic: files are never seen half-written, and get the usual permissions."""

import os
import stat

import pandas as pd
import pytest

from skface._atomic import TEMP_PREFIX, atomic_path, write_csv, write_text

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes and umask are POSIX")


@pytest.fixture
def umask():
    """Set the process umask for one test, and restore it afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_gets_the_mode_of_a_plain_open(mask, expected, umask, tmp_path):
    umask(mask)
    with open(tmp_path / "plain.txt", "w") as handle:
        handle.write("x")
    assert _mode(tmp_path / "plain.txt") == expected
    assert _mode(write_text(tmp_path / "atomic.txt", "x")) == expected
    assert _mode(write_csv(pd.DataFrame({"a": [1]}), tmp_path / "atomic.csv", durable=False)) == expected


def test_replacing_a_file_keeps_its_mode(umask, tmp_path):
    umask(0o022)
    path = tmp_path / "shared.csv"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert _mode(path) == 0o640


def test_an_error_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(path) as tmp:
            with open(tmp, "w") as handle:
                handle.write("half")
            raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert not [name for name in os.listdir(tmp_path) if name.startswith(TEMP_PREFIX)]


def test_temporary_keeps_the_suffix(tmp_path):
    # Keras and PIL pick the format from the extension
    with atomic_path(tmp_path / "model.keras") as tmp:
        assert os.path.basename(tmp).startswith(TEMP_PREFIX) and tmp.endswith(".keras")
        open(tmp, "w").close()
    with atomic_path(tmp_path / "model.keras", suffix=".zip") as tmp:
        assert tmp.endswith(".zip")
        open(tmp, "w").close()


def test_write_csv_writes_no_index(tmp_path):
    path = write_csv(pd.DataFrame({"filename": ["a.jpg"], "label": [-1]}), tmp_path / "p.csv")
    assert open(path).read() == "filename,label\na.jpg,-1\n"
