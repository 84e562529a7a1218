"""The HTML report of ``skface demo`` and ``skface evaluate``: ``report.html`` and its PNGs.

Not to be confused with :func:`skface.fairness.fairness_report`, the
per-group audit (a fairlearn ``MetricFrame``) that this page shows. The page
is self-contained: the figures are PNG files beside it, linked by relative
names, with inline CSS and no script, font or anything else from the
network, so the folder can be zipped, mailed and opened anywhere.

Figures are drawn with matplotlib's object API (``Figure`` on the Agg
canvas), never through pyplot, so building a report leaves no global state
behind and works without a display.

Labels are -1/1 throughout (the reference's prediction labels); the CSVs a
run reads may hold them as class 0/1. Every model is shown next to the
majority-class baseline (always the most frequent label), and no model at or
below its accuracy is marked best.
"""

import html
import os
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._atomic import atomic_path, write_text

__all__ = ["ModelResult", "majority_baseline", "bootstrap_fair_metric", "best_model", "summary_table", "interval_text",
           "write_report", "group_label", "members"]

_GRID = 16  # misclassified faces shown at most
_DPI = 100


@dataclass
class ModelResult:
    """What the report shows of one model evaluated on the report's data.

    Attributes
    ----------
    name : str
        Shown in tables and figure titles, e.g. ``"weighted"``.
    y_pred : ndarray of shape (n,)
        Predicted labels, -1/1.
    proba : ndarray of shape (n,) or None
        Probability of label 1; None for a model without one (the baseline).
    history : dict of list or None
        Keras history (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``);
        None draws no training curves for this model.
    note : str
        One line shown under the model's name (how it was trained).
    fair_metric_ci : tuple of float or None
        A 95 % interval of its Fair_Metric (:func:`bootstrap_fair_metric`),
        shown beside it; None shows none.
    """

    name: str
    y_pred: np.ndarray
    proba: np.ndarray | None
    history: dict | None = None
    note: str = ""
    frame: object = field(default=None, repr=False)  # fairlearn MetricFrame, filled in
    fair_metric_ci: tuple | None = None


def majority_baseline(y_true):
    """The model that always predicts the most frequent label of ``y_true`` (-1 on a tie).

    Its accuracy is the share of that label: a model no more accurate has
    learned nothing but the label balance.
    """
    y_true = np.asarray(y_true)
    label = 1 if (y_true == 1).sum() > (y_true != 1).sum() else -1
    return ModelResult(
        f"majority class (always {label:+d})", np.full(len(y_true), label), None, None,
        f"the baseline: predicts {label:+d}, the most frequent label of these data, for every face",
    )


def bootstrap_fair_metric(y_true, predictions, groups, *, n_resamples=1000, random_state=0, level=0.95,
                          reference=None):
    """Percentile intervals of Fair_Metric over resamples of the evaluated faces.

    Every prediction in ``predictions`` is scored on the same resamples
    (:func:`skface.metrics.fair_metric_bootstrap`), so the intervals of two
    models differ by the models, not by the draws.

    ``reference``, the index of one prediction, gives instead the interval of
    each prediction's Fair_Metric minus the reference's on the same resamples:
    the paired interval of the difference. Two models that err on mostly the
    same faces can differ beyond doubt while their own intervals overlap.

    Returns
    -------
    list of (float, float)
        The interval of each prediction, in order.
    """
    from ..metrics import fair_metric_bootstrap

    replicates = fair_metric_bootstrap(
        y_true, np.asarray(predictions), sensitive_features=groups, n_resamples=n_resamples, random_state=random_state
    )
    if reference is not None:
        replicates = replicates - replicates[reference]
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(replicates, [tail, 100 - tail], axis=-1)
    return [(float(lo), float(hi)) for lo, hi in zip(low, high)]


def best_model(results, baseline):
    """The result with the highest Fair_Metric among those more accurate than
    ``baseline``, or None when none is (or there is only one model to compare)."""
    floor = float(baseline.frame.overall["accuracy"])
    above = [r for r in results if float(r.frame.overall["accuracy"]) > floor]
    if len(results) < 2 or not above:
        return None
    return max(above, key=lambda r: float(r.frame.fair_metric))


def at(series, group):
    """``series``'s value for ``group``: ``.loc`` would read a tuple (an
    intersectional group) as one label per index level."""
    return series.iloc[series.index.get_loc(group)]


def members(groups, group):
    """Where ``groups`` holds ``group``; one comparison per sample, so that a
    tuple (an intersectional group) is compared whole, not broadcast."""
    return np.fromiter((g == group for g in groups), dtype=bool, count=len(groups))


def group_label(column, group, *, short=False, plain=False):
    """Readable name of a group: ``gender = -1 (women)`` for the reference coding.

    ``short`` gives ``women (-1)``, or ``column=group`` outside that coding;
    ``plain`` gives ``gender = -1``. An intersectional group (a tuple, of
    columns named ``"gender x race"``) is named part by part: ``gender = -1
    (women), race = 2``.
    """
    columns = column.split(" x ")
    if isinstance(group, tuple) and len(group) == len(columns) > 1:
        return ", ".join(group_label(c, g, short=short, plain=plain) for c, g in zip(columns, group))
    if plain:
        return f"{column} = {group}"
    named = column == "gender" and group in (-1, 1)
    name = "women" if group == -1 else "men"
    if short:
        return f"{name} ({group})" if named else f"{column}={group}"
    return f"{column} = {group}" + (f" ({name})" if named else "")


def _slug(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "model"


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=_DPI, layout="constrained")


def _save(fig, directory, name):
    # temporary name, then rename: report.html never shows a half-written figure
    with atomic_path(os.path.join(directory, name), durable=False) as tmp:
        fig.savefig(tmp, dpi=_DPI)
    return name


# ------------------------------------------------------------------ figures
_GROUP_ACCURACY = re.compile(r"^val_accuracy\[(?P<group>.+)\]$")


def _history_group(name):
    # history keys name a group by str(value): -1 and 1 read back as the ints they were
    try:
        return int(name)
    except ValueError:
        return name


def _group_curves(history, column="gender"):
    """The validation curves of a model fit with groups: each group's accuracy, then
    Fair_Metric, as (label, values); empty for a model fit without."""
    curves = [(f"accuracy {group_label(column, _history_group(m.group('group')), short=True)}", history[key])
              for key in history if (m := _GROUP_ACCURACY.match(key)) and history[key]]
    if curves and history.get("val_fair_metric"):
        curves.append(("Fair_Metric", history["val_fair_metric"]))
    return curves


def _plot_history(history, title, column="gender"):
    groups = _group_curves(history, column)
    fig = _figure(12.0 if groups else 8.0, 3.2)
    axes = fig.subplots(1, 3 if groups else 2)
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for key, style, label in ((metric, "o-", "train"), ("val_" + metric, "s--", "validation")):
            values = history.get(key) or []
            if values:
                ax.plot(np.arange(1, len(values) + 1), values, style, label=label)
        ax.set_ylabel(metric)
        ax.set_title(metric)
    if groups:
        ax = axes[2]
        for label, values in groups:
            style = "k^-" if label == "Fair_Metric" else "s--"
            ax.plot(np.arange(1, len(values) + 1), values, style, label=label)
        ax.set_ylabel("validation accuracy / Fair_Metric")
        ax.set_title(f"validation, per {column}")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return fig


def _plot_fair_metric(results, groups, column):
    names = [r.name for r in results]
    series = {group_label(column, g): [at(r.frame.by_group["accuracy"], g) for r in results] for g in groups}
    series["Fair_Metric"] = [r.frame.fair_metric for r in results]
    fig = _figure(max(5.0, 2.2 * len(results) + 2.0), 3.8)
    ax = fig.add_subplot()
    width = 0.8 / len(series)
    positions = np.arange(len(names))
    errors = None
    if all(r.fair_metric_ci is not None for r in results):
        # the bootstrap interval as an error bar on Fair_Metric
        errors = np.array([[r.frame.fair_metric - r.fair_metric_ci[0], r.fair_metric_ci[1] - r.frame.fair_metric]
                           for r in results]).T.clip(0)
    for i, (label, values) in enumerate(series.items()):
        offset = (i - (len(series) - 1) / 2) * width
        hatch = "//" if label == "Fair_Metric" else None
        yerr = errors if label == "Fair_Metric" else None
        bars = ax.bar(positions + offset, values, width, label=label, hatch=hatch, yerr=yerr, capsize=3)
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=1)
    ax.set_xticks(positions, names)
    low = min(0.0, min(min(v) for v in series.values()),
              *([] if errors is None else [min(r.fair_metric_ci[0] for r in results)]))
    ax.set_ylim(low, 1.2)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("test accuracy / Fair_Metric")
    ax.set_title("Accuracy per group and Fair_Metric = mean - 2 x gap"
                 + ("" if errors is None else " (bars: its 95% interval)"))
    ax.legend(loc="upper center", ncols=len(series), fontsize=8, frameon=False)
    return fig


def _plot_confusion(y_true, result, groups_arr, groups, column):
    from sklearn.metrics import confusion_matrix

    fig = _figure(3.4 * len(groups) + 0.4, 3.4)
    axes = np.atleast_1d(fig.subplots(1, len(groups)))
    labels = [-1, 1]
    for ax, group in zip(axes, groups):
        mask = members(groups_arr, group)
        matrix = confusion_matrix(y_true[mask], result.y_pred[mask], labels=labels)
        share = matrix / max(matrix.sum(), 1)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for (i, j), count in np.ndenumerate(matrix):
            color = "white" if share[i, j] > 0.5 else "black"
            ax.text(j, i, f"{count}\n{share[i, j]:.1%}", ha="center", va="center", color=color, fontsize=9)
        ax.set_xticks([0, 1], ["-1", "+1"])
        ax.set_yticks([0, 1], ["-1", "+1"])
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{group_label(column, group)}\nn={int(mask.sum())}", fontsize=9)
    fig.suptitle(f"Confusion matrix per group: {result.name}")
    return fig


def _plot_calibration(y_true, results, groups_arr, groups, column):
    """Reliability curves per group: observed share of label 1 against the mean
    predicted probability in 10 equal-width bins, one panel per model."""
    from sklearn.calibration import calibration_curve

    fig = _figure(3.2 * len(results) + 0.6, 3.4)
    for i, result in enumerate(results):
        ax = fig.add_subplot(1, len(results), i + 1)
        ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1, label="calibrated")
        for group in groups:
            mask = members(groups_arr, group)
            observed, predicted = calibration_curve(y_true[mask] == 1, result.proba[mask], n_bins=10)
            ax.plot(predicted, observed, marker="o", markersize=3, label=group_label(column, group, short=True))
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="mean P(label 1) in the bin", title=result.name)
        if i == 0:
            ax.set_ylabel("share of label 1")
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    return fig


def _software():
    """The versions that produced the page, and when."""
    import datetime
    import importlib.metadata
    import platform

    versions = {"date (UTC)": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "python": platform.python_version()}
    for name in ("skface", "tensorflow", "keras", "scikeras", "scikit-learn", "fairlearn", "numpy", "pandas"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _load_thumbnail(image):
    """An (H, W, 3) uint8 array from an array or an image path."""
    if isinstance(image, np.ndarray):
        array = image if image.dtype == np.uint8 else (np.clip(image, 0, 1) * 255).astype(np.uint8)
        if array.ndim == 3 and array.shape[-1] == 3:
            return array
        return np.repeat(array.reshape(array.shape[:2] + (1,)), 3, -1)
    from PIL import Image

    with Image.open(image) as im:
        im = im.convert("RGB")
        im.thumbnail((128, 128))
        return np.asarray(im)


def _worst_errors(y_true, result, limit=_GRID):
    """Indices of misclassified samples, most confidently wrong first.

    How wrong a prediction is: the probability given to the wrong class
    (``proba`` for a true -1, ``1 - proba`` for a true +1), which does not
    depend on the decision threshold.
    """
    wrong = np.flatnonzero(result.y_pred != y_true)
    wrong_proba = np.where(y_true[wrong] == 1, 1 - result.proba[wrong], result.proba[wrong])
    order = np.argsort(-wrong_proba, kind="stable")
    return wrong[order[:limit]]


def _plot_misclassified(images, y_true, result, groups_arr, column, filenames):
    worst = _worst_errors(y_true, result)
    if worst.size == 0:
        return None
    cols = min(4, worst.size)
    rows = int(np.ceil(worst.size / cols))
    fig = _figure(1.9 * cols, 2.25 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, i in zip(axes, worst):
        ax.imshow(_load_thumbnail(images[i]), interpolation="nearest")
        name = os.path.basename(str(filenames[i])) if filenames is not None else f"#{i}"
        group = group_label(column, groups_arr[i]).split(" = ")[-1]
        ax.set_title(
            f"{name}\ntrue {int(y_true[i]):+d}, pred {int(result.y_pred[i]):+d}\n"
            f"P(+1)={result.proba[i]:.2f}, {group}",
            fontsize=7,
        )
    fig.suptitle(f"Misclassified faces, most confident first: {result.name}")
    return fig


def _misclassified_table(y_true, result, groups_arr, column, filenames):
    """The faces of misclassified.png, in its order, with their probabilities."""
    worst = _worst_errors(y_true, result)
    names = [os.path.basename(str(filenames[i])) if filenames is not None else f"#{i}" for i in worst]
    table = pd.DataFrame({
        "group": [group_label(column, groups_arr[i], short=True) for i in worst],
        "true": [f"{int(y_true[i]):+d}" for i in worst],
        "predicted": [f"{int(result.y_pred[i]):+d}" for i in worst],
        "P(+1)": result.proba[worst].astype(float),
        "P(wrong label)": np.where(y_true[worst] == 1, 1 - result.proba[worst], result.proba[worst]).astype(float),
    }, index=pd.Index(names, name="face"))
    return table


# --------------------------------------------------------------------- html
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .8em 0; }
th, td { border: 1px solid #ccc; padding: .3em .7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f0f0; }
td.best { font-weight: bold; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9em; }
.note { color: #555; font-size: .9em; }
code { background: #f5f5f5; padding: 0 .2em; }
table.kv td { text-align: left; }
"""


def _e(value):
    return html.escape(str(value), quote=True)


def _table(frame, *, table_id=None, best=None, best_column=None):
    """A DataFrame as an escaped HTML table (index as the first column); the
    cell of row ``best`` in ``best_column`` is bold."""
    head = "".join(f"<th>{_e(c)}</th>" for c in [frame.index.name or ""] + list(frame.columns))
    rows = []
    for r, index in enumerate(frame.index):
        cells = [f"<td>{_e(index)}</td>"]
        for c, column in enumerate(frame.columns):
            value = frame.iat[r, c]  # not iterrows, which turns int columns to float
            text = f"{value:.3f}" if isinstance(value, (float, np.floating)) else str(value)
            cls = ' class="best"' if index == best and column == best_column else ""
            cells.append(f"<td{cls}>{_e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    attr = f' id="{_e(table_id)}"' if table_id else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figure_html(name, alt, caption):
    return (
        f'<figure><img src="{_e(name)}" alt="{_e(alt)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _key_values(mapping):
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in mapping.items())
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def interval_text(interval):
    return f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def summary_table(results, groups, column):
    """Per-group accuracy, overall accuracy and Fair_Metric of every model
    (each ``result.frame``, the fairness audit, filled in by :func:`write_report`),
    and its interval when a result has one."""
    rows = {}
    for r in results:
        accuracy = r.frame.by_group["accuracy"]
        row = {f"accuracy {group_label(column, g, short=True)}": float(at(accuracy, g)) for g in groups}
        row["accuracy"] = float(r.frame.overall["accuracy"])
        row["Fair_Metric"] = float(r.frame.fair_metric)
        if any(other.fair_metric_ci is not None for other in results):
            row["Fair_Metric 95% interval"] = "" if r.fair_metric_ci is None else interval_text(r.fair_metric_ci)
        rows[r.name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    return table


def write_report(
    directory,
    *,
    title,
    y_true,
    sensitive_features,
    results,
    images,
    baseline=None,
    filenames=None,
    sensitive_name="gender",
    parameters=None,
    data_summary=None,
    intro="",
):
    """Write ``report.html`` and its PNG figures to ``directory``.

    Parameters
    ----------
    directory : str or path-like
        Created if missing; files of the same names are replaced.
    title : str
        Page title.
    y_true : array-like of shape (n,)
        True labels, -1/1, of the evaluated data.
    sensitive_features : array-like of shape (n,)
        Group of every sample (e.g. gender -1/1).
    results : list of ModelResult
        Models to show, in order; the last one is the main one (its
        misclassified faces are shown).
    images : array of shape (n, H, W, 3) or sequence of paths
        The evaluated images, for the grid of misclassified faces.
    baseline : ModelResult, optional
        The majority-class baseline (:func:`majority_baseline`; by default
        that of ``y_true``), shown beside the models in the summary.
    filenames : sequence of str, optional
        Names shown under the faces.
    sensitive_name : str
        Name of the sensitive attribute (column), e.g. ``"gender"``.
    parameters : dict, optional
        The run's parameters, shown as a table.
    data_summary : pandas.DataFrame, optional
        Counts per split, group and class, shown as a table.
    intro : str
        A paragraph under the title.

    Returns
    -------
    str
        Path of ``report.html``.
    """
    from ..fairness import fairness_report, plot_fairness

    directory = os.path.abspath(os.fspath(directory))
    os.makedirs(directory, exist_ok=True)
    y_true = np.asarray(y_true)
    groups_arr = np.asarray(sensitive_features)
    groups = sorted(pd.unique(groups_arr).tolist(), key=repr)
    baseline = majority_baseline(y_true) if baseline is None else baseline
    for result in (*results, baseline):
        # pos_label=1 also when a model predicts one label only and y_true holds the other
        result.frame = fairness_report(
            y_true, result.y_pred, sensitive_features=pd.Series(groups_arr, name=sensitive_name),
            y_proba=result.proba, pos_label=1,
        )

    parts = [f"<h1>{_e(title)}</h1>"]
    if intro:
        parts.append(f"<p>{_e(intro)}</p>")

    parts.append("<h2>Summary</h2>")
    parts.append(
        '<p class="note">Accuracy per group on the evaluated data, and Fair_Metric = '
        "mean of the per-group accuracies - 2 x (max - min) of them (higher is better; "
        "1 is perfect and equal accuracy).</p>"
    )
    best = best_model(results, baseline)
    parts.append(_table(summary_table([*results, baseline], groups, sensitive_name), table_id="summary",
                        best=None if best is None else best.name, best_column="Fair_Metric"))
    floor = float(baseline.frame.overall["accuracy"])
    below = [r.name for r in results if float(r.frame.overall["accuracy"]) <= floor]
    if any(r.fair_metric_ci is not None for r in (*results, baseline)):
        parts.append('<p class="note">Fair_Metric 95% interval: the 2.5th and 97.5th percentiles of Fair_Metric '
                     "over bootstrap resamples of the evaluated faces, the same resamples for every model. An "
                     "interval wholly above another's shows a difference; overlapping intervals do not show that "
                     "there is none: the interval of the difference on the same resamples (paired, as "
                     "<code>skface demo</code> prints it) is the test.</p>")
    if best is not None:
        parts.append(f'<p class="note">In bold: the best Fair_Metric among the models more accurate than '
                     f'the majority-class baseline ({floor:.3f}).</p>')
    if below:
        parts.append(f'<p class="note" id="below-baseline"><b>At or below the majority-class baseline</b> '
                     f'(accuracy {floor:.3f}): {_e(", ".join(below))}. Such a model has learned nothing but '
                     'the label balance; train it longer (more epochs, a larger patience of early '
                     'stopping).</p>')
    for r in (*results, baseline):
        if r.note:
            parts.append(f'<p class="note"><b>{_e(r.name)}</b>: {_e(r.note)}</p>')
    name = _save(_plot_fair_metric([*results, baseline], groups, sensitive_name), directory, "fair_metric.png")
    parts.append(_figure_html(name, "Fair_Metric and accuracy per group",
                              "Per-group accuracy and Fair_Metric of each model and of the majority-class baseline."))

    curves = [r for r in results if r.history]
    if curves:
        parts.append("<h2>Training curves</h2>")
        for r in curves:
            fig = _plot_history(r.history, f"Training: {r.name}", sensitive_name)
            name = _save(fig, directory, f"training_{_slug(r.name)}.png")
            per_group = (f"; and each {sensitive_name}'s accuracy and Fair_Metric on the hold-out"
                         if _group_curves(r.history) else "")
            parts.append(_figure_html(
                name, f"training curves of {r.name}",
                f"{r.name}: loss and accuracy per epoch, training data and early-stopping validation "
                f"hold-out{per_group}.",
            ))

    parts.append("<h2>Metrics per group</h2>")
    for r in results:
        by_group = r.frame.by_group.copy()
        by_group.index = [group_label(sensitive_name, g) for g in by_group.index]
        by_group.index.name = "group"
        by_group.loc["overall"] = r.frame.overall
        by_group["count"] = by_group["count"].astype(int)
        parts.append(f"<h3>{_e(r.name)}</h3>")
        parts.append(_table(by_group, table_id=f"groups_{_slug(r.name)}"))
        name = _save(plot_fairness(r.frame), directory, f"fairness_{_slug(r.name)}.png")
        parts.append(_figure_html(
            name, f"metrics per group of {r.name}",
            f"{r.name}: accuracy, selection rate, true and false positive rate (and ROC AUC and calibration "
            "error) per group, from fairlearn's MetricFrame.",
        ))

    scored = [r for r in results if r.proba is not None]
    if scored:
        parts.append("<h2>Calibration per group</h2>")
        name = _save(_plot_calibration(y_true, scored, groups_arr, groups, sensitive_name), directory,
                     "calibration.png")
        parts.append(_figure_html(
            name, "calibration curves per group",
            "Share of label 1 among the faces whose predicted probability falls in each tenth of [0, 1], per "
            "group (the dotted diagonal is perfect calibration); calibration_error in the tables above is the "
            "count-weighted mean distance to it.",
        ))

    parts.append("<h2>Confusion matrices per group</h2>")
    for r in results:
        fig = _plot_confusion(y_true, r, groups_arr, groups, sensitive_name)
        name = _save(fig, directory, f"confusion_{_slug(r.name)}.png")
        parts.append(_figure_html(name, f"confusion matrices of {r.name}",
                                  f"{r.name}: counts and share of each group's samples."))

    main = results[-1]
    parts.append("<h2>Misclassified faces, most confident first</h2>")
    fig = _plot_misclassified(images, y_true, main, groups_arr, sensitive_name, filenames)
    if fig is None:
        parts.append(f"<p>{_e(main.name)} misclassifies no face.</p>")
    else:
        name = _save(fig, directory, "misclassified.png")
        n_wrong = int(np.sum(main.y_pred != y_true))
        parts.append(_figure_html(
            name, f"misclassified faces of {main.name}",
            f"{main.name}: {n_wrong} of {len(y_true)} faces misclassified. Shown: up to {_GRID} of them, "
            "the most confidently wrong first (the highest probability given to the wrong label).",
        ))
        parts.append(_table(_misclassified_table(y_true, main, groups_arr, sensitive_name, filenames),
                            table_id="misclassified"))

    if data_summary is not None:
        parts.append("<h2>Data</h2>")
        parts.append(_table(data_summary, table_id="data"))
    parts.append('<p class="note">Labels are -1/1 on this page and in predictions.csv (the reference\'s '
                 "prediction labels: -1 is class 0, 1 is class 1); the CSVs that list the images may hold "
                 "them as class 0/1.</p>")
    if parameters:
        parts.append("<h2>Parameters</h2>")
        parts.append(_key_values(parameters))
    parts.append("<h2>Software</h2>")
    parts.append(_key_values(_software()))

    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
    return write_text(os.path.join(directory, "report.html"), page)
