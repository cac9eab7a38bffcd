"""The exponentially weighted average, the one moving average of the toolkit.

``average = beta * average + (1 - beta) * value`` is momentum's ``v``, RMSprop's and Adam's ``s`` and batch
normalization's running statistics. :func:`ewma_step` is that update as one element-wise formula, computed as
``average * beta + value * one_minus_beta`` (the order of the course's ``beta * v + (1 - beta) * dW``); it
works on arrays (NumPy) and on single numbers (the compiled engine applies it element by element), so both
engines round it the same way. :func:`ewma` averages a whole sequence, with optional bias correction.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ._validation import Real, validate_params

__all__ = ["ewma_step", "ewma", "EWMA_CONSTRAINTS"]

EWMA_CONSTRAINTS = {"beta": Real(low=0.0, high=1.0, high_open=True)}
"""The legal value of :func:`ewma`'s ``beta`` (``values`` and ``v0`` are checked as data)."""


def ewma_step(average: Any, value: Any, beta: Any, one_minus_beta: Any) -> Any:
    """One step of the exponentially weighted average: ``average * beta + value * one_minus_beta``.

    ``one_minus_beta`` is passed (not computed) so that the caller rounds ``1 - beta`` once, to the arrays'
    dtype, as NumPy rounds a Python float meeting a float32 array. Returns a new value; arrays keep their shape.
    """
    return average * beta + value * one_minus_beta


def ewma(
    values: Iterable[float] | np.ndarray, beta: float, bias_correction: bool = True, v0: Any = 0.0
) -> np.ndarray:
    """Exponentially weighted average of a sequence.

    ``v_0 = v0`` (0 by default, as the course); ``v_t = beta v_{t-1} + (1 - beta) x_t`` (:func:`ewma_step`); with
    bias correction the result is ``v_t / (1 - beta**t)`` (t from 1), which removes the start-up bias towards
    zero. It averages over roughly the last ``1 / (1 - beta)`` values. ``beta = 0`` returns the values.

    Parameters
    ----------
    values : array-like of shape (n,) or (n, ...)
        The sequence; the first axis is time.
    beta : float in [0, 1)
    bias_correction : bool
        Only for a start from zero: the correction is derived for ``v_0 = 0``, so a non-zero ``v0`` with
        ``bias_correction=True`` is a ``ValueError``.
    v0 : float, array of shape values.shape[1:], or "first"
        The starting value ``v_0``. ``"first"`` starts from the first value (``v_0 = x_1``, so ``v_1 = x_1``),
        another way to avoid the start-up bias, without a correction.

    Returns
    -------
    ndarray of float, the same shape as ``values``: the average after each element.

    >>> ewma([1.0, 1.0, 1.0], beta=0.5).tolist()
    [1.0, 1.0, 1.0]
    """
    beta = validate_params(EWMA_CONSTRAINTS, beta=beta)["beta"]
    x = np.array(values, dtype=float)
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"values must be a non-empty sequence; got shape {x.shape}")
    out = np.empty_like(x)
    if isinstance(v0, str):
        if v0 != "first":
            raise ValueError(f"v0 must be a number, an array or 'first'; got {v0!r}")
        start = x[0]
    else:
        start = np.asarray(v0, dtype=float)
        if not np.all(np.isfinite(start)) or start.shape not in ((), x.shape[1:]):
            raise ValueError(f"v0 must be finite, a number or of shape {x.shape[1:]}; got {v0!r}")
    if bias_correction and np.any(start != 0):
        raise ValueError(f"bias_correction assumes v0 = 0; got v0={v0!r}: pass bias_correction=False")
    average = np.zeros_like(x[0]) + start
    for t in range(x.shape[0]):
        average = ewma_step(average, x[t], beta, 1 - beta)
        out[t] = average / (1 - beta ** (t + 1)) if bias_correction else average
    return out
