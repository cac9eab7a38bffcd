"""Configurations, drawn lazily one trial at a time.

- :func:`random_configuration`: trial ``i`` of round ``r`` draws from its own generator,
  ``default_rng(SeedSequence([seed, r, i]))``, so any trial can be drawn alone (a resumed search draws
  only the missing ones, a huge ``n_trials`` builds nothing ahead) and the same seed always gives the
  same configurations;
- :class:`TpeSampler`: Optuna's Tree-structured Parzen Estimator (``sampler="tpe"``), which proposes each
  configuration from the trials finished so far (so its choices depend on the order trials finish);
- :func:`optuna_params`: a configuration as Optuna parameters and distributions, for Optuna's storage
  and dashboards (``hidden_layer_sizes`` as ``.units`` and ``.layers``; the typed configuration itself
  travels in the trial's ``"dnnimprove"`` attribute).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .spaces import (Choice, Dimension, HiddenLayers, IntUniform, LogUniform, OneMinusLogUniform, PowersOfTwo,
                     Uniform, _python, active, draw)

__all__ = ["random_configuration", "TpeSampler", "optuna_params", "SAMPLERS"]

SAMPLERS = ("random", "tpe")


def random_configuration(space: dict[str, Any], seed: int, round_index: int, index: int) -> dict[str, Any]:
    """Trial ``index`` of round ``round_index``: its own draw from ``space`` (inactive entries ``None``)."""
    return draw(space, np.random.default_rng(np.random.SeedSequence([seed, round_index, index])))


def _primitive(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _distribution(dimension: Any) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(dimension, (LogUniform, Uniform, OneMinusLogUniform)):
        return FloatDistribution(dimension.low, dimension.high, log=isinstance(dimension, LogUniform))
    if isinstance(dimension, IntUniform):
        return IntDistribution(dimension.low, dimension.high)
    if isinstance(dimension, Choice) and all(_primitive(value) for value in dimension.values):
        return CategoricalDistribution(dimension.values)
    return None


def optuna_params(space: dict[str, Any], params: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``name -> (Optuna distribution, value)`` for the active entries Optuna can represent."""
    result = {}
    for name, value in params.items():
        dimension = space.get(name)
        if value is None or dimension is None:
            continue
        if isinstance(dimension, HiddenLayers) and isinstance(value, (tuple, list)):
            parts = {"units": (dimension.units, value[0] if value else None), "layers": (dimension.layers, len(value))}
            for part, (inner, item) in parts.items():
                distribution = _distribution(inner)
                if distribution is not None and item is not None:
                    result[f"{name}.{part}"] = (distribution, item)
            continue
        distribution = _distribution(dimension)
        if distribution is not None:
            result[name] = (distribution, value)
    return result


class TpeSampler:
    """Optuna's TPE over a dnnimprove space, on an in-memory study fed with every finished trial.

    Each dimension is searched on its own axis: ``log`` for :class:`LogUniform`, ``log(1 - x)`` for
    :class:`OneMinusLogUniform`, ``log2`` for :class:`PowersOfTwo`, the index for a :class:`Choice`;
    a conditional entry is asked only when active.
    """

    def __init__(self, space: dict[str, Any], seed: int) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        for name, dimension in space.items():
            if not isinstance(dimension, Dimension):
                raise ValueError(f"sampler='tpe' needs dnnimprove dimensions; space[{name!r}] is {dimension!r}")
        self.optuna = optuna
        self.space = space
        self.study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
        self.asked: dict[tuple[int, int], Any] = {}

    def _order(self) -> list[str]:
        ordered: list[str] = []
        while len(ordered) < len(self.space):
            for name in sorted(self.space):
                condition = self.space[name].condition
                if name not in ordered and (condition is None or condition[0] in ordered):
                    ordered.append(name)
        return ordered

    def _suggest(self, trial: Any, name: str, dimension: Any) -> Any:
        if isinstance(dimension, HiddenLayers):
            units = self._suggest(trial, f"{name}.units", dimension.units)
            return (int(units),) * int(self._suggest(trial, f"{name}.layers", dimension.layers))
        if isinstance(dimension, PowersOfTwo):
            exponent = trial.suggest_int(f"{name}:log2", int(np.log2(dimension.low)), int(np.log2(dimension.high)))
            return 2**exponent
        if isinstance(dimension, IntUniform):
            return trial.suggest_int(name, dimension.low, dimension.high)
        if isinstance(dimension, OneMinusLogUniform):
            return 1.0 - trial.suggest_float(f"{name}:1-x", 1.0 - dimension.high, 1.0 - dimension.low, log=True)
        if isinstance(dimension, (LogUniform, Uniform)):
            return trial.suggest_float(name, dimension.low, dimension.high, log=isinstance(dimension, LogUniform))
        if isinstance(dimension, Choice):
            return dimension.values[trial.suggest_categorical(f"{name}:index", list(range(len(dimension.values))))]
        raise ValueError(f"sampler='tpe' cannot search {dimension!r}")

    def ask(self, key: tuple[int, int]) -> dict[str, Any]:
        """A new configuration for trial ``key`` (told back with :meth:`tell`)."""
        trial = self.study.ask()
        params: dict[str, Any] = {}
        for name in self._order():
            condition = self.space[name].condition
            if condition is None or (params.get(condition[0]) in condition[1]):
                params[name] = _python(self._suggest(trial, name, self.space[name]))
            else:
                params[name] = None
        self.asked[key] = trial
        flags = active(self.space, params)
        return {name: (params[name] if flags[name] else None) for name in sorted(params)}

    def tell(self, key: tuple[int, int], record: dict[str, Any]) -> None:
        """Feed a finished trial back: its dev score (complete or pruned) or a failure."""
        trial = self.asked.pop(key, None)
        state = self.optuna.trial.TrialState
        value = record["dev_score"]
        if trial is None:
            return
        if record["state"] == "failed" or value != value:
            self.study.tell(trial, state=state.FAIL)
        else:
            self.study.tell(trial, value)
