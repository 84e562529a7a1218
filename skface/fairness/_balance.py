"""Equal group sizes by under- or oversampling rows."""

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .._options import BALANCE_STRATEGIES
from .._validation import check_groups


def balance_groups(frame, column, *, strategy="undersample", random_state=None):
    """Resample the rows of a DataFrame so that every group has the same size.

    The reference's gender undersampling (113,154 women and 79,422 men ->
    79,422 each) is ``balance_groups(frame, "gender")``; undersampling every
    gender x class cell to the smallest one (SUBG in Idrissi et al., 2022,
    "Simple data balancing achieves competitive worst-group-accuracy") is
    ``balance_groups(frame, ["gender", "label"])``.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per sample (e.g. ``filename``, ``gender``, label); every
        column is kept.
    column : str or list of str
        The column that holds the groups, or a list of columns: then the
        groups are the observed combinations of their values (e.g.
        ``["gender", "label"]`` for gender x class). No missing values.
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
    >>> frame["label"] = [0, 1, 1, 0, 1]
    >>> cells = balance_groups(frame, ["gender", "label"], random_state=0)
    >>> cells.groupby(["gender", "label"]).size().tolist()
    [1, 1, 1, 1]
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"frame must be a pandas DataFrame with one row per sample; got "
            f"{type(frame).__name__}."
        )
    columns = _group_columns(column, frame)
    if strategy not in BALANCE_STRATEGIES:
        raise ValueError(
            f"strategy must be one of {BALANCE_STRATEGIES}; got {strategy!r}."
        )
    groups = [check_groups(frame[name], name=f"frame[{name!r}]") for name in columns]
    if len(groups) == 1:
        codes, uniques = pd.factorize(groups[0], sort=True)
        n_groups = len(uniques)
    else:
        # one code per observed combination, sorted, so that the draws
        # depend only on the data and the seed
        cells = pd.MultiIndex.from_arrays(groups)
        uniques = cells.unique().sort_values()
        codes = uniques.get_indexer(cells)
        n_groups = len(uniques)
    rng = check_random_state(random_state)
    counts = np.bincount(codes, minlength=n_groups)
    target = counts.min() if strategy == "undersample" else counts.max()
    positions = []
    # groups in sorted order, so the draws depend only on the data and the seed
    for code in range(n_groups):
        members = np.flatnonzero(codes == code)
        if strategy == "undersample":
            positions.append(rng.choice(members, size=target, replace=False))
        else:
            extra = rng.choice(members, size=target - members.size, replace=True)
            positions.extend([members, extra])
    positions = np.sort(np.concatenate(positions), kind="stable")
    return frame.iloc[positions].copy()


def _group_columns(column, frame):
    """``column`` as a non-empty list of column names of ``frame``."""
    # a list, not a tuple: a tuple can be one column's label in pandas
    if isinstance(column, list):
        if not column:
            raise ValueError(
                "column must be a column name or a non-empty list of column names; "
                "got an empty list."
            )
        columns = list(column)
    else:
        columns = [column]
    for name in columns:
        if name not in frame.columns:
            raise ValueError(
                f"column={name!r} is not a column of frame; the columns are "
                f"{list(frame.columns)}."
            )
    if len(set(columns)) != len(columns):
        raise ValueError(f"column lists a column more than once: {columns!r}.")
    return columns
