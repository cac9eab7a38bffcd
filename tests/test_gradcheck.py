"""Gradient checking proves every layer and loss right, and names the wrong tensor when one is not."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from helpers import at_generic_point, deep_model, make_problem
import os
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from dnnimprove.layers import ACTIVATIONS

ACTIVATIONS = sorted(dn.layers.ACTIVATIONS)  # every activation, GELU and SiLU included


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_every_activation_and_loss_passes_in_a_three_hidden_layer_network(activation, kind):
    X, y, loss, n_out = make_problem(kind)
    model = at_generic_point(deep_model(activation, n_out, loss), X.shape[1])
    report = dn.check_gradients(model, X, y)
    assert report.difference < 1e-7, str(report)
    assert report.ok, str(report)
    assert set(report.per_tensor) == {f"dense_{i}.{k}" for i in range(1, 5) for k in "Wb"}


def test_l2_term_is_gradient_checked():
    X, y, loss, n_out = make_problem("binary")
    report = dn.check_gradients(deep_model("tanh", n_out, loss), X, y, l2=0.7)
    assert report.ok, str(report)


def test_dense_without_bias_has_no_bias_tensor_and_passes():
    X, y, _, _ = make_problem("binary")
    model = dn.Sequential([dn.Dense(4, use_bias=False), dn.Tanh(), dn.Dense(1)], seed=0)
    report = dn.check_gradients(model, X, y)
    assert report.ok and "dense_1.b" not in report.per_tensor


class DoubledWeightGradient(dn.Layer):
    """A custom dense layer whose backward doubles dW and quadruples db: a deliberate bug."""

    kind = "buggy"

    def __init__(self, units: int) -> None:
        super().__init__()
        self.units = units

    def output_dim(self, input_dim: int) -> int:
        return self.units

    def param_specs(self):
        return [dn.ParamSpec("W", (self.input_dim, self.units), "weight"), dn.ParamSpec("b", (self.units,), "bias")]

    def initialize(self, source) -> None:
        self.params["W"][...] = source.normal((self.input_dim, self.units), np.float64) * 0.5
        self.params["b"][...] = 0.1

    def forward(self, X, training):
        self._X = X
        return X @ self.params["W"] + self.params["b"]

    def backward(self, dZ):
        self.grads["W"][...] = 2 * (self._X.T @ dZ)
        self.grads["b"][...] = 4 * dZ.sum(axis=0)
        return dZ @ self.params["W"].T


def test_a_wrong_custom_layer_is_named_by_the_report():
    X, y, _, _ = make_problem("binary")
    model = dn.Sequential([dn.Dense(4), dn.Tanh(), DoubledWeightGradient(3), dn.Tanh(), dn.Dense(1)], seed=2)
    report = dn.check_gradients(model, X, y)
    assert not report.ok
    assert report.verdict == "wrong"
    assert set(report.wrong_tensors) == {"buggy_1.W", "buggy_1.b"}
    # The correct layers around it still check out: the error is localized, not smeared.
    assert report.per_tensor["dense_2.W"] < 1e-7 and report.per_tensor["dense_2.b"] < 1e-7


def test_a_correct_custom_layer_passes():
    class Scale(dn.Layer):
        kind = "scale"

        def param_specs(self):
            return [dn.ParamSpec("gamma", (self.input_dim,), "scale")]

        def initialize(self, source):
            self.params["gamma"][...] = 1.5

        def forward(self, X, training):
            self._X = X
            return X * self.params["gamma"]

        def backward(self, dA):
            self.grads["gamma"][...] = (dA * self._X).sum(axis=0)
            return dA * self.params["gamma"]

    X, y, _, _ = make_problem("binary")
    model = dn.Sequential([dn.Dense(4), Scale(), dn.Tanh(), dn.Dense(1)], seed=2)
    assert dn.check_gradients(model, X, y).ok


def test_check_does_not_change_the_parameters():
    X, y, loss, n_out = make_problem("multiclass")
    model = deep_model("relu", n_out, loss)
    model.build(X.shape[1])
    before = model.params.copy()
    dn.check_gradients(model, X, y)
    assert np.array_equal(before, model.params)


@pytest.mark.parametrize(
    "difference, expected", [(1e-9, "correct"), (5e-7, "suspicious"), (1e-4, "suspicious"), (1e-2, "wrong")]
)
def test_verdict_thresholds(difference, expected):
    assert dn.gradcheck.verdict(difference) == expected


def test_one_dimensional_form():
    assert dn.check_derivative(np.sin, np.cos, 0.3) < 1e-7
    assert dn.check_derivative(np.sin, lambda x: 1.1 * np.cos(x), 0.3) > 1e-3


def test_checking_an_unbuilt_model_with_1d_X_names_X():
    model = dn.Sequential([dn.Dense(1)], seed=0)
    with pytest.raises(ValueError, match=r"X must be 2-D; got shape \(5,\)"):
        dn.check_gradients(model, np.ones(5), np.ones(5))


def test_a_bias_before_batch_norm_has_zero_gradient_and_is_below_resolution_not_wrong():
    X, y, _, _ = make_problem("binary", m=16)
    model = dn.Sequential([dn.Dense(4, use_bias=True), dn.BatchNorm(), dn.Tanh(), dn.Dense(1)], seed=3)
    report = dn.check_gradients(model, X, y)
    # Batch norm subtracts the batch mean, so the bias before it cancels out: its true gradient is exactly 0.
    assert np.all(np.abs(report.gradient[model.table[1].slice]) < 1e-15)
    assert report.tensor_verdict("dense_1.b") in ("correct", "below resolution")
    assert "dense_1.b" not in report.wrong_tensors
    assert report.ok, str(report)


def test_a_doubled_gradient_is_still_wrong_when_it_is_resolved():
    X, y, _, _ = make_problem("binary")
    model = dn.Sequential([dn.Dense(4), dn.Tanh(), DoubledWeightGradient(3), dn.Tanh(), dn.Dense(1)], seed=2)
    report = dn.check_gradients(model, X, y)
    assert all(report.resolved(name) for name in report.wrong_tensors)
    assert report.tensor_verdict("buggy_1.W") == "wrong"


# -- drawn_architectures ---------------------------------------------------------------------------
# Property-based gradient checks: any architecture hypothesis draws passes, and a wrong gradient never does.

EXAMPLES = int(os.environ.get("DNNIMPROVE_PROPERTY_EXAMPLES", 60))  # per property; raise it for a longer hunt
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LOSS_UNITS = {"binary_crossentropy": 1, "categorical_crossentropy": 3, "mse": 2}


@st.composite
def problems(draw):
    """(model, X, y, l2, description) for a drawn architecture, at a generic point."""
    loss = draw(st.sampled_from(sorted(LOSS_UNITS)))
    layers, description = [], []
    use_batch_norm = False
    n_features = draw(st.integers(1, 5))
    fan_in = n_features
    for _ in range(draw(st.integers(1, 4))):
        width = draw(st.integers(1, 8))
        batch_norm = fan_in >= 2 and draw(st.booleans())
        fan_in = width
        use_batch_norm |= batch_norm
        layer_l2 = draw(st.sampled_from([0.0, 0.0, 0.3]))
        layers.append(dn.Dense(width, init="xavier", use_bias=not batch_norm, l2=layer_l2))
        if batch_norm:
            layers.append(dn.BatchNorm(momentum=draw(st.sampled_from([0.0, 0.9]))))
        activation = draw(st.sampled_from(sorted(ACTIVATIONS)))
        layers.append(dn.get_activation(activation))
        keep_prob = draw(st.sampled_from([None, None, 0.5, 0.8, 1.0]))
        if keep_prob is not None:
            layers.append(dn.Dropout(keep_prob))
        description.append(f"{width}{'+bn' if batch_norm else ''}-{activation}{f'-drop{keep_prob}' if keep_prob else ''}")
    layers.append(dn.Dense(LOSS_UNITS[loss], init="xavier"))
    m = draw(st.integers(4 if use_batch_norm else 1, 8))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n_features))
    if loss == "binary_crossentropy":
        y = rng.integers(0, 2, m)
    elif loss == "categorical_crossentropy":
        y = rng.integers(0, 3, m)
    else:
        y = rng.standard_normal((m, 2))
    model = dn.Sequential(layers, loss=loss, seed=seed).build(n_features)
    for info in model.table:  # a generic point: no ReLU input exactly at its kink
        if info.role in ("bias", "shift"):
            model.params[info.slice] = rng.normal(0.0, 0.3, info.size)
        elif info.role == "scale":
            model.params[info.slice] = 1.0 + rng.normal(0.0, 0.1, info.size)
    l2 = draw(st.sampled_from([0.0, 0.7]))
    return model, X, y, l2, f"{loss} seed={seed} m={m} n={n_features} l2={l2} [{', '.join(description)}]"


@PROPERTY
@given(problem=problems())
def test_every_drawn_architecture_passes_the_gradient_check(problem):
    model, X, y, l2, description = problem
    report = dn.check_gradients(model, X, y, l2=l2)
    if not report.ok:
        # A tensor whose gradient is tiny next to the cost carries the two-sided difference's rounding
        # error ~ 1e-16 |J| / 1e-7: recheck with a step of 1e-5, where rounding is 100x smaller and
        # truncation still ~1e-10 (the course's advice: recheck a suspicious result).
        report = dn.check_gradients(model, X, y, l2=l2, epsilon=1e-5)
    assert report.difference < 1e-7, f"{description}\n{report}"
    # Each tensor: relative difference <= 1e-5, or an error below 1e-7 of the whole gradient (GradientCheckReport.ok):
    # the second covers tensors whose true gradient is zero or nearly (a bias that a later batch norm cancels),
    # whose relative difference compares rounding with rounding. A wrong tensor of ordinary size fails both.
    assert report.ok, f"{description}\n{report}"


@PROPERTY
@given(problem=problems(), factor=st.sampled_from([0.9, 1.1, 2.0, -1.0]))
def test_a_wrong_weight_gradient_in_any_drawn_architecture_is_caught(problem, factor):
    model, X, y, l2, description = problem
    last = [layer for layer in model.layers if isinstance(layer, dn.Dense)][-1]
    correct_backward = last.backward

    def wrong_backward(dZ):
        dX = correct_backward(dZ)
        last.dW *= factor  # a deliberate bug: dW off by a factor
        return dX

    last.backward = wrong_backward
    report = dn.check_gradients(model, X, y, l2=l2)
    true_dW = report.approximation[model.table[[info.name for info in model.table].index(f"{last.name}.W")].slice]
    data_dW = true_dW - (l2 + last.l2) * last.W.ravel() / X.shape[0]  # the part backward computes (L2 is added after)
    assume(np.abs(data_dW).max() > 1e-3)  # all-dead (or dropped) inputs make it zero: no factor can show
    assert not report.ok and f"{last.name}.W" in report.wrong_tensors, f"{description}\n{report}"
