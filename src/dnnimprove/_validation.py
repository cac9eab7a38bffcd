"""One place for input validation, with one error format.

Every public entry point (layers, optimizers, schedules, ``fit``, ``predict``, the estimators and
the CLI) validates through these helpers, so every message has the same shape::

    beta2 must be in [0, 1); got 1.5

Checks raise :class:`ValueError` (or :class:`TypeError` for a wrong kind of object); they never use
``assert``, which vanishes under ``python -O``.

Constructors and ``fit`` declare their arguments' constraints in one table, as scikit-learn's
``_parameter_constraints``: a class attribute (or module constant) mapping each argument's name to a
:class:`Real`, :class:`Integer`, :class:`Options`, :class:`Boolean`, :class:`IsCallable` or
:class:`IsInstance`; :func:`validate_params` checks values against it through the ``check_*`` functions
below, so a table gives the same messages as the calls it replaces::

    _parameter_constraints = {"lr": Real(low=0.0, low_open=True), "beta": Real(low=0.0, high=1.0, high_open=True)}
    validate_params(_parameter_constraints, lr=0.01, beta=1.5)   # ValueError: beta must be in [0, 1); got 1.5
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Collection, Mapping

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
    "check_numeric_input",
    "describe_value",
    "all_finite",
    "NotFittedError",
    "Constraint",
    "Real",
    "Integer",
    "Options",
    "Boolean",
    "IsCallable",
    "IsInstance",
    "validate_params",
    "set_params_checked",
]


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used for prediction before it was fitted (or built)."""


def describe_value(value: Any, limit: int = 80) -> str:
    """``repr(value)`` for a message, never failing and never long.

    An integer too large for ``repr`` (beyond Python's 4300-digit limit) or for a float is described by
    its size: ``10**400`` is ``an integer of 401 digits``.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)
        if abs(number) >= 10**30:
            digits = len(str(abs(number))) if number.bit_length() < 14000 else int(number.bit_length() * math.log10(2)) + 1
            sign = "a negative" if number < 0 else "an"
            return f"{sign} integer of {'about ' if number.bit_length() >= 14000 else ''}{digits} digits"
    try:
        text = repr(value)
    except ValueError:  # pragma: no cover - repr of an object that refuses
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
        raise TypeError(f"{name} must be a real number; got {describe_value(value)} of type {type(value).__name__}")
    interval = _interval_text(low, high, low_open, high_open)
    try:
        number = float(value)
    except (OverflowError, ValueError):  # an integer or fraction beyond float's range
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number {interval}; got {describe_value(value)}")
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        raise ValueError(f"{name} must be {interval}; got {describe_value(value)}")
    return number


INT64_MAX = 2**63 - 1
"""No count, size or seed may exceed this (NumPy's largest integer): nothing downstream can overflow."""


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int after checking it is an integer (not a bool) in ``[low, high]``.

    ``high`` defaults to :data:`INT64_MAX` (and ``low`` is at least ``-INT64_MAX - 1``): a Python
    integer too large for NumPy is refused here, never by an ``OverflowError`` later.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {describe_value(value)} of type {type(value).__name__}")
    number = int(value)
    top = INT64_MAX if high is None else high
    bottom = -INT64_MAX - 1 if low is None else low
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"{name} must be an integer {_interval_text(low, high, False, False)}; got {describe_value(value)}")
    if number < bottom or number > top:
        raise ValueError(f"{name} must be an integer in [{'-2**63' if low is None else low}, 2**63 - 1]; got {describe_value(value)}")
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
    """Validate a design matrix ``X`` of shape ``(n_samples, n_features)`` and cast it to ``dtype``.

    Finiteness is checked again after the cast: a float64 value beyond float32's range given to a
    float32 model is refused (naming the value, its index and the range), never turned into ``inf``.
    """
    X = check_finite_array("X", X, ndim=2)
    dtype = np.dtype(dtype)
    if X.dtype == dtype:
        return np.ascontiguousarray(X)
    with np.errstate(over="ignore", invalid="ignore"):
        cast = np.ascontiguousarray(X, dtype=dtype)
    if dtype.kind == "f" and not all_finite(cast):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(cast))[0])
        limit = np.finfo(dtype).max
        raise ValueError(
            f"X holds {X[bad].item()!r} at index {bad}, outside the range of the model's dtype {dtype} "
            f"(magnitude at most {limit:.4g}); scale the input or use dtype='float64'"
        )
    return cast


def check_numeric_input(name: str, value: Any) -> None:
    """Refuse dates, durations and text where numbers are needed, before any conversion could read them.

    ``datetime64``/``timedelta64`` arrays (or DataFrame columns), string arrays and object arrays
    holding strings, bytes or dates raise ``TypeError`` naming ``name`` and the dtype (or column).
    Anything else is left to the numeric checks.
    """
    columns = getattr(value, "dtypes", None)
    if columns is not None and not isinstance(columns, np.dtype) and hasattr(columns, "items"):
        for column, column_dtype in columns.items():
            kind = getattr(column_dtype, "kind", "O")
            if kind in "mMSUV" or kind == "O" and _holds_text(np.asarray(value[column])):
                raise TypeError(f"{name} column {column!r:.80} has the non-numeric dtype {column_dtype}; convert it to numbers first")
        return
    if isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):  # ragged: left to the numeric checks
            return
    else:
        return
    if array.dtype.kind in "mMSUV" or array.dtype.kind == "O" and _holds_text(array):
        raise TypeError(f"{name} must hold numbers; got dtype {array.dtype}{' holding text or dates' if array.dtype.kind == 'O' else ''}")


def _holds_text(array: np.ndarray) -> bool:
    import datetime

    return any(isinstance(item, (str, bytes, datetime.date, datetime.timedelta, np.datetime64, np.timedelta64))
               for item in array.reshape(-1))


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


# -- declarative constraints ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Constraint:
    """What one argument may be; ``none_ok=True`` also accepts ``None`` (returned as it is).

    ``check(name, value)`` returns the value as the code uses it (a float, an int, a bool) or raises the one-format
    error naming ``name`` and ``value``; ``invalid()`` gives a value it refuses (for the contract tests).
    """

    def check(self, name: str, value: Any) -> Any:
        if value is None and getattr(self, "none_ok", False):
            return None
        return self._check(name, value)

    def _check(self, name: str, value: Any) -> Any:  # pragma: no cover - every constraint defines it
        raise NotImplementedError

    def invalid(self) -> Any:  # pragma: no cover - every constraint defines it
        raise NotImplementedError


@dataclass(frozen=True)
class Real(Constraint):
    """A finite real number in an interval (:func:`check_number`): ``Real(low=0.0, low_open=True)`` is ``> 0``."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    none_ok: bool = False

    def _check(self, name: str, value: Any) -> float:
        return check_number(name, value, low=self.low, high=self.high, low_open=self.low_open, high_open=self.high_open)

    def invalid(self) -> Any:
        if self.low is not None:
            return self.low if self.low_open else self.low - 1.0
        return self.high if self.high_open else (math.nan if self.high is None else self.high + 1.0)


@dataclass(frozen=True)
class Integer(Constraint):
    """An integer, not a bool, in ``[low, high]`` (:func:`check_int`)."""

    low: int | None = None
    high: int | None = None
    none_ok: bool = False

    def _check(self, name: str, value: Any) -> int:
        return check_int(name, value, low=self.low, high=self.high)

    def invalid(self) -> Any:
        return self.low - 1 if self.low is not None else (0.5 if self.high is None else self.high + 1)


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of values (:func:`check_choice`), listed in the error."""

    options: Collection[Any] = ()
    none_ok: bool = False

    def _check(self, name: str, value: Any) -> Any:
        return check_choice(name, value, self.options)

    def invalid(self) -> Any:
        return "not-an-option"


@dataclass(frozen=True)
class Boolean(Constraint):
    """``True`` or ``False`` (NumPy's bool too), never a truthy number or string (:func:`check_bool`)."""

    none_ok: bool = False

    def _check(self, name: str, value: Any) -> bool:
        return check_bool(name, value)

    def invalid(self) -> Any:
        return 1


@dataclass(frozen=True)
class IsCallable(Constraint):
    """A callable; ``signature`` (e.g. ``"epoch -> lr"``) goes into the message (:func:`check_callable`)."""

    signature: str = ""
    none_ok: bool = False

    def _check(self, name: str, value: Any) -> Any:
        return check_callable(name, value, self.signature)

    def invalid(self) -> Any:
        return 3


@dataclass(frozen=True)
class IsInstance(Constraint):
    """An instance of ``kind``, described to the user as ``expected`` (:func:`check_type`)."""

    kind: type | tuple[type, ...] = object
    expected: str = ""
    none_ok: bool = False

    def _check(self, name: str, value: Any) -> Any:
        return check_type(name, value, self.kind, self.expected)

    def invalid(self) -> Any:
        return object()


def validate_params(constraints: Mapping[str, Constraint], **values: Any) -> dict[str, Any]:
    """Check each keyword value against ``constraints[name]``; the checked values, in the order given.

    A name missing from the table is a programming error (``KeyError``), never a silently unchecked value.
    """
    return {name: constraints[name].check(name, value) for name, value in values.items()}


def set_params_checked(owner: Any, **values: Any) -> None:
    """Check the values against ``type(owner)._parameter_constraints`` and store each as ``owner.<name>``."""
    for name, value in validate_params(type(owner)._parameter_constraints, **values).items():
        setattr(owner, name, value)
