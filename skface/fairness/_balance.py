"""Equal group sizes by under- or oversampling rows."""

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .._validation import check_groups

_STRATEGIES = ("undersample", "oversample")


def balance_groups(frame, column, *, strategy="undersample", random_state=None):
    """Resample the rows of a DataFrame so that every group has the same size.

    The reference's gender undersampling (113,154 women and 79,422 men ->
    79,422 each) is ``balance_groups(frame, "gender")``.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per sample (e.g. ``filename``, ``gender``, label); every
        column is kept.
    column : str
        The column that holds the groups; no missing values.
    strategy : {"undersample", "oversample"}, default="undersample"
        - ``"undersample"``: draw, without replacement, as many rows of every
          group as the smallest group has.
        - ``"oversample"``: keep every row and add rows drawn with replacement
          from the smaller groups until each has as many as the largest.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws; an int gives the same rows on every call.

    Returns
    -------
    pandas.DataFrame
        The selected rows, in their original order and with their original
        index labels (oversampled copies repeat their row's label and follow
        it; call ``reset_index(drop=True)`` for a fresh index). A frame with a
        single group comes back as a copy.

    Examples
    --------
    >>> import pandas as pd
    >>> from skface.fairness import balance_groups
    >>> frame = pd.DataFrame({"filename": list("abcde"), "gender": [-1, -1, -1, 1, 1]})
    >>> balance_groups(frame, "gender", random_state=0)["gender"].value_counts().sort_index()
    gender
    -1    2
     1    2
    Name: count, dtype: int64
    >>> len(balance_groups(frame, "gender", strategy="oversample", random_state=0))
    6
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"frame must be a pandas DataFrame with one row per sample; got "
            f"{type(frame).__name__}."
        )
    if column not in frame.columns:
        raise ValueError(
            f"column={column!r} is not a column of frame; the columns are "
            f"{list(frame.columns)}."
        )
    if strategy not in _STRATEGIES:
        raise ValueError(
            f"strategy must be one of {_STRATEGIES}; got {strategy!r}."
        )
    codes, uniques = pd.factorize(check_groups(frame[column], name=f"frame[{column!r}]"), sort=True)
    rng = check_random_state(random_state)
    counts = np.bincount(codes, minlength=len(uniques))
    target = counts.min() if strategy == "undersample" else counts.max()
    positions = []
    # groups in sorted order, so the draws depend only on the data and the seed
    for code in range(len(uniques)):
        members = np.flatnonzero(codes == code)
        if strategy == "undersample":
            positions.append(rng.choice(members, size=target, replace=False))
        else:
            extra = rng.choice(members, size=target - members.size, replace=True)
            positions.extend([members, extra])
    positions = np.sort(np.concatenate(positions), kind="stable")
    return frame.iloc[positions].copy()
