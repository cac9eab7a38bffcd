"""How :func:`dnnimprove.recipe` measures a configuration: on the dev set, or by k-fold cross-validation.

A measurement is a list of :class:`Fit`: each trains the configuration once (its own seed) on
``fit.data.X_train`` and scores it on the held-out rows ``fit.data.X_dev``, whose positions among the
*validation rows* are ``fit.rows``. The recipe averages each validation row's losses over the fits that
held it out, so two configurations measured the same way are compared row by row (paired).

- :func:`holdout`: the validation rows are the dev set; ``repeats`` fits on the training rows with seeds
  ``seed, seed + 1, ...`` (the course's train/dev split; the mean over seeds removes the noise of
  initialization and shuffling, not that of which rows landed in the dev set).
- :func:`cross_validation`: the validation rows are the training and dev rows together; ``repeats`` times a
  new partition into ``folds`` folds (stratified by class when every class has ``folds`` rows), each fold held
  out once while the others train. Every row is judged once per repeat, so a decision rests on all
  ``m_train + m_dev`` rows instead of the ``m_dev`` dev rows: on a small table the dev set alone cannot
  resolve the differences between configurations, and which rows it happens to hold sways them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .studies.recipe import Data

__all__ = ["Fit", "holdout", "cross_validation", "validation_rows"]


@dataclass(frozen=True)
class Fit:
    """One training run of a measurement: its data (train rows, held-out rows as the dev set) and seed."""

    data: Data
    rows: np.ndarray
    """Positions of ``data.X_dev``'s rows among the validation rows, shape ``(m_held_out,)``."""
    seed: int


def validation_rows(data: Data, folds: int | None) -> int:
    """How many rows a measurement judges: the dev rows, or (with folds) the training and dev rows."""
    return len(data.y_dev) + (len(data.y_train) if folds else 0)


def holdout(data: Data, seed: int, repeats: int) -> list[Fit]:
    """``repeats`` fits on the training rows, each scored on the whole dev set (seeds ``seed + r``)."""
    rows = np.arange(len(data.y_dev))
    return [Fit(data, rows, seed + repeat) for repeat in range(repeats)]


def cross_validation(data: Data, folds: int, seed: int, repeats: int) -> list[Fit]:
    """``repeats`` x ``folds`` fits over the training and dev rows together (repeat ``r``'s partition drawn with
    ``random_state=seed + r``; fit ``i`` of all seeded ``seed + i``), each fold held out once per repeat."""
    from sklearn.model_selection import KFold, StratifiedKFold

    X = np.concatenate([data.X_train, data.X_dev])
    y = np.concatenate([data.y_train, data.y_dev])
    stratify = data.task != "regression" and int(np.unique(y, return_counts=True)[1].min()) >= folds
    fits = []
    for repeat in range(repeats):
        splitter = (StratifiedKFold if stratify else KFold)(folds, shuffle=True, random_state=seed + repeat)
        for train, held_out in splitter.split(X, y):
            fold = Data(X[train], y[train], X[held_out], y[held_out], preprocessing=data.preprocessing)
            fits.append(Fit(fold, held_out, seed + len(fits)))
    return fits
