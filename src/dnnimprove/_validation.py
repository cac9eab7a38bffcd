"""One place for input validation, with one error format.

Every public entry point (layers, optimizers, schedules, ``fit``, ``predict``, the estimators and
the CLI) validates through these helpers, so every message has the same shape::

    beta2 must be in [0, 1); got 1.5

Checks raise :class:`ValueError` (or :class:`TypeError` for a wrong kind of object); they never use
``assert``, which vanishes under ``python -O``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = [
    "check_number",
    "check_int",
    "check_choice",
    "check_features",
    "check_finite_array",
    "check_bool",
    "check_callable",
    "check_type",
    "all_finite",
    "NotFittedError",
]


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used for prediction before it was fitted (or built)."""


def _interval_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"in {left}{lo}, {hi}{right}"


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float after checking it is a finite real number inside the interval.

    ``low_open``/``high_open`` make the bound exclusive: ``check_number("lr", x, low=0, low_open=True)``
    accepts ``x > 0``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r} of type {type(value).__name__}")
    number = float(value)
    interval = _interval_text(low, high, low_open, high_open)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number {interval}; got {value!r}")
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        raise ValueError(f"{name} must be {interval}; got {value!r}")
    return number


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int after checking it is an integer (not a bool) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r} of type {type(value).__name__}")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"{name} must be an integer {_interval_text(low, high, False, False)}; got {value!r}")
    return number


def check_choice(name: str, value: Any, choices: Any) -> Any:
    """Check that ``value`` is one of ``choices`` (listed in the error when it is not)."""
    valid = sorted(choices)
    try:
        known = value in choices
    except (TypeError, ValueError):  # an unhashable value (a list, an array) is no valid name either
        known = False
    if not known:
        raise ValueError(f"unknown {name} {value!r:.80}; valid values: {', '.join(map(repr, valid))}")
    return value


def all_finite(array: np.ndarray, block: int = 1 << 16) -> bool:
    """``np.isfinite(array).all()`` over blocks of about ``block`` elements along the first axis.

    A large data set (60000 x 784 floats) then needs no boolean temporary of its own size, whose page
    faults cost more than the check itself.
    """
    rows = max(1, block // max(1, array[:1].size))
    return all(np.isfinite(array[start : start + rows]).all() for start in range(0, array.shape[0], rows))


def check_finite_array(name: str, array: Any, *, ndim: int | tuple[int, ...], dtype: Any = None) -> np.ndarray:
    """Convert ``array`` to a numeric ndarray and check its dimensionality and finiteness.

    Object, string, complex and empty arrays are rejected with a message naming ``name``.
    """
    try:
        result = np.asarray(array, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a numeric array; could not convert it: {error}") from None
    if result.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a numeric array; got dtype {result.dtype}")
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if result.ndim not in allowed:
        expected = " or ".join(f"{d}-D" for d in allowed)
        hint = " (reshape a single feature with X.reshape(-1, 1))" if name == "X" and result.ndim == 1 else ""
        raise ValueError(f"{name} must be {expected}; got shape {result.shape}{hint}")
    if result.size == 0 or result.shape[0] == 0:
        raise ValueError(f"{name} must not be empty; got shape {result.shape}")
    if result.dtype.kind == "f" and not all_finite(result):
        bad = np.argwhere(~np.isfinite(result))[0]
        raise ValueError(
            f"{name} must contain only finite values; got {result[tuple(bad)].item()!r} at index {tuple(int(i) for i in bad)}"
        )
    return result


def check_features(X: Any, dtype: Any) -> np.ndarray:
    """Validate a design matrix ``X`` of shape ``(n_samples, n_features)`` and cast it to ``dtype``."""
    X = check_finite_array("X", X, ndim=2)
    return np.ascontiguousarray(X, dtype=dtype)


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` as a bool after checking it is ``True`` or ``False`` (NumPy's bool too).

    ``1``, ``"no"`` or an array are refused rather than read as truthy.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r:.80} of type {type(value).__name__}")
    return bool(value)


def check_callable(name: str, value: Any, signature: str) -> Any:
    """Check that ``value`` is callable; ``signature`` (e.g. ``"epoch -> lr"``) goes into the message."""
    if not callable(value):
        raise TypeError(f"{name} must be a callable {signature}; got {value!r:.80} of type {type(value).__name__}")
    return value


def check_type(name: str, value: Any, kind: type | tuple[type, ...], expected: str) -> Any:
    """Check ``isinstance(value, kind)``; ``expected`` describes it for the message (e.g. ``"a Callback"``)."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {expected}; got {value!r:.80} of type {type(value).__name__}")
    return value
