"""The package's top level: small, light to import, free of import circles, compatible names on demand."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dnnimprove as dn

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "scipy", "matplotlib", "joblib", "numba", "pandas", "dask", "optuna", "torch")


def lean_core():
    spec = importlib.util.spec_from_file_location("lean_core", ROOT / "benchmarks" / "lean_core.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_import_loads_no_heavy_library():
    code = f"import sys, dnnimprove; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


@pytest.mark.parametrize("module", ["dnnimprove.cli", "dnnimprove.studies", "dnnimprove.search", "dnnimprove.report"])
def test_the_command_line_and_what_every_command_imports_load_no_heavy_library(module):
    """scikit-learn (and pandas and scipy.stats, which its ``sklearn.utils.fixes`` imports), scipy.stats for the
    search spaces and matplotlib load where a command uses them, not when the studies, search or report are imported."""
    code = f"import sys, {module}; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_a_study_that_needs_no_scikit_learn_runs_without_importing_it(tmp_path):
    """The exponentially weighted averages study draws its own series: scikit-learn, pandas and scipy stay unloaded
    (matplotlib draws its figures)."""
    code = ("import sys, runpy; sys.argv = ['dnnimprove', 'study', 'ewma', '--quick', '--out', sys.argv[1]]\n"
            "try:\n    runpy.run_module('dnnimprove', run_name='__main__')\nexcept SystemExit as done:\n"
            "    assert not done.code, done.code\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'pandas', 'pyarrow'}))")
    completed = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], capture_output=True, text=True,
                               check=True, env={**os.environ, "MPLBACKEND": "Agg"})
    assert completed.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "out" / "index.html").exists()


def test_no_module_of_the_package_imports_itself_back_even_inside_functions():
    module = lean_core()
    graph, _ = module.import_graph()
    assert module.circles(graph) == []


def test_the_circle_finder_finds_a_circle():
    """The check above can fail: a two-module circle, one import inside a function, is found."""
    graph = {"p.a": {"p.b"}, "p.b": {"p.a"}, "p.c": set()}
    assert lean_core().circles(graph) == [["p.a", "p.b"]]


def test_the_top_level_is_small_and_every_listed_name_exists():
    assert len(dn.__all__) <= 40
    for name in dn.__all__:
        assert getattr(dn, name) is not None, name


@pytest.mark.parametrize("name, module", [("DNNClassifier", "estimator"), ("TrainingHealth", "health"),
                                          ("RandomShift", "augmentation"), ("diagnose", "diagnostics")])
def test_compatible_names_load_their_module_on_first_use(name, module):
    value = getattr(dn, name)
    assert value is getattr(importlib.import_module(f"dnnimprove.{module}"), name)


def test_submodules_load_on_first_use_and_unknown_names_are_an_attribute_error():
    assert dn.search.__name__ == "dnnimprove.search"
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        dn.nothing_here  # noqa: B018
