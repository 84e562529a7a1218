"""The documentation's promises: runnable docstring examples, every public
name in the API reference, gallery examples that use public names only."""

import ast
import doctest
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import skface

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
PUBLIC_PACKAGES = [
    "skface", "skface.metrics", "skface.fairness", "skface.datasets", "skface.utils", "skface.cli",
]


def _skface_modules():
    names = ["skface"]
    for info in pkgutil.walk_packages(skface.__path__, prefix="skface."):
        names.append(info.name)
    return sorted(names)


def _public_objects():
    """(qualified name, object) for every public class and function."""
    for package_name in PUBLIC_PACKAGES:
        package = importlib.import_module(package_name)
        for name in package.__all__:
            obj = getattr(package, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield f"{package_name}.{name}", obj


# the examples' tiny fits run eagerly (see conftest): their output, not the graph, is tested
@pytest.mark.usefixtures("eager_functions")
@pytest.mark.parametrize("module_name", _skface_modules())
def test_docstring_examples_run(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    tests = [t for t in finder.find(module, module_name) if t.examples]
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {module_name} failed"


@pytest.mark.parametrize("name, obj", list(_public_objects()), ids=lambda v: v if isinstance(v, str) else "")
def test_public_names_have_numpydoc_examples(name, obj):
    doc = inspect.getdoc(obj) or ""
    for section in ("Parameters", "Examples"):
        if section == "Parameters" and not inspect.signature(obj).parameters:
            continue
        assert re.search(rf"^{section}\n-{{{len(section)}}}$", doc, re.MULTILINE), (
            f"{name}'s docstring has no numpydoc {section!r} section"
        )
    examples = doc.split("Examples\n--------", 1)[1]
    runnable = [
        line for line in examples.splitlines()
        if line.lstrip().startswith(">>>") and "doctest: +SKIP" not in line
    ]
    assert runnable, f"{name}'s Examples section has no runnable (un-skipped) example"


def test_fair_scorer_is_documented():
    from skface.metrics import fair_scorer

    assert "make_fair_scorer()" in (fair_scorer.__doc__ or "")


def test_every_public_name_is_in_the_api_reference():
    api = (DOCS / "api.rst").read_text(encoding="utf-8")
    missing = []
    for package_name in PUBLIC_PACKAGES:
        package = importlib.import_module(package_name)
        for name in package.__all__:
            # an autosummary entry is the name alone on an indented line; a
            # subpackage or a dunder only needs to be named
            entry = re.search(rf"^\s+{re.escape(name)}\s*$", api, re.MULTILINE)
            mentioned = f"{package_name}.{name}" in api or f"``{name}``" in api
            subpackage = inspect.ismodule(getattr(package, name))
            if not (entry or ((subpackage or name.startswith("__")) and mentioned)):
                missing.append(f"{package_name}.{name}")
    assert not missing, f"public names missing from docs/api.rst: {missing}"


def _gallery_scripts():
    return sorted(EXAMPLES.glob("plot_*.py"))


def test_gallery_has_the_issue_examples():
    names = {p.stem for p in _gallery_scripts()}
    assert len(names) >= 10, names


@pytest.mark.parametrize("path", _gallery_scripts(), ids=lambda p: p.name)
def test_gallery_example_uses_public_names_only(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("skface"):
            parts = node.module.split(".") + [alias.name for alias in node.names]
            private += [f"{node.module}: {p}" for p in parts if p.startswith("_")]
        elif isinstance(node, ast.Import):
            private += [a.name for a in node.names
                        if a.name.startswith("skface") and "._" in a.name]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and isinstance(node.value, ast.Name) and node.value.id == "skface":
            private.append(f"skface.{node.attr}")
    assert not private, f"{path.name} uses private skface names: {private}"
    assert ast.get_docstring(tree), f"{path.name} needs a docstring (its gallery title)"


@pytest.mark.parametrize("path", _gallery_scripts(), ids=lambda p: p.name)
def test_gallery_example_has_a_fast_mode(path):
    """The docs build in CI runs every example with SKFACE_DOCS_FAST=1."""
    source = path.read_text(encoding="utf-8")
    trains = "FaceCNNClassifier" in source
    assert not trains or "SKFACE_DOCS_FAST" in source, (
        f"{path.name} trains a network but ignores SKFACE_DOCS_FAST"
    )


def test_internal_link_checker(tmp_path):
    import runpy

    check_site = runpy.run_path(str(DOCS / "check_links.py"))["check_site"]
    (tmp_path / "index.html").write_text(
        '<a href="page.html#here">ok</a> <a href="page.html#nowhere">bad anchor</a>'
        '<a href="missing.html">bad file</a> <a href="https://example.org/x">external</a>'
        '<img src="img/pic.png"> <a href="#top" id="top">self</a>'
    )
    (tmp_path / "page.html").write_text('<h1 id="here">Here</h1>')
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "pic.png").write_bytes(b"")
    problems, n_pages, n_links = check_site(tmp_path)
    assert n_pages == 2 and n_links == 5
    assert len(problems) == 2
    assert "no anchor #nowhere" in problems[0] and "no file missing.html" in problems[1]
