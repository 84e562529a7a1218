"""Small argument checks shared by the dataset functions."""

import numbers

import numpy as np


def check_int(value, name, *, minimum):
    """Return ``value`` as an int, or raise naming ``name`` and the bound."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer >= {minimum}, got {value!r} "
            f"of type {type(value).__name__}."
        )
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_probability(value, name, *, high=1.0):
    """Return ``value`` as a float in [0, high], or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a number in [0, {high:g}], got {value!r} "
            f"of type {type(value).__name__}."
        )
    value = float(value)
    if not 0.0 <= value <= high:  # also rejects NaN
        raise ValueError(f"{name} must be a number in [0, {high:g}], got {value!r}.")
    return value


def check_rate_pair(value, name):
    """Return a (women, men) pair of probabilities.

    A single number applies to both groups.
    """
    accepted = "a probability in [0, 1] or a pair (women, men) of them"
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        value = (value, value)
    try:
        pair = tuple(value)
    except TypeError:
        raise TypeError(
            f"{name} must be {accepted}, got {value!r} of type {type(value).__name__}."
        ) from None
    if len(pair) != 2:
        raise ValueError(f"{name} must be {accepted}, got {value!r} ({len(pair)} values).")
    for item in pair:
        if (
            isinstance(item, (bool, np.bool_))
            or not isinstance(item, numbers.Real)
            or not 0.0 <= float(item) <= 1.0
        ):
            raise ValueError(f"{name} must be {accepted}, got {value!r}.")
    return float(pair[0]), float(pair[1])
