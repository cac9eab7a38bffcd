"""Search spaces: one hyperparameter's distribution per entry, on the scale where its effect is even.

- learning rate and L2 strength on a log scale: ``LogUniform(1e-4, 1)`` is ``lr = 10**r``, ``r ~ U(-4, 0)``;
- a momentum / Adam ``beta`` on the log scale of ``1 - beta``: ``OneMinusLogUniform(0.9, 0.999)`` is
  ``beta = 1 - 10**r``, ``r ~ U(-3, -1)`` (0.9 -> 0.9005 matters far less than 0.999 -> 0.9995);
- units and layers as integers (``IntUniform``, ``HiddenLayers``), mini-batch sizes as powers of two
  (``PowersOfTwo(16, 256)``), categorical settings as a list (``Choice``).

Each dimension is a thin wrapper over a :mod:`scipy.stats` distribution (``loguniform``, ``randint``,
``uniform``) with an ``rvs`` method, so a space works as ``param_distributions`` of scikit-learn's
``RandomizedSearchCV`` too.

**Conditional spaces.** ``dimension.when(name=value)`` (or a list of values) makes an entry active only
when the entry ``name`` took one of those values; an inactive entry is not set on the estimator (it keeps
its default) and is ``None`` in the trial. :class:`Switch` is a choice that only steers conditions and is
never set on the estimator::

    space = {
        "optimizer": Choice(["gd", "momentum", "adam"]),
        "beta": OneMinusLogUniform(0.9, 0.999).when(optimizer="momentum"),
        "beta1": OneMinusLogUniform(0.9, 0.999).when(optimizer="adam"),
        "regularization": Switch(["l2", "dropout"]),
        "keep_prob": Uniform(0.5, 0.95).when(regularization="dropout"),
    }

:func:`draw` draws one configuration from a random generator (every entry is drawn, in name order,
active or not, so a condition never shifts the other entries' draws); :func:`narrow_space` zooms a space
in on the best trials' values (coarse to fine).
"""

from __future__ import annotations

import copy
import math
from typing import Any, ClassVar, Sequence

import numpy as np

from .._validation import Constraint, Integer, Real, validate_params

__all__ = [
    "Dimension",
    "LogUniform",
    "Uniform",
    "OneMinusLogUniform",
    "IntUniform",
    "PowersOfTwo",
    "Choice",
    "Switch",
    "HiddenLayers",
    "check_space",
    "draw",
    "active",
    "narrow_space",
    "describe_space",
    "estimator_params",
    "NARROW_CONSTRAINTS",
]

NARROW_CONSTRAINTS = {"margin": Real(low=0.0)}
"""The legal value of :func:`narrow_space`'s ``margin`` (the searches' too)."""


def _stats() -> Any:
    """:mod:`scipy.stats`, imported when a dimension is first sampled: building, printing or narrowing a space
    needs none of it, so importing the search (and the studies, which import it) stays light."""
    from scipy import stats

    return stats


def _python(value: Any) -> Any:
    """NumPy scalars as plain Python numbers (clean tables, CSV and ``set_params``)."""
    return value.item() if isinstance(value, np.generic) else value


class Dimension:
    """One hyperparameter's distribution: ``rvs`` draws, ``narrowed`` zooms in on good values.

    ``condition`` is ``None`` or ``(name, values)``: the entry is active only when the entry ``name`` of
    the same space took one of ``values`` (set with :meth:`when`).
    """

    condition: tuple[str, tuple[Any, ...]] | None = None

    def when(self, **condition: Any) -> "Dimension":
        """A copy active only when another entry took a value: ``.when(optimizer="adam")`` or a list of values."""
        if len(condition) != 1:
            raise ValueError(f"when takes one condition, e.g. when(optimizer='adam'); got {condition!r}")
        (name, values), = condition.items()
        values = tuple(values) if isinstance(values, (list, tuple, set)) else (values,)
        if not values:
            raise ValueError(f"when({name}=...) needs at least one value; got {condition[name]!r}")
        conditioned = copy.copy(self)
        conditioned.condition = (name, values)
        return conditioned

    def _condition_repr(self) -> str:
        if self.condition is None:
            return ""
        name, values = self.condition
        return f".when({name}={list(values)!r})"

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        raise NotImplementedError

    def narrowed(self, values: Sequence[Any], margin: float = 0.1) -> "Dimension":
        """A smaller dimension covering ``values`` (the best trials' values) plus a margin."""
        raise NotImplementedError


class _Interval(Dimension):
    """A range ``[low, high]`` sampled uniformly on an axis (``_axis``/``_value`` map to and from it)."""

    scale = "linear"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"low": Real(), "high": Real()}
    """Each bound's legal values; an error names the class and the bound (``LogUniform low must be ...``)."""

    def _checked(self, **bounds: Any) -> list[Any]:
        """``bounds`` checked against the class's table, each named ``"<class> <bound>"`` in an error."""
        table = type(self)._parameter_constraints
        return [table[name].check(f"{type(self).__name__} {name}", value) for name, value in bounds.items()]

    def __init__(self, low: float, high: float) -> None:
        low, high = self._checked(low=low, high=high)
        if not low < high:
            raise ValueError(f"{type(self).__name__} needs low < high; got low={low:g}, high={high:g}")
        self.low, self.high = low, high

    def _axis(self, value: float) -> float:
        return value

    def _value(self, axis: float) -> float:
        return axis

    def _between(self, low: float, high: float) -> Dimension:
        return type(self)(low, high)

    def narrowed(self, values: Sequence[Any], margin: float = 0.1) -> Dimension:
        """``[min, max]`` of ``values`` on the sampling axis, widened by ``margin`` x the current width.

        The result stays inside the current range; with one value it is a small range around it.
        """
        axis_low, axis_high = sorted((self._axis(self.low), self._axis(self.high)))
        points = [self._axis(value) for value in values]
        pad = margin * (axis_high - axis_low)
        low = self._value(max(axis_low, min(points) - pad))
        high = self._value(min(axis_high, max(points) + pad))
        low, high = sorted((low, high))
        return self._between(max(low, self.low), min(high, self.high))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (other.low, other.high, other.condition) == (self.low, self.high, self.condition)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.low:.4g}, {self.high:.4g}){self._condition_repr()}"


class Uniform(_Interval):
    """``x ~ U(low, high)`` (:func:`scipy.stats.uniform`), e.g. ``keep_prob``."""

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        draws = _stats().uniform(self.low, self.high - self.low).rvs(size=size, random_state=random_state)
        return _python(draws)


class LogUniform(_Interval):
    """``x = 10**r``, ``r ~ U(log10 low, log10 high)`` (:func:`scipy.stats.loguniform`): lr, L2 strength.

    Both bounds must be positive (a log scale has no zero).
    """

    scale = "log"

    def __init__(self, low: float, high: float) -> None:
        checked_low, checked_high = self._checked(low=low, high=high)
        if checked_low <= 0 or checked_high <= 0:
            raise ValueError(f"LogUniform needs positive bounds on a log scale; got low={low:g}, high={high:g}")
        super().__init__(low, high)

    def _axis(self, value: float) -> float:
        return math.log10(value)

    def _value(self, axis: float) -> float:
        return 10.0**axis

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        return _python(_stats().loguniform(self.low, self.high).rvs(size=size, random_state=random_state))


class OneMinusLogUniform(_Interval):
    """``beta = 1 - 10**r``, ``r ~ U(log10(1 - high), log10(1 - low))``: averaging weights such as beta.

    ``OneMinusLogUniform(0.9, 0.999)`` is the course's ``r ~ U(-3, -1)``; it samples ``1 - beta`` with
    :func:`scipy.stats.loguniform`. Needs ``0 <= low < high < 1``.
    """

    scale = "log(1 - x)"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "low": Real(low=0.0, high=1.0, high_open=True), "high": Real(low=0.0, high=1.0, high_open=True),
    }

    def _axis(self, value: float) -> float:
        return math.log10(1.0 - value)

    def _value(self, axis: float) -> float:
        return 1.0 - 10.0**axis

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        one_minus = _stats().loguniform(1.0 - self.high, 1.0 - self.low).rvs(size=size, random_state=random_state)
        return _python(1.0 - one_minus)


class IntUniform(_Interval):
    """An integer in ``[low, high]`` (both included), uniformly (:func:`scipy.stats.randint`): units, layers."""

    scale = "integer"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"low": Integer(), "high": Integer()}

    def __init__(self, low: int, high: int) -> None:
        super().__init__(low, high)

    def _between(self, low: float, high: float) -> Dimension:
        low, high = math.ceil(low - 1e-9), math.floor(high + 1e-9)
        return Choice([low]) if low == high else type(self)(low, high)

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        return _python(_stats().randint(self.low, self.high + 1).rvs(size=size, random_state=random_state))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.low}, {self.high}){self._condition_repr()}"


class PowersOfTwo(IntUniform):
    """``2**k``, ``k`` uniform in ``[log2 low, log2 high]``: mini-batch sizes (``PowersOfTwo(16, 256)``)."""

    scale = "log2"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"low": Integer(low=1), "high": Integer(low=1)}

    def __init__(self, low: int, high: int) -> None:
        for name, value in zip(("low", "high"), self._checked(low=low, high=high)):
            if value & (value - 1):
                raise ValueError(f"PowersOfTwo {name} must be a power of two (1, 2, 4, ...); got {value}")
        super().__init__(low, high)

    def _axis(self, value: float) -> float:
        return math.log2(value)

    def _value(self, axis: float) -> float:
        return 2.0**axis

    def _between(self, low: float, high: float) -> Dimension:
        low, high = 2 ** math.ceil(math.log2(low) - 1e-9), 2 ** math.floor(math.log2(high) + 1e-9)
        return Choice([low]) if low == high else PowersOfTwo(low, high)

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        exponents = _stats().randint(int(math.log2(self.low)), int(math.log2(self.high)) + 1)
        draws = 2 ** exponents.rvs(size=size, random_state=random_state)
        return _python(draws)


class Choice(Dimension):
    """One of ``values``, each equally likely (:func:`scipy.stats.randint` picks the index).

    ``narrowed`` keeps the values that the best trials used, in their original order.
    """

    scale = "categorical"

    def __init__(self, values: Sequence[Any]) -> None:
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise ValueError(f"Choice needs a non-empty list of values; got {values!r}")
        self.values = list(values)

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        index = _stats().randint(0, len(self.values)).rvs(size=size, random_state=random_state)
        if size is None:
            return self.values[int(index)]
        return [self.values[int(i)] for i in np.ravel(index)]

    def narrowed(self, values: Sequence[Any], margin: float = 0.1) -> Dimension:
        return type(self)([value for value in self.values if value in list(values)])

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (other.values, other.condition) == (self.values, self.condition)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.values!r}){self._condition_repr()}"


class HiddenLayers(Dimension):
    """``hidden_layer_sizes = (units,) * layers`` with ``units`` and ``layers`` drawn independently.

    Parameters
    ----------
    units : Dimension or (low, high), default (16, 128)
        A pair is ``IntUniform(low, high)``; ``PowersOfTwo`` or ``Choice`` also work.
    layers : Dimension or (low, high), default (1, 3)
    """

    scale = "units x layers"

    def __init__(self, units: Any = (16, 128), layers: Any = (1, 3)) -> None:
        self.units = units if isinstance(units, Dimension) else IntUniform(*units)
        self.layers = layers if isinstance(layers, Dimension) else IntUniform(*layers)
        for name, dimension, least in (("units", self.units, 1), ("layers", self.layers, 0)):
            smallest = min(dimension.values) if isinstance(dimension, Choice) else getattr(dimension, "low", least)
            if smallest < least:
                raise ValueError(f"HiddenLayers {name} must be >= {least}; got {dimension!r}")

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        if size is not None:
            return [self.rvs(random_state=random_state) for _ in range(size)]
        units = int(self.units.rvs(random_state=random_state))
        return (units,) * int(self.layers.rvs(random_state=random_state))

    def narrowed(self, values: Sequence[Any], margin: float = 0.1) -> Dimension:
        units = [value[0] for value in values if len(value)]
        narrowed_units = self.units.narrowed(units, margin) if units else self.units
        return HiddenLayers(narrowed_units, self.layers.narrowed([len(value) for value in values], margin))

    def __eq__(self, other: object) -> bool:
        return type(other) is HiddenLayers and (other.units, other.layers, other.condition) == (self.units, self.layers, self.condition)

    def __repr__(self) -> str:
        return f"HiddenLayers(units={self.units!r}, layers={self.layers!r}){self._condition_repr()}"


class Switch(Choice):
    """A :class:`Choice` that only steers conditions: recorded in the trial, never set on the estimator.

    ``Switch(["l2", "dropout"])`` with ``keep_prob: Uniform(0.5, 0.95).when(regularization="dropout")``
    searches dropout only in the trials that drew ``"dropout"``.
    """

    scale = "switch"


_RESERVED = ("rank", "dev_score", "train_score", "round", "trial", "state", "epochs", "seconds", "worker", "pid", "error")


def _as_dimension(name: str, value: Any) -> Any:
    """A space entry as a Dimension (lists become Choice, scipy's uniform/loguniform/randint are wrapped)."""
    if isinstance(value, Dimension):
        return value
    if isinstance(value, (list, tuple)):
        return Choice(value)
    frozen = getattr(value, "dist", None)
    if frozen is not None and hasattr(value, "support"):
        low, high = (float(bound) for bound in value.support())
        wrapped = {"loguniform": LogUniform, "reciprocal": LogUniform, "uniform": Uniform}.get(frozen.name)
        if wrapped is not None:
            return wrapped(low, high)
        if frozen.name == "randint":
            return IntUniform(int(low), int(high))
    if hasattr(value, "rvs"):
        return value  # another distribution: sampled as is, not narrowed
    raise TypeError(
        f"space[{name!r}] must be a distribution (e.g. LogUniform(1e-4, 1)) or a list of values; got {value!r}"
    )


def check_space(space: Any, estimator: Any) -> dict[str, Any]:
    """``space`` with every entry as a distribution, checked against ``estimator``'s parameters.

    Every name but a :class:`Switch` must be a parameter of the estimator; a condition must name another
    entry that is a :class:`Choice` (or :class:`Switch`) holding the values it asks for, without cycles.
    """
    if not isinstance(space, dict) or not space:
        raise ValueError(f"space must be a non-empty dict of parameter name -> distribution; got {space!r}")
    valid = estimator.get_params(deep=True)
    space = {name: _as_dimension(name, value) for name, value in space.items()}
    for name, dimension in space.items():
        if name in _RESERVED:
            raise ValueError(f"space must not use the result column name {name!r}")
        if name not in valid and not isinstance(dimension, Switch):
            raise ValueError(
                f"space has {name!r}, which is not a parameter of {type(estimator).__name__}; "
                f"valid names: {', '.join(sorted(valid))} (or make it a Switch that only steers conditions)"
            )
        condition = getattr(dimension, "condition", None)
        if condition is None:
            continue
        parent, values = condition
        steering = space.get(parent)
        if not isinstance(steering, Choice):
            raise ValueError(f"space[{name!r}] is conditioned on {parent!r}, which must be a Choice or Switch "
                             f"entry of the space; got {steering!r}")
        unknown = [value for value in values if value not in steering.values]
        if unknown:
            raise ValueError(f"space[{name!r}] is conditioned on {parent}={unknown[0]!r}, which {parent!r} never "
                             f"takes; its values: {steering.values!r}")
    for name in space:  # a chain of conditions must end in an unconditional entry
        seen, current = {name}, name
        while getattr(space[current], "condition", None) is not None:
            current = space[current].condition[0]
            if current in seen:
                raise ValueError(f"space has a cycle of conditions through {name!r}")
            seen.add(current)
    return space


def active(space: dict[str, Any], params: dict[str, Any]) -> dict[str, bool]:
    """Which entries are active in ``params``: an entry is active when its condition's entry is active and
    took one of the condition's values (an unconditional entry always is)."""
    memo: dict[str, bool] = {}

    def is_active(name: str) -> bool:
        if name not in memo:
            condition = getattr(space[name], "condition", None)
            memo[name] = condition is None or (is_active(condition[0]) and params.get(condition[0]) in condition[1])
        return memo[name]

    return {name: is_active(name) for name in space}


def draw(space: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One configuration: every entry drawn from ``rng`` in name order; inactive entries become ``None``."""
    params = {name: _python(space[name].rvs(random_state=rng)) for name in sorted(space)}
    flags = active(space, params)
    return {name: (value if flags[name] else None) for name, value in params.items()}


def estimator_params(space: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """What ``set_params`` gets: the active entries of ``params``, switches left out."""
    return {name: value for name, value in params.items()
            if value is not None and not isinstance(space.get(name), Switch)}


def narrow_space(space: dict[str, Any], best_params: Sequence[dict[str, Any]], margin: float = 0.1) -> dict[str, Any]:
    """Every :class:`Dimension` of ``space`` narrowed to the values in ``best_params`` (coarse to fine).

    A conditional entry is narrowed to the best trials in which it was active (kept as it is when there
    are none) and keeps its condition. Other distributions (not ours) are kept as they are.
    """
    margin = validate_params(NARROW_CONSTRAINTS, margin=margin)["margin"]
    narrowed = {}
    for name, dimension in space.items():
        values = [params[name] for params in best_params if params.get(name) is not None]
        if isinstance(dimension, Dimension) and values:
            smaller = dimension.narrowed(values, margin)
            smaller.condition = dimension.condition
            narrowed[name] = smaller
        else:
            narrowed[name] = dimension
    return narrowed


def describe_space(space: dict[str, Any]) -> dict[str, str]:
    """Each entry's ``repr`` (distribution, range and condition): what a stored search is checked against."""
    return {name: repr(space[name]) for name in sorted(space)}
