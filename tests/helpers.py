"""Helpers the tests share: small float64 problems for gradient checks and optimizer trajectories.

Imported as ``from helpers import ...`` (the tests folder is on the path); fixtures live in ``conftest.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn


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


def moons_gradient(seed: int = 0, m: int = 64, l2: float = 0.0):
    """A float64 problem for optimizer oracles: ``(theta0, weight_mask, grad)`` of a 2-5-2-1 ReLU net on moons.

    ``grad(theta)`` returns a fresh copy of the cost's gradient at ``theta`` (full batch of ``m`` examples,
    with the L2 term of strength ``l2``), so two optimizers fed by it follow their own trajectories on the
    same problem.
    """
    X, y = dn.datasets.moons(m, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=seed)
    at_generic_point(model, 2, seed)
    theta0 = model.params.copy()
    X = model.check_X(X)
    Y = model.encode_targets(y, m)

    def grad(theta: np.ndarray) -> np.ndarray:
        model.params[:] = theta
        model.compute_gradients(X, Y, True, l2, False)
        return model.grads.copy()

    return theta0, model.weight_mask.copy(), grad


# -- optimizer trajectories (shared by test_optimizers and test_conventions) ---------------------------


def run_fixed(optimizer, gradients: np.ndarray) -> np.ndarray:
    """Parameters (from zero) after each step of a fixed gradient sequence ``(T, n)``."""
    params = np.zeros(gradients.shape[1])
    state = optimizer.init(params)
    path = []
    for g in gradients:
        optimizer.step(params, g.copy(), state)
        path.append(params.copy())
    return np.array(path)


def run_ours(optimizer, theta0, grad, steps=200, weight_mask=None, before_step=None) -> np.ndarray:
    """Our ``optimizer`` from ``theta0`` on ``grad``; ``before_step(optimizer, t)`` may change it before step t."""
    params = theta0.copy()
    state = optimizer.init(params, weight_mask)
    path = []
    for t in range(1, steps + 1):
        if before_step is not None:
            before_step(optimizer, t)
        optimizer.step(params, grad(params), state)
        path.append(params.copy())
    return np.array(path)


def run_oracle(step, theta0, grad, steps=200) -> np.ndarray:
    """Another implementation's update ``step(params, g)`` (in place) from ``theta0`` on ``grad``."""
    params = theta0.copy()
    path = []
    for _ in range(steps):
        step(params, grad(params))
        path.append(params.copy())
    return np.array(path)


def run_torch(make, theta0, grad, steps=200, groups=None, prepare=None) -> np.ndarray:
    """The same problem stepped by ``make(param_groups)`` (a torch.optim optimizer) in float64.

    ``groups``: list of (boolean mask over the flat vector, options) for parameter groups; ``prepare(opt,
    tensors)`` may set optimizer state before the first step.
    """
    torch = pytest.importorskip("torch")
    groups = groups or [(np.ones(theta0.size, dtype=bool), {})]
    tensors = [torch.tensor(theta0[mask], dtype=torch.float64, requires_grad=True) for mask, _ in groups]
    optimizer = make([{"params": [tensor], **options} for tensor, (_, options) in zip(tensors, groups)])
    if prepare is not None:
        prepare(optimizer, tensors)
    theta = theta0.copy()
    path = []
    for _ in range(steps):
        g = grad(theta)
        for tensor, (mask, _) in zip(tensors, groups):
            tensor.grad = torch.from_numpy(g[mask].copy())
        optimizer.step()
        for tensor, (mask, _) in zip(tensors, groups):
            theta[mask] = tensor.detach().numpy()
        path.append(theta.copy())
    return np.array(path)


def assert_same_trajectory(ours: np.ndarray, theirs: np.ndarray, theta0: np.ndarray) -> None:
    assert np.linalg.norm(ours[-1] - theta0) > 0.1, "the problem must move the parameters for the check to mean anything"
    assert np.abs(ours - theirs).max() <= 1e-10


def randomize_scale_and_shift(model: dn.Sequential, seed: int = 0) -> dn.Sequential:
    """gamma/beta away from 1/0, so the check exercises them at a generic point."""
    rng = np.random.default_rng(seed)
    for info in model.table:
        if info.role == "scale":
            model.params[info.slice] = rng.uniform(0.5, 1.5, info.size)
        if info.role == "shift":
            model.params[info.slice] = rng.normal(0.0, 0.3, info.size)
    return model
