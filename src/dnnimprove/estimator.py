"""scikit-learn face: :class:`DNNClassifier` and :class:`DNNRegressor`.

Thin estimators over :class:`dnnimprove.Sequential`: ``__init__`` only stores its arguments (as
scikit-learn's contract asks, so ``get_params``/``set_params``/``clone`` work and a search can hand
any value through); ``fit`` validates them, builds the network and calls ``model.fit`` (the loop lives
in :mod:`dnnimprove.training`). Learned state ends in ``_``: ``model_``, ``history_``,
``n_features_in_``, ``classes_`` (classifier), and scikit-learn's ``MLPClassifier`` attributes
``n_iter_``, ``t_``, ``loss_curve_``, ``best_loss_``, ``validation_scores_``, ``best_validation_score_``.
``warm_start=True`` and ``partial_fit`` continue from the fitted network *and its optimizer state*.

Usage::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    clf = make_pipeline(StandardScaler(), dn.DNNClassifier(hidden_layer_sizes=(64,), lr=0.003, random_state=0))
    clf.fit(X_train, y_train).score(X_test, y_test)

The network is ``[Dense(units, init), activation] * len(hidden_layer_sizes) + [Dense(n_outputs, init)]``
with the output activation fused into the loss: one sigmoid unit with binary cross-entropy for two
classes, one softmax unit per class with categorical cross-entropy for more, identity with mean
squared error for regression. Where scikit-learn's ``MLPClassifier`` differs: its L2 ``alpha`` is
``alpha/(2 m) ||W||^2`` per mini-batch as ours, but its Adam uses the "efficient" form with epsilon
inside the bias correction; ours is the course's Adam (see :mod:`dnnimprove.optimizers`); its early
stopping watches the dev set's score, ours the dev set's cost; its ``warm_start`` restarts the optimizer,
ours continues it (as a second ``fit`` in Keras does).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from sklearn.utils.validation import validate_data as sklearn_validate_data

from sklearn.utils.validation import _check_sample_weight

from ._validation import (Boolean, Constraint, Integer, IsInstance, Real, check_numeric_input, check_type,
                          validate_params)
from .callbacks import EarlyStopping, ProgressBar
from .data import split_dev_rows
from .factory import build_layers, build_optimizer, build_schedule
from .layers import Layer
from .losses import SampleWeighted
from .model import Sequential, resolve_dtype
from .optimizers import Optimizer
from .random import RandomSource, as_random_source
from .schedules import Schedule
from .threads import blas_threads
from .training import Callback, Resume, TrainingRun

__all__ = ["DNNClassifier", "DNNRegressor"]


_PARAMETERS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default (64,)
        Units of each hidden layer; ``()`` gives logistic / linear regression.
    activation : {"relu", "leaky_relu", "elu", "selu", "tanh", "sigmoid"}, default "relu"
        Hidden activation.
    init : str, default "he"
        Weight initializer of every Dense layer (``"he"``, ``"xavier"``, ``"glorot"``, ``"random"``, ...).
    optimizer : {"gd", "momentum", "rmsprop", "adam", "adamw"}, default "adam"
    lr : float > 0, default 0.001
        Learning rate (``lr0`` of the schedule when one is given).
    beta : float in [0, 1) or None, default None
        Momentum's / RMSprop's averaging weight; ``None`` keeps the optimizer's default (0.9 / 0.999).
    beta1, beta2 : float in [0, 1), default 0.9, 0.999
        Adam's (and AdamW's) first- and second-moment weights.
    epsilon : float > 0, default 1e-8
        RMSprop's and Adam's epsilon (outside the square root).
    schedule : str or None, default None
        Learning-rate schedule by name (``"inverse_time"``, ``"fixed_interval"``, ``"exponential"``,
        ``"step"``, ``"cosine"``), applied per epoch with ``lr0 = lr``.
    decay_rate : float or None, default None
        The schedule's ``decay_rate`` (``None``: the schedule's default).
    schedule_params : dict or None, default None
        Other schedule settings, e.g. ``{"time_interval": 100}``; ``cosine`` gets ``total=epochs``
        unless given.
    l2 : float >= 0, default 0.0
        L2 strength ``lambd``: ``(lambd / (2 m)) * sum ||W||^2`` per mini-batch of ``m`` examples
        (scikit-learn's ``alpha``, PyTorch's ``weight_decay = lambd / m``). With ``sample_weight`` the
        examples are counted by weight, as the data term counts them (``m = sum(w)`` for a full batch, as
        scikit-learn's MLP divides by the weights' sum), so weight ``k`` still equals ``k`` repeated rows.
    keep_prob : float in (0, 1], default 1.0
        Inverted dropout after every hidden activation (``1.0``: none). PyTorch's/Keras's rate is
        ``1 - keep_prob``.
    batch_norm : bool, default False
        ``Dense(use_bias=False) -> BatchNorm -> activation`` in every hidden layer; needs mini-batches of
        at least 2 rows.
    batch_size : int >= 1 or None, default 64
        Mini-batch size; ``None`` is batch gradient descent.
    epochs : int >= 1, default 100
        Maximum number of epochs.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data as a dev set, stop when its cost has not
        improved for ``patience`` epochs in a row, and keep the parameters of the best dev epoch.
    validation_fraction : float in (0, 1), default 0.1
        The dev set for early stopping, unused without it: ``round(validation_fraction * m)`` examples (at
        least one) drawn from the examples in an order fixed by their content, so the same at every fit
        whatever the order of the rows; with integer ``sample_weight`` a row of weight ``k`` is ``k`` examples (some of
        its copies may go to each side), so a weighted fit holds out what the fit on repeated rows would.
    patience : int >= 0, default 10
    random_state : int, numpy.random.Generator or None, default None
        Drives initialization, shuffling and dropout masks; an int makes every ``fit`` identical
        (scikit-learn's name; the command line calls it ``--seed``).
    dtype : {"float64", "float32"}, default "float64"
    engine : {"auto", "numpy", "compiled"}, default "auto"
        ``fit``'s engine (see :func:`dnnimprove.fit`): ``"auto"`` runs the compiled engine (whole epochs in
        one numba call, ``pip install "dnnimprove[fast]"``) where it can and NumPy otherwise;
        ``history_.engine`` and ``history_.engine_reason`` say which ran and why.
    verbose : int >= 0 or bool, default 0
        ``> 0`` shows the training progress bar.
    warm_start : bool, default False
        A second ``fit`` continues from the fitted network, its optimizer state (Adam's moments and step
        count) and its epoch count (schedules go on from there) instead of starting afresh, as
        :func:`dnnimprove.fit` does with ``optimizer=Resume(...)`` (Keras's ``initial_epoch``); the learned
        attributes accumulate. The architecture settings must not change in between.
    callbacks : list of dnnimprove.Callback or None, default None
        Extra callbacks for every ``fit`` / ``partial_fit`` (e.g. trackers from
        :mod:`dnnimprove.integrations`), run before early stopping.
"""


def _validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
    """scikit-learn's ``validate_data``, without the NumPy warning its finite check can print first: it sums
    the input, and a sum of ``inf`` and ``-inf`` warns "invalid value" before the check's own ``ValueError``
    ("Input X contains infinity"), which is then the one message the user gets."""
    with np.errstate(invalid="ignore", over="ignore"):
        return sklearn_validate_data(estimator, *args, **kwargs)


class _DNNBase(BaseEstimator):
    """Hyperparameters and the fit shared by :class:`DNNClassifier` and :class:`DNNRegressor`."""

    _hyperparameter_constraints: ClassVar[dict[str, Constraint]] = {
        "epochs": Integer(low=1),
        "batch_size": Integer(low=1, none_ok=True),
        "l2": Real(low=0.0),
        "early_stopping": Boolean(),
        "validation_fraction": Real(low=0.0, high=1.0, low_open=True, high_open=True),
        "patience": Integer(low=0),
        "verbose": Integer(low=0),
        "warm_start": Boolean(),
        "callbacks": IsInstance((list, tuple), "a list of dnnimprove.Callback objects or None", none_ok=True),
    }
    """The legal values of the hyperparameters checked at ``fit`` (``__init__`` stores them as given, as
    scikit-learn requires; :mod:`dnnimprove.factory` checks the network's, optimizer's and schedule's). Not
    named ``_parameter_constraints``: scikit-learn's tools read that name in their own constraint format."""

    def _checked(self, name: str) -> Any:
        """Hyperparameter ``name`` checked against :attr:`_hyperparameter_constraints` (a bool ``verbose`` is 0/1)."""
        value = getattr(self, name)
        if name == "verbose" and isinstance(value, bool):
            value = int(value)
        return validate_params(self._hyperparameter_constraints, **{name: value})[name]

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (64,),
        activation: str = "relu",
        init: str = "he",
        optimizer: str = "adam",
        lr: float = 0.001,
        beta: float | None = None,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        schedule: str | None = None,
        decay_rate: float | None = None,
        schedule_params: dict | None = None,
        l2: float = 0.0,
        keep_prob: float = 1.0,
        batch_norm: bool = False,
        batch_size: int | None = 64,
        epochs: int = 100,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 10,
        random_state: Any = None,
        dtype: str = "float64",
        engine: str = "auto",
        verbose: int = 0,
        warm_start: bool = False,
        callbacks: list[Callback] | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.optimizer = optimizer
        self.lr = lr
        self.beta = beta
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.schedule = schedule
        self.decay_rate = decay_rate
        self.schedule_params = schedule_params
        self.l2 = l2
        self.keep_prob = keep_prob
        self.batch_norm = batch_norm
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.dtype = dtype
        self.engine = engine
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    # -- validation (at fit: set_params hands values through unchecked) -------------------------
    def _settings(self) -> dict[str, Any]:
        """The hyperparameters that :mod:`dnnimprove.factory` turns into layers, optimizer and schedule."""
        keys = ("activation", "init", "keep_prob", "batch_norm", "optimizer", "lr", "beta", "beta1", "beta2", "epsilon",
                "schedule", "decay_rate", "schedule_params")
        return {key: getattr(self, key) for key in keys}

    def _make_optimizer(self) -> Optimizer:
        return build_optimizer(self._settings())

    def _make_schedule(self, epochs: int) -> Schedule | None:
        if self.schedule is None and (self.decay_rate is not None or self.schedule_params):
            raise ValueError("decay_rate and schedule_params need a schedule; got schedule=None")
        return build_schedule(self._settings(), epochs)

    def _make_layers(self, n_outputs: int) -> list[Layer]:
        return build_layers(self.hidden_layer_sizes, n_outputs, self._settings())

    def _dev_split(self, X: np.ndarray, targets: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
        """``(train_weights, dev_weights)``, each ``(m,)``, for early stopping; ``None`` without it.

        :func:`dnnimprove.data.split_dev_rows`'s positions taken over the rows in an order fixed by their
        content, in units of weight (:func:`_split_by_weight`): unweighted, each row lands whole on one side
        (weights 0 / 1), the same rows at every fit whatever the order of the rows.
        """
        if not self._checked("early_stopping"):
            return None
        n_samples = X.shape[0]
        if n_samples < 2:
            raise ValueError(f"early_stopping needs at least 2 samples (a dev set and a training set); got {n_samples} sample")
        fraction = self._checked("validation_fraction")
        return _split_by_weight(X, targets, np.ones(n_samples) if weights is None else weights, fraction)

    def _user_callbacks(self) -> list[Callback]:
        if self._checked("callbacks") is None:
            return []
        for index, callback in enumerate(self.callbacks):
            check_type(f"callbacks[{index}]", callback, Callback, "a dnnimprove.Callback")
        return list(self.callbacks)

    def _continues(self, incremental: bool) -> bool:
        """Whether this fit goes on from the fitted network (``partial_fit``, or ``warm_start`` after a fit)."""
        warm = self._checked("warm_start")
        return (incremental or warm) and hasattr(self, "model_")

    def _reset_learned(self) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_: list[float] = []
        self.validation_scores_: list[float] | None = None
        self.best_validation_score_: float | None = None
        self.best_loss_: float | None = None

    def _train(
        self, X: np.ndarray, targets: np.ndarray, sample_weight: Any, n_outputs: int, loss: str, incremental: bool
    ) -> None:
        """Validate the hyperparameters, build (or continue) the network and train it on validated arrays.

        ``targets`` are the encoded labels ``(m,)`` or the regression targets ``(m, k)``. ``partial_fit``
        (``incremental``) runs one epoch and no early stopping, as scikit-learn's does.
        """
        epochs = 1 if incremental else self._checked("epochs")
        batch_size, l2, verbose = self._checked("batch_size"), self._checked("l2"), self._checked("verbose")
        optimizer = self._make_optimizer()
        schedule = self._make_schedule(epochs)
        callbacks = self._user_callbacks()
        weights = None
        if sample_weight is not None:
            if self.engine == "compiled":
                raise ValueError("engine='compiled' does not take sample_weight; use engine='numpy' for a weighted fit")
            weights = _checked_sample_weight(sample_weight, X, X.dtype)
        split = None if incremental else self._dev_split(X, targets, weights)
        continuing = self._continues(incremental)
        resume: Any = optimizer
        if continuing:  # fit's Resume: the optimizer state (if the optimizer is the same kind) and the epoch count
            model = self.model_
            state = model.optimizer_state_ if type(model.optimizer_) is type(optimizer) else None
            resume = Resume(optimizer, state, self.n_iter_)
        else:
            model = Sequential(self._make_layers(n_outputs), loss=loss, seed=_random_source(self.random_state),
                               dtype=self.dtype)
            self._reset_learned()
        engine = self.engine
        train_weights, dev_weights = (weights, None) if split is None else split
        validation = None
        score = None
        if dev_weights is not None:
            dev = dev_weights > 0
            X_dev, targets_dev, dev_weights = X[dev], targets[dev], (None if weights is None else dev_weights[dev])
        if train_weights is not None:
            keep = train_weights > 0  # a zero weight is the example's absence
            X, targets, train_weights = X[keep], targets[keep], train_weights[keep]
        weighted_loss = None
        Y = targets
        if weights is not None:
            weighted_loss = SampleWeighted(loss, scale=train_weights.size / train_weights.sum())
            l2 *= weighted_loss.scale  # the penalty's m counts weight, as the data term's does: lambd / (2 sum(w))
            Y = weighted_loss.targets(targets, train_weights, n_outputs, model.dtype)
        if split is not None:
            validation = (X_dev, targets_dev)
            if weighted_loss is not None:  # dev weights rescaled so that val_cost is sum(w l) / sum(w) over the dev set
                dev_scale = dev_weights.size / dev_weights.sum() / weighted_loss.scale
                validation = (X_dev, weighted_loss.targets(targets_dev, dev_weights * dev_scale, n_outputs, model.dtype))
            score = _DevScore(self, X_dev, targets_dev, dev_weights)
            callbacks += [score, EarlyStopping(patience=self._checked("patience"))]
        base_loss = model.loss
        if weighted_loss is not None:
            model.loss = weighted_loss  # for this fit only: predictions and saving use the plain loss
        if verbose > 0:
            callbacks.append(ProgressBar())
        try:
            with blas_threads(1):  # small networks: a second BLAS thread costs more than it gives
                history = model.fit(
                    X, Y, epochs=epochs + (self.n_iter_ if continuing else 0), batch_size=batch_size, optimizer=resume,
                    schedule=schedule, l2=l2, engine=engine, validation_data=validation, callbacks=callbacks,
                )
        finally:
            model.loss = base_loss
        self.model_ = model
        self.history_ = history
        self._record(history, X.shape[0], None if score is None else score.scores)

    def _record(self, history: Any, n_samples: int, dev_scores: list[float] | None) -> None:
        """scikit-learn's learned attributes, accumulated over ``partial_fit`` calls and warm starts."""
        epochs_run = len(history.epoch)
        self.n_iter_ += epochs_run
        self.t_ += epochs_run * n_samples
        self.loss_curve_.extend(history.cost)
        if dev_scores is not None:
            scores = self.validation_scores_ if self.validation_scores_ is not None else []
            scores.extend(dev_scores)
            self.validation_scores_ = scores
            finite = [score for score in scores if math.isfinite(score)]
            self.best_validation_score_ = max(finite) if finite else float("nan")
            self.best_loss_ = None
        else:
            self.best_loss_ = min(self.loss_curve_)

    def _validate_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        check_numeric_input("X", X)
        return _validate_data(self, X, reset=False, dtype=self.model_.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


def _check_numeric(X: Any, y: Any) -> None:
    """Dates, durations and text are refused as features; dates and durations as targets."""
    check_numeric_input("X", X)
    y_dtype = getattr(y, "dtype", None)
    if getattr(y_dtype, "kind", None) in ("m", "M"):
        raise TypeError(f"y must not hold dates or durations; got dtype {y_dtype}")


def _random_source(random_state: Any) -> RandomSource:
    """``random_state`` as the network's random source; a ``numpy.random.RandomState`` gives one seed draw."""
    if isinstance(random_state, np.random.RandomState):
        random_state = int(random_state.randint(np.iinfo(np.int32).max))
    try:
        return as_random_source(random_state)
    except (TypeError, ValueError):
        raise TypeError(f"random_state must be None, an int >= 0, a numpy.random.RandomState or Generator, or a "
                        f"dnnimprove random source; got {random_state!r:.80}") from None


def _checked_sample_weight(sample_weight: Any, X: np.ndarray, dtype: Any) -> np.ndarray:
    """``sample_weight`` as a finite ``(m,)`` array of weights >= 0, not all zero (a scalar weighs every row)."""
    weights = np.asarray(sample_weight)
    if weights.ndim == 1 and weights.dtype.kind in "iuf":
        if (weights < 0).any():
            row = int(np.argmax(weights < 0))
            raise ValueError(f"sample_weight must be >= 0; got {float(weights[row])!r} at row {row}")
        if weights.size == X.shape[0] and not weights.sum() > 0:
            raise ValueError("sample_weight must contain at least one non-zero weight; got all zeros")
    weights = _check_sample_weight(sample_weight, X, dtype=dtype, ensure_non_negative=True)
    if not weights.sum() > 0:
        raise ValueError("sample_weight must contain at least one non-zero weight; got all zeros")
    return weights


_DEV_SPLIT_SEED = 0
"""Early stopping's dev set is drawn with its own generator seeded with this: the same rows at every fit."""


_MAX_UNITS = 1 << 22
"""Integer weights totaling more units than this are split by rows (the split draws a permutation of the units)."""


def _content_order(X: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Row indices in an order fixed by each row's content (features and target): equal rows side by side.

    The rows are sorted by a hash of their float64 bit patterns (``-0.0`` read as ``0.0``): the high and low
    32 bits of every entry times odd constants drawn from ``default_rng(_DEV_SPLIT_SEED)``, summed modulo
    ``2**64`` (one integer product per entry, where a lexicographic sort costs a sort per column). Rows that
    share a hash but differ (a collision) are then put in lexicographic order, so the order of the contents
    never depends on the order of the rows; equal rows keep their row order.
    """
    keys = np.hstack([X.reshape(X.shape[0], -1), np.asarray(targets, dtype=np.float64).reshape(X.shape[0], -1)])
    keys = keys.astype(np.float64, copy=False)
    keys += 0.0  # -0.0 becomes 0.0 (keys is a fresh array)
    hashed = _row_hashes(keys)
    order = np.argsort(hashed, kind="stable")
    ordered = hashed[order]
    boundaries = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    for run in np.split(order, boundaries):
        if run.size > 1 and not (keys[run] == keys[run[0]]).all():  # a collision: sort that run by content
            run[...] = run[np.lexsort(keys[run].T[::-1])]
    return order


def _row_hashes(keys: np.ndarray) -> np.ndarray:
    """``(m,)`` uint64: per row, ``sum_j high32(bits_j) * a_j + low32(bits_j) * b_j  (mod 2**64)``."""
    bits = keys.view(np.uint64)
    high, low = np.random.default_rng(_DEV_SPLIT_SEED).integers(1, 2**63, size=(2, keys.shape[1]), dtype=np.uint64) | 1
    hashed = np.empty(keys.shape[0], dtype=np.uint64)
    for start in range(0, keys.shape[0], 4096):  # in slices: the shifted copies stay small
        part = bits[start:start + 4096]
        hashed[start:start + 4096] = (part >> np.uint64(32)) @ high + (part & np.uint64(0xFFFFFFFF)) @ low
    return hashed


def _split_by_weight(
    X: np.ndarray, targets: np.ndarray, weights: np.ndarray, fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Early stopping's split as ``(train_weights, dev_weights)``: ``train + dev = weights`` row by row.

    The rows are put in an order fixed by their content (:func:`_content_order`), each repeated as many
    times as it has units, and :func:`dnnimprove.data.split_dev_rows` (seed ``_DEV_SPLIT_SEED``) sends
    ``round(fraction * units)`` of these units (at least one) to the dev set. The units are the weights
    when every weight is an integer (no weights: 1 a row) and they total at most ``_MAX_UNITS``, else the
    positive-weight rows. Neither the order of the rows nor how copies are spread (a row of weight ``k`` or
    ``k`` repeated rows) changes what is held out, so a weighted fit with early stopping sees the dev and
    training sets of the fit on repeated rows.
    """
    integers = bool(np.array_equal(weights, np.round(weights))) and weights.sum() <= _MAX_UNITS
    units = np.round(weights).astype(np.int64) if integers else (weights > 0).astype(np.int64)
    total = int(units.sum())
    if total < 2:
        raise ValueError(f"early_stopping needs at least 2 examples of positive weight (a dev set and a training set); "
                         f"got {total}")
    order = _content_order(X, targets)
    unit_rows = np.repeat(order, units[order])
    _, dev_units = split_dev_rows(total, max(fraction, 1.0 / total), _DEV_SPLIT_SEED, name="validation_fraction")
    dev_count = np.bincount(unit_rows[dev_units], minlength=X.shape[0])
    dev = dev_count.astype(weights.dtype) if integers else np.where(dev_count > 0, weights, 0).astype(weights.dtype)
    return weights - dev, dev


class _DevScore(Callback):
    """The estimator's score on the dev set at every recorded epoch, in ``scores`` (scikit-learn's
    ``validation_scores_``: accuracy for a classifier, R^2 for a regressor, weighted by ``sample_weight``)."""

    recorded_epochs_only = True  # on_epoch_end acts at recorded epochs only

    def __init__(self, estimator: "_DNNBase", X_dev: np.ndarray, targets_dev: np.ndarray, weights: Any) -> None:
        self.estimator, self.X_dev, self.targets_dev, self.weights = estimator, X_dev, targets_dev, weights
        self.scores: list[float] = []

    def on_train_begin(self, run: TrainingRun) -> None:
        self.scores = []

    def on_epoch_end(self, run: TrainingRun) -> None:
        if run.recorded:
            Z = run.model.forward(self.X_dev, training=False)
            self.scores.append(self.estimator._dev_score(run.model, Z, self.targets_dev, self.weights))


class DNNClassifier(ClassifierMixin, _DNNBase):
    """A deep feed-forward classifier trained with dnnimprove's optimizers (scikit-learn estimator).

    Labels may be any type :class:`sklearn.preprocessing.LabelEncoder` accepts (integers, strings);
    ``classes_`` holds them sorted. Two classes use one sigmoid output with binary cross-entropy, more
    classes one softmax output per class with categorical cross-entropy.

    {parameters}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    model_ : Sequential
        The trained network.
    history_ : History
        What the last ``fit`` / ``partial_fit`` recorded (cost per epoch, ...).
    n_features_in_ : int
    {learned}
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "DNNClassifier":
        """Train on ``X`` of shape ``(m, n_features)`` and labels ``y`` of shape ``(m,)``; returns ``self``.

        ``sample_weight`` (``(m,)``, >= 0) weights each example's loss (see
        :class:`dnnimprove.losses.SampleWeighted`), batch norm's batch statistics and the early-stopping
        dev set and score: an integer weight counts as that many copies (a full-batch fit equals the fit
        on repeated rows), a zero weight as the row's absence. Dropout is the exception: a weighted row
        draws one mask for all its copies, equal to repeated rows only in expectation.
        With ``warm_start=True`` a fitted estimator continues (same classes required).
        """
        return self._fit(X, y, sample_weight, classes=None, incremental=False)

    def partial_fit(self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None) -> "DNNClassifier":
        """One epoch over ``(X, y)``, continuing the network and its optimizer state; returns ``self``.

        ``classes`` (every label of all calls) is required at the first call and may be omitted after;
        a label outside them is a ``ValueError``, as in scikit-learn. No early stopping here.
        """
        return self._fit(X, y, sample_weight, classes=classes, incremental=True)

    def _fit(self, X: Any, y: Any, sample_weight: Any, classes: Any, incremental: bool) -> "DNNClassifier":
        continuing = self._continues(incremental)
        dtype = self.model_.dtype if continuing else resolve_dtype(self.dtype)
        _check_numeric(X, y)
        X, y = _validate_data(self, X, y, dtype=dtype, reset=not continuing)
        check_classification_targets(y)
        if incremental:
            known = getattr(self, "classes_", None) if continuing else None
            if known is None and classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit (every label of all calls)")
            if classes is not None:
                classes = np.unique(np.asarray(classes))
                if known is not None and not np.array_equal(classes, known):
                    raise ValueError(f"classes={classes.tolist()} is not the same as on the first call to "
                                     f"partial_fit, which was {known.tolist()}")
            known = classes if known is None else known
            unseen = np.setdiff1d(np.unique(y), known)
            if unseen.size:
                raise ValueError(f"`y` has classes not in `self.classes_`: {unseen.tolist()}; "
                                 f"`self.classes_` is {np.asarray(known).tolist()}")
            labels = known
        else:
            labels = np.unique(y)
            if continuing and not np.array_equal(labels, self.classes_):
                raise ValueError(f"warm_start can only continue with the classes of the previous fit, "
                                 f"{self.classes_.tolist()}; y has {labels.tolist()}")
        if labels.size < 2:
            raise ValueError(f"DNNClassifier needs at least 2 classes in y; got 1 class ({labels[0].item()!r})")
        encoder = LabelEncoder().fit(labels)
        self.classes_ = encoder.classes_
        binary = self.classes_.size == 2
        self._train(
            X,
            encoder.transform(y),
            sample_weight,
            1 if binary else self.classes_.size,
            "binary_crossentropy" if binary else "categorical_crossentropy",
            incremental,
        )
        return self

    def _dev_score(self, model: Sequential, Z: np.ndarray, labels: np.ndarray, weights: Any) -> float:
        return float(np.average(model.loss.predict(Z) == labels, weights=weights))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(m, n_classes)``, columns in the order of ``classes_``."""
        X = self._validate_X(X)
        return self.model_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (from ``classes_``), shape ``(m,)``."""
        X = self._validate_X(X)
        return self.classes_[self.model_.predict(X)]


class DNNRegressor(RegressorMixin, _DNNBase):
    """A deep feed-forward regressor (identity output, mean squared error), a scikit-learn estimator.

    ``y`` of shape ``(m,)`` or ``(m, k)`` (``k`` outputs); ``predict`` returns the same layout.
    Scale the targets (e.g. :class:`sklearn.compose.TransformedTargetRegressor`) when they are large.

    {parameters}

    Attributes
    ----------
    model_ : Sequential
    history_ : History
    n_features_in_ : int
    {learned}
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "DNNRegressor":
        """Train on ``X`` of shape ``(m, n_features)`` and targets ``y`` of shape ``(m,)`` or ``(m, k)``.

        ``sample_weight`` (``(m,)``, >= 0) weights each example's squared error; with ``warm_start=True``
        a fitted estimator continues.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> "DNNRegressor":
        """One epoch over ``(X, y)``, continuing the network and its optimizer state; returns ``self``."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> "DNNRegressor":
        continuing = self._continues(incremental)
        dtype = self.model_.dtype if continuing else resolve_dtype(self.dtype)
        _check_numeric(X, y)
        X, y = _validate_data(self, X, y, dtype=dtype, multi_output=True, y_numeric=True, reset=not continuing)
        single = y.ndim == 1
        targets = y.reshape(-1, 1) if single else y
        if continuing and targets.shape[1] != self.model_.n_outputs:
            raise ValueError(f"y has {targets.shape[1]} output(s); the fitted network has {self.model_.n_outputs}")
        self._single_output = single
        self._train(X, targets, sample_weight, targets.shape[1], "mse", incremental)
        return self

    def _dev_score(self, model: Sequential, Z: np.ndarray, targets: np.ndarray, weights: Any) -> float:
        from sklearn.metrics import r2_score

        if targets.shape[0] < 2:
            return float("nan")  # R^2 is undefined on one dev row (scikit-learn would warn and say NaN)
        return float(r2_score(targets, Z, sample_weight=weights))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, shape ``(m,)`` (or ``(m, k)`` when fitted on ``k`` outputs)."""
        X = self._validate_X(X)
        predictions = self.model_.forward(X, training=False)
        return predictions.reshape(-1) if self._single_output else predictions

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


_LEARNED_DOC = """n_iter_ : int
        Epochs run, over all ``partial_fit`` calls and warm starts since the network was built.
    t_ : int
        Training examples seen (``epochs * m``), likewise accumulated.
    loss_curve_ : list of float
        The training cost (L2 term included) at the end of every epoch, likewise accumulated.
    best_loss_ : float or None
        ``min(loss_curve_)``; ``None`` with early stopping (then see ``best_validation_score_``).
    validation_scores_ : list of float or None
        With early stopping, ``score`` on the dev set after every epoch (accuracy / R^2); else ``None``.
    best_validation_score_ : float or None
        ``max(validation_scores_)``."""

for _estimator in (DNNClassifier, DNNRegressor):
    _estimator.__doc__ = _estimator.__doc__.replace("    {parameters}\n", _PARAMETERS_DOC.lstrip("\n") + "\n")
    _estimator.__doc__ = _estimator.__doc__.replace("{learned}", _LEARNED_DOC)
del _estimator
