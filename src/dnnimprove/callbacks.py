"""Callbacks for ``fit``: early stopping on a dev set.

A callback subclasses :class:`dnnimprove.training.Callback` and reads the :class:`~dnnimprove.training.TrainingRun`
(model, optimizer state, history, the loop's position); it stops training with ``run.stop = True``.
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import check_choice, check_int, check_number
from .training import Callback, TrainingRun

__all__ = ["EarlyStopping", "MONITORS"]

MONITORS: dict[str, str] = {
    "val_cost": "min",
    "val_accuracy": "max",
    "cost": "min",
    "data_cost": "min",
    "train_accuracy": "max",
}
"""What early stopping can watch (a :class:`~dnnimprove.training.History` list) and which way is better."""


class EarlyStopping(Callback):
    """Stop when the monitored quantity has not improved for ``patience`` recorded epochs; keep the best.

    Parameters
    ----------
    patience : int >= 0
        How many recorded epochs without improvement to tolerate: training stops at the
        ``patience + 1``-th evaluation in a row that does not improve on the best (``0``: at the first).
        With ``fit(record_every=k)`` the dev set is evaluated every ``k`` epochs, so patience counts
        evaluations, not epochs.
    min_delta : float >= 0
        An improvement must beat the best by more than this (``val_cost < best - min_delta``, or
        ``val_accuracy > best + min_delta``), as Keras's ``min_delta``.
    monitor : {"val_cost", "val_accuracy", "cost", "data_cost", "train_accuracy"}
        A History list. Costs are minimized, accuracies maximized. ``val_*`` need a dev set
        (``fit(validation_data=...)`` or ``validation_fraction=``); ``train_accuracy`` too, since History
        records it only when there is one.
    restore_best : bool
        At the end of training copy back the parameters (and batch-norm running statistics) of the best
        epoch, as Keras's ``restore_best_weights=True``; the optimizer state is not rewound.

    Attributes
    ----------
    best : float
        Best monitored value (NaN before training).
    best_epoch : int or None
        Epoch (counted from 0) of the best value; also written to ``history.best_epoch``.
    stopped_epoch : int or None
        Epoch at which it stopped training (None if it ran to the end); ``history.stopped_epoch`` too.

    Notes
    -----
    The snapshot of the best parameters is one preallocated copy of the flat vector, overwritten in place
    at every improvement.
    """

    recorded_epochs_only = True  # on_epoch_end acts at recorded epochs only

    def __init__(
        self, patience: int = 10, min_delta: float = 0.0, monitor: str = "val_cost", restore_best: bool = True
    ) -> None:
        self.patience = check_int("patience", patience, low=0)
        self.min_delta = check_number("min_delta", min_delta, low=0.0)
        self.monitor = check_choice("monitor", monitor, MONITORS)
        self.restore_best = bool(restore_best)
        self.mode = MONITORS[monitor]
        self._reset()

    def _reset(self) -> None:
        self.best = math.nan
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0
        self._best_params: np.ndarray | None = None
        self._best_state: dict[str, np.ndarray] = {}

    def on_train_begin(self, run: TrainingRun) -> None:
        needs_dev = self.monitor.startswith("val_") or self.monitor == "train_accuracy"
        if needs_dev and run.validation is None:
            raise ValueError(
                f"EarlyStopping(monitor={self.monitor!r}) needs a dev set: pass validation_data=(X_dev, y_dev) "
                "or validation_fraction= to fit"
            )
        if self.monitor.endswith("accuracy") and not run.model.loss.is_classifier:
            raise ValueError(f"EarlyStopping(monitor={self.monitor!r}) needs a classification loss; "
                             f"this model uses {run.model.loss.name} (monitor 'val_cost')")
        self._reset()
        self._best_params = np.empty_like(run.model.params)
        self._best_state = {key: np.empty_like(value) for key, value in run.model.state_arrays().items()}

    def _improves(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best_epoch is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, run: TrainingRun) -> None:
        if not run.recorded:
            return
        value = getattr(run.history, self.monitor)[-1]
        if self._improves(value):
            self.best, self.best_epoch, self.wait = value, run.epoch, 0
            run.history.best_epoch = run.epoch
            np.copyto(self._best_params, run.model.params)
            for key, array in run.model.state_arrays().items():
                np.copyto(self._best_state[key], array)
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = run.epoch
            run.stop = True

    def on_train_end(self, run: TrainingRun) -> None:
        if not self.restore_best or self.best_epoch is None:
            return
        np.copyto(run.model.params, self._best_params)
        for key, array in run.model.state_arrays().items():
            np.copyto(array, self._best_state[key])

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, monitor={self.monitor!r}, "
                f"restore_best={self.restore_best})")
