"""Every script in examples/ runs (quick settings) and prints what its docstring promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
EXPECTED = {
    "initialization.py": ["zeros", "large_random", "he"],
    "regularization.py": ["none", "L2 (lambd 0.7)", "dropout (keep_prob 0.86)", "early stopping", "diagnosis:"],
    "optimization.py": ["gradient descent", "momentum", "Adam", "fixed-interval decay"],
    "softmax.py": ["train accuracy", "test accuracy", "confusion matrix"],
    "regularization_tour.py": ["gradient check, L2 0.7", "gradient check, dropout 0.8"],  # short already
}


def test_every_example_is_listed():
    assert sorted(path.name for path in EXAMPLES) == sorted(EXPECTED)


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs_in_quick_mode(script):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "MPLBACKEND": "Agg"}
    completed = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, env=env,
                               cwd=ROOT, timeout=300)
    assert completed.returncode == 0, completed.stderr
    for text in EXPECTED[script.name]:
        assert text in completed.stdout, (text, completed.stdout)
