"""Callbacks for ``fit``: what hooks into the loop without widening its signature.

===================  ====================================================================================
:class:`EarlyStopping`  stop when a monitored History list stops improving; keep the best parameters
:class:`Checkpoint`     save the run every N epochs and on Ctrl-C; resume it bit for bit
:class:`ProgressBar`    a tqdm bar over the epochs with the cost, dev cost and dev accuracy
:class:`IterationCost`  record every mini-batch's cost in ``History.iteration_cost``
:class:`TrainAccuracy`  record the training accuracy (Keras's ``accuracy``) also without a dev set
===================  ====================================================================================

A callback subclasses :class:`Callback` and reads the :class:`~dnnimprove.training.TrainingRun` (model,
optimizer state, history, the loop's position); it stops training with ``run.stop = True``.
"""

from __future__ import annotations

import math

import numpy as np

from typing import Any, ClassVar

from ._validation import Boolean, Constraint, Integer, Options, Real, set_params_checked
from .checkpoint import Checkpoint
from .training import Callback, TrainingRun

__all__ = ["Callback", "EarlyStopping", "Checkpoint", "ProgressBar", "IterationCost", "TrainAccuracy", "MONITORS"]

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
        (``fit(validation_data=...)``, e.g. from :func:`dnnimprove.data.split_dev`); ``train_accuracy`` too, since History
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
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "patience": Integer(low=0), "min_delta": Real(low=0.0), "monitor": Options(MONITORS), "restore_best": Boolean(),
    }
    """Each constructor argument's legal values (:func:`dnnimprove._validation.validate_params`)."""
    patience: int
    min_delta: float
    monitor: str
    restore_best: bool

    def __init__(
        self, patience: int = 10, min_delta: float = 0.0, monitor: str = "val_cost", restore_best: bool = True
    ) -> None:
        set_params_checked(self, patience=patience, min_delta=min_delta, monitor=monitor, restore_best=restore_best)
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
                "to fit (dn.data.split_dev(X, y, 0.2) holds one out)"
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


class IterationCost(Callback):
    """Record every mini-batch's data cost in ``History.iteration_cost`` (the course's cost per iteration).

    The loop computes a mini-batch's cost only when something reads it, so this callback makes every step
    compute it (``needs_batch_cost``): a little slower than recording per epoch.
    """

    needs_batch_cost = True
    batch_cost_only = True  # reads run.batch_cost only: fit may run the epoch in one call, then call this per batch

    def on_batch_end(self, run: TrainingRun) -> None:
        run.history.iteration_cost.append(run.batch_cost)

    def __repr__(self) -> str:
        return "IterationCost()"


class ProgressBar(Callback):
    """A tqdm progress bar over the epochs, showing the last recorded cost, dev cost and dev accuracy.

    Parameters
    ----------
    leave : bool
        Keep the finished bar on screen (default), so the final figures stay visible.
    file : text stream or None
        Where to draw it (tqdm's default, standard error, when None).
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"leave": Boolean()}
    """The checked constructor argument's legal values (``file`` is any stream tqdm accepts)."""
    leave: bool

    def __init__(self, leave: bool = True, file: Any = None) -> None:
        set_params_checked(self, leave=leave)
        self.file = file
        self.bar: Any = None

    def on_train_begin(self, run: TrainingRun) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=run.epochs, initial=run.epoch, desc="training", unit="epoch", leave=self.leave,
                        file=self.file)  # initial: a continued fit counts on from its first epoch

    def on_epoch_end(self, run: TrainingRun) -> None:
        if run.recorded:
            history = run.history
            postfix = {"cost": f"{history.cost[-1]:.4g}"}
            if history.val_cost:
                postfix["val_cost"] = f"{history.val_cost[-1]:.4g}"
            if history.val_accuracy:
                postfix["val_accuracy"] = f"{history.val_accuracy[-1]:.4f}"
            self.bar.set_postfix(postfix, refresh=False)
        # to the position, not by one: a resumed run starts past 0; tqdm redraws at most every 0.1 s
        self.bar.update(run.epoch + 1 - self.bar.n)

    def on_train_end(self, run: TrainingRun) -> None:
        self.bar.refresh()  # the final figures, however fast the run was
        self.bar.close()

    def on_interrupt(self, run: TrainingRun) -> None:
        if self.bar is not None:
            self.bar.close()

    def __repr__(self) -> str:
        return f"ProgressBar(leave={self.leave})"


class TrainAccuracy(Callback):
    """Record the training accuracy at every recorded epoch in ``History.train_accuracy`` (Keras's
    ``accuracy``), also without a dev set.

    Measured after the epoch's last step, in inference mode (dropout off, batch-norm running statistics),
    over the whole training set: one extra forward pass per recorded epoch. Keras's ``accuracy`` is the
    running mean over the epoch's mini-batches in training mode, so it lags behind this one. With a dev
    set ``fit`` records the same value itself and this callback adds nothing. Put it before a callback
    that reads ``train_accuracy`` (e.g. ``EarlyStopping(monitor="train_accuracy")``).
    """

    def on_train_begin(self, run: TrainingRun) -> None:
        if not run.model.loss.is_classifier:
            raise ValueError(f"TrainAccuracy needs a classification loss; this model uses {run.model.loss.name}")

    def on_epoch_end(self, run: TrainingRun) -> None:
        history = run.history
        if run.recorded and len(history.train_accuracy) < len(history.epoch):
            Z = run.model.forward(run.X, training=False)
            history.train_accuracy.append(run.model.loss.accuracy(Z, run.Y))

    def __repr__(self) -> str:
        return "TrainAccuracy()"
