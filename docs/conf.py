"""Sphinx configuration of the skface documentation.

Built offline by ``make docs`` (``sphinx -W --keep-going -n``): every warning,
including an unresolved cross-reference, fails the build. Nothing is fetched
from the network: no intersphinx, and the gallery examples use synthetic data.

``SKFACE_DOCS_FAST=1`` makes the gallery examples train on a few hundred tiny
images for one or two epochs (for CI); without it they run at full size.
"""

import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # document the working tree, not an installed copy
sys.path.insert(0, str(HERE))  # _skface_docs: helpers of this build
import _skface_docs  # noqa: E402

_skface_docs.repository_paths_in_warnings()

# Quiet TensorFlow's C++ start-up logging in the build output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import skface  # noqa: E402

project = "skface"
author = "The skface developers"
copyright = "The skface developers"
release = skface.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax from the package rather than a CDN: formulas render offline
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
# gpu_keras_jax.md is a table written by benchmarks/gpu_keras_jax.py and
# included in performance.rst, not a page of its own; default_learns.md
# (benchmarks/default_learns.py) likewise in training.rst, and
# group_training_cost.md (benchmarks/group_training_cost.py) in fair_training.rst,
# synthetic_task.md (benchmarks/synthetic_task.py) in datasets.rst,
# inferred_groups.md (benchmarks/inferred_groups.py) and fairness_criteria.md
# (benchmarks/fairness_criteria.py) in fairness.rst,
# default_learns_real.md (benchmarks/default_learns_real.py) in datasets.rst.
exclude_patterns = ["_build", "gpu_keras_jax.md", "default_learns.md", "group_training_cost.md",
                    "synthetic_task.md", "inferred_groups.md", "default_learns_real.md", "fairness_criteria.md",
                    "peers.md", "cache_photos.md",
                    "generated/*.examples", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.md5",
                    "auto_examples/*.json", "sg_execution_times.rst"]

# No network: nothing links to other projects' inventories.
intersphinx_mapping = {}

# -- autodoc / autosummary / numpydoc --------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# Nitpicky mode checks every cross-reference into this site. References to
# other projects cannot resolve offline (no intersphinx): ignore those only.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(keras|scikeras|sklearn|numpy|np|pandas|pd|fairlearn|matplotlib|tensorflow|tf|PIL|os)(\..*)?"),
    (r"py:.*", r"(Bunch|DataFrame|Series|Figure|ndarray|MetricFrame)"),
]

# -- sphinx-gallery ---------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # run every plot_ script; demo.py is the `make demo` script, not a gallery page
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|demo)\.py$",
    "within_subsection_order": "_skface_docs.ExampleOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "matplotlib_animations": False,
    "min_reported_time": 5,
    # free the previous example's Keras models before the next one runs
    # "Examples using ..." on every API page
    "doc_module": ("skface",),
    "backreferences_dir": "generated",
    "reset_modules": ("matplotlib", "_skface_docs.reset_keras"),
    "image_scrapers": ("_skface_docs.detached_figure_scraper", "matplotlib"),
    "reset_modules_order": "before",
}


def _remove_stale_gallery_pages():
    """Drop the generated pages of examples that no longer exist.

    sphinx-gallery never deletes its output, so a removed or renamed example
    would leave an orphan page behind (an error under -W).
    """
    gallery = HERE / "auto_examples"
    for page in gallery.glob("plot_*.rst"):
        if not (HERE.parent / "examples" / f"{page.stem}.py").exists():
            for stale in gallery.glob(f"{page.stem}.*"):
                stale.unlink()


_remove_stale_gallery_pages()

# -- MyST (Markdown pages such as the benchmark table) ---------------------
myst_enable_extensions = []
myst_heading_anchors = 3

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skface {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "header_links_before_dropdown": 8,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
    "icon_links": [],
}
html_sidebars = {"index": [], "install": [], "quickstart": [], "workflow": []}
html_show_sourcelink = False
html_copy_source = False

# -- autodoc hooks ----------------------------------------------------------

def _skip_generated_request_methods(app, what, name, obj, skip, options):
    # scikit-learn generates set_fit_request & co. on every estimator class;
    # their docstrings point into scikit-learn's own glossary.
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_generated_request_methods)
