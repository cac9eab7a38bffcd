"""Hyperparameter search as the course teaches it: random, on the right scale, coarse to fine.

Sample every hyperparameter on the scale where its effect is even, never on a grid by default:

- learning rate and L2 strength on a log scale: ``LogUniform(1e-4, 1)`` is ``lr = 10**r``, ``r ~ U(-4, 0)``;
- a momentum / Adam ``beta`` on the log scale of ``1 - beta``: ``OneMinusLogUniform(0.9, 0.999)`` is
  ``beta = 1 - 10**r``, ``r ~ U(-3, -1)`` (0.9 -> 0.9005 matters far less than 0.999 -> 0.9995);
- units and layers as integers (``IntUniform``, ``HiddenLayers``), mini-batch sizes as powers of two
  (``PowersOfTwo(16, 256)``), categorical settings as a list (``Choice``).

Each dimension is a thin wrapper over a :mod:`scipy.stats` distribution (``loguniform``, ``randint``,
``uniform``) with an ``rvs`` method, so a space works as ``param_distributions`` of scikit-learn's
``RandomizedSearchCV`` too. Configurations are drawn by scikit-learn's :class:`ParameterSampler`.

:func:`random_search` holds out a dev set (the course's train/dev split), trains one clone of the
estimator per configuration and scores it on the dev set; :func:`coarse_to_fine` repeats that for
``rounds`` rounds, narrowing every range around the best trials so far. Trials run in parallel with
joblib (``n_jobs``) or on the workers of a Dask cluster (``scheduler="tcp://host:8786"`` or
``client=``), one task per trial; the same seed gives the same configurations and the same scores
either way.
The :class:`SearchResult` ranks the trials by dev score (a list of dicts, a text table, CSV).
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import time
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import ParameterGrid, ParameterSampler, train_test_split

from ._validation import check_int, check_number
from .training import TrainingDiverged

__all__ = [
    "Dimension",
    "LogUniform",
    "Uniform",
    "OneMinusLogUniform",
    "IntUniform",
    "PowersOfTwo",
    "Choice",
    "HiddenLayers",
    "course_space",
    "SearchResult",
    "random_search",
    "coarse_to_fine",
    "grid_search",
    "narrow_space",
]


def _python(value: Any) -> Any:
    """NumPy scalars as plain Python numbers (clean tables, CSV and ``set_params``)."""
    return value.item() if isinstance(value, np.generic) else value


# -- dimensions of a search space ------------------------------------------------------------
class Dimension:
    """One hyperparameter's distribution: ``rvs`` draws, ``narrowed`` zooms in on good values."""

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        raise NotImplementedError

    def narrowed(self, values: Sequence[Any], margin: float = 0.1) -> "Dimension":
        """A smaller dimension covering ``values`` (the best trials' values) plus a margin."""
        raise NotImplementedError


class _Interval(Dimension):
    """A range ``[low, high]`` sampled uniformly on an axis (``_axis``/``_value`` map to and from it)."""

    scale = "linear"

    def __init__(self, low: float, high: float) -> None:
        low = check_number(f"{type(self).__name__} low", low)
        high = check_number(f"{type(self).__name__} high", high)
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
        return type(other) is type(self) and (other.low, other.high) == (self.low, self.high)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.low:.4g}, {self.high:.4g})"


class Uniform(_Interval):
    """``x ~ U(low, high)`` (:func:`scipy.stats.uniform`), e.g. ``keep_prob``."""

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        draws = stats.uniform(self.low, self.high - self.low).rvs(size=size, random_state=random_state)
        return _python(draws)


class LogUniform(_Interval):
    """``x = 10**r``, ``r ~ U(log10 low, log10 high)`` (:func:`scipy.stats.loguniform`): lr, L2 strength.

    Both bounds must be positive (a log scale has no zero).
    """

    scale = "log"

    def __init__(self, low: float, high: float) -> None:
        if check_number("LogUniform low", low) <= 0 or check_number("LogUniform high", high) <= 0:
            raise ValueError(f"LogUniform needs positive bounds on a log scale; got low={low:g}, high={high:g}")
        super().__init__(low, high)

    def _axis(self, value: float) -> float:
        return math.log10(value)

    def _value(self, axis: float) -> float:
        return 10.0**axis

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        return _python(stats.loguniform(self.low, self.high).rvs(size=size, random_state=random_state))


class OneMinusLogUniform(_Interval):
    """``beta = 1 - 10**r``, ``r ~ U(log10(1 - high), log10(1 - low))``: averaging weights such as beta.

    ``OneMinusLogUniform(0.9, 0.999)`` is the course's ``r ~ U(-3, -1)``; it samples ``1 - beta`` with
    :func:`scipy.stats.loguniform`. Needs ``0 <= low < high < 1``.
    """

    scale = "log(1 - x)"

    def __init__(self, low: float, high: float) -> None:
        check_number("OneMinusLogUniform low", low, low=0.0, high=1.0, high_open=True)
        check_number("OneMinusLogUniform high", high, low=0.0, high=1.0, high_open=True)
        super().__init__(low, high)

    def _axis(self, value: float) -> float:
        return math.log10(1.0 - value)

    def _value(self, axis: float) -> float:
        return 1.0 - 10.0**axis

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        one_minus = stats.loguniform(1.0 - self.high, 1.0 - self.low).rvs(size=size, random_state=random_state)
        return _python(1.0 - one_minus)


class IntUniform(_Interval):
    """An integer in ``[low, high]`` (both included), uniformly (:func:`scipy.stats.randint`): units, layers."""

    scale = "integer"

    def __init__(self, low: int, high: int) -> None:
        name = type(self).__name__
        super().__init__(check_int(f"{name} low", low), check_int(f"{name} high", high))
        self.low, self.high = int(low), int(high)

    def _between(self, low: float, high: float) -> Dimension:
        low, high = math.ceil(low - 1e-9), math.floor(high + 1e-9)
        return Choice([low]) if low == high else type(self)(low, high)

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        return _python(stats.randint(self.low, self.high + 1).rvs(size=size, random_state=random_state))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.low}, {self.high})"


class PowersOfTwo(IntUniform):
    """``2**k``, ``k`` uniform in ``[log2 low, log2 high]``: mini-batch sizes (``PowersOfTwo(16, 256)``)."""

    scale = "log2"

    def __init__(self, low: int, high: int) -> None:
        for name, value in (("low", low), ("high", high)):
            check_int(f"PowersOfTwo {name}", value, low=1)
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
        exponents = stats.randint(int(math.log2(self.low)), int(math.log2(self.high)) + 1)
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
        index = stats.randint(0, len(self.values)).rvs(size=size, random_state=random_state)
        if size is None:
            return self.values[int(index)]
        return [self.values[int(i)] for i in np.ravel(index)]

    def narrowed(self, values: Sequence[Any], margin: float = 0.1) -> Dimension:
        return Choice([value for value in self.values if value in list(values)])

    def __eq__(self, other: object) -> bool:
        return type(other) is Choice and other.values == self.values

    def __repr__(self) -> str:
        return f"Choice({self.values!r})"


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
        return type(other) is HiddenLayers and (other.units, other.layers) == (self.units, self.layers)

    def __repr__(self) -> str:
        return f"HiddenLayers(units={self.units!r}, layers={self.layers!r})"


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


def _check_space(space: Any, estimator: Any) -> dict[str, Any]:
    if not isinstance(space, dict) or not space:
        raise ValueError(f"space must be a non-empty dict of parameter name -> distribution; got {space!r}")
    valid = estimator.get_params(deep=True)
    for name in space:
        if name not in valid:
            raise ValueError(
                f"space has {name!r}, which is not a parameter of {type(estimator).__name__}; "
                f"valid names: {', '.join(sorted(valid))}"
            )
        if name in _RESERVED:
            raise ValueError(f"space must not use the result column name {name!r}")
    return {name: _as_dimension(name, value) for name, value in space.items()}


def course_space(optimizer: str = "adam", prefix: str = "") -> dict[str, Dimension]:
    """The course's search space for ``DNNClassifier``/``DNNRegressor`` (or a pipeline step, via ``prefix``).

    ``lr`` log-uniform in [1e-4, 1]; ``beta`` (momentum, RMSprop) or ``beta1`` (Adam) as
    ``1 - 10**U(-3, -1)``, i.e. in [0.9, 0.999]; ``l2`` log-uniform in [1e-4, 1]; mini-batch size a power
    of two in [16, 256]; 1 to 3 hidden layers of 16 to 128 units.

    ``prefix`` is the pipeline step, e.g. ``"dnnclassifier__"`` for
    ``make_pipeline(StandardScaler(), DNNClassifier())``.
    """
    beta_name = "beta1" if optimizer in ("adam", "adamw") else "beta"
    space: dict[str, Dimension] = {
        "lr": LogUniform(1e-4, 1.0),
        "l2": LogUniform(1e-4, 1.0),
        "batch_size": PowersOfTwo(16, 256),
        "hidden_layer_sizes": HiddenLayers(units=(16, 128), layers=(1, 3)),
    }
    if optimizer != "gd":
        space[beta_name] = OneMinusLogUniform(0.9, 0.999)
    return {prefix + name: dimension for name, dimension in space.items()}


def narrow_space(space: dict[str, Any], best_params: Sequence[dict[str, Any]], margin: float = 0.1) -> dict[str, Any]:
    """Every :class:`Dimension` of ``space`` narrowed to the values in ``best_params`` (coarse to fine).

    Other distributions (not ours) are kept as they are.
    """
    margin = check_number("margin", margin, low=0.0)
    narrowed = {}
    for name, dimension in space.items():
        if isinstance(dimension, Dimension):
            narrowed[name] = dimension.narrowed([params[name] for params in best_params], margin)
        else:
            narrowed[name] = dimension
    return narrowed


# -- results -----------------------------------------------------------------------------------
_RESERVED = ("rank", "dev_score", "train_score", "round", "trial", "seconds", "worker", "pid", "error")


@dataclass
class SearchResult:
    """Trials ranked by dev score (best first; failed trials, scored NaN, last).

    Attributes
    ----------
    trials : list of dict
        One flat dict per trial: ``rank``, ``dev_score``, ``train_score``, one key per searched
        parameter, ``round``, ``trial`` (its index in the round), ``seconds``, ``worker`` (the Dask
        worker's address, or ``"local"``), ``pid`` (the process that trained it) and ``error`` (why
        it failed, e.g. diverged training; empty otherwise).
    param_names : list of str
    spaces : list of dict
        The space each round sampled from (coarse, then finer).
    seed : int
        The seed the search used (drawn when none was given), enough to rerun it.
    scoring : str
    best_estimator : estimator or None
        A clone with the best parameters fitted on the search's ``X, y`` (``refit=True``), dev part included.
    """

    trials: list[dict[str, Any]]
    param_names: list[str]
    spaces: list[dict[str, Any]]
    seed: int
    scoring: str
    best_estimator: Any = None
    seconds: float = 0.0

    @property
    def best(self) -> dict[str, Any]:
        return self.trials[0]

    @property
    def best_params(self) -> dict[str, Any]:
        return {name: self.best[name] for name in self.param_names}

    @property
    def best_score(self) -> float:
        return self.best["dev_score"]

    def columns(self) -> list[str]:
        return ["rank", "dev_score", "train_score", *self.param_names, "round", "trial", "seconds", "worker", "pid", "error"]

    def table(self, top: int | None = None) -> str:
        """The ranked trials as a fixed-width text table (the ``top`` best, or all)."""
        columns = [name for name in self.columns() if name not in ("pid", "error")]
        rows = [[_cell(trial[name]) for name in columns] for trial in self.trials[:top]]
        short = [name.rsplit("__", 1)[-1] for name in columns]  # "dnnclassifier__lr" -> "lr"
        headers = short if len(set(short)) == len(short) else columns
        widths = [max([len(name)] + [len(row[i]) for row in rows]) for i, name in enumerate(headers)]
        lines = ["  ".join(name.ljust(width) for name, width in zip(headers, widths))]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
        return "\n".join(line.rstrip() for line in lines)

    def to_csv(self, path: Any = None) -> str:
        """Write the ranked trials as CSV to ``path`` (a file name or an open text file); return the text."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns(), lineterminator="\n")
        writer.writeheader()
        for trial in self.trials:
            writer.writerow({name: _csv_cell(trial[name]) for name in self.columns()})
        text = buffer.getvalue()
        if hasattr(path, "write"):
            path.write(text)
        elif path is not None:
            with open(path, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        return text

    def __str__(self) -> str:
        return self.table()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _csv_cell(value: Any) -> Any:
    return repr(value) if isinstance(value, float) else value


def _ranked(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = sorted(
        trials,
        key=lambda trial: (math.isnan(trial["dev_score"]), -np.nan_to_num(trial["dev_score"]), trial["round"], trial["trial"]),
    )
    for rank, trial in enumerate(order, start=1):
        trial["rank"] = rank
    return order


# -- running trials ----------------------------------------------------------------------------
def _where() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "local"


def _run_trial(estimator: Any, params: dict[str, Any], data: tuple, scoring: Any) -> dict[str, Any]:
    """Train one clone of ``estimator`` with ``params`` and score it on the dev set (runs in a worker)."""
    X_train, y_train, X_dev, y_dev = data
    started = time.perf_counter()
    model = clone(estimator).set_params(**params)
    scorer = check_scoring(model, scoring=scoring)
    error = ""
    try:
        model.fit(X_train, y_train)
        dev_score = float(scorer(model, X_dev, y_dev))
        train_score = float(scorer(model, X_train, y_train))
    except TrainingDiverged as diverged:
        dev_score = train_score = float("nan")
        error = str(diverged)
    return {
        "dev_score": dev_score,
        "train_score": train_score,
        "seconds": time.perf_counter() - started,
        "worker": _where(),
        "pid": os.getpid(),
        "error": error,
    }


def _check_n_jobs(n_jobs: Any) -> int | None:
    if n_jobs is None:
        return None
    n_jobs = check_int("n_jobs", n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs must be a positive number of workers or -1 for all cores; got 0")
    return n_jobs


@contextlib.contextmanager
def _dask_client(scheduler: str | None, client: Any, timeout: float) -> Iterator[Any]:
    """The given client, or a client connected to ``scheduler`` (closed afterwards)."""
    if client is not None:
        yield client
        return
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - the dask extra is not installed
        raise ImportError("scheduler= needs dask[distributed]: pip install 'dnnimprove[dask]'") from None
    if not isinstance(scheduler, str) or not scheduler:
        raise ValueError(f"scheduler must be an address such as 'tcp://127.0.0.1:8786'; got {scheduler!r}")
    try:
        own = Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise ConnectionError(
            f"could not reach the Dask scheduler at {scheduler!r} within {timeout:g} s; "
            f"is `dask scheduler` running there? ({type(error).__name__}: {error})"
        ) from None
    try:
        yield own
    finally:
        own.close()


def _run_on_dask(client: Any, plan: "_Plan", configurations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Submit one task per configuration to the cluster's workers and gather the outcomes in order.

    The data go to every worker once (``scatter``); ``pure=False`` keeps equal configurations apart.
    (joblib's Dask backend is not used: when the cluster has a single worker thread in all, joblib
    counts one job and runs every trial sequentially in the client process instead of on the worker.)
    """
    try:
        client.wait_for_workers(1, timeout=plan.timeout)
    except TimeoutError:
        raise ConnectionError(
            f"the Dask scheduler at {client.scheduler.address!r} has no workers after {plan.timeout:g} s"
        ) from None
    data = tuple(client.scatter(list(plan.data), broadcast=True))
    futures = [client.submit(_run_trial, plan.estimator, params, data, plan.scoring, pure=False)
               for params in configurations]
    return client.gather(futures)


@dataclass
class _Plan:
    """What every round of a search shares: the estimator, the data split and where trials run."""

    estimator: Any
    data: tuple
    scoring: Any
    n_jobs: int | None
    scheduler: str | None
    client: Any
    timeout: float

    def execute(self, configurations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every configuration's outcome, in order: with joblib here, or on the Dask cluster."""
        if self.scheduler is None and self.client is None:
            tasks = (delayed(_run_trial)(self.estimator, params, self.data, self.scoring) for params in configurations)
            return Parallel(n_jobs=self.n_jobs)(tasks)
        with _dask_client(self.scheduler, self.client, self.timeout) as client:
            return _run_on_dask(client, self, configurations)

    def run(self, configurations: list[dict[str, Any]], round_index: int) -> list[dict[str, Any]]:
        outcomes = self.execute(configurations)
        trials = []
        for index, (params, outcome) in enumerate(zip(configurations, outcomes)):
            trial = {"rank": 0, "dev_score": outcome["dev_score"], "train_score": outcome["train_score"], **params}
            trial.update(round=round_index, trial=index, seconds=outcome["seconds"], worker=outcome["worker"])
            trial.update(pid=outcome["pid"], error=outcome["error"])
            trials.append(trial)
        return trials


def _seeded_estimator(estimator: Any, seed: int) -> Any:
    """A clone whose unset ``seed``/``random_state`` parameters (also in pipeline steps) get ``seed``.

    Every trial then starts from the same random numbers, so configurations are compared fairly and a
    rerun with the same search seed reproduces every score.
    """
    unset = {
        name: seed
        for name, value in estimator.get_params(deep=True).items()
        if value is None and name.rsplit("__", 1)[-1] in ("seed", "random_state")
    }
    return clone(estimator).set_params(**unset)


def _plan(estimator, X, y, dev_fraction, dev_data, scoring, seed, n_jobs, scheduler, client, timeout) -> _Plan:
    if not hasattr(estimator, "fit") or not hasattr(estimator, "get_params"):
        raise TypeError(f"estimator must be a scikit-learn estimator (with fit and get_params); got {estimator!r}")
    n_jobs = _check_n_jobs(n_jobs)
    timeout = check_number("timeout", timeout, low=0.0, low_open=True)
    if scheduler is not None and client is not None:
        raise ValueError("give scheduler= (an address) or client= (a dask.distributed.Client), not both")
    if n_jobs is not None and (scheduler is not None or client is not None):
        raise ValueError(f"n_jobs={n_jobs} is for trials on this machine; a Dask cluster runs them on all its workers "
                         "(give n_jobs or a scheduler/client, not both)")
    if dev_data is not None:
        if not isinstance(dev_data, (tuple, list)) or len(dev_data) != 2:
            raise ValueError("dev_data must be a pair (X_dev, y_dev)")
        data = (X, y, dev_data[0], dev_data[1])
    else:
        dev_fraction = check_number("dev_fraction", dev_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
        stratify = y if is_classifier(estimator) else None
        X_train, X_dev, y_train, y_dev = train_test_split(
            X, y, test_size=dev_fraction, random_state=seed, stratify=stratify
        )
        data = (X_train, y_train, X_dev, y_dev)
    return _Plan(_seeded_estimator(estimator, seed), data, scoring, n_jobs, scheduler, client, timeout)


def _resolve_seed(seed: Any) -> int:
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return check_int("seed", seed, low=0)


def _round_seed(seed: int, round_index: int) -> int:
    return int(np.random.SeedSequence([seed, round_index]).generate_state(1)[0])


def _finish(plan: _Plan, trials, names, spaces, seed, scoring, refit, X, y, started) -> SearchResult:
    ranked = _ranked(trials)
    result = SearchResult(ranked, names, spaces, seed, "score" if scoring is None else str(scoring))
    if refit and not math.isnan(result.best_score):
        result.best_estimator = clone(plan.estimator).set_params(**result.best_params).fit(X, y)
    result.seconds = time.perf_counter() - started
    return result


def coarse_to_fine(
    estimator: Any,
    space: dict[str, Any],
    X: Any,
    y: Any,
    *,
    n_trials: int = 40,
    rounds: int = 2,
    top: float = 0.25,
    margin: float = 0.1,
    dev_fraction: float = 0.2,
    dev_data: tuple[Any, Any] | None = None,
    scoring: Any = None,
    seed: int | None = None,
    n_jobs: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    timeout: float = 10.0,
    refit: bool = True,
) -> SearchResult:
    """Random search in ``rounds`` rounds, each narrowing the space around the best trials so far.

    Round 1 samples ``space``; every later round samples :func:`narrow_space` of the previous round's
    space around the ``top`` fraction of all trials so far (at least one), widened by ``margin`` x the
    range on each dimension's own axis (log, ``log(1 - beta)``, integer, power of two).
    ``n_trials`` are split evenly over the rounds (the first rounds take the remainder).

    Parameters
    ----------
    estimator : scikit-learn estimator
        E.g. ``DNNClassifier(epochs=30)`` or a pipeline; cloned for every trial. Unset ``seed`` /
        ``random_state`` parameters are set to the search seed, so every trial starts alike.
    space : dict
        Parameter name -> :class:`Dimension` (or a list of values, or a scipy.stats distribution).
    X, y : arrays
        The training data; a dev set of ``dev_fraction`` is held out of it (stratified for a
        classifier) unless ``dev_data=(X_dev, y_dev)`` is given.
    scoring : str, callable or None
        scikit-learn scoring for the dev score; ``None`` uses ``estimator.score`` (accuracy, R^2).
    seed : int or None
        Fixes the configurations drawn, the dev split and the trials' initialization. ``None`` draws a
        seed (recorded in the result).
    n_jobs : int or None
        Parallel trials on this machine with joblib (``-1``: every core); ``0`` is an error. Not with a
        Dask cluster, whose workers take the trials as they come (one per worker thread).
    scheduler : str or None
        Address of a Dask scheduler (``"tcp://127.0.0.1:8786"``): trials run on its workers.
    client : dask.distributed.Client or None
        An existing client instead of an address.
    timeout : float > 0
        Seconds to wait for the scheduler (and its workers) before a ``ConnectionError``.
    refit : bool
        Fit a clone with the best parameters on all of ``X, y``, dev part included
        (``result.best_estimator``).

    Returns
    -------
    SearchResult
    """
    started = time.perf_counter()
    n_trials = check_int("n_trials", n_trials, low=1)
    rounds = check_int("rounds", rounds, low=1, high=n_trials)
    top = check_number("top", top, low=0.0, high=1.0, low_open=True)
    seed = _resolve_seed(seed)
    space = _check_space(space, estimator)
    plan = _plan(estimator, X, y, dev_fraction, dev_data, scoring, seed, n_jobs, scheduler, client, timeout)
    names = sorted(space)
    trials: list[dict[str, Any]] = []
    spaces = []
    for round_index in range(rounds):
        if round_index:
            best = _ranked(trials)[: max(1, math.ceil(top * len(trials)))]
            space = narrow_space(space, [trial for trial in best if not math.isnan(trial["dev_score"])] or best, margin)
        spaces.append(space)
        size = n_trials // rounds + (round_index < n_trials % rounds)
        sampler = ParameterSampler(space, n_iter=size, random_state=_round_seed(seed, round_index))
        configurations = [{name: _python(value) for name, value in params.items()} for params in sampler]
        trials += plan.run(configurations, round_index + 1)
    return _finish(plan, trials, names, spaces, seed, scoring, refit, X, y, started)


def random_search(estimator: Any, space: dict[str, Any], X: Any, y: Any, *, n_trials: int = 20, **settings: Any) -> SearchResult:
    """One round of random search: ``n_trials`` configurations drawn from ``space`` (see :func:`coarse_to_fine`)."""
    return coarse_to_fine(estimator, space, X, y, n_trials=n_trials, rounds=1, **settings)


def grid_search(
    estimator: Any,
    grid: dict[str, Sequence[Any]],
    X: Any,
    y: Any,
    *,
    dev_fraction: float = 0.2,
    dev_data: tuple[Any, Any] | None = None,
    scoring: Any = None,
    seed: int | None = None,
    n_jobs: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    timeout: float = 10.0,
    refit: bool = True,
) -> SearchResult:
    """Every combination of ``grid`` (lists of values), run and ranked like a random search, to compare.

    The course's point: with a budget of ``n`` trials a grid tries only ``n ** (1/d)`` values of each of
    ``d`` hyperparameters, a random search ``n`` values of each. The settings are :func:`coarse_to_fine`'s.
    """
    started = time.perf_counter()
    if not isinstance(grid, dict) or not all(isinstance(v, (list, tuple)) and len(v) for v in grid.values()):
        raise ValueError(f"grid must be a dict of parameter name -> non-empty list of values; got {grid!r}")
    _check_space(grid, estimator)
    seed = _resolve_seed(seed)
    plan = _plan(estimator, X, y, dev_fraction, dev_data, scoring, seed, n_jobs, scheduler, client, timeout)
    configurations = [{name: _python(value) for name, value in params.items()} for params in ParameterGrid(grid)]
    trials = plan.run(configurations, 1)
    return _finish(plan, trials, sorted(grid), [dict(grid)], seed, scoring, refit, X, y, started)
