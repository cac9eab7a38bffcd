"""Structure counts of the package: fit's size, import circles, the top-level surface, the import weight.

Run ``python benchmarks/lean_core.py`` (add ``--json`` for one JSON object). It prints:

- ``fit``'s parameter count and body lines (docstring excluded), read from the source with :mod:`ast`;
- import circles among the package's modules, counting imports inside functions as well as at the top
  (the strongly connected components of the import graph with more than one module, and self-loops);
- the names in ``dnnimprove.__all__``;
- which heavy libraries ``import dnnimprove`` loads (in a fresh interpreter), and which ``import dnnimprove.cli,
  dnnimprove.studies, dnnimprove.search, dnnimprove.report`` loads (what the commands import to start);
- ``import dnnimprove`` against ``import numpy`` alone, the median of 5 fresh interpreters each (a ratio:
  timings on a shared machine are noisy), ``import dnnimprove.report`` (which imports the studies and the search)
  on top of ``import dnnimprove`` against ``import numpy`` the same way, and the median wall time of
  ``dnnimprove --help``.
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "dnnimprove"
HEAVY = ("sklearn", "scipy", "matplotlib", "joblib", "numba", "pandas", "dask", "optuna", "torch", "tqdm")
COMMAND_MODULES = ("dnnimprove.cli", "dnnimprove.studies", "dnnimprove.search", "dnnimprove.report")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> tuple[dict[str, set[str]], int]:
    """Edges module -> package modules it imports (anywhere in the file); and the count of function-level imports."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    in_functions = 0
    for name, path in known.items():
        tree = ast.parse(path.read_text())
        is_package = path.name == "__init__.py"
        function_nodes = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                function_nodes.update(id(inner) for inner in ast.walk(node) if inner is not node)
        type_checking = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                type_checking.update(id(inner) for inner in ast.walk(node))
        for node in ast.walk(tree):
            if id(node) in type_checking:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node)
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            hits = {target for target in targets if target in known and target != name}
            if hits and id(node) in function_nodes:
                in_functions += 1
            for target in hits:
                graph[name].add(target)
    return graph, in_functions


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan). A package's ``__init__`` importing its
    own submodules and being imported by them is not counted (a submodule import always runs the package)."""
    def parent_of(child: str, parent: str) -> bool:
        return child.startswith(parent + ".")

    edges = {name: {t for t in targets if not parent_of(name, t)} for name, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in edges:
        if node not in index:
            visit(node)
    return found


def fit_size() -> dict[str, int]:
    tree = ast.parse((PACKAGE / "training.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "fit":
            arguments = node.args
            count = len(arguments.posonlyargs) + len(arguments.args) + len(arguments.kwonlyargs)
            count += bool(arguments.vararg) + bool(arguments.kwarg)
            body = node.body[1:] if isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) else node.body
            lines = sum(1 for line in range(body[0].lineno, node.end_lineno + 1))
            return {"fit_parameters": count, "fit_body_lines": lines, "fit_lines": node.end_lineno - node.lineno + 1}
    raise SystemExit("no fit in training.py")


def _python_seconds(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def _importtime_us(module: str) -> int:
    """The cumulative microseconds ``-X importtime`` reports for ``module`` (its own line, the last)."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True,
                            text=True, check=True)
    for line in reversed(result.stderr.splitlines()):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    raise SystemExit(f"no importtime line for {module}")


def _heavy_loaded(modules: str) -> list[str]:
    """The heavy libraries a fresh interpreter holds after ``import <modules>``."""
    code = f"import sys, {modules}; print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    return loaded.split(",") if loaded else []


def import_weight(repeats: int = 5) -> dict[str, object]:
    numpy_us = statistics.median(_importtime_us("numpy") for _ in range(repeats))
    package_us = statistics.median(_importtime_us("dnnimprove") for _ in range(repeats))
    report_us = statistics.median(_importtime_us("dnnimprove.report") for _ in range(repeats))
    help_s = statistics.median(
        _python_seconds("import sys; from dnnimprove.cli import main; sys.argv=['dnnimprove','--help']; "
                        "import contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()):\n    try: main()\n"
                        "    except SystemExit: pass")
        for _ in range(repeats)
    )
    python_s = statistics.median(_python_seconds("pass") for _ in range(repeats))
    with tempfile.TemporaryDirectory() as folder:  # a short command end to end: start-up, one study, its report
        study_s = statistics.median(
            _python_seconds(f"import sys; from dnnimprove.cli import main; sys.exit(main(['study', 'ewma', '--quick', "
                            f"'--no-progress', '--out', {folder!r}]))")
            for _ in range(3)
        )
    return {
        "heavy_loaded_by_import": _heavy_loaded("dnnimprove"),
        "heavy_loaded_by_command_modules": _heavy_loaded(", ".join(COMMAND_MODULES)),
        "importtime_numpy_us": numpy_us,
        "importtime_dnnimprove_us": package_us,
        "importtime_ratio": round(package_us / numpy_us, 2),
        "importtime_report_us": report_us,
        "importtime_report_ratio": round(report_us / numpy_us, 2),
        "help_seconds": round(help_s, 3),
        "bare_python_seconds": round(python_s, 3),
        "study_ewma_quick_seconds": round(study_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-timing", action="store_true", help="only the counts read from the source")
    args = parser.parse_args()
    graph, in_functions = import_graph()
    found = circles(graph)
    import dnnimprove

    figures: dict[str, object] = {
        **fit_size(),
        "top_level_all": len(dnnimprove.__all__),
        "import_circles": len(found),
        "modules_in_circles": sum(len(component) for component in found),
        "circles": found,
        "function_level_package_imports": in_functions,
    }
    if not args.no_timing:
        figures.update(import_weight())
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key:34} {value}")


if __name__ == "__main__":
    main()
