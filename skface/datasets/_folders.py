"""Read a CSV that lists face images (the reference ``filename,gender,class`` layout)."""

import os

import pandas as pd

from .._validation import check_files, show_items

__all__ = ["load_faces"]

#: what ``on_missing`` accepts
_ON_MISSING = ("raise", "keep")


def load_faces(csv_path, image_dir=None, *, image_column="filename", on_missing="raise"):
    """Read a CSV of face images and return it with absolute image paths.

    The CSV has one row per image, e.g. in the reference layout written by
    :func:`write_faces`: ``filename,gender,class``. Paths in ``image_column``
    are relative to ``image_dir`` (by default the CSV's folder) unless they
    are absolute. Every listed image must exist, unless ``on_missing="keep"``.

    Parameters
    ----------
    csv_path : str or path-like
        The CSV file.
    image_dir : str or path-like, default=None
        Folder the image paths are relative to; the CSV's folder by default.
    image_column : str, default="filename"
        Column of the CSV holding the image paths.
    on_missing : {"raise", "keep"}, default="raise"
        "raise" refuses missing and empty image files up front. "keep" keeps
        their rows, for a reader that leaves unreadable files out itself and
        says which, such as ``FaceCNNClassifier(on_bad_image="skip")``.

    Returns
    -------
    frame : pandas.DataFrame
        All columns of the CSV in their order, with ``image_column`` holding
        absolute paths: ready for ``FaceCNNClassifier.fit(frame, frame["class"])``.

    Raises
    ------
    FileNotFoundError
        If the CSV, the image folder or some images do not exist (the message
        says how many images are missing and names the first ones).
    ValueError
        If the CSV has no ``image_column`` or no rows, or ``on_missing`` is
        not one of the accepted values.

    See Also
    --------
    write_faces : Write synthetic faces in this layout.
    load_celeba : Read a local copy of CelebA.

    Examples
    --------
    >>> import tempfile
    >>> from skface.datasets import write_faces, load_faces
    >>> csv_path = write_faces(tempfile.mkdtemp(), 10, image_size=16, random_state=0)
    >>> frame = load_faces(csv_path)
    >>> list(frame.columns)
    ['filename', 'gender', 'class']
    >>> bool(frame["filename"].str.endswith(".jpg").all())
    True
    """
    if on_missing not in _ON_MISSING:
        raise ValueError(f"on_missing={on_missing!r} is not accepted; accepted: {show_items(_ON_MISSING)}.")
    csv_path = os.path.abspath(os.fspath(csv_path))
    if not os.path.isfile(csv_path):
        raise FileNotFoundError(f"csv_path {csv_path!r} does not exist or is not a file.")
    if image_dir is None:
        image_dir = os.path.dirname(csv_path)
    else:
        image_dir = os.path.abspath(os.fspath(image_dir))
        if not os.path.isdir(image_dir):
            raise FileNotFoundError(
                f"image_dir {image_dir!r} does not exist or is not a folder."
            )

    try:
        frame = pd.read_csv(csv_path)
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"csv_path {csv_path!r} is empty: expected a header and one row per image."
        ) from None
    if image_column not in frame.columns:
        raise ValueError(
            f"{csv_path!r} has no column {image_column!r} "
            f"(missing columns: [{image_column!r}]); "
            f"its columns are {list(frame.columns)}. Name the column of image paths "
            "with image_column=."
        )
    if len(frame) == 0:
        raise ValueError(f"csv_path {csv_path!r} has a header but no rows.")
    if frame[image_column].isna().any():
        rows = frame.index[frame[image_column].isna()].tolist()
        raise ValueError(
            f"{csv_path!r} has empty values in column {image_column!r} "
            f"(rows {show_items(rows)})."
        )

    paths = [os.path.normpath(os.path.join(image_dir, str(p))) for p in frame[image_column]]
    check_files(
        paths,
        listed_in=os.path.basename(csv_path),
        under=image_dir,
        hint="Pass image_dir= if the paths are relative to another folder.",
        error=FileNotFoundError,
        allow_missing=on_missing == "keep",
    )
    frame = frame.copy()
    frame[image_column] = paths
    return frame
