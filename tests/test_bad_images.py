"""Bad images and bad labels/groups: readable odd files convert correctly,
unreadable ones are named (fit, predict) or skipped (fit, on_bad_image="skip"),
and bad labels or groups get errors that name the column and row."""

import os
import re
import struct
import warnings
import zlib

import numpy as np
import pandas as pd
import pytest
from conftest import make_toy_images
from PIL import Image

from skface import FaceCNNClassifier
from skface._input import make_dataset
from skface._validation import check_images
from skface.fairness import group_sample_weight
from skface.metrics import fair_metric

# run_eagerly: tracing the graph of a tiny model costs more than it saves.
# float32: the comparisons of a file with its array go down to 1e-5, below
# what bfloat16 (precision="auto" on a CPU with AMX or AVX512-BF16) resolves.
SMALL = dict(
    image_size=16, filters=(4, 8), dense_units=8, epochs=1, early_stopping=False,
    learning_rate=0.01, random_state=0, run_eagerly=True, precision="float32",
)


def reference_image():
    """A smooth 16x16 RGB image: smooth so that JPEG re-encoding changes little."""
    yy, xx = np.mgrid[0:16, 0:16]
    return np.stack([yy * 15, xx * 15, (yy + xx) * 7 + 20], -1).astype(np.uint8)


def write_png16(path, rgb16):
    """A 16-bit RGB PNG (PIL cannot write one): signature, IHDR, IDAT, IEND."""
    h, w, _ = rgb16.shape

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + rgb16[i].astype(">u2").tobytes() for i in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(rows)))
        f.write(chunk(b"IEND", b""))


def gray3(gray):
    return np.repeat(gray[..., None], 3, axis=-1)


def pil_rgb(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


# name -> writer(path) returning the RGB uint8 image the file should decode to,
# and the largest pixel difference (0-255) allowed against it
def _rgb_png(p):
    Image.fromarray(reference_image()).save(p)
    return reference_image(), 0


def _alpha_png(p):
    rgb = reference_image()
    alpha = np.linspace(0, 255, 256).reshape(16, 16).astype(np.uint8)
    Image.fromarray(np.dstack([rgb, alpha])).save(p)
    return rgb, 0  # alpha is dropped: the model sees the RGB channels


def _png16(p):
    rgb = reference_image()
    write_png16(p, rgb.astype(np.uint16) * 257)  # 8-bit v is 16-bit v * 257
    return rgb, 0


def _gray16_png(p):
    gray = reference_image()[..., 0]
    Image.fromarray(gray.astype(np.uint16) * 257).save(p)  # mode I;16
    return gray3(gray), 0


# JPEGs are compared with PIL's decoding of the same file: that separates the
# conversion under test from the re-encoding loss. skface asks libjpeg for the
# accurate IDCT, as PIL does (TensorFlow's default fast IDCT was off by up to
# 4-7 levels); 1 level of slack for rounding in the colour conversion.
JPEG_TOLERANCE = 1


def _gray_jpg(p):
    Image.fromarray(reference_image()[..., 1]).save(p, quality=95)
    return gray3(np.asarray(Image.open(p))), JPEG_TOLERANCE


def _cmyk_jpg(p):
    Image.fromarray(reference_image()).convert("CMYK").save(p, quality=95)
    # the RGB a decoder should produce from the CMYK file, and the original
    assert np.abs(pil_rgb(p).astype(int) - reference_image()).max() <= 8
    return pil_rgb(p), JPEG_TOLERANCE


def _rgba_webp(p):
    rgb = reference_image()
    Image.fromarray(np.dstack([rgb, np.full((16, 16), 200, np.uint8)])).save(p, lossless=True)
    return rgb, 0


def _palette_png(p):
    Image.fromarray(reference_image()).convert("P").save(p)
    return pil_rgb(p), 0


def _gray_alpha_png(p):
    gray = reference_image()[..., 2]
    Image.fromarray(gray).convert("LA").save(p)
    return gray3(gray), 0


def _png_named_jpg(p):
    Image.fromarray(reference_image()).save(p, format="PNG")
    return reference_image(), 0


READABLE = {
    "rgb.png": _rgb_png,
    "alpha.png": _alpha_png,
    "rgb16.png": _png16,
    "gray16.png": _gray16_png,
    "gray.jpg": _gray_jpg,
    "cmyk.jpg": _cmyk_jpg,
    "rgba.webp": _rgba_webp,
    "palette.png": _palette_png,
    "gray_alpha.png": _gray_alpha_png,
    "png_named.jpg": _png_named_jpg,
    "dir with spaces/visage é ü 日本.png": _rgb_png,
}


def write_unreadable(directory):
    """Each kind of unreadable file; returns kind -> path."""
    directory = str(directory)
    good = os.path.join(directory, "good.jpg")
    Image.fromarray(reference_image()).save(good, quality=95)
    data = open(good, "rb").read()
    paths = {
        "missing": os.path.join(directory, "missing.jpg"),
        "zero-byte": os.path.join(directory, "zero byte.jpg"),
        "truncated": os.path.join(directory, "truncated.jpg"),
        "text": os.path.join(directory, "text.jpg"),
        "tiff": os.path.join(directory, "image.tif"),
    }
    open(paths["zero-byte"], "wb").close()
    open(paths["truncated"], "wb").write(data[: len(data) // 2])
    open(paths["text"], "w").write("this is not an image\n")
    Image.fromarray(reference_image()).save(paths["tiff"])
    return paths


@pytest.fixture(scope="module")
def fitted():
    X, y = make_toy_images(24, seed=3)
    return FaceCNNClassifier(**SMALL).fit(X, y)


@pytest.fixture(scope="module")
def good_set(tmp_path_factory):
    """24 readable toy JPEGs with labels and weights."""
    X, y = make_toy_images(24, seed=4)
    directory = tmp_path_factory.mktemp("good")
    paths = []
    for i, image in enumerate(X):
        paths.append(str(directory / f"face {i:02d}.jpg"))
        Image.fromarray(image).save(paths[-1], quality=95)
    weights = np.linspace(0.5, 2.0, len(y))
    return np.array(paths, dtype=object), y, weights


def pixels(path, size=16):
    """What the model sees for ``path``: the pipeline's float image, as 0-255."""
    batch = next(iter(make_dataset(check_images([path]), image_size=(size, size), batch_size=1)))
    return batch.numpy()[0] * 255.0


# ----------------------------------------------------------- readable files
@pytest.mark.parametrize("name", list(READABLE))
def test_readable_files_convert_like_the_equivalent_rgb_image(name, tmp_path, fitted):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    expected, tolerance = READABLE[name](str(path))
    difference = np.abs(pixels(str(path)) - expected)
    assert difference.max() <= tolerance + 1e-3
    assert difference.mean() <= tolerance / 3 + 1e-3
    # the same prediction as the RGB array the file should decode to
    from_file = fitted.predict_proba([str(path)])
    from_array = fitted.predict_proba(expected[None])
    np.testing.assert_allclose(from_file, from_array, atol=1e-2 if tolerance else 1e-5)


def test_a_4000x4000_image_is_resized_like_the_same_array(tmp_path, fitted):
    # constant 250x250 blocks of the reference: small as a PNG, large decoded
    big = np.repeat(np.repeat(reference_image(), 250, axis=0), 250, axis=1)
    assert big.shape == (4000, 4000, 3)
    path = str(tmp_path / "big.png")
    Image.fromarray(big).save(path, compress_level=1)
    np.testing.assert_allclose(
        fitted.predict_proba([path]), fitted.predict_proba(big[None]), atol=1e-5
    )


def test_predict_gives_one_row_per_readable_file(tmp_path, fitted):
    paths = []
    for i, (name, writer) in enumerate(READABLE.items()):
        path = tmp_path / f"{i:02d}" / name
        path.parent.mkdir(parents=True)
        writer(str(path))
        paths.append(str(path))
    assert fitted.predict_proba(paths).shape == (len(paths), 2)
    assert fitted.predict(pd.DataFrame({"filename": paths})).shape == (len(paths),)


# --------------------------------------------------------- unreadable files
@pytest.mark.parametrize("kind", ["missing", "zero-byte", "truncated", "text", "tiff"])
def test_predict_names_the_unreadable_file_and_drops_nothing(kind, tmp_path, fitted, good_set):
    bad = write_unreadable(tmp_path)[kind]
    paths = [*good_set[0][:3], bad]
    with pytest.raises(ValueError, match=r"1 of the 4 image files .*" + re.escape(repr(bad))):
        fitted.predict(paths)
    # "skip" is for fit only: predict still answers for every row or raises
    fitted.set_params(on_bad_image="skip")
    try:
        with pytest.raises(ValueError, match=re.escape(repr(bad))):
            fitted.predict_proba(pd.DataFrame({"filename": paths}))
    finally:
        fitted.set_params(on_bad_image="raise")


def test_fit_names_every_unreadable_file(tmp_path, good_set):
    files = write_unreadable(tmp_path)
    paths, y, _ = good_set
    with pytest.raises(ValueError, match=r"1 of the 24 image files do not exist: \['.*missing.jpg'\]"):
        FaceCNNClassifier(**SMALL).fit([files["missing"], *paths[1:]], y)
    with pytest.raises(ValueError, match=r"1 of the 24 image files are empty \(0 bytes\): \['.*zero byte.jpg'\]"):
        FaceCNNClassifier(**SMALL).fit([files["zero-byte"], *paths[1:]], y)
    undecodable = [files["truncated"], files["text"], files["tiff"]]
    expected = ", ".join(re.escape(repr(p)) for p in undecodable)
    with pytest.raises(ValueError, match=rf"3 of the 24 image files cannot be decoded: \[{expected}\]\."):
        FaceCNNClassifier(**SMALL).fit([*undecodable, *paths[3:]], y)


def test_every_kind_of_bad_file_is_named_in_one_message(tmp_path, good_set):
    # a missing file makes fit stop before any work: the empty and the non-image
    # files among the others are named with it, so that one run lists them all
    files = write_unreadable(tmp_path)
    paths, y, _ = good_set
    bad = [files["missing"], files["zero-byte"], files["text"], files["tiff"]]
    message = (r"4 of the 24 image files cannot be used: 1 do not exist: \['.*missing.jpg'\]; "
               r"1 are empty \(0 bytes\): \['.*zero byte.jpg'\]; 2 are not JPEG, PNG, BMP, GIF or WebP files: "
               r"\['.*text.jpg', '.*image.tif'\]\. Accepted: ")
    with pytest.raises(ValueError, match=message):
        FaceCNNClassifier(**SMALL).fit([*bad, *paths[4:]], y)


def test_skip_leaves_out_bad_files_with_their_labels_and_weights(tmp_path, good_set):
    files = write_unreadable(tmp_path)
    paths, y, w = good_set
    bad = list(files.values())
    # a CSV where the bad files sit between the good ones, as a folder listing would
    mixed_paths = np.insert(paths.astype(object), [2, 5, 9, 14, 20], bad)
    mixed_y = np.insert(y, [2, 5, 9, 14, 20], [0, 1, 1, 0, 1])
    mixed_w = np.insert(w, [2, 5, 9, 14, 20], [9.0, 9.0, 9.0, 9.0, 9.0])
    csv_path = tmp_path / "labels.csv"
    pd.DataFrame({"filename": mixed_paths, "class": mixed_y, "w": mixed_w}).to_csv(csv_path, index=False)
    frame = pd.read_csv(csv_path)

    clf = FaceCNNClassifier(**SMALL, on_bad_image="skip")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(frame, frame["class"], sample_weight=frame["w"])
    messages = [str(w.message) for w in caught if "on_bad_image" in str(w.message)]
    assert len(messages) == 1, messages
    shown = ", ".join(re.escape(repr(p)) for p in bad)
    assert re.search(rf"left out 5 of 29 image files that cannot be read .*: \[{shown}\]\.", messages[0])
    assert list(clf.skipped_images_) == bad
    # exactly what training on the good rows alone gives
    alone = FaceCNNClassifier(**SMALL).fit(paths, y, sample_weight=w)
    assert len(alone.skipped_images_) == 0
    np.testing.assert_array_equal(clf.predict_proba(paths), alone.predict_proba(paths))


def test_skip_names_at_most_five_files_and_needs_one_readable(tmp_path, good_set):
    texts = []
    for i in range(7):
        texts.append(str(tmp_path / f"text{i}.jpg"))
        open(texts[-1], "w").write("no image")
    paths, y, _ = good_set
    clf = FaceCNNClassifier(**SMALL, on_bad_image="skip")
    with pytest.warns(UserWarning, match=r"left out 7 of 24 .*text4.jpg', \.\.\. \(7 in all\)\]\. Their paths"):
        clf.fit([*texts, *paths[7:]], y)
    with pytest.raises(ValueError, match=r"left no image to train on: none of the 2 image files"):
        clf.fit(texts[:2], [0, 1])


def test_on_bad_image_is_validated():
    X, y = make_toy_images(4)
    with pytest.raises(ValueError, match="The 'on_bad_image' parameter of FaceCNNClassifier must be a str among"):
        FaceCNNClassifier(**SMALL, on_bad_image="ignore").fit(X, y)


# ------------------------------------------------------ bad labels and groups
def test_missing_path_in_a_csv_names_the_column_and_row(good_set):
    paths, y, _ = good_set
    frame = pd.DataFrame({"filename": paths[:6]}, index=[10, 11, 12, 13, 14, 15])
    frame.loc[13, "filename"] = np.nan
    with pytest.raises(
        TypeError, match=r"X\['filename'\] must hold image file paths .*found a missing value at row 13\."
    ):
        FaceCNNClassifier(**SMALL).fit(frame, y[:6])


def test_missing_and_mixed_labels_name_the_rows():
    X = np.zeros((6, 16, 16, 3), np.uint8)
    y = pd.Series([0, 1, np.nan, 1, 0, np.nan], index=list("abcdef"), name="class")
    with pytest.raises(ValueError, match=r"y contains 2 missing \(NaN/None\) labels at rows \['c', 'f'\]"):
        FaceCNNClassifier(**SMALL).fit(X, y)
    with pytest.raises(
        TypeError, match=r"y mixes label types \(number, str\): 0 at position \[0\] but '1' at positions \[1, 3\]"
    ):
        FaceCNNClassifier(**SMALL).fit(X, [0, "1", 0, "1", 0, 1])


def test_mixed_or_unhashable_groups_name_the_rows():
    y = [0, 1, 0, 1]
    groups = pd.Series([-1, "M", -1, "M"], index=[7, 8, 9, 10], name="gender")
    match = r"sensitive_features mixes value types \(number, str\): -1 at row \[7\] but 'M' at rows \[8, 10\]"
    with pytest.raises(TypeError, match=match):
        fair_metric(y, y, sensitive_features=groups)
    with pytest.raises(TypeError, match=match):
        group_sample_weight(groups)
    # a list must not be turned into strings silently (1 would become '1')
    with pytest.raises(TypeError, match=r"mixes value types \(number, str\): 1 at position \[0\]"):
        group_sample_weight([1, "a", 1, "a"], {1: 1.0, "a": 0.5})
    with pytest.raises(TypeError, match=r"sensitive_features holds dict values at positions \[0, 1\]"):
        fair_metric([0, 1], [0, 1], sensitive_features=[{}, {}])


def test_bad_labels_and_weights_of_fair_metric_name_the_parameter():
    groups = [1, 1, 2, 2]
    with pytest.raises(ValueError, match=r"y_true holds continuous values such as 0\.5"):
        fair_metric([0.5, 1, 0, 1], [0, 1, 0, 1], sensitive_features=groups)
    with pytest.raises(TypeError, match=r"y_pred mixes value types \(number, str\)"):
        fair_metric([0, 1, 0, 1], [0, "1", 0, 1], sensitive_features=groups)
    with pytest.raises(ValueError, match="sample_weight must hold one non-negative number per sample"):
        fair_metric([0, 1, 0, 1], [0, 1, 0, 1], sensitive_features=groups, sample_weight=list("abcd"))


# ------------------------------------------------------------ command line
CLI_TINY = ["--image-size", "16", "--epochs", "1", "--filters", "4,8", "--dense-units", "8",
            "--random-state", "0", "--verbose", "0"]


def cli_error(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skface: error: "), err
    return lines[0]


def test_cli_train_names_missing_and_undecodable_files(tmp_path, capsys):
    from skface.cli import main
    from skface.datasets import write_faces

    csv_path = write_faces(tmp_path / "faces", 24, image_size=16, random_state=0)
    model = tmp_path / "model.keras"
    truncated = tmp_path / "faces" / "face_00003.jpg"
    truncated.write_bytes(truncated.read_bytes()[:200])
    (tmp_path / "faces" / "face_00007.jpg").write_text("not an image")
    assert main(["train", "--csv", csv_path, *CLI_TINY, "--model", str(model)]) == 1
    line = cli_error(capsys)
    assert re.search(r"2 of the 24 image files cannot be decoded: \['.*face_00003.jpg', '.*face_00007.jpg'\]", line)
    os.remove(tmp_path / "faces" / "face_00011.jpg")
    assert main(["train", "--csv", csv_path, *CLI_TINY, "--model", str(model)]) == 1
    # the missing file stops it before any work, and the file that is no image is named with it
    assert re.search(r"2 of the 24 image files .* cannot be used: 1 do not exist .*face_00011.jpg'\]; "
                     r"1 are not JPEG, PNG, BMP, GIF or WebP files: \['.*face_00007.jpg'\]", cli_error(capsys))
    assert os.listdir(tmp_path) == ["faces"]  # no model, no temporary file


def test_cli_predict_converts_odd_files_and_names_bad_ones(tmp_path, fitted, capsys):
    from skface.cli import main

    model = fitted.save(tmp_path / "model.keras")
    images = tmp_path / "images"
    images.mkdir()
    names = []
    for i, (name, writer) in enumerate(READABLE.items()):
        names.append(f"{i:02d} {os.path.basename(name)}")  # spaces and non-ASCII too
        writer(str(images / names[-1]))
    out = tmp_path / "predictions.csv"
    assert main(["predict", "--model", model, "--images", str(images), "--output", str(out)]) == 0
    frame = pd.read_csv(out)
    assert frame["filename"].tolist() == sorted(names)  # one row per image, none dropped
    expected = fitted.predict_proba([str(images / n) for n in sorted(names)])[:, 1] > fitted.threshold_
    assert frame["label"].tolist() == np.where(expected, 1, -1).tolist()

    before = out.read_bytes()
    (images / "zz notes.jpg").write_text("not an image")
    assert main(["predict", "--model", model, "--images", str(images), "--output", str(out)]) == 1
    assert re.search(r"1 of the 12 image files cannot be decoded: \['.*zz notes.jpg'\]", cli_error(capsys))
    assert out.read_bytes() == before  # the old predictions, whole
    assert sorted(os.listdir(tmp_path)) == ["images", "model.keras", "predictions.csv"]
