"""Argument types of the ``skface`` options: text to value, or an argparse usage error.

Each function takes the option's text and returns the value, or raises
:class:`argparse.ArgumentTypeError`, which argparse reports as
``skface COMMAND: error: argument --OPTION: ...`` with exit status 2. The
messages say what is accepted.
"""

import argparse
import math

__all__ = [
    "int_at_least", "positive_int", "non_negative_int", "image_size",
    "positive_float", "non_negative_float", "probability", "filters", "weights",
    "keras_path", "describe_weights", "columns",
]


def int_at_least(minimum, expected):
    """An argparse type: an int >= ``minimum``; ``expected`` words the error."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


positive_int = int_at_least(1, "a positive integer")
non_negative_int = int_at_least(0, "an integer >= 0")
image_size = int_at_least(8, "an integer >= 8 (pixels)")


def positive_float(text):
    """A finite number > 0, such as a learning rate."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0.0 < value < math.inf):  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a positive number such as 0.001, got {text!r}")
    return value


def non_negative_float(text):
    """A finite number >= 0, such as a step size or a penalty's weight (0 turns it off)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0.0 <= value < math.inf):  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a number >= 0 such as 0.01, got {text!r}")
    return value


def probability(text):
    """A number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def filters(text):
    """Comma-separated positive integers: ``32,64,128``."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 32,64,128, got {text!r}"
        )
    return values


def columns(text):
    """One column name, or several joined by commas (``gender,race``): their
    combinations are the groups. Kept as written; no empty or repeated names."""
    names = text.split(",")
    if any(not name.strip() for name in names) or len(set(names)) < len(names):
        raise argparse.ArgumentTypeError(
            f"expected a column name or several joined by commas (e.g. gender,race), got {text!r}")
    return text


def _group_key(text):
    # groups are read from a CSV, where pandas makes -1/1 ints: match their type
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def weights(text):
    """``none``, ``balanced`` or ``GROUP=WEIGHT,...`` (e.g. ``-1=1,1=0.1``)."""
    if text == "none":
        return None
    if text == "balanced":
        return "balanced"
    mapping = {}
    for item in text.split(","):
        group, sep, weight = item.partition("=")
        try:
            value = float(weight)
        except ValueError:
            value = math.nan
        if not sep or not group.strip() or not 0 <= value < math.inf:
            raise argparse.ArgumentTypeError(
                f"expected 'balanced', 'none' or GROUP=WEIGHT pairs such as -1=1,1=0.1 "
                f"(weights finite and >= 0), got {text!r}"
            )
        mapping[_group_key(group.strip())] = value
    return mapping


def describe_weights(value):
    """A parsed ``--weights`` value in words, for what a command prints."""
    if value is None:
        return "none"
    if value == "balanced":
        return "balanced (every group the same total weight)"
    return ", ".join(f"{g}: {w:g}" for g, w in value.items())


def keras_path(text):
    """A path ending in ``.keras``, the only format the model is saved in."""
    if not text.endswith(".keras"):
        raise argparse.ArgumentTypeError(f"the model file must end in '.keras', got {text!r}")
    return text
