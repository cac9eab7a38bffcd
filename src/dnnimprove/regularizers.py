"""L2 and L1 regularization over the flat parameter vector (weights only: not biases, not batch-norm gamma/beta).

With ``m`` examples in the batch and the model's weight mask ``M`` (1 on weights, 0 elsewhere)::

    J_L2  = (lambd / (2 m)) * sum_l ||W_l||_F**2      = (lambd / (2 m)) * sum(M * theta**2)
    dJ_L2 = (lambd / m) * W                            = (lambd * M * theta) / m

The gradient is computed as ``(lambd * W) / m``, the order of the course's ``(lambd * W3) / m``.
Keras's ``l2(alpha)`` adds ``alpha * sum(W**2)`` (no ``1/(2m)``); PyTorch's ``weight_decay`` adds
``weight_decay * W`` to the gradient of every parameter, biases included.

L1, in the course's scaling (the same ``1 / (2 m)`` as its L2)::

    J_L1  = (lambd / (2 m)) * sum_l ||W_l||_1          = (lambd / (2 m)) * sum(M * |theta|)
    dJ_L1 = (lambd / (2 m)) * sign(W)

``|W|`` has no derivative at 0; ``sign(0) = 0`` is the subgradient used there. L1 pushes every weight
towards 0 by the same amount whatever its size, so with it many weights end near zero (a sparse network),
where L2 shrinks each in proportion to its size. Keras's ``l1(alpha)`` adds ``alpha * sum(|W|)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["l2_penalty", "l2_gradient", "add_l2_gradient", "l1_penalty", "l1_gradient", "add_l1_gradient"]


def l2_penalty(params: np.ndarray, weight_mask: np.ndarray, lambd: float, m: int) -> float:
    """``(lambd / (2 m)) * sum(M * theta**2)``; 0.0 when ``lambd == 0``."""
    if not lambd:
        return 0.0
    weights = params * weight_mask
    return float(lambd / (2 * m) * np.dot(weights, weights))


def l2_gradient(W, lambd, m):
    """The L2 term of the gradient, ``(lambd * W) / m``, computed as ``W * lambd / m``; element-wise, so the
    compiled engine applies this same formula entry by entry."""
    return W * lambd / m


def add_l2_gradient(grads: np.ndarray, params: np.ndarray, weight_mask: np.ndarray, lambd: float, m: int) -> None:
    """``grads += (lambd * M * theta) / m`` in place (:func:`l2_gradient` of the masked parameters)."""
    if not lambd:
        return
    grads += l2_gradient(params * weight_mask, lambd, m)


def l1_penalty(params: np.ndarray, weight_mask: np.ndarray, lambd: float, m: int) -> float:
    """``(lambd / (2 m)) * sum(M * |theta|)``; 0.0 when ``lambd == 0``."""
    if not lambd:
        return 0.0
    return float(lambd / (2 * m) * np.sum(np.abs(params * weight_mask)))


def l1_gradient(W, lambd, m):
    """The L1 term of the gradient, ``(lambd / (2 m)) * sign(W)`` (0 where ``W == 0``)."""
    return np.sign(W) * (lambd / (2 * m))


def add_l1_gradient(grads: np.ndarray, params: np.ndarray, weight_mask: np.ndarray, lambd: float, m: int) -> None:
    """``grads += (lambd / (2 m)) * M * sign(theta)`` in place; nothing when ``lambd == 0``."""
    if not lambd:
        return
    grads += l1_gradient(params * weight_mask, lambd, m)
