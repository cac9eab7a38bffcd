"""Gradient checking: prove back-propagation right, and name the tensor that is wrong when it is not.

For every component ``theta_i`` of the model's flat parameter vector, the two-sided difference::

    g_approx_i = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)        eps = 1e-7

is compared with back-propagation's ``g`` by the relative difference::

    difference = ||g - g_approx|| / (||g|| + ||g_approx||)

over the whole vector and over each tensor's slice (``dense_2.W``, ``dense_1.b``, ...). Verdict:
below 1e-7 ``correct``, up to 1e-5 ``suspicious`` (recheck, e.g. a ReLU kink), above 1e-3 ``wrong``;
between 1e-5 and 1e-3 ``suspicious`` too. Run it in float64.

Random layers (dropout) are checked *on*: their masks are drawn once and frozen for every perturbed
evaluation. Non-trained state (batch-norm running statistics) is restored afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ._validation import Boolean, IsInstance, Real, check_features, validate_params
from .model import Sequential

__all__ = ["GradientCheckReport", "check_gradients", "check_derivative", "verdict", "CORRECT", "SUSPICIOUS", "WRONG"]

CORRECT = 1e-7
SUSPICIOUS = 1e-5
WRONG = 1e-3


def verdict(difference: float) -> str:
    """``"correct"`` below 1e-7, ``"wrong"`` above 1e-3, ``"suspicious"`` in between."""
    if difference < CORRECT:
        return "correct"
    if difference > WRONG:
        return "wrong"
    return "suspicious"


def relative_difference(g: np.ndarray, g_approx: np.ndarray) -> float:
    """``||g - g_approx|| / (||g|| + ||g_approx||)`` (0 when both are zero)."""
    denominator = np.linalg.norm(g) + np.linalg.norm(g_approx)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(g - g_approx) / denominator)


@dataclass
class GradientCheckReport:
    """Result of :func:`check_gradients`.

    Attributes
    ----------
    difference : float
        Relative difference over the whole flat vector.
    per_tensor : dict[str, float]
        Relative difference for each tensor (``"dense_1.W"`` -> 3.2e-10).
    gradient, approximation : ndarray
        Back-propagation's gradient and the two-sided approximation, flat.
    """

    difference: float
    per_tensor: dict[str, float]
    gradient: np.ndarray = field(repr=False)
    approximation: np.ndarray = field(repr=False)
    epsilon: float = 1e-7
    per_tensor_share: dict[str, float] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return verdict(self.difference)

    def resolved(self, name: str) -> bool:
        """Whether the check can judge tensor ``name`` on its own.

        A tensor whose whole error is below 1e-7 of the full gradient's norm (``per_tensor_share``) sits at
        the rounding noise of the two-sided difference (about ``machine_eps * |J| / epsilon`` per
        component); its relative difference then says nothing, e.g. a bias before batch norm, whose true
        gradient is exactly 0, shows 1.0. Such a tensor is reported as below resolution, never as correct.
        """
        return self.per_tensor_share.get(name, 1.0) >= CORRECT

    def tensor_verdict(self, name: str) -> str:
        """``correct``/``suspicious``/``wrong`` for tensor ``name``, or ``below resolution``."""
        value = self.per_tensor[name]
        if value >= CORRECT and not self.resolved(name):
            return "below resolution"
        return verdict(value)

    @property
    def ok(self) -> bool:
        """True when the whole vector is below 1e-7 and no resolved tensor is above 1e-5.

        A tensor whose gradient is small (early layers of a deep sigmoid network) can show a per-tensor
        difference between 1e-7 and 1e-5 while correct: the rounding error of the two-sided difference is
        large *relative* to a small gradient. A wrong tensor (a doubled ``dW``) shows 0.1 or more.
        """
        return self.difference < CORRECT and all(
            value <= SUSPICIOUS or not self.resolved(name) for name, value in self.per_tensor.items()
        )

    @property
    def wrong_tensors(self) -> list[str]:
        """Resolved tensors whose difference is not ``correct``, worst first."""
        bad = [name for name, value in self.per_tensor.items() if value >= CORRECT and self.resolved(name)]
        return sorted(bad, key=lambda name: -self.per_tensor[name])

    def __str__(self) -> str:
        lines = [f"gradient check: difference {self.difference:.3e} ({self.verdict})"]
        width = max([16, *(len(name) + 2 for name in self.per_tensor)])
        for name, value in self.per_tensor.items():
            lines.append(f"  {name:<{width}}{value:.3e}  {self.tensor_verdict(name)}")
        return "\n".join(lines)


CHECK_GRADIENTS_CONSTRAINTS = {
    "model": IsInstance(Sequential, "a Sequential"),
    "epsilon": Real(low=0.0, low_open=True),
    "l2": Real(low=0.0),
    "training": Boolean(),
    "l1": Real(low=0.0),
}
"""The legal values of :func:`check_gradients`' settings (the arrays are checked as ``fit`` checks them)."""


def check_gradients(
    model: Sequential,
    X: Any,
    y: Any,
    *,
    epsilon: float = 1e-7,
    l2: float = 0.0,
    training: bool = True,
    l1: float = 0.0,
) -> GradientCheckReport:
    """Compare back-propagation with two-sided differences on ``model`` at its current parameters.

    Builds the model first if it was never fitted (from ``X``'s width). Costs ``2 * n_params + 1``
    forward passes: use a few examples (e.g. ``X[:20]``).

    Parameters
    ----------
    model : Sequential
    X, y : arrays as for ``fit``
    epsilon : float > 0
        The perturbation (default 1e-7).
    l2 : float >= 0
        Include the L2 term in the cost and gradient.
    l1 : float >= 0
        Include the L1 term (check it with no weight within ``epsilon`` of 0, where ``|W|`` has no derivative).
    training : bool
        Check the training-mode computation (dropout on with frozen masks, batch statistics).
    """
    checked = validate_params(CHECK_GRADIENTS_CONSTRAINTS, model=model, epsilon=epsilon, l2=l2, training=training, l1=l1)
    epsilon, l2, training, l1 = checked["epsilon"], checked["l2"], checked["training"], checked["l1"]
    X = check_features(X, model.dtype)
    if not model.built:
        model.build(X.shape[1])
    X = model.check_X(X)
    Y = model.encode_targets(y, X.shape[0])
    params = model.params
    saved_state = {key: value.copy() for key, value in model.state_arrays().items()}
    saved_params = params.copy()
    try:
        model.compute_gradients(X, Y, training, l2, l1=l1)
        gradient = model.grads.copy()
        model.freeze_randomness(True)
        approximation = np.empty_like(gradient)
        for i in range(params.size):
            original = params[i]
            params[i] = original + epsilon
            plus = model.compute_cost(X, Y, training, l2, l1)
            params[i] = original - epsilon
            minus = model.compute_cost(X, Y, training, l2, l1)
            params[i] = original
            approximation[i] = (plus - minus) / (2 * epsilon)
    finally:
        model.freeze_randomness(False)
        np.copyto(params, saved_params)
        for key, value in model.state_arrays().items():
            np.copyto(value, saved_state[key])
    per_tensor = {
        info.name: relative_difference(gradient[info.slice], approximation[info.slice]) for info in model.table
    }
    scale = np.linalg.norm(gradient) + np.linalg.norm(approximation)
    per_tensor_share = {
        info.name: float(np.linalg.norm(gradient[info.slice] - approximation[info.slice]) / scale) if scale else 0.0
        for info in model.table
    }
    return GradientCheckReport(
        relative_difference(gradient, approximation), per_tensor, gradient, approximation, epsilon, per_tensor_share
    )


def check_derivative(
    f: Callable[[float], float], df: Callable[[float], float], x: float, epsilon: float = 1e-7
) -> float:
    """The 1-D form: relative difference between ``df(x)`` and ``(f(x+eps) - f(x-eps)) / (2 eps)``.

    >>> check_derivative(lambda t: t ** 3, lambda t: 3 * t ** 2, 2.0) < 1e-7
    True
    """
    epsilon = validate_params(CHECK_GRADIENTS_CONSTRAINTS, epsilon=epsilon)["epsilon"]
    approximation = (f(x + epsilon) - f(x - epsilon)) / (2 * epsilon)
    return relative_difference(np.atleast_1d(df(x)), np.atleast_1d(approximation))
