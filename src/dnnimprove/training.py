"""The training loop: epochs of shuffled mini-batches, a schedule, L2, callbacks and a History.

Per epoch: the schedule gives ``lr``; the random source gives the epoch's permutation; per mini-batch:
``model.forward -> loss -> model.backward -> (+ L2 gradient) -> optimizer.step``. Batch gradient
descent is ``batch_size=None`` (one batch, never shuffled), stochastic is ``batch_size=1``; the last
mini-batch of an epoch may be smaller.
"""

from __future__ import annotations

import math
import os
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from threadpoolctl import ThreadpoolController

from ._validation import check_bool, check_callable, check_choice, check_features, check_int, check_number, check_type
from .engine import NonFinite, build_engine, select_engine
from .model import Sequential
from .random import CourseRandom
from .optimizers import Adam, Optimizer, OptimizerState
from .regularizers import check_lambd, l2_penalty
from .schedules import checked_lr

__all__ = ["History", "Callback", "TrainingRun", "TrainingDiverged", "TrainingInterrupted", "fit", "VALIDATION_SPLIT_SEED"]


VALIDATION_SPLIT_SEED = 0
"""``validation_fraction`` splits with its own generator seeded with this, so it draws nothing from the run."""


class TrainingDiverged(FloatingPointError):
    """Training produced a non-finite cost, gradient or parameter; the model keeps its last finite parameters.

    ``initial=True`` when it happened before any update of this ``fit``: then the learning rate is not
    the cause, the scale of the data (or of the initial weights) is, and the message says so.
    """

    def __init__(self, epoch: int, batch: int, lr: float, what: str = "gradient", initial: bool = False) -> None:
        self.epoch, self.batch, self.lr, self.initial = epoch, batch, lr, initial
        where = f"training diverged: non-finite {what} at epoch {epoch}, mini-batch {batch}"
        if initial:
            message = (f"{where}, before any update (so not because of the learning rate {lr:g}): the inputs, targets "
                       "or initial weights are too large; standardize the data (dn.Standardizer) or scale the targets")
        else:
            message = f"{where}, learning rate {lr:g}; try a smaller learning rate (e.g. {lr / 10:g})"
        super().__init__(message)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during a checkpointed ``fit``: the checkpoint of the last completed epoch has been written.

    Attributes ``path`` (the checkpoint) and ``epoch`` (epochs completed); a ``KeyboardInterrupt``, so
    code that stops on Ctrl-C still stops.
    """

    def __init__(self, path: str, epoch: int) -> None:
        self.path, self.epoch = path, epoch
        super().__init__(
            f"training interrupted after {epoch} completed epoch(s); checkpoint written to {path}; "
            f"resume with fit(..., resume={path!r})"
        )


@dataclass
class History:
    """What ``fit`` recorded, one entry per recorded epoch (every ``record_every`` epochs and the last).

    ``cost`` is ``data_cost + penalty``: ``data_cost`` is the mean loss over the epoch's examples as the
    mini-batches saw them (the course's ``cost_total / m``), ``penalty`` the L2 term at the epoch's end.
    Validation metrics (and the training accuracy) are recorded only when there is a validation set.
    """

    epoch: list[int] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    data_cost: list[float] = field(default_factory=list)
    penalty: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_cost: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    iteration_cost: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0
    stopped_epoch: int | None = None
    best_epoch: int | None = None
    engine: str = "numpy"
    """The engine that ran the epochs ("numpy" or "compiled"); ``engine_reason`` says why it was chosen."""
    engine_reason: str = ""

    def as_dict(self) -> dict:
        return {key: (list(value) if isinstance(value, list) else value) for key, value in self.__dict__.items()}

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        """One line: the epochs recorded, the cost from first to last, the last rate, the time taken."""
        if not self.epoch:
            return "History(no epochs recorded)"
        parts = [f"{len(self.epoch)} epochs recorded (last {self.epoch[-1]})",
                 f"cost {self.cost[0]:.4g} -> {self.cost[-1]:.4g}"]
        if self.val_cost:
            parts.append(f"val_cost {self.val_cost[-1]:.4g}")
        if self.lr:
            parts.append(f"lr {self.lr[-1]:.4g}")
        if self.best_epoch is not None:
            parts.append(f"best epoch {self.best_epoch}")
        if self.stopped_epoch is not None:
            parts.append(f"stopped at {self.stopped_epoch}")
        parts.append(f"{self.steps} steps in {self.seconds:.2f} s")
        return "History(" + ", ".join(parts) + ")"


@dataclass
class TrainingRun:
    """What callbacks see: the model, the optimizer and its state, the history and the loop's position.

    A callback stops training by setting ``run.stop = True``.
    """

    model: Sequential
    optimizer: Optimizer
    state: OptimizerState
    history: History
    X: np.ndarray
    Y: np.ndarray
    validation: tuple[np.ndarray, np.ndarray] | None
    l2: float
    epochs: int
    epoch: int = 0
    batch: int = 0
    lr: float = 0.0
    stop: bool = False
    recorded: bool = False


class Callback:
    """Hooks into ``fit``; every method is optional."""

    def on_train_begin(self, run: TrainingRun) -> None: ...

    def on_batch_end(self, run: TrainingRun) -> None: ...

    def on_epoch_end(self, run: TrainingRun) -> None: ...

    def on_train_end(self, run: TrainingRun) -> None: ...


def _split_validation(X: np.ndarray, y: np.ndarray, fraction: float) -> tuple[np.ndarray, ...]:
    n_dev = int(round(fraction * X.shape[0]))
    if n_dev < 1 or n_dev >= X.shape[0]:
        raise ValueError(
            f"validation_fraction={fraction} leaves {n_dev} of {X.shape[0]} examples for the dev set; "
            "it must leave at least one example on each side"
        )
    order = np.random.default_rng(VALIDATION_SPLIT_SEED).permutation(X.shape[0])
    dev, train = order[:n_dev], order[n_dev:]
    return X[train], y[train], X[dev], y[dev]


def fit(
    model: Sequential,
    X: Any,
    y: Any,
    *,
    epochs: int = 100,
    batch_size: int | None = None,
    optimizer: Optimizer | None = None,
    schedule: Callable[[int], float] | None = None,
    l2: float = 0.0,
    seed: Any = None,
    shuffle: bool = True,
    validation_data: tuple[Any, Any] | None = None,
    validation_fraction: float | None = None,
    callbacks: Sequence[Callback] = (),
    augment: Callable[[np.ndarray, Any], np.ndarray] | None = None,
    record_every: int = 1,
    record_iterations: bool = False,
    optimizer_state: OptimizerState | None = None,
    progress: bool = False,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 1,
    resume: str | os.PathLike | None = None,
    threads: int | None = 1,
    engine: str = "auto",
) -> History:
    """Train ``model`` on ``(X, y)`` and return its :class:`History`.

    Parameters
    ----------
    X : array of shape (m, n_features)
    y : array of shape (m,) (labels or values) or (m, k) (one-hot or regression targets)
    epochs : int >= 0
        Passes over the training set.
    batch_size : int >= 1 or None
        ``None`` (or >= m): batch gradient descent; ``1``: stochastic; else mini-batches, the last one smaller.
    optimizer : Optimizer
        Default ``Adam(lr=0.001)``.
    schedule : callable ``epoch -> lr``
        Applied at the start of every epoch (every step if it has ``per_step = True``); default: the
        optimizer's ``lr``. The learning rate used is recorded in ``History.lr``.
    l2 : float >= 0
        L2 strength ``lambd``: adds ``(lambd / (2 m)) * sum ||W||**2`` per mini-batch of m examples.
    seed : int, Generator or random source
        If given, replaces the model's random source for shuffling (and dropout) from here on.
    shuffle : bool
        Reshuffle the examples every epoch (mini-batch and stochastic only).
    validation_data : (X_dev, y_dev) or None
    validation_fraction : float in (0, 1) or None
        Split a dev set off the training data instead (its own fixed seed, drawing nothing from the run).
    callbacks : sequence of Callback
    augment : callable ``(X_batch, source) -> X_batch``
        Transforms every training mini-batch (never applied at inference).
    record_every : int >= 1
        Record (and so compute) the cost every this many epochs, and at the last epoch.
    record_iterations : bool
        Also record every mini-batch's cost in ``History.iteration_cost``.
    optimizer_state : OptimizerState or None
        Continue from this state (e.g. a previous fit's ``model.optimizer_state_``) instead of a fresh one.
    progress : bool
        Show a progress bar over the epochs.
    checkpoint : path or None
        Save a checkpoint (see :mod:`dnnimprove.checkpoint`) to this file, atomically, every
        ``checkpoint_every`` epochs and after the last epoch. Default: the ``resume`` file, if given.
    checkpoint_every : int >= 1
    resume : path or None
        Continue the run saved in this checkpoint: parameters, optimizer state, batch-norm statistics,
        random state, epoch and history are restored, so the run ends bit-identical to one never
        interrupted. The model, data and settings must be the ones the checkpoint was written with.
    threads : int >= 1 or None
        BLAS threads during training, set with threadpoolctl around the loop and restored afterwards;
        ``None`` leaves BLAS as it is configured. The default 1 measured best on the 2-core benchmark
        machine (``benchmarks/run.py``): a second thread costs a tiny network about 1 us per matrix
        product; a wide one (784-256-128-10, batch 128) runs a third faster with two on an idle machine
        but four times slower while other processes load the cores. Give ``threads`` on a machine of your own.
    engine : {"numpy", "compiled"}
        How forward, loss and backward run. ``"numpy"`` (default): each layer's NumPy code, the course's
        arithmetic (the published figures come out bit for bit). ``"compiled"``: the whole gradient of a
        stack of Dense layers and activations in one numba call (:mod:`dnnimprove.compiled`; needs
        ``pip install "dnnimprove[fast]"``), for small networks, where NumPy's per-call overhead is most of
        the time: a training step of the 2-5-2-1 benchmark network takes about 6 us against 21. Its matrix
        products sum in another order than BLAS, so results agree with ``"numpy"`` to rounding, not bit for
        bit; a run is still reproducible bit for bit with the same engine and seed. Layers without a
        compiled kernel (Dropout, BatchNorm, custom layers) are a ``ValueError`` naming the layer. The
        optimizer step is the same for both (one compiled pass whenever numba is installed, with NumPy's
        rounding).

    Raises
    ------
    TrainingDiverged
        On a non-finite gradient, cost or parameter; the model keeps its last finite parameters and
        ``model.history_`` the epochs recorded before.
    TrainingInterrupted
        (a ``KeyboardInterrupt``) on Ctrl-C when checkpointing: the checkpoint of the last completed
        epoch is written and the model is put back to that epoch before it is raised.
    """
    epochs = check_int("epochs", epochs, low=0)
    record_every = check_int("record_every", record_every, low=1)
    l2 = check_lambd(l2)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, low=1)
    if threads is not None:
        threads = check_int("threads", threads, low=1)
    optimizer = Adam() if optimizer is None else optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an Optimizer (e.g. dn.Adam(lr=0.001)); got {optimizer!r}")
    if validation_data is not None and validation_fraction is not None:
        raise ValueError("give validation_data or validation_fraction, not both")
    shuffle = check_bool("shuffle", shuffle)
    record_iterations = check_bool("record_iterations", record_iterations)
    progress = check_bool("progress", progress)
    if schedule is not None:
        check_callable("schedule", schedule, "epoch -> lr (e.g. dn.InverseTimeDecay(lr0=0.1))")
    if augment is not None:
        check_callable("augment", augment, "(X_batch, source) -> X_batch")
    check_type("callbacks", callbacks, (list, tuple), "a list of Callback objects")
    for index, callback in enumerate(callbacks):
        check_type(f"callbacks[{index}]", callback, Callback, "a Callback (subclass dn.Callback)")
    if optimizer_state is not None:
        check_type("optimizer_state", optimizer_state, OptimizerState, "an OptimizerState from optimizer.init(params)")

    X = check_features(X, model.dtype)
    if model.built:
        X = model.check_X(X)
    else:
        model.build(X.shape[1])
    Y = model.encode_targets(y, X.shape[0])
    validation = None
    if validation_fraction is not None:
        check_number("validation_fraction", validation_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
        X, Y, X_dev, Y_dev = _split_validation(X, Y, validation_fraction)
        validation = (X_dev, Y_dev)
    elif validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(f"validation_data must be a pair (X_dev, y_dev); got {type(validation_data).__name__}")
        try:
            X_dev = model.check_X(validation_data[0])
        except ValueError as error:
            raise ValueError(f"validation_data: {error}") from None
        validation = (X_dev, model.encode_targets(validation_data[1], X_dev.shape[0]))
    if seed is not None:
        model.set_random(seed)

    settings = {"batch_size": batch_size, "augment": augment, "l2": l2, "optimizer": optimizer, "epochs": epochs,
                "n_rows": X.shape[0]}
    choice, compiled = select_engine(engine, model, isinstance(model.random, CourseRandom), settings)
    state = optimizer.init(model.params, model.weight_mask) if optimizer_state is None else optimizer_state
    history = History(engine=choice.name, engine_reason=choice.reason)
    run = TrainingRun(model, optimizer, state, history, X, Y, validation, l2, epochs)
    model.history_ = history
    model.optimizer_ = optimizer
    model.optimizer_state_ = state
    checkpointer = None
    if checkpoint is not None or resume is not None:
        from .checkpoint import Checkpointer

        settings = {"batch_size": batch_size, "l2": l2, "shuffle": shuffle, "record_every": record_every,
                    "record_iterations": record_iterations, "schedule": schedule, "augment": augment}
        checkpointer = Checkpointer(run, checkpoint, checkpoint_every, resume, settings, optimizer_state)
        callbacks = [*callbacks, checkpointer]
    try:
        # Overflow is the divergence guard's to report (TrainingDiverged), not NumPy's to warn about.
        with nullcontext() if threads is None else _blas_limits(threads), np.errstate(over="ignore", invalid="ignore"):
            runner = build_engine(choice, compiled, engine, run, batch_size, shuffle, augment)
            history.engine, history.engine_reason = choice.name, choice.reason
            _loop(run, runner, schedule, callbacks, record_every, record_iterations, progress)
    except KeyboardInterrupt:
        if checkpointer is None:
            raise
        checkpointer.interrupted()  # writes the last completed epoch, restores it, raises TrainingInterrupted
    return history


_CONTROLLER: tuple[int, ThreadpoolController] | None = None


def _blas_limits(threads: int) -> Any:
    """threadpoolctl's limit on the BLAS libraries' threads, as a context manager.

    Finding the loaded libraries reads ``/proc/self/maps`` (about 1 ms, a lot for a short fit), so the
    controller is kept until the next import (a new module may have loaded another BLAS).
    """
    global _CONTROLLER
    modules = len(sys.modules)
    if _CONTROLLER is None or _CONTROLLER[0] != modules:
        _CONTROLLER = (modules, ThreadpoolController())
    return _CONTROLLER[1].limit(limits=threads, user_api="blas")


class _Snapshot:
    """The start of an epoch: parameters, optimizer state (``t`` and its arrays) and non-trained state
    (batch-norm running statistics), copied into buffers allocated once; ``restore`` puts them back."""

    def __init__(self, run: TrainingRun) -> None:
        self.arrays = [run.model.params, *run.model.state_arrays().values()]
        self.arrays += [getattr(run.state, key) for key in ("v", "s") if getattr(run.state, key) is not None]
        self.copies = [array.copy() for array in self.arrays]
        self.state, self.t = run.state, run.state.t

    def take(self) -> None:
        for array, copy in zip(self.arrays, self.copies):
            np.copyto(copy, array)
        self.t = self.state.t

    def restore(self) -> None:
        for array, copy in zip(self.arrays, self.copies):
            np.copyto(array, copy)
        self.state.t = self.t


def _overrides(callback: Callback, method: str) -> bool:
    return getattr(type(callback), method) is not getattr(Callback, method)


def _loop(
    run: TrainingRun,
    engine: Any,
    schedule: Callable[[int], float] | None,
    callbacks: Sequence[Callback],
    record_every: int,
    record_iterations: bool,
    progress: bool,
) -> None:
    """The epochs: schedule, the engine's mini-batches, the divergence guard, records and callbacks.

    The engine runs a whole epoch in one call unless something must happen between mini-batches (a per-step
    schedule, per-iteration costs, a callback with ``on_batch_end``); then it runs them one call each.
    Divergence guard: when a mini-batch's cost or gradient, or the parameters at the epoch's end, are NaN or
    infinite, the model, the optimizer state and the batch-norm statistics go back to the start of that
    epoch (the last finite point both engines can restore) and :class:`TrainingDiverged` is raised.
    """
    model, optimizer, state, history = run.model, run.optimizer, run.state, run.history
    m = run.X.shape[0]
    per_step = bool(getattr(schedule, "per_step", False))
    batch_hooks = [callback for callback in callbacks if _overrides(callback, "on_batch_end")]
    stepwise = per_step or record_iterations or bool(batch_hooks)
    snapshot = _Snapshot(run)
    first_step = state.t + 1
    epochs_iter: Any = range(run.epoch, run.epochs)  # run.epoch > 0 when resuming
    if progress:
        from tqdm.auto import tqdm

        epochs_iter = tqdm(epochs_iter, desc="training", unit="epoch", leave=False)
    for callback in callbacks:
        callback.on_train_begin(run)
    started = time.perf_counter() - history.seconds
    for epoch in epochs_iter:
        run.epoch = epoch
        lr = optimizer.lr if schedule is None else checked_lr(schedule, state.t if per_step else epoch)
        record = epoch % record_every == 0 or epoch == run.epochs - 1
        need_cost = record or record_iterations
        snapshot.take()
        engine.begin_epoch(epoch)
        try:
            if stepwise:
                total = 0.0
                for index in range(engine.n_batches):
                    if per_step and index:
                        lr = checked_lr(schedule, state.t)
                    cost = engine.step(index, lr, need_cost)
                    if need_cost:
                        total += cost * engine.batch_rows(index)
                        if record_iterations:
                            history.iteration_cost.append(cost)
                    run.batch = index
                    for callback in batch_hooks:
                        callback.on_batch_end(run)
            else:
                total = engine.epoch(lr, need_cost)
                run.batch = engine.n_batches - 1
            if not np.isfinite(model.params).all():
                raise NonFinite(engine.n_batches - 1, "parameters")
        except NonFinite as failure:
            initial = snapshot.t < first_step and failure.batch == 0 and failure.what != "parameters"
            snapshot.restore()
            history.seconds = time.perf_counter() - started
            raise TrainingDiverged(epoch, failure.batch, lr, failure.what, initial=initial) from None
        history.steps = state.t
        run.lr = lr
        run.recorded = record
        if record:
            _record(run, epoch, lr, total / m)
        for callback in callbacks:
            callback.on_epoch_end(run)
        if run.stop:
            history.stopped_epoch = epoch
            break
    history.seconds = time.perf_counter() - started
    for callback in callbacks:
        callback.on_train_end(run)


def _record(run: TrainingRun, epoch: int, lr: float, data_cost: float) -> None:
    model, history = run.model, run.history
    m = run.X.shape[0]
    penalty = l2_penalty(model.params, model.weight_mask, run.l2, m) + model.layer_penalty(m)
    history.epoch.append(epoch)
    history.lr.append(lr)
    history.data_cost.append(data_cost)
    history.penalty.append(penalty)
    history.cost.append(data_cost + penalty)
    if run.validation is not None:
        X_dev, Y_dev = run.validation
        Z_dev = model.forward(X_dev, training=False)
        history.val_cost.append(model.loss.cost(Z_dev, Y_dev))
        if model.loss.is_classifier:
            history.val_accuracy.append(model.loss.accuracy(Z_dev, Y_dev))
            history.train_accuracy.append(model.loss.accuracy(model.forward(run.X, training=False), run.Y))
