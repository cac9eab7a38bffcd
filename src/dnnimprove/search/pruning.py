"""Pruning: stop hopeless trials early on the course's own signal, the dev accuracy after every epoch.

- :class:`MedianPruner` stops a trial at epoch ``e`` (after ``warmup_epochs``) when its best dev score so
  far is below the median dev score at epoch ``e`` of the trials completed before it started (once
  ``startup_trials`` have completed): Optuna's ``MedianPruner`` rule, applied inside the trial.
- :class:`SuccessiveHalving` trains every trial of a round for a few epochs, keeps the best ``1/factor``,
  trains those longer, and so on up to the estimator's ``epochs`` (rung budgets ``epochs / factor**k``).
  With ``continue_trials=True`` a promoted trial continues from its checkpoint (dnnimprove checkpoints
  resume bit for bit, so it ends exactly where a trial trained in one go would) instead of being trained
  again from scratch.

The epochs every trial trained are counted in the result (``SearchResult.epochs_trained``,
``epochs_saved``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Sequence

import numpy as np

from .._validation import Boolean, Constraint, Integer, validate_params

__all__ = ["MedianPruner", "SuccessiveHalving", "MedianRule"]


@dataclass(frozen=True)
class MedianRule:
    """``(epoch, dev score) -> stop?`` for one trial: its best so far below ``medians[epoch]``."""

    medians: tuple[float, ...]
    warmup_epochs: int
    best: list[float]

    def __call__(self, epoch: int, value: float) -> bool:
        if not math.isnan(value):
            self.best[0] = max(self.best[0], value)
        if epoch + 1 < self.warmup_epochs or epoch >= len(self.medians) or math.isnan(self.medians[epoch]):
            return False
        return self.best[0] < self.medians[epoch]


@dataclass(frozen=True)
class MedianPruner:
    """Stop a trial whose best dev score so far is below the completed trials' median at the same epoch.

    Parameters
    ----------
    warmup_epochs : int >= 1, default 3
        Never stop a trial before it has trained this many epochs.
    startup_trials : int >= 1, default 5
        Prune nothing until this many trials have completed.
    """

    warmup_epochs: int = 3
    startup_trials: int = 5

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "warmup_epochs": Integer(low=1), "startup_trials": Integer(low=1),
    }
    """Each argument's legal values (:func:`dnnimprove._validation.validate_params`)."""

    def __post_init__(self) -> None:
        validate_params(self._parameter_constraints, warmup_epochs=self.warmup_epochs,
                        startup_trials=self.startup_trials)

    def rule(self, curves: Sequence[Sequence[float]]) -> MedianRule | None:
        """The stop rule for a trial starting now, from the completed trials' dev-score curves."""
        if len(curves) < self.startup_trials:
            return None
        length = max(len(curve) for curve in curves)
        medians = []
        for epoch in range(length):
            values = [curve[epoch] for curve in curves if len(curve) > epoch and not math.isnan(curve[epoch])]
            medians.append(float(np.median(values)) if values else float("nan"))
        return MedianRule(tuple(medians), self.warmup_epochs, [-math.inf])


@dataclass(frozen=True)
class SuccessiveHalving:
    """Train all trials briefly, keep the best ``1/factor``, train those longer, up to the full epochs.

    Parameters
    ----------
    min_epochs : int >= 1, default 3
        The first rung's budget (about; the budgets are ``epochs / factor**k`` rounded, the last being
        the estimator's ``epochs``).
    factor : int >= 2, default 3
        ``eta``: each rung keeps ``max(1, n // factor)`` of its ``n`` trials and trains them ``factor``
        times longer.
    continue_trials : bool, default True
        Continue promoted trials from their checkpoints; ``False`` trains them again from scratch.
    """

    min_epochs: int = 3
    factor: int = 3
    continue_trials: bool = True

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "min_epochs": Integer(low=1), "factor": Integer(low=2), "continue_trials": Boolean(),
    }
    """Each argument's legal values (:func:`dnnimprove._validation.validate_params`)."""

    def __post_init__(self) -> None:
        validate_params(self._parameter_constraints, min_epochs=self.min_epochs, factor=self.factor,
                        continue_trials=self.continue_trials)

    def budgets(self, epochs: int) -> list[int]:
        """The rungs' epoch budgets for trials of ``epochs`` epochs, e.g. ``[3, 9, 27]`` for 27."""
        if epochs <= self.min_epochs:
            return [epochs]
        rungs = int(math.floor(math.log(epochs / self.min_epochs, self.factor) + 1e-9))
        budgets = [max(1, round(epochs / self.factor ** (rungs - k))) for k in range(rungs + 1)]
        return sorted(set(budgets))

    def keep(self, n: int) -> int:
        """How many of ``n`` trials go on to the next rung."""
        return max(1, n // self.factor)
