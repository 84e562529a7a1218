"""Helpers of the documentation build, named in conf.py by their fully
qualified names (so that Sphinx can pickle its configuration)."""

import linecache
import os
import sys
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def repository_paths_in_warnings():
    """Warnings name their file relative to the repository (``examples/plot_x.py:48``)
    or to site-packages, never by the build machine's absolute path, which the
    gallery would otherwise print on the published pages."""
    format_warning = warnings.formatwarning

    def formatwarning(message, category, filename, lineno, line=None):
        path = os.path.abspath(filename)
        if line is None:  # read from the real file: the shortened name would not find it
            line = linecache.getline(path, lineno)
        if path.startswith(ROOT + os.sep):
            filename = os.path.relpath(path, ROOT)
        elif "site-packages" + os.sep in path:
            filename = path.split("site-packages" + os.sep, 1)[1]
        return format_warning(message, category, filename, lineno, line)

    warnings.formatwarning = formatwarning


def reset_keras(gallery_conf, fname):
    """Free the previous gallery example's Keras models before the next one runs."""
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()


def detached_figure_scraper(block, block_vars, gallery_conf):
    """Show matplotlib figures that pyplot does not manage.

    :func:`skface.fairness.plot_fairness` returns a ``Figure`` that is not
    attached to pyplot (it leaves pyplot's state alone), so sphinx-gallery's
    matplotlib scraper, which asks pyplot for its figures, cannot see it.
    This scraper saves every such figure that the example holds in a global
    variable, once. It runs before matplotlib's, so that pyplot's figures are
    told apart while pyplot still manages them.
    """
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    rst = []
    for value in list(block_vars["example_globals"].values()):
        if not isinstance(value, Figure) or getattr(value, "_skface_docs_shown", False):
            continue
        if value.canvas.manager is not None:
            # a pyplot figure: matplotlib's scraper, which runs after this one,
            # saves it and closes it; once closed, it would look detached here
            value._skface_docs_shown = True
            continue
        path = next(block_vars["image_path_iterator"])
        value.savefig(path)
        value._skface_docs_shown = True
        rst.append(figure_rst([path], gallery_conf["src_dir"]))
    return "".join(rst)


#: The gallery's reading order: first steps, data, training, fairness.
#: Examples not listed here follow, by file name.
EXAMPLE_ORDER = [
    "plot_quick_start.py",
    "plot_synthetic_faces.py",
    "plot_load_folder_and_celeba.py",
    "plot_focal_loss.py",
    "plot_augmentation.py",
    "plot_transfer_learning.py",
    "plot_training_curve.py",
    "plot_fairness_mitigation.py",
    "plot_group_dro.py",
    "plot_grid_search_fair_metric.py",
    "plot_fairlearn.py",
]


class ExampleOrder:
    """Sort key of sphinx-gallery's ``within_subsection_order``."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in EXAMPLE_ORDER:
            return (0, EXAMPLE_ORDER.index(filename), filename)
        return (1, 0, filename)

    def __repr__(self):
        return "<ExampleOrder>"
