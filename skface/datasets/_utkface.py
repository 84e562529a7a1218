"""Read a local copy of UTKFace (labels in the file names)."""

import os
import re
import warnings
from numbers import Integral

import numpy as np
import pandas as pd

from .._validation import check_files, show_items

__all__ = ["load_utkface"]

UTKFACE_SOURCES = (
    "UTKFace is not downloaded by skface; get it from its authors' page "
    "https://susanqq.github.io/UTKFace/ (non-commercial research use only) and "
    "unpack it under root."
)

#: UTKFace's race codes, as documented by its authors
RACES = {0: "White", 1: "Black", 2: "Asian", 3: "Indian", 4: "Others"}

# [age]_[gender]_[race]_[date&time].jpg, and the aligned crops' .jpg.chip.jpg
_NAME = re.compile(r"^(\d{1,3})_([01])_([0-4])_(\d+)\.jpg(\.chip\.jpg)?$", re.IGNORECASE)
_ON_UNPARSED = ("warn", "raise")


def _check_age(value, name):
    if value is None:
        return None
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name}={value!r} is not accepted; accepted: None or an int >= 0.")
    return int(value)


def load_utkface(root, *, target_age=40, min_age=18, max_age=None, on_unparsed="warn", on_missing="raise"):
    """Read a folder of UTKFace images as a DataFrame ready for ``FaceCNNClassifier``.

    Nothing is downloaded. UTKFace keeps each image's labels in its file
    name, ``[age]_[gender]_[race]_[date&time].jpg`` (the in-the-wild images)
    or ``...jpg.chip.jpg`` (the aligned and cropped faces, 200 x 200): age 0
    to 116; gender 0 male, 1 female; race 0 White, 1 Black, 2 Asian,
    3 Indian, 4 Others (the ``race_name`` column).

    The default task is the one skface measures on real faces: adults
    (``min_age=18``), class 1 for ``age >= 40`` (CelebA's ``Young``
    attribute turned around), gender as the sensitive feature.

    Parameters
    ----------
    root : str or path-like
        Folder holding the images (not searched recursively).
    target_age : int or None, default=40
        ``class`` is 1 where ``age >= target_age``, else 0. None adds no
        ``class`` column.
    min_age, max_age : int or None, default=18 and None
        Keep only the faces with ``min_age <= age <= max_age`` (None: no
        bound).
    on_unparsed : {"warn", "raise"}, default="warn"
        What to do with JPEG files whose name does not carry the three labels
        (UTKFace has a few without the race field, such as
        ``39_1_20170116174525125.jpg.chip.jpg``). "warn" leaves them out and
        emits one ``UserWarning`` with their count and first names; "raise"
        raises a ``ValueError`` naming them. They are never given a guessed
        label. Files that are not JPEGs are ignored.
    on_missing : {"raise", "keep"}, default="raise"
        "raise" refuses empty (0 byte) image files up front. "keep" keeps
        their rows, for a reader that leaves unreadable files out itself and
        says which, such as ``FaceCNNClassifier(on_bad_image="skip")``.

    Returns
    -------
    frame : pandas.DataFrame
        One row per image, sorted by file name, with columns ``filename``
        (absolute path), ``age`` (int), ``gender`` (-1 women, 1 men, as in
        :func:`load_celeba`), ``race`` (UTKFace's code 0-4), ``race_name``
        and, unless ``target_age`` is None, ``class`` (0/1).

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder, or holds no UTKFace image.
    ValueError
        If an argument is not valid, if ``on_unparsed="raise"`` and a name
        does not parse, or if no face is left between the ages asked for.

    See Also
    --------
    load_celeba : Read a local copy of CelebA.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from skface.datasets import load_utkface
    >>> root = tempfile.mkdtemp()
    >>> for name in ("25_1_0_20170109150557335.jpg.chip.jpg",
    ...              "61_0_1_20170110122638823.jpg.chip.jpg",
    ...              "7_0_2_20170110215648859.jpg.chip.jpg"):
    ...     Image.new("RGB", (200, 200)).save(os.path.join(root, name), "JPEG")
    >>> load_utkface(root)[["age", "gender", "race_name", "class"]]
       age  gender race_name  class
    0   25      -1     White      0
    1   61       1     Black      1
    """
    if on_unparsed not in _ON_UNPARSED:
        raise ValueError(f"on_unparsed={on_unparsed!r} is not accepted; accepted: {list(_ON_UNPARSED)}.")
    if on_missing not in ("raise", "keep"):
        raise ValueError(f"on_missing={on_missing!r} is not accepted; accepted: ['raise', 'keep'].")
    target_age = _check_age(target_age, "target_age")
    min_age = _check_age(min_age, "min_age")
    max_age = _check_age(max_age, "max_age")
    if min_age is not None and max_age is not None and min_age > max_age:
        raise ValueError(f"min_age={min_age} is above max_age={max_age}: no face could be kept.")
    root = os.path.abspath(os.path.expanduser(os.fspath(root)))
    if not os.path.isdir(root):
        raise FileNotFoundError(f"root {root!r} does not exist or is not a folder. {UTKFACE_SOURCES}")

    names = sorted(n for n in os.listdir(root) if n.lower().endswith(".jpg"))
    rows, unparsed = [], []
    for name in names:
        match = _NAME.match(name)
        if match is None:
            unparsed.append(name)
        else:
            rows.append((os.path.join(root, name), int(match[1]), int(match[2]), int(match[3])))
    if not rows:
        raise FileNotFoundError(
            f"no UTKFace image under root {root!r}: expected JPEG files named "
            f"[age]_[gender]_[race]_[date&time].jpg(.chip.jpg); found {len(names)} JPEG files"
            f"{' such as ' + show_items(unparsed) if unparsed else ''}. {UTKFACE_SOURCES}"
        )
    if unparsed:
        message = (
            f"{len(unparsed)} of the {len(names)} JPEG files under {root!r} have names without "
            f"the three labels [age]_[gender]_[race]_[date&time]: {show_items(unparsed)}"
        )
        if on_unparsed == "raise":
            raise ValueError(message + "; pass on_unparsed='warn' to leave them out.")
        warnings.warn(message + "; they are left out.", UserWarning, stacklevel=2)

    filename, age, utk_gender, race = (list(column) for column in zip(*rows))
    frame = pd.DataFrame(
        {
            "filename": filename,
            "age": np.asarray(age, dtype=int),
            # UTKFace: 0 male, 1 female; skface: -1 women, 1 men
            "gender": np.where(np.asarray(utk_gender) == 1, -1, 1),
            "race": np.asarray(race, dtype=int),
        }
    )
    frame["race_name"] = frame["race"].map(RACES)
    keep = np.ones(len(frame), dtype=bool)
    if min_age is not None:
        keep &= frame["age"].to_numpy() >= min_age
    if max_age is not None:
        keep &= frame["age"].to_numpy() <= max_age
    if not keep.any():
        raise ValueError(
            f"none of the {len(frame)} faces under {root!r} is aged between min_age={min_age} "
            f"and max_age={max_age} (ages found: {frame['age'].min()} to {frame['age'].max()})."
        )
    frame = frame[keep].reset_index(drop=True)
    if target_age is not None:
        frame["class"] = (frame["age"] >= target_age).astype(int)
    check_files(frame["filename"].tolist(), under=root, hint=UTKFACE_SOURCES,
                error=FileNotFoundError, allow_missing=on_missing == "keep")
    return frame
