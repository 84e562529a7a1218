"""The one validation module: the formatter and the checks every entry point shares."""

import os

import numpy as np
import pytest

from skface._validation import check_files, check_image_size, check_sample_weight, show_items


def test_show_items_names_the_first_five_and_the_total():
    assert show_items([1, 2]) == "[1, 2]"
    assert show_items(range(12)) == "[0, 1, 2, 3, 4, ... (12 in all)]"
    assert show_items(["a.jpg"], total=9) == "['a.jpg', ... (9 in all)]"
    assert show_items(np.array([np.int64(3)])) == "[3]"


def test_check_files_names_missing_and_empty_files(tmp_path):
    good, empty = tmp_path / "a.png", tmp_path / "b.png"
    good.write_bytes(b"\x89PNG\r\n\x1a\n...")  # only the header is read
    empty.write_bytes(b"")
    paths = [str(good), str(empty), str(tmp_path / "gone.png")]
    with pytest.raises(FileNotFoundError, match=r"1 of the 2 image files listed in l.csv do not exist under "
                       r"'.*': \['.*gone.png'\]\. Try this\.$"):
        check_files([str(good), paths[2]], listed_in="l.csv", under=str(tmp_path), hint="Try this.",
                    error=FileNotFoundError)
    with pytest.raises(ValueError, match=r"1 of the 2 image files are empty \(0 bytes\): \['.*b.png'\]"):
        check_files(paths[:2])
    # every kind at once, the first bytes of the others read: the error type of the missing ones
    text = tmp_path / "c.png"
    text.write_text("not an image")
    with pytest.raises(FileNotFoundError, match=(
            r"^3 of the 4 image files cannot be used: 1 do not exist: \['.*gone.png'\]; 1 are empty \(0 bytes\): "
            r"\['.*b.png'\]; 1 are not JPEG, PNG, BMP, GIF or WebP files: \['.*c.png'\]\. Accepted: .*\. Hint\.$")):
        check_files([*paths, str(text)], hint="Hint.", error=FileNotFoundError)
    assert check_files(paths, allow_missing=True).tolist() == [False, True, True]
    assert not check_files([str(good)]).any() and os.path.exists(good)


def test_check_image_size():
    assert check_image_size(16) == (16, 16)
    assert check_image_size([20, 24]) == (20, 24)
    for bad in (7, (16, 4), (16,), "16", True, (16.0, 16)):
        with pytest.raises(ValueError, match="image_size=.* is not accepted; accepted: an int >= 8"):
            check_image_size(bad)


def test_check_sample_weight_is_scikit_learns_plus_all_zero():
    np.testing.assert_array_equal(check_sample_weight([1, 2, 3], 3), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(check_sample_weight(2.0, 2), [2.0, 2.0])
    assert check_sample_weight(None, 3) is None
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(2,\), expected \(3,\)"):
        check_sample_weight([1, 2], 3)
    with pytest.raises(ValueError, match="sample_weight must hold one non-negative number per sample"):
        check_sample_weight(["a", "b"], 2)
    with pytest.raises(ValueError, match="non-zero|all zeros"):
        check_sample_weight([0, 0], 2)


def test_check_label_column_maps_binary_codings_to_pm1():
    from skface._validation import check_label_column

    for values in ([0, 1, 1], [-1, 1, 1], [False, True, True], [0.0, 1.0, 1.0]):
        assert check_label_column(values, "c").tolist() == [-1, 1, 1]
    with pytest.raises(ValueError, match=r"c must hold binary labels 0/1 or -1/1; found \['blond'\]"):
        check_label_column(["blond"] * 3, "c")
    with pytest.raises(ValueError, match=r"c has empty values at positions \[1\]"):
        check_label_column([0, None, 1], "c")


def test_check_columns_names_the_option_and_the_columns():
    import pandas as pd

    from skface._validation import check_columns

    frame = pd.DataFrame({"a": [1], "b": [2]})
    check_columns(frame, {"--label": "a"}, "x.csv")
    with pytest.raises(ValueError, match=r"x.csv has no column 'c' \(--label c\); its columns are \['a', 'b'\]"):
        check_columns(frame, {"--label": "c"}, "x.csv")
