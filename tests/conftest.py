"""Shared fixtures: one per distinct dataset, and the seeded generator; helpers are in ``helpers.py``."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn


def _read_only(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A session's shared arrays cannot be changed by one test under another's feet."""
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def moons() -> tuple[np.ndarray, np.ndarray]:
    """The course's moons: 300 points, noise 0.2, seed 3 (``X`` of shape (300, 2), labels 0/1)."""
    return _read_only(*dn.datasets.moons(300, 0.2, seed=3))


@pytest.fixture(scope="session")
def circles() -> tuple[np.ndarray, np.ndarray]:
    """The course's circles: 300 points, noise 0.05, seed 1."""
    return _read_only(*dn.datasets.circles(n_samples=300, noise=0.05, seed=1))


@pytest.fixture(scope="session")
def moons_200() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's moons with seed 0: 200 points, noise 0.2 (the search tests' data)."""
    return _read_only(*dn.datasets.moons(n_samples=200, noise=0.2, seed=0))
