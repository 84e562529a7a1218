"""Read an existing local copy of CelebA (the official text files or the Kaggle CSVs)."""

import numbers
import os

import numpy as np
import pandas as pd

from .._validation import check_files

__all__ = ["load_celeba"]

CELEBA_SOURCES = (
    "CelebA is not downloaded by skface; get it from the official page "
    "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (img_align_celeba.zip, "
    "Anno/list_attr_celeba.txt, Eval/list_eval_partition.txt) or from the Kaggle "
    "mirror https://www.kaggle.com/datasets/jessicali9530/celeba-dataset (CSV files), "
    "and unpack it under root."
)
_SPLITS = {"train": 0, "valid": 1, "test": 2}
_SPLIT_ALIASES = {"train": 0, "valid": 1, "val": 1, "validation": 1, "test": 2}
_SPLIT_NAMES = {code: name for name, code in _SPLITS.items()}


def _find(root, names, subdirs):
    """First existing ``root/sub/name``, or None; and every place looked at."""
    looked = []
    for sub in subdirs:
        for name in names:
            path = os.path.join(root, sub, name) if sub else os.path.join(root, name)
            looked.append(os.path.relpath(path, root))
            if os.path.isfile(path):
                return path, looked
    return None, looked


def _read_attributes(path):
    if path.endswith(".csv"):
        frame = pd.read_csv(path)
        if "image_id" not in frame.columns:
            raise ValueError(
                f"{path!r} has no column 'image_id'; its first columns are "
                f"{list(frame.columns[:3])}. Expected the Kaggle layout "
                "image_id,5_o_Clock_Shadow,..."
            )
        return frame.set_index("image_id")
    with open(path) as handle:
        declared = handle.readline().strip()
        names = handle.readline().split()
    # rows are "000001.jpg -1  1  1 ..." with runs of spaces
    frame = pd.read_csv(path, sep=r"\s+", skiprows=2, header=None, dtype={0: str})
    if frame.shape[1] != len(names) + 1:
        raise ValueError(
            f"{path!r} is not in the CelebA text layout: its second line names "
            f"{len(names)} attributes but its rows have {frame.shape[1] - 1} values. "
            "Expected a count, then the attribute names, then '000001.jpg -1 1 ...'."
        )
    frame.columns = ["image_id"] + names
    if declared.isdigit() and int(declared) != len(frame):
        raise ValueError(
            f"{path!r} declares {int(declared)} images on its first line but lists "
            f"{len(frame)}: the file looks truncated."
        )
    return frame.set_index("image_id")


def _read_partition(path):
    if path.endswith(".csv"):
        frame = pd.read_csv(path)
        missing = [c for c in ("image_id", "partition") if c not in frame.columns]
        if missing:
            raise ValueError(
                f"{path!r} has no column(s) {missing}; its columns are {list(frame.columns)}."
            )
    else:
        frame = pd.read_csv(
            path, sep=r"\s+", header=None, names=["image_id", "partition"], dtype={0: str}
        )
    return frame.set_index("image_id")["partition"]


def _check_names(value, name, attributes, *, single):
    accepted = "a CelebA attribute name" if single else "a CelebA attribute name or a list of them"
    if isinstance(value, str):
        names = [value]
    elif single:
        raise TypeError(f"{name} must be {accepted}, got {value!r}.")
    else:
        try:
            names = list(value)
        except TypeError:
            raise TypeError(f"{name} must be {accepted}, got {value!r}.") from None
        if not names or not all(isinstance(v, str) for v in names):
            raise ValueError(f"{name} must be {accepted}, got {value!r}.")
    unknown = [v for v in names if v not in attributes]
    if unknown:
        raise ValueError(
            f"{name} names unknown attribute(s) {unknown}; the attributes are {list(attributes)}."
        )
    return names


def _check_split(split):
    accepted = (
        "None, 'train', 'valid' or 'test' (or 0, 1, 2 as in list_eval_partition), "
        "or a list of them"
    )
    values = [split] if isinstance(split, (str, numbers.Integral)) else split
    try:
        values = list(values)
    except TypeError:
        raise TypeError(f"split must be {accepted}, got {split!r}.") from None
    codes = []
    for value in values:
        if isinstance(value, str) and value.lower() in _SPLIT_ALIASES:
            codes.append(_SPLIT_ALIASES[value.lower()])
        elif (
            isinstance(value, numbers.Integral)
            and not isinstance(value, (bool, np.bool_))
            and value in _SPLIT_NAMES
        ):
            codes.append(int(value))
        else:
            raise ValueError(f"split must be {accepted}, got {split!r}.")
    if not codes:
        raise ValueError(f"split must be {accepted}, got {split!r}.")
    return codes


def load_celeba(root, *, target=("Blond_Hair", "Eyeglasses"), sensitive="Male", split=None, on_missing="raise"):
    """Read a local copy of CelebA as a DataFrame ready for ``FaceCNNClassifier``.

    Nothing is downloaded. ``root`` must hold the aligned images and the
    attribute list, in either of the two common layouts:

    - official: ``img_align_celeba/000001.jpg``, ``list_attr_celeba.txt`` and
      ``list_eval_partition.txt`` (directly under ``root`` or in ``Anno/`` and
      ``Eval/``). The attribute file has the image count on its first line,
      the 40 attribute names on its second, then rows such as
      ``000001.jpg -1  1  1 ...``;
    - Kaggle: ``img_align_celeba/img_align_celeba/000001.jpg``,
      ``list_attr_celeba.csv`` (``image_id,5_o_Clock_Shadow,...``) and
      ``list_eval_partition.csv`` (``image_id,partition``).

    Parameters
    ----------
    root : str or path-like
        Folder holding the CelebA files.
    target : str or sequence of str, default=("Blond_Hair", "Eyeglasses")
        Attribute(s) defining the class: 1 when any of them is present.
    sensitive : str, default="Male"
        Attribute giving the ``gender`` column: -1 where it is absent (women,
        for ``"Male"``), 1 where it is present.
    split : None, str, int or sequence, default=None
        Which rows of the official partition to return: ``"train"``,
        ``"valid"`` or ``"test"`` (or 0, 1, 2 as in ``list_eval_partition``),
        or a list such as ``["train", "valid"]``. None returns every image;
        then the partition file is optional (``split`` is missing where it
        is absent).
    on_missing : {"raise", "keep"}, default="raise"
        "raise" refuses missing and empty image files up front. "keep" keeps
        their rows, for a reader that leaves unreadable files out itself and
        says which, such as ``FaceCNNClassifier(on_bad_image="skip")``.

    Returns
    -------
    frame : pandas.DataFrame
        One row per image, in the order of the attribute file, with columns
        ``filename`` (absolute path), ``gender`` (-1/1), ``class`` (0/1),
        ``split`` (``"train"``, ``"valid"`` or ``"test"``), then every
        attribute of the file as 0/1 (CelebA's -1 becomes 0).

    Raises
    ------
    FileNotFoundError
        If ``root``, the image folder, the attribute file, the partition file
        (when ``split`` is given) or some images are missing; the message
        says where CelebA can be obtained.
    ValueError
        If ``target``, ``sensitive``, ``split`` or ``on_missing`` are not
        valid, or a file is not in either layout.

    See Also
    --------
    load_faces : Read your own CSV of face images.

    Examples
    --------
    With CelebA unpacked in ``~/data/celeba``:

    >>> from skface.datasets import load_celeba
    >>> train = load_celeba("~/data/celeba", split="train")  # doctest: +SKIP
    >>> train[["filename", "gender", "class", "split"]].head()  # doctest: +SKIP

    The same on a two-image stand-in in the official layout (three of the 40
    attributes):

    >>> import os, tempfile
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(root, "img_align_celeba"))
    >>> for name in ("000001.jpg", "000002.jpg"):
    ...     Image.new("RGB", (178, 218)).save(os.path.join(root, "img_align_celeba", name))
    >>> with open(os.path.join(root, "list_attr_celeba.txt"), "w") as f:
    ...     _ = f.write("2\\nBlond_Hair Eyeglasses Male\\n"
    ...                 "000001.jpg  1 -1 -1\\n000002.jpg -1 -1  1\\n")
    >>> load_celeba(root)[["gender", "class", "Blond_Hair", "Male"]]
       gender  class  Blond_Hair  Male
    0      -1      1           1     0
    1       1      0           0     1
    """
    if on_missing not in ("raise", "keep"):
        raise ValueError(f"on_missing={on_missing!r} is not accepted; accepted: ['raise', 'keep'].")
    root = os.path.abspath(os.path.expanduser(os.fspath(root)))
    if not os.path.isdir(root):
        raise FileNotFoundError(
            f"root {root!r} does not exist or is not a folder. {CELEBA_SOURCES}"
        )

    nested = os.path.join(root, "img_align_celeba", "img_align_celeba")
    flat = os.path.join(root, "img_align_celeba")
    image_dir = nested if os.path.isdir(nested) else flat
    if not os.path.isdir(image_dir):
        raise FileNotFoundError(
            f"no image folder img_align_celeba/ (or img_align_celeba/img_align_celeba/) "
            f"under root {root!r}. {CELEBA_SOURCES}"
        )

    attr_path, looked = _find(
        root, ("list_attr_celeba.txt", "list_attr_celeba.csv"), ("", "Anno", "anno")
    )
    if attr_path is None:
        raise FileNotFoundError(
            f"no attribute file under root {root!r}; looked for {looked}. {CELEBA_SOURCES}"
        )
    attributes = _read_attributes(attr_path)

    targets = _check_names(target, "target", attributes.columns, single=False)
    sensitive_name = _check_names(sensitive, "sensitive", attributes.columns, single=True)[0]
    codes = None if split is None else _check_split(split)

    part_path, looked = _find(
        root, ("list_eval_partition.txt", "list_eval_partition.csv"), ("", "Eval", "eval")
    )
    if part_path is None and codes is not None:
        raise FileNotFoundError(
            f"split={split!r} needs the partition file, but there is none under root "
            f"{root!r}; looked for {looked}. {CELEBA_SOURCES}"
        )
    if part_path is None:
        partition = pd.Series(np.nan, index=attributes.index)
    else:
        partition = _read_partition(part_path).reindex(attributes.index)

    present = (attributes.to_numpy() > 0).astype(int)
    binary = pd.DataFrame(present, columns=attributes.columns, index=attributes.index)
    frame = pd.DataFrame(
        {
            "filename": [os.path.join(image_dir, name) for name in attributes.index],
            "gender": np.where(binary[sensitive_name] == 1, 1, -1),
            "class": binary[targets].max(axis=1).to_numpy(),
            "split": partition.map(_SPLIT_NAMES).to_numpy(),
        }
    )
    frame = pd.concat([frame, binary.reset_index(drop=True)], axis=1)
    if codes is not None:
        frame = frame[partition.isin(codes).to_numpy()].reset_index(drop=True)

    check_files(
        frame["filename"].tolist(),
        listed_in=os.path.basename(attr_path),
        under=image_dir,
        hint=CELEBA_SOURCES,
        error=FileNotFoundError,
        allow_missing=on_missing == "keep",
    )
    return frame
