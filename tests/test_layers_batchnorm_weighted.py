"""BatchNorm with sample weights: the statistics of the weight distribution, so weight k acts as k copies.

A weighted loss (:class:`dnnimprove.losses.SampleWeighted`) carries the weights in ``Y``'s last column;
``Sequential.compute_gradients`` hands them to batch norm, which then normalizes with
``mu = sum p_i Z_i`` and ``var = sum p_i (Z_i - mu)**2`` (``p = w / sum w``) and back-propagates through
them. Checked here: float64 central differences, a wrong backward caught, integer weights equal to repeated
rows (one pass and a whole full-batch fit), and the running variance's unbiased factor (numpy's ``cov``).
"""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.losses import SampleWeighted
from helpers import randomize_scale_and_shift


def weighted_model(loss: str, n_out: int, seed: int = 1, layer: type = dn.BatchNorm, scale: float = 1.0) -> dn.Sequential:
    return dn.Sequential(
        [dn.Dense(6, use_bias=False), layer(), dn.Tanh(), dn.Dense(5, use_bias=False), layer(), dn.ReLU(),
         dn.Dense(n_out)],
        loss=SampleWeighted(loss, scale=scale), seed=seed)


PROBLEMS = {"binary": ("binary_crossentropy", 1), "multiclass": ("categorical_crossentropy", 3), "regression": ("mse", 2)}


def problem(kind: str, m: int = 14, seed: int = 0):
    loss, n_out = PROBLEMS[kind]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 4))
    y = rng.standard_normal((m, n_out)) if kind == "regression" else rng.integers(0, max(n_out, 2), m)
    return X, y, loss, n_out


def weighted_targets(model: dn.Sequential, y, weights) -> np.ndarray:
    return model.loss.targets(y, weights, model.n_outputs, np.float64)


class UnweightedBackwardBatchNorm(dn.BatchNorm):
    """Weighted statistics forward, but the unweighted backward (``-1/m`` instead of ``-p_i``): a plausible slip."""

    kind = "unweighted_backward_batch_norm"

    def backward(self, dA):
        self._minus_p = None
        return super().backward(dA)


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_gradient_check_passes_with_real_valued_weights_and_zeros(kind):
    X, y, loss, n_out = problem(kind)
    weights = np.random.default_rng(3).uniform(0.2, 3.0, X.shape[0])
    weights[[2, 7]] = 0.0
    model = randomize_scale_and_shift(weighted_model(loss, n_out).build(X.shape[1]))
    report = dn.check_gradients(model, X, weighted_targets(model, y, weights))
    assert report.difference < 1e-7 and report.ok, str(report)
    assert {"batch_norm_1.gamma", "batch_norm_2.beta", "dense_1.W"} <= set(report.per_tensor)


def test_the_gradient_check_catches_a_backward_that_ignores_the_weights():
    X, y, loss, n_out = problem("binary")
    weights = np.random.default_rng(3).uniform(0.2, 3.0, X.shape[0])
    model = randomize_scale_and_shift(weighted_model(loss, n_out, layer=UnweightedBackwardBatchNorm).build(X.shape[1]))
    report = dn.check_gradients(model, X, weighted_targets(model, y, weights))
    assert report.verdict == "wrong" and "dense_1.W" in report.wrong_tensors, str(report)


def test_weight_k_is_k_repeated_rows_in_one_training_pass():
    X, y, loss, n_out = problem("multiclass", m=12)
    weights = np.random.default_rng(4).integers(0, 4, X.shape[0]).astype(float)
    repeated = randomize_scale_and_shift(dn.Sequential(weighted_model(loss, n_out).layers, loss=loss, seed=1).build(4))
    weighted = weighted_model(loss, n_out, scale=X.shape[0] / weights.sum()).build(4)
    weighted.params[:] = repeated.params
    X_rep, y_rep = X.repeat(weights.astype(int), axis=0), y.repeat(weights.astype(int))
    cost_rep = repeated.compute_gradients(X_rep, repeated.encode_targets(y_rep, X_rep.shape[0]))
    cost_w = weighted.compute_gradients(X, weighted_targets(weighted, y, weights))
    assert cost_w == pytest.approx(cost_rep, rel=1e-13)
    np.testing.assert_allclose(weighted.grads, repeated.grads, rtol=1e-11, atol=1e-14)
    for name, value in repeated.state_arrays().items():  # the running statistics, the unbiased factor included
        np.testing.assert_allclose(weighted.state_arrays()[name], value, rtol=1e-13)
    assert np.abs(repeated.grads).max() > 1e-3  # a real gradient, not zeros compared with zeros


@pytest.mark.parametrize("optimizer", [dn.GradientDescent(lr=0.1), dn.Adam(lr=0.01)], ids=["gd", "adam"])
def test_a_weighted_full_batch_fit_is_the_fit_on_repeated_rows(optimizer):
    X, y, loss, n_out = problem("binary", m=15, seed=2)
    weights = np.random.default_rng(5).integers(0, 5, X.shape[0]).astype(float)
    X_rep, y_rep = X.repeat(weights.astype(int), axis=0), y.repeat(weights.astype(int))
    repeated = dn.Sequential(weighted_model(loss, n_out).layers, loss=loss, seed=1)
    repeated.fit(X_rep, y_rep, epochs=40, optimizer=optimizer, engine="numpy")
    weighted = weighted_model(loss, n_out, scale=X.shape[0] / weights.sum()).build(X.shape[1])
    weighted.fit(X, weighted_targets(weighted, y, weights), epochs=40, optimizer=optimizer, engine="numpy")
    np.testing.assert_allclose(weighted.params, repeated.params, rtol=1e-9, atol=1e-12)
    for name, value in repeated.state_arrays().items():
        np.testing.assert_allclose(weighted.state_arrays()[name], value, rtol=1e-9)
    np.testing.assert_allclose(weighted.forward(X), repeated.forward(X), rtol=1e-9)
    assert weighted.history_.cost == pytest.approx(repeated.history_.cost, rel=1e-9)


@pytest.mark.parametrize("integers", [True, False], ids=["frequency", "reliability"])
def test_the_running_variance_takes_numpys_cov_unbiased_estimate(integers):
    rng = np.random.default_rng(6)
    layer = dn.Sequential([dn.BatchNorm(momentum=0.75), dn.Dense(1)], seed=0).build(3).layers[0]
    Z = rng.normal(2.0, 3.0, (9, 3))
    weights = rng.integers(1, 4, 9).astype(float) if integers else rng.uniform(0.1, 2.0, 9)
    layer.forward(Z, training=True, sample_weight=weights)
    given = {"fweights": weights.astype(int)} if integers else {"aweights": weights}
    variance = np.array([np.cov(Z[:, j], **given) for j in range(3)])
    np.testing.assert_allclose(layer.running_var, 0.75 + 0.25 * variance, rtol=1e-13)
    np.testing.assert_allclose(layer.running_mean, 0.25 * np.average(Z, axis=0, weights=weights), rtol=1e-13)
    centered = Z - np.average(Z, axis=0, weights=weights)
    biased = np.average(centered**2, axis=0, weights=weights)
    np.testing.assert_allclose(layer._Z_norm, centered / np.sqrt(biased + 1e-5), rtol=1e-12)


def test_weights_of_all_ones_are_the_unweighted_layer():
    Z = np.random.default_rng(7).normal(size=(8, 3))
    plain, ones = (dn.Sequential([dn.BatchNorm(), dn.Dense(1)], seed=0).build(3).layers[0] for _ in range(2))
    np.testing.assert_allclose(ones.forward(Z, True, np.ones(8)), plain.forward(Z, True), rtol=1e-13)
    dA = np.random.default_rng(8).normal(size=(8, 3))
    np.testing.assert_allclose(ones.backward(dA), plain.backward(dA), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ones.running_var, plain.running_var, rtol=1e-14)


def test_a_batch_of_zero_weights_leaves_the_running_statistics_and_gets_no_gradient():
    X, y, loss, n_out = problem("binary", m=6)
    model = weighted_model(loss, n_out).build(4)
    before = {name: value.copy() for name, value in model.state_arrays().items()}
    model.compute_gradients(X, weighted_targets(model, y, np.zeros(6)))
    assert not model.grads.any()
    for name, value in model.state_arrays().items():
        np.testing.assert_array_equal(value, before[name])


def test_one_examples_worth_of_weight_leaves_the_running_variance():
    layer = dn.Sequential([dn.BatchNorm(momentum=0.5), dn.Dense(1)], seed=0).build(2).layers[0]
    Z = np.random.default_rng(9).normal(size=(4, 2))
    layer.forward(Z, True, np.array([0.0, 1.0, 0.0, 0.0]))
    np.testing.assert_array_equal(layer.running_var, [1.0, 1.0])  # S/(S-1) undefined: not averaged in
    np.testing.assert_allclose(layer.running_mean, 0.5 * Z[1], rtol=1e-15)
