"""Initializers: the course's formulas, and why they matter (symmetry, scale)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dnnimprove as dn


@pytest.mark.parametrize(
    "name, std",
    [("he", math.sqrt(2 / 400)), ("xavier", math.sqrt(1 / 400)), ("glorot", math.sqrt(2 / 500)), ("random", 1.0), ("large_random", 10.0)],
)
def test_std_matches_the_formula(name, std):
    weights = dn.get_initializer(name)((400, 100), dn.as_random_source(0), np.float64)
    # 40000 draws: the sample std is within 2% of its value with overwhelming probability (se ~ 0.35%),
    # which separates He from Xavier (ratio sqrt(2)) and Glorot (ratio 1.12).
    assert weights.std() == pytest.approx(std, rel=0.02)
    assert abs(weights.mean()) < 5 * std / math.sqrt(weights.size)


def test_zeros_is_zero_and_biases_start_at_zero():
    model = dn.Sequential([dn.Dense(3, init="zeros"), dn.ReLU(), dn.Dense(1, init="he")], seed=0).build(2)
    assert not model.tensor("dense_1.W").any()
    assert not model.tensor("dense_2.b").any()
    assert model.tensor("dense_2.W").any()


def test_course_random_reproduces_the_course_draw_order():
    model = dn.Sequential([dn.Dense(10), dn.ReLU(), dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=dn.CourseRandom(init_seed=3))
    model.build(2)
    np.random.seed(3)
    W1 = np.random.randn(10, 2) * np.sqrt(2 / 2)
    W2 = np.random.randn(5, 10) * np.sqrt(2 / 10)
    W3 = np.random.randn(1, 5) * np.sqrt(2 / 5)
    assert np.array_equal(model.tensor("dense_1.W"), W1.T)
    assert np.array_equal(model.tensor("dense_2.W"), W2.T)
    assert np.array_equal(model.tensor("dense_3.W"), W3.T)


def test_unknown_initializer_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"unknown initializer 'bogus'.*'he'"):
        dn.Dense(3, init="bogus")


def test_zeros_init_never_breaks_symmetry():
    X, y = dn.datasets.circles(n_samples=100, noise=0.05, seed=1)
    model = dn.Sequential([dn.Dense(6, init="zeros"), dn.ReLU(), dn.Dense(4, init="zeros"), dn.ReLU(), dn.Dense(1, init="zeros")], seed=0)
    model.fit(X, y, epochs=200, optimizer=dn.GradientDescent(lr=0.5))
    for name in ("dense_1.W", "dense_2.W"):
        W = model.tensor(name)
        assert np.all(W == W[:, :1]), f"{name} columns differ: symmetry was broken"
    assert model.evaluate(X, y)["accuracy"] == 0.5
