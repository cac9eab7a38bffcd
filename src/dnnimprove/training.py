"""The training loop: epochs of shuffled mini-batches, a schedule, L2, callbacks and a History.

Per epoch: the schedule gives ``lr``; the random source gives the epoch's permutation; per mini-batch:
``model.forward -> loss -> model.backward -> (+ L2 gradient) -> optimizer.step``. Batch gradient
descent is ``batch_size=None`` (one batch, never shuffled), stochastic is ``batch_size=1``; the last
mini-batch of an epoch may be smaller.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Sequence

import numpy as np

from .callback_hooks import adapt_hooks
from ._validation import Boolean, Integer, IsCallable, IsInstance, Real, check_features, check_int, check_type, validate_params
from .memory import check_fit_memory
from .engine import NonFinite, build_engine, select_engine
from .random import CourseRandom
from .optimizers import Adam, Optimizer, OptimizerState
from .regularizers import l2_penalty
from .schedules import checked_lr

if TYPE_CHECKING:  # pragma: no cover
    from .model import Sequential

__all__ = ["History", "Callback", "Resume", "TrainingRun", "TrainingDiverged", "TrainingInterrupted", "fit"]


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
            f"resume with callbacks=[Checkpoint({path!r}, resume=True)]"
        )


KERAS_NAMES: dict[str, str] = {
    "loss": "cost",
    "accuracy": "train_accuracy",
    "val_loss": "val_cost",
    "val_accuracy": "val_accuracy",
    "lr": "lr",
}
"""Keras's ``History.history`` keys and the :class:`History` list each one reads."""


@dataclass
class History:
    """What ``fit`` recorded, one entry per recorded epoch (every ``record_every`` epochs and the last).

    ``cost`` is ``data_cost + penalty``: ``data_cost`` is the mean loss over the epoch's examples as the
    mini-batches saw them (the course's ``cost_total / m``), ``penalty`` the L2 term at the epoch's end.
    Validation metrics (and the training accuracy) are recorded only when there is a validation set;
    ``iteration_cost`` (every mini-batch's data cost) only with :class:`~dnnimprove.callbacks.IterationCost`.
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
    next_epoch: int = 0
    """The number of the epoch after the last one completed (epochs count from the fit's initial epoch):
    where ``fit(..., optimizer="continue")`` goes on, Keras's ``initial_epoch``."""

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

    # -- Keras's view ---------------------------------------------------------------------------------
    @property
    def history(self) -> dict[str, list[float]]:
        """Keras's ``History.history``: ``{"loss": [...], "accuracy": [...], "val_loss": [...],
        "val_accuracy": [...], "lr": [...]}``, one value per recorded epoch (:data:`KERAS_NAMES` gives the
        list each key reads). A key is present only when recorded: ``val_*`` with a dev set, ``accuracy``
        for a classifier with a dev set or :class:`~dnnimprove.callbacks.TrainAccuracy`."""
        if not self.epoch:
            return {}
        return {key: list(getattr(self, name)) for key, name in KERAS_NAMES.items()
                if len(getattr(self, name)) == len(self.epoch)}

    def logs(self, index: int = -1) -> dict[str, float]:
        """The metrics of one recorded epoch under Keras's names: what a Keras callback's ``logs`` holds."""
        return {key: values[index] for key, values in self.history.items()}

    def to_dataframe(self) -> Any:
        """A ``pandas.DataFrame`` with one row per recorded epoch, indexed by ``epoch``: ``cost``,
        ``data_cost``, ``penalty``, ``lr`` and whichever of ``train_accuracy``, ``val_cost``,
        ``val_accuracy`` were recorded (``pip install pandas``)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("History.to_dataframe needs pandas: pip install pandas") from None
        columns = ("cost", "data_cost", "penalty", "lr", "train_accuracy", "val_cost", "val_accuracy")
        data = {name: getattr(self, name) for name in columns if len(getattr(self, name)) == len(self.epoch)}
        return pandas.DataFrame(data, index=pandas.Index(self.epoch, name="epoch"))


class Resume(NamedTuple):
    """``fit(..., optimizer=Resume(optimizer, state, initial_epoch))``: go on from a fitted optimizer state.

    Keras's ``fit(initial_epoch=...)`` with the optimizer kept: the optimizer continues from ``state``
    (e.g. Adam's moments and step count ``t``), and the epochs are numbered from ``initial_epoch`` for the
    schedule, ``History.epoch``, ``History.lr`` and the callbacks' ``epoch``; ``epochs`` is then the epoch to
    stop before, as in Keras (``epochs=20`` after 10 runs 10 more). ``fit(..., optimizer="continue")`` is
    ``Resume(model.optimizer_, model.optimizer_state_, model.history_.next_epoch)``; a plain pair
    ``(optimizer, state)`` is ``Resume(optimizer, state, 0)``; ``state=None`` starts the optimizer afresh
    and keeps only the epoch count (the estimators' ``warm_start`` after a change of optimizer).
    """

    optimizer: Optimizer
    state: OptimizerState | None
    initial_epoch: int = 0


@dataclass
class TrainingRun:
    """What callbacks see: the model, the optimizer and its state, the history and the loop's position.

    ``settings`` holds the rest of ``fit``'s arguments that shape the run (``batch_size``, ``shuffle``,
    ``record_every``, ``schedule``, ``augment``, ``engine``; ``record_iterations``: whether a callback
    asked for every mini-batch's cost; ``optimizer_state_given``: whether fit continued a given state;
    ``initial_epoch``: the first epoch's number, > 0 when continuing, see :class:`Resume`).
    ``batch_cost`` is the last mini-batch's data cost, computed only when a callback has
    ``needs_batch_cost`` (or the epoch is recorded). A callback stops training by setting ``run.stop = True``.
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
    batch_cost: float = math.nan
    settings: dict[str, Any] = field(default_factory=dict)


class Callback:
    """Hooks into ``fit``; every method is optional.

    ``on_train_begin`` runs before the loop reads the run's position, so a callback may restore a saved
    run there (:class:`~dnnimprove.callbacks.Checkpoint`). ``on_interrupt`` runs on Ctrl-C before the
    ``KeyboardInterrupt`` propagates; it may raise a more specific one. A callback that reads
    ``run.batch_cost`` in ``on_batch_end`` sets ``needs_batch_cost = True``: the loop then computes every
    mini-batch's cost, which it otherwise skips outside recorded epochs.
    """

    needs_batch_cost: bool = False
    batch_cost_only: bool = False
    """True declares that ``on_batch_end`` reads only ``run.batch`` and ``run.batch_cost`` (not the parameters):
    ``fit`` may then run an epoch's mini-batches in one call of the engine and call it for each afterwards."""
    recorded_epochs_only: bool = False
    """True declares that ``on_epoch_end`` acts only at recorded epochs (when ``run.recorded``): ``fit`` may then
    run the epochs between two records in one call of the engine."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Check the subclass's hook signatures; Keras-style ones get Keras's arguments (:mod:`dnnimprove.callback_hooks`)."""
        super().__init_subclass__(**kwargs)
        adapt_hooks(cls)

    def on_train_begin(self, run: TrainingRun) -> None: ...

    def on_batch_end(self, run: TrainingRun) -> None: ...

    def on_epoch_end(self, run: TrainingRun) -> None: ...

    def on_train_end(self, run: TrainingRun) -> None: ...

    def on_interrupt(self, run: TrainingRun) -> None: ...


FIT_CONSTRAINTS = {
    "epochs": Integer(low=0),
    "batch_size": Integer(low=1, none_ok=True),
    "schedule": IsCallable("epoch -> lr (e.g. dn.InverseTimeDecay(lr0=0.1))", none_ok=True),
    "l2": Real(low=0.0),
    "shuffle": Boolean(),
    "callbacks": IsInstance((list, tuple), "a list of Callback objects"),
    "augment": IsCallable("(X_batch, source) -> X_batch", none_ok=True),
    "record_every": Integer(low=1),
}
"""The legal values of :func:`fit`'s arguments (``optimizer``, the arrays and ``engine`` are checked where they are read)."""


def fit(
    model: Sequential,
    X: Any,
    y: Any,
    *,
    epochs: int = 100,
    batch_size: int | None = None,
    optimizer: Optimizer | tuple[Optimizer, OptimizerState] | Resume | str | None = None,
    schedule: Callable[[int], float] | None = None,
    l2: float = 0.0,
    shuffle: bool = True,
    validation_data: tuple[Any, Any] | None = None,
    callbacks: Sequence[Callback] = (),
    augment: Callable[[np.ndarray, Any], np.ndarray] | None = None,
    record_every: int = 1,
    engine: str = "auto",
) -> History:
    """Train ``model`` on ``(X, y)`` and return its :class:`History` (also ``model.history_``).

    Per epoch the schedule gives ``lr``; per mini-batch ``forward -> loss -> backward (+ L2) -> step``.
    What is not the loop's job hooks in as a callback (:mod:`dnnimprove.callbacks`: early stopping,
    checkpoints and resuming, a progress bar, per-iteration costs) or wraps the call
    (:func:`dnnimprove.blas_threads`).

    Parameters
    ----------
    X : array of shape (m, n_features)
    y : array of shape (m,) (labels or values) or (m, k) (one-hot or regression targets)
    epochs : int >= 0
        Passes over the training set (the course's ``num_epochs``).
    batch_size : int >= 1 or None
        ``None`` (or >= m): batch gradient descent; ``1``: stochastic; else mini-batches of this many
        rows (the course's ``mini_batch_size``), the last one smaller.
    optimizer : Optimizer, (Optimizer, OptimizerState), Resume or "continue"
        Default ``Adam(lr=0.001)`` with a fresh state (``optimizer.init``): a second ``fit`` restarts the
        optimizer (the weights are kept). ``"continue"`` goes on from this model's previous fit, as Keras's
        ``fit(initial_epoch=...)`` after a first ``fit``: the same optimizer *and its state* (Adam's moments
        and step count), the epochs numbered on from ``model.history_.next_epoch`` (schedules, ``History``
        and callbacks go on from there), ``epochs`` being the epoch to stop before (``epochs=20`` after 10
        runs 10 more). :class:`Resume` ``(optimizer, state, initial_epoch)`` says all three explicitly; a
        pair ``(optimizer, state)`` continues the state with the epochs numbered from 0.
    schedule : callable ``epoch -> lr``
        Applied at the start of every epoch (every step if it has ``per_step = True``); default: the
        optimizer's ``lr``. The learning rate used is recorded in ``History.lr``.
    l2 : float >= 0
        L2 strength (the course's ``lambd``): adds ``(lambd / (2 m)) * sum ||W||**2`` per mini-batch of m rows.
        Per-layer regularization (L1, or a layer's own L2) is set on the layer, as Keras's
        ``kernel_regularizer``: ``Dense(units, l1=...)`` (:mod:`dnnimprove.regularizers`).
    shuffle : bool
        Reshuffle the examples every epoch (mini-batch and stochastic only), drawing the permutation from
        the model's random source.
    validation_data : (X_dev, y_dev) or None
        A dev set, evaluated at every recorded epoch (``History.val_cost``, ``val_accuracy``).
    callbacks : sequence of Callback
    augment : callable ``(X_batch, source) -> X_batch``
        Transforms every training mini-batch (never applied at inference).
    record_every : int >= 1
        Record (and so compute) the cost every this many epochs, and at the last epoch.
    engine : {"auto", "numpy", "compiled"}
        How forward, loss, backward and the step run (:mod:`dnnimprove.engine`). ``"numpy"``: each block's
        NumPy code, the course's arithmetic bit for bit. ``"compiled"``: the blocks' formulas compiled with
        numba into one call per epoch (``pip install "dnnimprove[fast]"``), for small networks where NumPy's
        per-call overhead dominates; its sums run in another order than BLAS's, so results agree with
        ``"numpy"`` to rounding and are reproducible with the same engine and seed; what it cannot run is a
        ``ValueError`` naming it. ``"auto"``: compiled where it can run and pays off, NumPy otherwise
        (always in course-exact mode); ``History.engine`` and ``engine_reason`` say which and why.

    Raises
    ------
    TrainingDiverged
        On a non-finite gradient, cost or parameter: the parameters, the optimizer state and the batch-norm
        statistics go back to the start of the failing epoch (finite), ``model.history_`` keeps the epochs
        recorded before; the same in both engines.
    KeyboardInterrupt
        On Ctrl-C, after every callback's ``on_interrupt`` (a :class:`~dnnimprove.callbacks.Checkpoint`
        writes the last completed epoch there and raises :class:`TrainingInterrupted`).
    """
    settings = validate_params(FIT_CONSTRAINTS, epochs=epochs, batch_size=batch_size, schedule=schedule, l2=l2,
                               shuffle=shuffle, callbacks=callbacks, augment=augment, record_every=record_every)
    epochs, l2, callbacks = settings.pop("epochs"), settings.pop("l2"), _check_callbacks(settings.pop("callbacks"))
    batch_size, shuffle, record_every = settings["batch_size"], settings["shuffle"], settings["record_every"]
    optimizer, given_state, initial_epoch = _optimizer_and_state(optimizer, model)
    if initial_epoch and epochs <= initial_epoch:
        raise ValueError(f"epochs={epochs} is the epoch to stop before (as Keras's epochs with initial_epoch); continuing "
                         f"from epoch {initial_epoch} it must be greater (epochs={initial_epoch + max(epochs, 1)} runs "
                         f"{max(epochs, 1)} more)")
    X, Y, validation = _training_arrays(model, X, y, validation_data)
    check_fit_memory(model, X.shape[0], batch_size)  # before the optimizer's state and the activations exist
    state = optimizer.init(model.params, model.weight_mask) if given_state is None else given_state
    settings.update(record_iterations=any(callback.needs_batch_cost for callback in callbacks),
                    optimizer_state_given=given_state is not None, initial_epoch=initial_epoch, engine=engine)
    choice, compiled = select_engine(engine, model, isinstance(model.random, CourseRandom),
                                     {**settings, "l2": l2, "optimizer": optimizer, "epochs": epochs, "n_rows": X.shape[0]})
    history = History(engine=choice.name, engine_reason=choice.reason, next_epoch=initial_epoch)
    run = TrainingRun(model, optimizer, state, history, X, Y, validation, l2, epochs, epoch=initial_epoch,
                      settings=settings)
    model.history_, model.optimizer_, model.optimizer_state_ = history, optimizer, state
    try:
        # Overflow is the divergence guard's to report (TrainingDiverged), not NumPy's to warn about.
        with np.errstate(over="ignore", invalid="ignore"):
            for callback in callbacks:  # before the engine reads the run: a resuming Checkpoint restores it here
                callback.on_train_begin(run)
            runner = build_engine(choice, compiled, engine, run, batch_size, shuffle, settings["augment"])
            history.engine, history.engine_reason = choice.name, choice.reason
            _loop(run, runner, settings["schedule"], callbacks, record_every, settings["record_iterations"])
    except KeyboardInterrupt:
        for callback in callbacks:
            callback.on_interrupt(run)  # a Checkpoint writes the last completed epoch and raises TrainingInterrupted
        raise
    return history


def _check_callbacks(callbacks: list | tuple) -> list[Callback]:
    for index, callback in enumerate(callbacks):
        check_type(f"callbacks[{index}]", callback, Callback, "a Callback (subclass dn.callbacks.Callback)")
    return list(callbacks)


def _optimizer_and_state(optimizer: Any, model: Sequential) -> tuple[Optimizer, OptimizerState | None, int]:
    """``optimizer`` as (Optimizer, given state or None, initial epoch); the default is ``Adam(lr=0.001)``."""
    state = None
    initial_epoch = 0
    if isinstance(optimizer, str):
        if optimizer != "continue":
            raise ValueError(f"optimizer must be an Optimizer, a pair (optimizer, state), a Resume or 'continue'; "
                             f"got {optimizer!r:.80}")
        if model.optimizer_state_ is None:
            raise ValueError("optimizer='continue' needs a model fitted before (it continues model.optimizer_, "
                             "model.optimizer_state_ and the epoch count); this model was never fitted")
        optimizer = Resume(model.optimizer_, model.optimizer_state_, model.history_.next_epoch)
    if isinstance(optimizer, tuple) and len(optimizer) in (2, 3):
        optimizer, state, *rest = optimizer
        if state is not None or not rest:  # a Resume may give no state: a fresh one, the epoch count kept
            check_type("optimizer[1]", state, OptimizerState, "an OptimizerState from optimizer.init(params)")
        initial_epoch = check_int("initial_epoch", rest[0], low=0) if rest else 0
    optimizer = Adam() if optimizer is None else optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an Optimizer (e.g. dn.Adam(lr=0.001)), a pair (optimizer, state), a Resume "
                        f"or 'continue'; got {optimizer!r:.80}")
    return optimizer, state, initial_epoch


def _training_arrays(
    model: Sequential, X: Any, y: Any, validation_data: Any
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Validated ``X``, the loss's target matrix ``Y`` and the encoded dev set; builds the model at its first fit."""
    X = check_features(X, model.dtype)
    if model.built:
        X = model.check_X(X)
    else:
        model.build(X.shape[1])
    Y = model.encode_targets(y, X.shape[0])
    if validation_data is None:
        return X, Y, None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise ValueError(f"validation_data must be a pair (X_dev, y_dev); got {type(validation_data).__name__}")
    try:
        X_dev = model.check_X(validation_data[0])
    except ValueError as error:
        raise ValueError(f"validation_data: {error}") from None
    return X, Y, (X_dev, model.encode_targets(validation_data[1], X_dev.shape[0]))


def _overrides(callback: Callback, method: str) -> bool:
    return getattr(type(callback), method) is not getattr(Callback, method)


def _loop(
    run: TrainingRun,
    engine: Any,
    schedule: Callable[[int], float] | None,
    callbacks: Sequence[Callback],
    record_every: int,
    record_iterations: bool,
) -> None:
    """The epochs: schedule, the engine's mini-batches, the divergence guard, records and callbacks.

    The engine runs a whole epoch in one call, one mini-batch per call when something must happen between
    mini-batches (a per-step schedule, per-iteration costs, a callback with ``on_batch_end``), and several
    epochs per call (the compiled engine) up to the next recorded epoch when nothing must happen between
    epochs (every ``on_epoch_end`` callback declares ``recorded_epochs_only``).
    Divergence guard: when a mini-batch's cost or gradient, or the parameters at an epoch's end, are NaN or
    infinite, the model, the optimizer state and the batch-norm statistics go back to the start of that
    epoch (the last finite point, in both engines) and :class:`TrainingDiverged` is raised.
    """
    optimizer, state, history = run.optimizer, run.state, run.history
    m = run.X.shape[0]
    per_step = bool(getattr(schedule, "per_step", False))
    batch_hooks = [callback for callback in callbacks if _overrides(callback, "on_batch_end")]
    # hooks that read only run.batch and run.batch_cost run after their epoch's mini-batches, in order
    after_epoch = bool(batch_hooks) and not per_step and all(
        getattr(callback, "batch_cost_only", False) for callback in batch_hooks)
    stepwise = per_step or ((record_iterations or bool(batch_hooks)) and not after_epoch)
    epoch_hooks = [callback for callback in callbacks
                   if _overrides(callback, "on_epoch_end") and not getattr(callback, "recorded_epochs_only", False)]
    chunked = engine.chunks and not stepwise and not epoch_hooks and not after_epoch
    first_step = state.t + 1
    started = time.perf_counter() - history.seconds
    epoch = run.epoch  # > 0 when resuming (callbacks' on_train_begin ran in fit)
    while epoch < run.epochs:
        last = epoch
        if chunked:  # up to the next recorded epoch
            last = min(run.epochs - 1, epoch + (-epoch) % record_every)
        run.epoch = last
        record = last % record_every == 0 or last == run.epochs - 1
        need_cost = record or record_iterations
        try:
            if chunked:
                lrs = [optimizer.lr if schedule is None else checked_lr(schedule, e) for e in range(epoch, last + 1)]
                lr = lrs[-1]
                total = engine.epochs(epoch, np.array(lrs, dtype=np.float64), need_cost)
            else:
                lr = optimizer.lr if schedule is None else checked_lr(schedule, state.t if per_step else epoch)
                engine.begin_epoch(epoch)
                if stepwise:
                    total = 0.0
                    for index in range(engine.n_batches):
                        if per_step and index:
                            lr = checked_lr(schedule, state.t)
                        cost = engine.step(index, lr, need_cost)
                        if need_cost:
                            total += cost * engine.batch_rows(index)
                            run.batch_cost = cost
                        run.batch = index
                        for callback in batch_hooks:
                            callback.on_batch_end(run)
                elif after_epoch:
                    costs = np.full(engine.n_batches, np.nan)
                    total = engine.epoch(lr, need_cost, costs)
                    for index in range(engine.n_batches):
                        run.batch, run.batch_cost = index, float(costs[index])
                        for callback in batch_hooks:
                            callback.on_batch_end(run)
                else:
                    total = engine.epoch(lr, need_cost)
                engine.check_parameters()
            run.batch = engine.n_batches - 1
        except NonFinite as failure:
            failed = epoch if failure.epoch is None else failure.epoch
            if chunked:
                lr = lrs[failed - epoch]
            engine.restore()
            initial = engine.t_start < first_step and failure.batch == 0 and failure.what != "parameters"
            run.epoch = failed
            history.seconds = time.perf_counter() - started
            raise TrainingDiverged(failed, failure.batch, lr, failure.what, initial=initial) from None
        history.steps = state.t
        run.lr = lr
        run.recorded = record
        if record:
            _record(run, last, lr, total / m)
        history.next_epoch = last + 1  # completed: callbacks (a Checkpoint) see it
        for callback in callbacks:
            callback.on_epoch_end(run)
        epoch = last + 1
        if run.stop:
            history.stopped_epoch = last
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
