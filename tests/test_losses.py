"""Losses are computed from logits: finite for any logit, and equal to the textbook formula where it is finite."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn


def test_binary_crossentropy_equals_the_course_formula_and_never_overflows():
    Z = np.array([[-3.0], [0.5], [2.0]])
    Y = np.array([[0.0], [1.0], [1.0]])
    a = 1 / (1 + np.exp(-Z))
    expected = -np.mean(Y * np.log(a) + (1 - Y) * np.log(1 - a))
    loss = dn.BinaryCrossEntropy()
    assert loss.cost(Z, Y) == pytest.approx(expected, rel=1e-14)
    huge = np.array([[1000.0], [-1000.0]])
    assert loss.cost(huge, np.array([[0.0], [1.0]])) == pytest.approx(1000.0)
    np.testing.assert_allclose(loss.gradient(huge, np.array([[1.0], [0.0]])), [[0.0], [0.0]])


def test_categorical_crossentropy_is_stable_for_large_logits():
    loss = dn.CategoricalCrossEntropy()
    Z = np.array([[1000.0, 0.0, -1000.0]])
    Y = np.array([[0.0, 1.0, 0.0]])
    assert loss.cost(Z, Y) == pytest.approx(1000.0)
    np.testing.assert_allclose(loss.output(Z).sum(axis=1), 1.0)


def test_gradient_is_output_minus_target_over_m():
    Z = np.array([[0.2, -0.1], [1.0, 0.3]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    loss = dn.CategoricalCrossEntropy()
    np.testing.assert_allclose(loss.gradient(Z, Y), (loss.output(Z) - Y) / 2)
    mse = dn.MeanSquaredError()
    np.testing.assert_allclose(mse.gradient(Z, Y), 2 * (Z - Y) / Z.size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy", "mse"])
def test_gradient_and_cost_together_are_the_two_apart_bit_for_bit(name, dtype):
    rng = np.random.default_rng(3)
    loss = dn.get_loss(name)
    k = 1 if name == "binary_crossentropy" else 4
    Z = (rng.standard_normal((33, k)) * 6).astype(dtype)
    y = rng.integers(0, 2 if k == 1 else k, 33) if loss.is_classifier else rng.standard_normal((33, k))
    Y = loss.encode(y, k, dtype)
    gradient, cost = loss.gradient_and_cost(Z, Y, True)
    assert np.array_equal(gradient, loss.gradient(Z, Y)) and gradient.dtype == dtype
    assert cost == loss.cost(Z, Y)
    gradient, cost = loss.gradient_and_cost(Z, Y, False)
    assert np.array_equal(gradient, loss.gradient(Z, Y)) and np.isnan(cost)


def test_a_softmax_subclass_changes_its_arithmetic_in_one_place_the_formula():
    class ScaledSoftmax(dn.CategoricalCrossEntropy):
        @staticmethod
        def gradient_terms(exp, total, Y, m):
            return 2 * ((exp / total - Y) / m)

    Z, Y = np.zeros((2, 3)), np.eye(3)[[0, 1]]
    loss = ScaledSoftmax()
    expected = 2 * dn.CategoricalCrossEntropy().gradient(Z, Y)
    assert np.allclose(loss.gradient(Z, Y), expected)
    assert np.allclose(loss.gradient_and_cost(Z, Y, True)[0], expected)
