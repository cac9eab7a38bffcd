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


# -- per-example costs and SampleWeighted ----------------------------------------------------------
LOSS_CASES = {
    "binary_crossentropy": (1, lambda rng, m: rng.integers(0, 2, m)),
    "categorical_crossentropy": (3, lambda rng, m: rng.integers(0, 3, m)),
    "mse": (2, lambda rng, m: rng.normal(size=(m, 2))),
}


@pytest.mark.parametrize("name", sorted(LOSS_CASES))
def test_sample_costs_average_to_the_cost(name):
    rng = np.random.default_rng(0)
    loss = dn.get_loss(name)
    k, draw = LOSS_CASES[name]
    Z = rng.normal(size=(7, k)) * 3
    Y = loss.encode(draw(rng, 7), k, np.float64)
    assert loss.sample_costs(Z, Y).shape == (7,)
    assert loss.sample_costs(Z, Y).mean() == pytest.approx(loss.cost(Z, Y), rel=1e-14)


@pytest.mark.parametrize("name", sorted(LOSS_CASES))
def test_sample_weighted_loss_is_gradient_checked_in_float64(name):
    rng = np.random.default_rng(1)
    k, draw = LOSS_CASES[name]
    weighted = dn.losses.SampleWeighted(name)
    X = rng.normal(size=(9, 3))
    weights = rng.uniform(0.0, 3.0, 9)
    weights[2] = 0.0
    Y_w = weighted.targets(draw(rng, 9), weights, k, np.float64)
    model = dn.Sequential([dn.Dense(4), dn.Tanh(), dn.Dense(k)], loss=weighted, seed=0)
    report = dn.check_gradients(model, X, Y_w)
    assert report.difference < 1e-7, report.per_tensor
    Z = model.forward(X)
    plain = dn.get_loss(name)
    assert weighted.cost(Z, Y_w) == pytest.approx((weights * plain.sample_costs(Z, Y_w[:, :-1])).mean(), rel=1e-14)


def test_sample_weighted_with_unit_weights_is_the_wrapped_loss_and_a_weight_of_two_is_a_copy():
    rng = np.random.default_rng(2)
    weighted = dn.losses.SampleWeighted("categorical_crossentropy")
    plain = dn.CategoricalCrossEntropy()
    Z = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 1])
    ones = weighted.targets(labels, np.ones(4), 3, np.float64)
    np.testing.assert_allclose(weighted.gradient(Z, ones), plain.gradient(Z, ones[:, :-1]), rtol=1e-15)
    # weight 2 on row 0 over 4 rows (sum 5) = row 0 twice over 5 rows, after scaling weights to mean 1
    twice = weighted.targets(labels, np.array([2.0, 1, 1, 1]) * 4 / 5, 3, np.float64)
    Z_copy, labels_copy = np.vstack([Z, Z[:1]]), np.append(labels, 0)
    Y_copy = plain.encode(labels_copy, 3, np.float64)
    assert weighted.cost(Z, twice) == pytest.approx(plain.cost(Z_copy, Y_copy), rel=1e-14)


def test_sample_weighted_refuses_bad_weights_naming_them():
    weighted = dn.losses.SampleWeighted("mse")
    with pytest.raises(ValueError, match=r"sample_weight must be >= 0; got \[-1.0\]"):
        weighted.targets(np.zeros(2), [1.0, -1.0], 1, np.float64)
    with pytest.raises(ValueError, match=r"one weight per example \(2\); got 3"):
        weighted.targets(np.zeros(2), [1.0, 1.0, 1.0], 1, np.float64)
