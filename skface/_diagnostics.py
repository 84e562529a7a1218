"""Signs that a model learned nothing, read from its predictions alone.

A network that stops learning early (too few epochs, an early stop after one
epoch without progress, a learning rate too small or too large) still
predicts: it gives every image about the same probability, and so one class
to nearly every image. Accuracy then looks respectable on imbalanced data (80
% when 20 % are positive) although the model is the majority-class baseline.
:func:`degenerate_predictions` says so in one message. It uses nothing but
the probabilities ``predict_proba`` returns, so the command line (``skface
predict``, ``skface evaluate``) and the estimator's own ``fit`` can share it.
"""

import numpy as np

__all__ = ["degenerate_predictions"]


def degenerate_predictions(proba, threshold=0.5, *, classes=(0, 1), max_share=0.99, min_spread=0.02,
                           min_samples=20):
    """Describe predictions that look like a model that learned nothing, or return None.

    Parameters
    ----------
    proba : array-like of shape (n,) or (n, 2)
        Probability of class 1 (``predict_proba(X)[:, 1]``), or the two columns
        of ``predict_proba``.
    threshold : float, default=0.5
        Class 1 where the probability exceeds it, as in ``predict``.
    classes : pair, default=(0, 1)
        The names of the two classes in messages (e.g. ``(-1, 1)``, ``classes_``).
    max_share : float, default=0.99
        One class predicted for at least this share of the images is suspect.
    min_spread : float, default=0.02
        Probabilities whose range (max - min) is smaller are suspect.
    min_samples : int, default=20
        Fewer predictions are never called degenerate: one class for 5 images
        can be right.

    Returns
    -------
    str or None
        One message that says what is wrong and what to try, in the
        estimator's parameter names (``epochs=``, ``n_iter_no_change=``,
        ``learning_rate=``); None when nothing looks wrong.

    Examples
    --------
    >>> import numpy as np
    >>> from skface._diagnostics import degenerate_predictions
    >>> print(degenerate_predictions(np.full(50, 0.31), classes=(-1, 1)))  # doctest: +ELLIPSIS
    The model predicts -1 for all 50 images, with probabilities of class 1 between 0.310 and 0.310: ...
    >>> degenerate_predictions(np.linspace(0, 1, 50)) is None
    True
    """
    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 2 and proba.shape[1] == 2:
        proba = proba[:, 1]
    proba = proba.reshape(-1)
    n = len(proba)
    if n < min_samples:
        return None
    advice = ("it looks like a model that learned nothing. Try training longer (a larger epochs=, or a "
              "larger n_iter_no_change= so that early stopping waits longer), another learning_rate=, or "
              "more images.")
    if not np.isfinite(proba).all():
        return (f"The model gives NaN or infinite probabilities to {int((~np.isfinite(proba)).sum())} of the "
                f"{n} images: its training diverged. Try a smaller learning_rate=.")
    positive = proba > threshold
    n_pos = int(positive.sum())
    label, count = (classes[1], n_pos) if n_pos >= n - n_pos else (classes[0], n - n_pos)
    low, high = float(proba.min()), float(proba.max())
    one_class = count >= max_share * n
    flat = high - low < min_spread
    if not (one_class or flat):
        return None
    share = "all" if count == n else f"{count} of the"
    spread = f"probabilities of class {classes[1]} between {low:.3f} and {high:.3f}"
    if one_class:
        return f"The model predicts {label} for {share} {n} images, with {spread}: {advice}"
    return f"The model's {spread} for all {n} images barely differ: {advice}"
