"""The one exponentially weighted average: its step formula, on arrays and numbers alike, and the sequence form."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.ewma import ewma, ewma_step


def test_a_step_is_beta_times_the_average_plus_one_minus_beta_times_the_value():
    average, value = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    np.testing.assert_allclose(ewma_step(average, value, 0.9, 0.1), [0.9 * 1 + 0.1 * 3, 0.9 * 2 - 0.1], rtol=1e-15)


def test_a_step_on_numbers_rounds_as_the_step_on_arrays():
    rng = np.random.default_rng(0)
    average, value = rng.standard_normal(50).astype(np.float32), rng.standard_normal(50).astype(np.float32)
    beta, one_minus_beta = np.float32(0.9), np.float32(1 - 0.9)
    on_arrays = ewma_step(average, value, beta, one_minus_beta)
    on_numbers = [ewma_step(a, v, beta, one_minus_beta) for a, v in zip(average, value)]
    assert on_arrays.dtype == np.float32 and np.array_equal(on_arrays, np.array(on_numbers, dtype=np.float32))


def test_the_sequence_form_with_bias_correction_is_exact_on_a_constant_sequence():
    np.testing.assert_allclose(ewma(np.full(20, 3.0), 0.9), 3.0, rtol=1e-14)
    np.testing.assert_allclose(ewma([1.0, 2.0], 0.0), [1.0, 2.0])


def test_the_sequence_form_without_correction_starts_biased_towards_zero():
    assert ewma([2.0], 0.9, bias_correction=False)[0] == pytest.approx(0.2)


def test_momentum_with_beta_zero_is_gradient_descent_and_the_formulas_share_the_step():
    params, grads = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    momentum, gd = params.copy(), params.copy()
    dn.Momentum(0.1, beta=0.0).step(momentum, grads, dn.Momentum(0.1, beta=0.0).init(momentum))
    dn.GradientDescent(0.1).step(gd, grads, dn.GradientDescent(0.1).init(gd))
    assert np.array_equal(momentum, gd)


def test_batch_norm_running_statistics_are_the_same_average():
    layer = dn.BatchNorm(momentum=0.8)
    model = dn.Sequential([dn.Dense(3, use_bias=False), layer, dn.Dense(1)], seed=0).build(2)
    X = np.random.default_rng(1).standard_normal((6, 2))
    Z = X @ model.tensor("dense_1.W")
    model.forward(X, training=True)
    np.testing.assert_allclose(layer.running_mean, ewma_step(np.zeros(3), Z.mean(axis=0), 0.8, 0.2), rtol=1e-12)


def test_v0_is_the_starting_value_of_the_average():
    x = np.array([4.0, 6.0, 5.0])
    expected = []
    v = 10.0
    for value in x:
        v = 0.9 * v + 0.1 * value
        expected.append(v)
    np.testing.assert_allclose(ewma(x, 0.9, bias_correction=False, v0=10.0), expected, rtol=1e-15)
    np.testing.assert_array_equal(ewma(x, 0.9, bias_correction=False, v0=0.0), ewma(x, 0.9, bias_correction=False))


def test_starting_from_the_first_value_has_no_start_up_bias():
    constant = np.full(30, 7.0)
    np.testing.assert_allclose(ewma(constant, 0.98, bias_correction=False, v0="first"), 7.0, rtol=1e-14)
    assert ewma(constant, 0.98, bias_correction=False)[0] == pytest.approx(0.14)  # from 0: 2 % of the way
    vectors = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(ewma(vectors, 0.5, False, v0="first")[0], vectors[0])
    np.testing.assert_allclose(ewma(vectors, 0.5, False, v0=np.array([1.0, -1.0]))[0], [0.5, 0.0])


@pytest.mark.parametrize("v0, message", [
    (2.0, r"bias_correction assumes v0 = 0; got v0=2.0: pass bias_correction=False"),
    ("last", r"v0 must be a number, an array or 'first'; got 'last'"),
    (float("nan"), r"v0 must be finite, a number or of shape \(\); got nan"),
])
def test_a_bad_starting_value_is_one_clear_error(v0, message):
    with pytest.raises(ValueError, match=message):
        ewma([1.0, 2.0], 0.9, v0=v0)
