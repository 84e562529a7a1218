"""Tests for skface.datasets: synthetic faces, image folders and CelebA."""

import os
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from skface.datasets import load_celeba, load_faces, make_faces, write_faces

SMALL = 16


@pytest.fixture(scope="module")
def faces():
    # a few thousand tiny faces: enough for the statistics, fast to draw
    return make_faces(3000, image_size=SMALL, random_state=0)


# --------------------------------------------------------------- make_faces


def test_make_faces_shapes_and_dtypes():
    data = make_faces(25, image_size=20, random_state=1)
    assert set(data) == {
        "images",
        "target",
        "target_clean",
        "gender",
        "attributes",
        "frame",
        "DESCR",
    }
    assert data.images.shape == (25, 20, 20, 3)
    assert data.images.dtype == np.uint8
    for key in ("target", "target_clean", "gender"):
        assert data[key].shape == (25,)
        assert np.issubdtype(data[key].dtype, np.integer)
    assert set(np.unique(data.gender)) <= {-1, 1}
    assert set(np.unique(data.target)) <= {0, 1}
    assert isinstance(data.attributes, pd.DataFrame) and len(data.attributes) == 25
    assert list(data.frame.columns[:3]) == ["gender", "target", "target_clean"]
    assert list(data.frame.columns[3:]) == list(data.attributes.columns)
    assert isinstance(data.DESCR, str) and "blond" in data.DESCR


def test_make_faces_attribute_columns(faces):
    a = faces.attributes
    expected = {
        "hair_color",
        "hair_color_name",
        "blond",
        "eyeglasses",
        "eyeglasses_style",
        "facial_hair",
        "beard",
        "hair_length",
        "skin_tone",
        "background",
        "rotation",
        "scale",
        "shift_x",
        "shift_y",
    }
    assert expected <= set(a.columns)
    assert a["hair_color"].between(0, 1).all()
    assert a["skin_tone"].between(0, 1).all()
    # blond is the upper part of the hair colour continuum
    assert (a.loc[a["blond"] == 1, "hair_color"] >= 0.7).all()
    assert (a.loc[a["blond"] == 0, "hair_color"] < 0.7).all()
    assert set(a["eyeglasses_style"]) == {
        "none",
        "thin",
        "thick",
        "dark",
        "coloured",
        "sunglasses",
    }
    assert ((a["eyeglasses_style"] != "none") == (a["eyeglasses"] == 1)).all()
    assert set(a["hair_color_name"]) >= {"black", "brown", "light brown", "dark blond", "blond"}
    # beards only on men
    assert (a.loc[faces.gender == -1, "beard"] == 0).all()
    assert 0.2 < a.loc[faces.gender == 1, "beard"].mean() < 0.6


def test_make_faces_default_statistics(faces):
    women = faces.gender == -1
    a = faces.attributes
    assert women.mean() == pytest.approx(0.59, abs=0.03)
    assert faces.target.mean() == pytest.approx(0.20, abs=0.025)
    assert faces.target_clean.mean() == pytest.approx(0.209, abs=0.025)
    assert a["blond"][women].mean() == pytest.approx(0.24, abs=0.03)
    assert a["blond"][~women].mean() == pytest.approx(0.02, abs=0.015)
    assert a["eyeglasses"][women].mean() == pytest.approx(0.025, abs=0.015)
    assert a["eyeglasses"][~women].mean() == pytest.approx(0.12, abs=0.025)
    # the class is blond OR eyeglasses before noise
    assert np.array_equal(faces.target_clean, (a["blond"] | a["eyeglasses"]).to_numpy())
    # about label_noise of the labels flipped, positive rates kept per gender
    assert (faces.target != faces.target_clean).mean() == pytest.approx(0.03, abs=0.01)
    for group in (women, ~women):
        assert faces.target[group].mean() == pytest.approx(
            faces.target_clean[group].mean(), abs=0.03
        )


def test_make_faces_ambiguous_hair_mostly_women(faces):
    # light brown / dark blond near the threshold: the women's harder cases
    near = (faces.attributes["hair_color"] - 0.7).abs() < 0.05
    women = faces.gender == -1
    assert near[women].mean() > 3 * near[~women].mean()


def test_make_faces_label_noise_only_changes_which_labels_flip():
    # the label noise uses the same random draws at every rate, so the faces
    # are the same and a lower rate flips a subset of the labels of a higher one
    low = make_faces(600, image_size=8, random_state=3)
    high = make_faces(600, image_size=8, label_noise=0.05, random_state=3)
    assert low.attributes.equals(high.attributes)
    assert np.array_equal(low.images, high.images)
    assert np.array_equal(low.target_clean, high.target_clean)
    flipped_low = low.target != low.target_clean
    flipped_high = high.target != high.target_clean
    assert flipped_low.sum() < flipped_high.sum()
    assert not (flipped_low & ~flipped_high).any()


@pytest.fixture(scope="module")
def many_labels():
    # labels only: tiny images, enough faces near the threshold to count
    return make_faces(10_000, image_size=8, random_state=5)


def test_make_faces_label_noise_sits_near_the_blond_threshold(many_labels):
    a = many_labels.attributes
    flipped = many_labels.target != many_labels.target_clean
    women = many_labels.gender == -1
    near = ((a["hair_color"] - 0.7).abs() < 0.05).to_numpy() & (a["eyeglasses"] == 0).to_numpy()
    assert flipped.mean() == pytest.approx(0.03, abs=0.006)
    # ambiguous hair is where annotators disagree: its labels flip far more
    assert flipped[near].mean() > 10 * flipped[~near].mean()
    assert flipped[near].mean() < 0.5
    # and most of it is women's, so their labels are noisier
    assert flipped[women].mean() > 2 * flipped[~women].mean()
    # half of each gender's flips go each way: its positive rate is kept
    for group in (women, ~women):
        y, clean = many_labels.target[group], many_labels.target_clean[group]
        to_one, to_zero = np.sum((y == 1) & (clean == 0)), np.sum((y == 0) & (clean == 1))
        assert abs(to_one - to_zero) < 4 * np.sqrt(to_one + to_zero)


def test_make_faces_label_noise_width_none_spreads_the_noise(many_labels):
    faces = make_faces(10_000, image_size=8, label_noise_width=None, random_state=5)
    flipped = faces.target != faces.target_clean
    women = faces.gender == -1
    near = ((faces.attributes["hair_color"] - 0.7).abs() < 0.05).to_numpy()
    assert flipped.mean() == pytest.approx(0.03, abs=0.006)
    assert flipped[women].mean() == pytest.approx(flipped[~women].mean(), abs=0.008)
    assert flipped[near].mean() == pytest.approx(flipped[~near].mean(), abs=0.015)
    # the same faces: the width only moves which labels flip
    assert faces.attributes.equals(many_labels.attributes)
    assert np.array_equal(faces.target_clean, many_labels.target_clean)


def test_make_faces_warns_when_label_noise_cannot_keep_positive_rates():
    # at most half of each gender's rarer class can flip: about 0.21 here
    with pytest.warns(UserWarning, match=r"label_noise=0.4 asks for 1600 flipped labels of 4000"):
        faces = make_faces(4000, image_size=8, label_noise=0.4, random_state=0)
    flipped = (faces.target != faces.target_clean).mean()
    assert 0.17 < flipped < 0.25
    for group in (faces.gender == -1, faces.gender == 1):
        assert faces.target[group].mean() == pytest.approx(
            faces.target_clean[group].mean(), abs=0.03
        )


def test_make_faces_bald_heads_keep_hair_at_the_sides():
    # a light scalp alone would look blond: bald heads keep their hair colour
    # at the sides, above the ears
    from PIL import Image

    from skface.datasets import _synthetic

    a = _synthetic._sample_attributes(1, np.random.default_rng(0), 0.0, (0.0, 0.0), (0.0, 0.0))
    a.update(rotation=np.zeros(1), scale=np.ones(1), shift_x=np.zeros(1), shift_y=np.zeros(1),
             _hair_c=np.array([[20, 20, 20]]), _skin_c=np.array([[230, 200, 170]]),
             _face_w=np.array([0.4]), _ratio_jitter=np.zeros(1),
             face_shape=np.array(["round"], dtype=object))
    gradient = Image.linear_gradient("L").resize((128, 128))
    a["hair_length"] = np.array(["bald"], dtype=object)
    image = np.asarray(_synthetic._render_face(0, a, 128, gradient), dtype=float)
    assert image[14:17, 28:36].mean() > 150  # the scalp is skin
    # the head spans x 20..45; its sides above the ears (y 24..30) are hair
    assert image[24:30, 20:23].mean() < 100
    assert image[24:30, 42:45].mean() < 100


def test_make_faces_parameters_change_statistics():
    data = make_faces(
        800,
        image_size=8,
        female_fraction=0.2,
        blond_rate=0.5,
        eyeglasses_rate=(0.0, 0.0),
        label_noise=0.0,
        random_state=3,
    )
    assert (data.gender == -1).mean() == pytest.approx(0.2, abs=0.05)
    assert data.attributes["eyeglasses"].sum() == 0
    assert data.attributes["blond"].mean() == pytest.approx(0.5, abs=0.06)
    assert np.array_equal(data.target, data.target_clean)


def test_make_faces_deterministic():
    first = make_faces(30, image_size=SMALL, random_state=42)
    second = make_faces(30, image_size=SMALL, random_state=42)
    other = make_faces(30, image_size=SMALL, random_state=43)
    assert np.array_equal(first.images, second.images)
    assert np.array_equal(first.target, second.target)
    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert not np.array_equal(first.images, other.images)
    generator = make_faces(5, image_size=SMALL, random_state=np.random.default_rng(0))
    assert generator.images.shape == (5, SMALL, SMALL, 3)


def test_make_faces_attributes_do_not_depend_on_image_size():
    small = make_faces(20, image_size=8, random_state=5)
    large = make_faces(20, image_size=24, random_state=5)
    pd.testing.assert_frame_equal(small.frame, large.frame)


def test_make_faces_images_vary():
    data = make_faces(50, image_size=SMALL, random_state=0)
    flat = data.images.reshape(50, -1).astype(float)
    assert flat.std(axis=0).mean() > 20
    assert len({image.tobytes() for image in data.images}) == 50


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_samples": 0}, ValueError, "n_samples must be an integer >= 1, got 0."),
        (
            {"n_samples": 2.5},
            TypeError,
            "n_samples must be an integer >= 1, got 2.5 of type float",
        ),
        (
            {"n_samples": "10"},
            TypeError,
            "n_samples must be an integer >= 1, got '10' of type str",
        ),
        ({"image_size": 4}, ValueError, "image_size must be an integer >= 8, got 4."),
        ({"image_size": True}, TypeError, "image_size must be an integer >= 8, got True"),
        (
            {"female_fraction": 1.5},
            ValueError,
            re.escape("female_fraction must be a number in [0, 1], got 1.5."),
        ),
        (
            {"female_fraction": "half"},
            TypeError,
            re.escape("female_fraction must be a number in [0, 1], got 'half' of type str."),
        ),
        (
            {"blond_rate": (0.3, 1.2)},
            ValueError,
            re.escape(
                "blond_rate must be a probability in [0, 1] or a pair (women, men) "
                "of them, got (0.3, 1.2)."
            ),
        ),
        (
            {"eyeglasses_rate": (0.1, 0.2, 0.3)},
            ValueError,
            re.escape("eyeglasses_rate must be a probability in [0, 1] or a pair"),
        ),
        (
            {"eyeglasses_rate": None},
            TypeError,
            re.escape(
                "eyeglasses_rate must be a probability in [0, 1] or a pair (women, men) "
                "of them, got None of type NoneType."
            ),
        ),
        (
            {"label_noise": 0.7},
            ValueError,
            re.escape("label_noise must be a number in [0, 0.5], got 0.7."),
        ),
        (
            {"label_noise_width": 0},
            ValueError,
            re.escape("label_noise_width must be None or a number in (0, 1], got 0."),
        ),
        (
            {"label_noise_width": float("nan")},
            ValueError,
            re.escape("label_noise_width must be None or a number in (0, 1], got nan."),
        ),
        (
            {"label_noise_width": "wide"},
            TypeError,
            re.escape(
                "label_noise_width must be None or a number in (0, 1], "
                "got 'wide' of type str."
            ),
        ),
        ({"random_state": "seed"}, ValueError, "cannot be used to seed"),
    ],
)
def test_make_faces_errors(kwargs, error, match):
    kwargs = {"n_samples": 5, "image_size": 8, **kwargs}
    with pytest.raises(error, match=match):
        make_faces(**kwargs)


# --------------------------------------------------- write_faces, load_faces


@pytest.mark.parametrize("fmt, ext", [("jpg", ".jpg"), ("png", ".png"), ("JPEG", ".jpg")])
def test_write_faces_layout(tmp_path, fmt, ext):
    csv_path = write_faces(tmp_path / "faces", 12, format=fmt, image_size=SMALL, random_state=0)
    assert csv_path == str(tmp_path / "faces" / "labels.csv")
    frame = pd.read_csv(csv_path)
    assert list(frame.columns) == ["filename", "gender", "class"]
    assert len(frame) == 12
    assert set(frame["gender"]) <= {-1, 1} and set(frame["class"]) <= {0, 1}
    assert frame["filename"].str.endswith(ext).all()
    assert frame["filename"].iloc[0] == f"face_00000{ext}"
    expected = make_faces(12, image_size=SMALL, random_state=0)
    assert np.array_equal(frame["gender"], expected.gender)
    assert np.array_equal(frame["class"], expected.target)
    with Image.open(tmp_path / "faces" / frame["filename"].iloc[0]) as image:
        assert image.size == (SMALL, SMALL) and image.mode == "RGB"
    if fmt == "png":  # lossless: the pixels are make_faces' pixels
        with Image.open(tmp_path / "faces" / frame["filename"].iloc[3]) as image:
            assert np.array_equal(np.asarray(image), expected.images[3])
    # only the images and the CSV: no temporary file left behind
    assert len(os.listdir(tmp_path / "faces")) == 13


def test_write_faces_replaces_csv_atomically(tmp_path, monkeypatch):
    csv_path = write_faces(tmp_path, 5, image_size=8, random_state=0)
    before = open(csv_path).read()

    def broken_to_csv(self, *args, **kwargs):
        raise KeyboardInterrupt("interrupted while writing")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken_to_csv)
    with pytest.raises(KeyboardInterrupt):
        write_faces(tmp_path, 8, image_size=8, random_state=1)
    # the old CSV is intact and no temporary file is left
    assert open(csv_path).read() == before
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_write_faces_errors(tmp_path):
    with pytest.raises(
        ValueError, match="format must be one of 'jpg', 'jpeg' or 'png', got 'gif'."
    ):
        write_faces(tmp_path, 3, format="gif")
    with pytest.raises(
        TypeError,
        match=re.escape("write_faces got unexpected keyword argument(s) ['size']; the make_faces"),
    ):
        write_faces(tmp_path, 3, size=8)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1, got 0."):
        write_faces(tmp_path, 0)
    assert os.listdir(tmp_path) == []


def test_load_faces_round_trip(tmp_path):
    csv_path = write_faces(tmp_path / "data", 10, image_size=SMALL, random_state=0)
    frame = load_faces(csv_path)
    assert list(frame.columns) == ["filename", "gender", "class"]
    assert all(os.path.isabs(p) and os.path.isfile(p) for p in frame["filename"])
    assert frame["filename"].iloc[0] == str(tmp_path / "data" / "face_00000.jpg")


def test_write_load_fit_round_trip(tmp_path):
    # write -> load -> FaceCNNClassifier, with a tiny network for speed
    from skface import FaceCNNClassifier

    csv_path = write_faces(tmp_path, 60, image_size=SMALL, random_state=0)
    frame = load_faces(csv_path)
    clf = FaceCNNClassifier(
        image_size=SMALL, filters=(4, 8), dense_units=8, epochs=1, random_state=0, run_eagerly=True
    )
    clf.fit(frame, frame["class"])
    pred = clf.predict(frame)
    assert pred.shape == (60,)
    assert set(np.unique(pred)) <= {0, 1}
    assert list(clf.classes_) == [0, 1]
    proba = clf.predict_proba(frame)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_load_faces_image_dir_and_column(tmp_path):
    write_faces(tmp_path / "images", 4, image_size=8, random_state=0)
    listing = pd.read_csv(tmp_path / "images" / "labels.csv").rename(columns={"filename": "path"})
    listing.to_csv(tmp_path / "list.csv", index=False)
    frame = load_faces(tmp_path / "list.csv", tmp_path / "images", image_column="path")
    assert frame["path"].iloc[1] == str(tmp_path / "images" / "face_00001.jpg")
    # absolute paths are kept as they are
    frame.to_csv(tmp_path / "absolute.csv", index=False)
    again = load_faces(tmp_path / "absolute.csv", image_column="path")
    assert list(again["path"]) == list(frame["path"])


def test_load_faces_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="csv_path '.*nope.csv' does not exist"):
        load_faces(tmp_path / "nope.csv")
    csv_path = write_faces(tmp_path, 8, image_size=8, random_state=0)
    with pytest.raises(FileNotFoundError, match="image_dir '.*elsewhere' does not exist"):
        load_faces(csv_path, tmp_path / "elsewhere")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "has no column 'image' (missing columns: ['image']); its columns are "
            "['filename', 'gender', 'class']."
        ),
    ):
        load_faces(csv_path, image_column="image")
    os.remove(tmp_path / "face_00002.jpg")
    os.remove(tmp_path / "face_00005.jpg")
    with pytest.raises(
        FileNotFoundError,
        match=r"2 of the 8 image files listed in labels.csv do not exist under '.*': "
        r"\['.*face_00002.jpg', '.*face_00005.jpg'\]\. Pass image_dir=",
    ):
        load_faces(csv_path)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="is empty: expected a header and one row per image"):
        load_faces(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("filename,gender,class\n")
    with pytest.raises(ValueError, match="has a header but no rows"):
        load_faces(tmp_path / "header.csv")


def test_load_faces_names_first_five_missing(tmp_path):
    pd.DataFrame({"filename": [f"x{i}.jpg" for i in range(7)]}).to_csv(
        tmp_path / "list.csv", index=False
    )
    with pytest.raises(FileNotFoundError) as info:
        load_faces(tmp_path / "list.csv")
    message = str(info.value)
    assert message.startswith("7 of the 7 image files listed in list.csv do not exist")
    assert "x4.jpg', ... (7 in all)]" in message and "x5.jpg" not in message


# ------------------------------------------------------------------ CelebA

NAMES = ["5_o_Clock_Shadow", "Blond_Hair", "Eyeglasses", "Male", "Smiling"]
# a few real-looking rows: -1 absent, 1 present
ROWS = {
    "000001.jpg": [-1, 1, -1, -1, 1],  # blond woman
    "000002.jpg": [-1, -1, -1, -1, -1],  # woman, neither
    "000003.jpg": [1, -1, 1, 1, -1],  # man with eyeglasses
    "000004.jpg": [-1, -1, -1, 1, 1],  # man, neither
    "000005.jpg": [-1, 1, 1, -1, -1],  # blond woman with eyeglasses
    "000006.jpg": [1, -1, -1, 1, 1],  # man, neither
}
PARTITION = {
    "000001.jpg": 0,
    "000002.jpg": 0,
    "000003.jpg": 0,
    "000004.jpg": 1,
    "000005.jpg": 2,
    "000006.jpg": 2,
}


def _write_images(folder):
    folder.mkdir(parents=True)
    for name in ROWS:
        Image.new("RGB", (8, 10), (100, 80, 60)).save(folder / name)


def _fake_celeba_txt(root, *, subfolders=False):
    """The official layout: text files with runs of spaces."""
    _write_images(root / "img_align_celeba")
    anno = root / "Anno" if subfolders else root
    ev = root / "Eval" if subfolders else root
    anno.mkdir(exist_ok=True)
    ev.mkdir(exist_ok=True)
    lines = [str(len(ROWS)), " ".join(NAMES) + " "]
    lines += [name + " " + " ".join(f"{v:2d}" for v in values) for name, values in ROWS.items()]
    (anno / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (ev / "list_eval_partition.txt").write_text(
        "".join(f"{name} {code}\n" for name, code in PARTITION.items())
    )
    return root


def _fake_celeba_csv(root):
    """The Kaggle layout: nested image folder and CSV files."""
    _write_images(root / "img_align_celeba" / "img_align_celeba")
    frame = pd.DataFrame.from_dict(ROWS, orient="index", columns=NAMES)
    frame.index.name = "image_id"
    frame.to_csv(root / "list_attr_celeba.csv")
    pd.DataFrame({"image_id": list(PARTITION), "partition": list(PARTITION.values())}).to_csv(
        root / "list_eval_partition.csv", index=False
    )
    return root


@pytest.fixture(params=["txt", "txt-subfolders", "csv"])
def celeba(request, tmp_path):
    if request.param == "csv":
        root = _fake_celeba_csv(tmp_path / "celeba")
        return root, root / "img_align_celeba" / "img_align_celeba"
    root = _fake_celeba_txt(tmp_path / "celeba", subfolders=request.param == "txt-subfolders")
    return root, tmp_path / "celeba" / "img_align_celeba"


def test_load_celeba_both_layouts(celeba):
    root, image_dir = celeba
    frame = load_celeba(root)
    assert list(frame.columns) == ["filename", "gender", "class", "split"] + NAMES
    assert list(frame["filename"]) == [str(image_dir / name) for name in ROWS]
    assert list(frame["gender"]) == [-1, -1, 1, 1, -1, 1]
    assert list(frame["class"]) == [1, 0, 1, 0, 1, 0]
    assert list(frame["split"]) == ["train", "train", "train", "valid", "test", "test"]
    assert list(frame["Smiling"]) == [1, 0, 0, 1, 0, 1]
    assert set(np.unique(frame[NAMES])) == {0, 1}


def test_load_celeba_target_sensitive_split(celeba):
    root, _ = celeba
    frame = load_celeba(root, target="Smiling", sensitive="5_o_Clock_Shadow", split="test")
    assert list(frame["filename"].map(os.path.basename)) == ["000005.jpg", "000006.jpg"]
    assert list(frame["class"]) == [0, 1]
    assert list(frame["gender"]) == [-1, 1]
    assert list(frame.index) == [0, 1]
    assert len(load_celeba(root, split=0)) == 3
    assert len(load_celeba(root, split="valid")) == 1
    assert len(load_celeba(root, split=["train", 2])) == 5
    assert list(load_celeba(root, target=["Eyeglasses"])["class"]) == [0, 0, 1, 0, 1, 0]


def test_load_celeba_partition_optional_without_split(tmp_path):
    root = _fake_celeba_txt(tmp_path / "celeba")
    os.remove(root / "list_eval_partition.txt")
    frame = load_celeba(root)
    assert len(frame) == 6 and frame["split"].isna().all()
    with pytest.raises(
        FileNotFoundError,
        match=re.escape("split='train' needs the partition file, but there is none under root"),
    ):
        load_celeba(root, split="train")


def test_load_celeba_missing_pieces(tmp_path):
    source = "get it from the official page https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
    with pytest.raises(
        FileNotFoundError, match=r"root '.*nowhere' does not exist.*" + re.escape(source)
    ):
        load_celeba(tmp_path / "nowhere")
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(
            "no image folder img_align_celeba/ (or img_align_celeba/img_align_celeba/)"
        ),
    ):
        load_celeba(tmp_path)
    root = _fake_celeba_txt(tmp_path / "celeba")
    os.remove(root / "list_attr_celeba.txt")
    with pytest.raises(
        FileNotFoundError,
        match=r"no attribute file under root .*; looked for \['list_attr_celeba.txt', "
        r"'list_attr_celeba.csv', 'Anno/list_attr_celeba.txt'.*kaggle.com",
    ):
        load_celeba(root)


def test_load_celeba_missing_images(tmp_path):
    root = _fake_celeba_csv(tmp_path / "celeba")
    os.remove(root / "img_align_celeba" / "img_align_celeba" / "000004.jpg")
    with pytest.raises(
        FileNotFoundError,
        match=r"1 of the 6 image files listed in list_attr_celeba.csv do not exist "
        r"under '.*': \['.*000004.jpg'\]\. CelebA is not downloaded by skface",
    ):
        load_celeba(root)
    # rows outside the requested split are not checked
    assert len(load_celeba(root, split="train")) == 3


def test_load_celeba_bad_files(tmp_path):
    root = _fake_celeba_txt(tmp_path / "celeba")
    text = (root / "list_attr_celeba.txt").read_text().splitlines()
    (root / "list_attr_celeba.txt").write_text("\n".join(text[:-2]) + "\n")
    with pytest.raises(ValueError, match="declares 6 images on its first line but lists 4"):
        load_celeba(root)
    (root / "list_attr_celeba.txt").write_text("\n".join([text[0], "A B"] + text[2:]) + "\n")
    with pytest.raises(ValueError, match="its second line names 2 attributes but its rows have 5"):
        load_celeba(root)
    os.remove(root / "list_attr_celeba.txt")
    pd.DataFrame({"name": ["000001.jpg"], "Male": [1]}).to_csv(root / "list_attr_celeba.csv")
    with pytest.raises(ValueError, match="has no column 'image_id'"):
        load_celeba(root)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"target": "Blond"},
            ValueError,
            re.escape("target names unknown attribute(s) ['Blond']; the attributes are ['5_o_"),
        ),
        (
            {"target": []},
            ValueError,
            re.escape("target must be a CelebA attribute name or a list of them, got []."),
        ),
        (
            {"target": 3},
            TypeError,
            "target must be a CelebA attribute name or a list of them, got 3.",
        ),
        (
            {"sensitive": "Female"},
            ValueError,
            re.escape("sensitive names unknown attribute(s) ['Female']"),
        ),
        (
            {"sensitive": ["Male"]},
            TypeError,
            re.escape("sensitive must be a CelebA attribute name, got ['Male']."),
        ),
        (
            {"split": "training"},
            ValueError,
            "split must be None, 'train', 'valid' or 'test' .*got 'training'.",
        ),
        ({"split": 3}, ValueError, "split must be None, 'train', 'valid' or 'test'"),
        ({"split": []}, ValueError, re.escape("or a list of them, got [].")),
        ({"split": 1.0}, TypeError, "split must be None"),
    ],
)
def test_load_celeba_argument_errors(tmp_path, kwargs, error, match):
    root = _fake_celeba_txt(tmp_path / "celeba")
    with pytest.raises(error, match=match):
        load_celeba(root, **kwargs)


def test_import_is_light():
    # skface.datasets must not pull in TensorFlow
    import subprocess
    import sys

    code = "import sys, skface.datasets; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------- missing files left to the reader
def test_load_faces_on_missing_keep(tmp_path):
    csv_path = write_faces(tmp_path, 6, image_size=16, random_state=0)
    os.remove(tmp_path / "face_00002.jpg")
    (tmp_path / "face_00004.jpg").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"2 of the 6 image files listed in labels.csv cannot be used: "
                       r"1 do not exist under .*face_00002.jpg'\]; 1 are empty \(0 bytes\): \['.*face_00004.jpg'\]"):
        load_faces(csv_path)
    frame = load_faces(csv_path, on_missing="keep")
    assert len(frame) == 6 and frame["filename"].iloc[2] == str(tmp_path / "face_00002.jpg")
    with pytest.raises(ValueError, match=re.escape("on_missing='skip' is not accepted; accepted: ['raise', 'keep'].")):
        load_faces(csv_path, on_missing="skip")


def test_load_celeba_on_missing_keep(tmp_path):
    root = _fake_celeba_csv(tmp_path / "celeba")
    os.remove(root / "img_align_celeba" / "img_align_celeba" / "000004.jpg")
    with pytest.raises(FileNotFoundError, match="do not exist"):
        load_celeba(root)
    assert len(load_celeba(root, on_missing="keep")) == 6
    with pytest.raises(ValueError, match=re.escape("on_missing='drop' is not accepted")):
        load_celeba(root, on_missing="drop")


# ---------------------------------------------------------------- UTKFace


def _utk_folder(root, names, *, empty=()):
    root.mkdir(exist_ok=True)
    for name in names:
        path = root / name
        if name in empty:
            path.write_bytes(b"")
        else:
            Image.new("RGB", (20, 20), (120, 90, 60)).save(path, "JPEG")
    return root


UTK_NAMES = [
    "25_1_0_20170109150557335.jpg.chip.jpg",  # woman, White
    "61_0_1_20170110122638823.jpg.chip.jpg",  # man, Black
    "40_1_2_20170110215648859.jpg.chip.jpg",  # woman, Asian, exactly the class threshold
    "7_0_3_20170110215648860.jpg.chip.jpg",  # a child
    "33_0_4_20170116174525126.jpg",  # an in-the-wild name
]


def test_load_utkface_labels_from_names(tmp_path):
    from skface.datasets import load_utkface

    root = _utk_folder(tmp_path / "utk", UTK_NAMES)
    (root / "notes.txt").write_text("not an image")  # ignored: not a JPEG
    frame = load_utkface(root)
    assert list(frame.columns) == ["filename", "age", "gender", "race", "race_name", "class"]
    # sorted by file name, adults only (min_age=18), class = age >= 40
    assert frame["age"].tolist() == [25, 33, 40, 61]
    assert frame["gender"].tolist() == [-1, 1, -1, 1]  # UTKFace 1 (female) -> -1
    assert frame["race_name"].tolist() == ["White", "Others", "Asian", "Black"]
    assert frame["class"].tolist() == [0, 0, 1, 1]
    assert all(os.path.isabs(p) and os.path.isfile(p) for p in frame["filename"])
    everyone = load_utkface(root, min_age=None, target_age=None)
    assert len(everyone) == 5 and "class" not in everyone.columns
    assert load_utkface(root, min_age=30, max_age=45)["age"].tolist() == [33, 40]
    assert load_utkface(root, target_age=30)["class"].tolist() == [0, 1, 1, 1]


def test_load_utkface_names_without_labels(tmp_path):
    from skface.datasets import load_utkface

    broken = ["39_1_20170116174525125.jpg.chip.jpg", "55_0_0_20170116232725357jpg.chip.jpg"]
    root = _utk_folder(tmp_path / "utk", UTK_NAMES + broken)
    with pytest.warns(UserWarning, match=re.escape(
            "2 of the 7 JPEG files under") ) as record:
        frame = load_utkface(root)
    assert "39_1_20170116174525125.jpg.chip.jpg" in str(record[0].message)
    assert "they are left out" in str(record[0].message)
    assert len(frame) == 4
    with pytest.raises(ValueError, match="have names without the three labels .* pass on_unparsed='warn'"):
        load_utkface(root, on_unparsed="raise")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"on_unparsed": "skip"}, ValueError, "on_unparsed='skip' is not accepted; accepted: ['warn', 'raise']."),
        ({"on_missing": "drop"}, ValueError, "on_missing='drop' is not accepted; accepted: ['raise', 'keep']."),
        ({"target_age": 40.5}, ValueError, "target_age=40.5 is not accepted; accepted: None or an int >= 0."),
        ({"min_age": -1}, ValueError, "min_age=-1 is not accepted; accepted: None or an int >= 0."),
        ({"min_age": 50, "max_age": 20}, ValueError, "min_age=50 is above max_age=20"),
        ({"min_age": 90}, ValueError, "none of the 5 faces under"),
    ],
)
def test_load_utkface_argument_errors(tmp_path, kwargs, error, match):
    from skface.datasets import load_utkface

    root = _utk_folder(tmp_path / "utk", UTK_NAMES)
    with pytest.raises(error, match=re.escape(match)):
        load_utkface(root, **kwargs)


def test_load_utkface_missing_folder_and_images(tmp_path):
    from skface.datasets import load_utkface

    with pytest.raises(FileNotFoundError, match="does not exist or is not a folder. UTKFace is not downloaded"):
        load_utkface(tmp_path / "nowhere")
    root = _utk_folder(tmp_path / "other", ["holiday.jpg"])
    with pytest.raises(FileNotFoundError, match=r"no UTKFace image under root .* such as \['holiday.jpg'\]"):
        load_utkface(root)


def test_load_utkface_empty_files(tmp_path):
    from skface.datasets import load_utkface

    root = _utk_folder(tmp_path / "utk", UTK_NAMES, empty={UTK_NAMES[1]})
    with pytest.raises(ValueError, match=r"1 of the 4 image files are empty \(0 bytes\)"):
        load_utkface(root)
    kept = load_utkface(root, on_missing="keep")
    assert len(kept) == 4  # left to a reader that skips unreadable files, such as on_bad_image="skip"
