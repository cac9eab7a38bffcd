"""Shared fixtures: small float64 problems for gradient checks."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def make_problem(kind: str, m: int = 12, n_features: int = 4, n_classes: int = 3, seed: int = 0):
    """Random inputs and targets for ``kind`` in {binary, multiclass, regression}; returns (X, y, loss, n_out)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n_features))
    if kind == "binary":
        return X, rng.integers(0, 2, m), "binary_crossentropy", 1
    if kind == "multiclass":
        return X, rng.integers(0, n_classes, m), "categorical_crossentropy", n_classes
    return X, rng.standard_normal((m, 2)), "mse", 2


def deep_model(activation: str, n_out: int, loss: str, seed: int = 1, hidden=(5, 4, 3)) -> dn.Sequential:
    layers = []
    for units in hidden:
        layers += [dn.Dense(units, init="xavier"), dn.get_activation(activation)]
    layers.append(dn.Dense(n_out, init="xavier"))
    return dn.Sequential(layers, loss=loss, seed=seed)


def at_generic_point(model: dn.Sequential, n_features: int, seed: int = 0) -> dn.Sequential:
    """Build ``model`` and give its biases small random values.

    With zero biases an example whose ReLU inputs are all dead reaches the next layer as exact zeros, so its
    pre-activations sit exactly on the kink at 0, where no derivative exists; a generic point avoids that.
    """
    if not model.built:
        model.build(n_features)
    rng = np.random.default_rng(seed)
    for info in model.table:
        if info.role == "bias":
            model.params[info.slice] = rng.normal(0.0, 0.1, info.size)
    return model


def moons_gradient(seed: int = 0, m: int = 64):
    """A float64 problem for optimizer oracles: ``(theta0, weight_mask, grad)`` of a 2-5-2-1 ReLU net on moons.

    ``grad(theta)`` returns a fresh copy of the cost's gradient at ``theta`` (full batch of ``m`` examples),
    so two optimizers fed by it follow their own trajectories on the same problem.
    """
    X, y = dn.datasets.moons(m, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=seed)
    at_generic_point(model, 2, seed)
    theta0 = model.params.copy()
    X = model.check_X(X)
    Y = model.encode_targets(y, m)

    def grad(theta: np.ndarray) -> np.ndarray:
        model.params[:] = theta
        model.compute_gradients(X, Y, True, 0.0, False)
        return model.grads.copy()

    return theta0, model.weight_mask.copy(), grad
