"""One-pass compiled optimizer updates, rounding exactly as the NumPy passes in :mod:`dnnimprove.optimizers`.

The NumPy update of Adam is 13 passes over the flat vectors (one per ufunc call); on a wide network
(235k float32 parameters) that is memory-bound at about 0.27 ms a step, on a tiny one it is 13 calls
of NumPy's per-call overhead. Each kernel here does the same element-wise arithmetic in one loop: the
same operations in the same order on the same dtype, each IEEE-rounded (no fastmath, no fused
multiply-add), so the result is bit for bit the NumPy one (``tests/test_optimizer_kernels.py``).

Every kernel first checks the gradient: if any element is NaN or infinite it returns ``False`` and
changes nothing (the training loop then reports the divergence with the parameters of the last good
step); otherwise it updates ``params`` (and the moments) in place and returns ``True``.

Scalars come in already cast to the arrays' dtype, as NumPy casts a Python float meeting a float32
array (NEP 50): ``lr``, the betas, ``1 - beta``, ``epsilon`` and the bias corrections ``1 - beta**t``.
``None`` stands for each kernel when numba is not available (see :mod:`dnnimprove._numba`).
"""

from __future__ import annotations

import math

from ._numba import njit

__all__ = ["gd_step", "momentum_step", "rmsprop_step", "adam_step"]


def _finite(grads):  # x - x is 0 for every finite x and NaN for NaN and +-inf; the loop vectorizes
    bad = False
    for i in range(grads.size):
        bad |= grads[i] - grads[i] != 0
    return not bad


_finite = njit(_finite)


def _gd_step(params, grads, lr):
    """``W -= g * lr``."""
    if not _finite(grads):
        return False
    for i in range(params.size):
        params[i] -= grads[i] * lr
    return True


def _momentum_step(params, grads, v, beta, one_minus_beta, lr, nesterov):
    """``v = v beta + g (1 - beta)``; ``W -= v lr`` or, Nesterov, ``W -= (g (1 - beta) + v beta) lr``."""
    if not _finite(grads):
        return False
    # two loops rather than a branch inside one: LLVM vectorizes a loop without a branch
    if nesterov:
        for i in range(params.size):
            scaled = grads[i] * one_minus_beta
            velocity = v[i] * beta + scaled
            v[i] = velocity
            params[i] -= (scaled + velocity * beta) * lr
    else:
        for i in range(params.size):
            velocity = v[i] * beta + grads[i] * one_minus_beta
            v[i] = velocity
            params[i] -= velocity * lr
    return True


def _rmsprop_step(params, grads, s, beta, one_minus_beta, epsilon, lr):
    """``s = s beta + (g g)(1 - beta)``; ``W -= (g lr) / (sqrt(s) + epsilon)``."""
    if not _finite(grads):
        return False
    for i in range(params.size):
        g = grads[i]
        second = s[i] * beta + (g * g) * one_minus_beta
        s[i] = second
        params[i] -= (g * lr) / (math.sqrt(second) + epsilon)
    return True


def _adam_step(params, grads, v, s, beta1, one_minus_beta1, beta2, one_minus_beta2, epsilon, correction1,
               correction2, lr, decay_mode, decay, decay_mask):
    """Adam (AdamW with ``decay_mode``): optional decoupled decay, then::

        v = v beta1 + g (1 - beta1)      s = s beta2 + (g g)(1 - beta2)
        W -= ((v / (1 - beta1**t)) lr) / (sqrt(s / (1 - beta2**t)) + epsilon)

    ``decay_mode`` 0: no decay; 1: ``W *= decay`` (``decay = 1 - lr wd``, every parameter); 2:
    ``W -= (W M) decay`` (``decay = lr wd``, ``M = decay_mask``, the weights only).
    """
    if not _finite(grads):
        return False
    # the decay in a loop of its own: each element is decayed before its Adam update either way, and
    # LLVM vectorizes a loop without a branch
    if decay_mode == 1:
        for i in range(params.size):
            params[i] *= decay
    elif decay_mode == 2:
        for i in range(params.size):
            params[i] -= (params[i] * decay_mask[i]) * decay
    for i in range(params.size):
        g = grads[i]
        first = v[i] * beta1 + g * one_minus_beta1
        second = s[i] * beta2 + (g * g) * one_minus_beta2
        v[i] = first
        s[i] = second
        params[i] -= ((first / correction1) * lr) / (math.sqrt(second / correction2) + epsilon)
    return True


gd_step = njit(_gd_step)
momentum_step = njit(_momentum_step)
rmsprop_step = njit(_rmsprop_step)
adam_step = njit(_adam_step)
