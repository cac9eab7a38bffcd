"""scikit-learn face: :class:`DNNClassifier` and :class:`DNNRegressor`.

Thin estimators over :class:`dnnimprove.Sequential`: ``__init__`` only stores its arguments (as
scikit-learn's contract asks, so ``get_params``/``set_params``/``clone`` work and a search can hand
any value through); ``fit`` validates them, builds the network and calls ``model.fit`` (the loop lives
in :mod:`dnnimprove.training`). Learned state ends in ``_``: ``model_``, ``history_``,
``n_features_in_``, ``classes_`` (classifier), ``n_iter_`` (epochs run).

Usage::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    clf = make_pipeline(StandardScaler(), dn.DNNClassifier(hidden_layer_sizes=(64,), lr=0.003, seed=0))
    clf.fit(X_train, y_train).score(X_test, y_test)

The network is ``[Dense(units, init), activation] * len(hidden_layer_sizes) + [Dense(n_outputs, init)]``
with the output activation fused into the loss: one sigmoid unit with binary cross-entropy for two
classes, one softmax unit per class with categorical cross-entropy for more, identity with mean
squared error for regression. Where scikit-learn's ``MLPClassifier`` differs: its L2 ``alpha`` is
``alpha/(2 m) ||W||^2`` per mini-batch as ours, but its Adam uses the "efficient" form with epsilon
inside the bias correction; ours is the course's Adam (see :mod:`dnnimprove.optimizers`).
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import check_bool, check_choice, check_int, check_number
from .callbacks import EarlyStopping
from .data import split_dev
from .initializers import get_initializer
from .layers import ACTIVATIONS, Layer, dense_stack
from .model import Sequential, resolve_dtype
from .optimizers import OPTIMIZERS, Optimizer, get_optimizer
from .schedules import SCHEDULES, Schedule, get_schedule
from .threads import blas_threads

__all__ = ["DNNClassifier", "DNNRegressor"]


def _check_hidden_layer_sizes(value: Any) -> tuple[int, ...]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"hidden_layer_sizes must be a sequence of positive integers, e.g. (64, 32); got {value!r}")
    return tuple(check_int(f"hidden_layer_sizes[{index}]", units, low=1) for index, units in enumerate(value))


def _check_optional_beta(name: str, value: Any) -> float | None:
    return None if value is None else check_number(name, value, low=0.0, high=1.0, high_open=True)


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
        (scikit-learn's ``alpha``, PyTorch's ``weight_decay = lambd / m``).
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
        The dev set for early stopping (the same rows at every fit; unused without early stopping).
    patience : int >= 0, default 10
    seed : int, numpy.random.Generator or None, default None
        Drives initialization and shuffling; an int makes every ``fit`` identical.
    dtype : {"float64", "float32"}, default "float64"
    engine : {"numpy", "compiled"}, default "numpy"
        ``fit``'s engine (see :func:`dnnimprove.fit`): ``"compiled"`` computes the gradient of the network
        in one numba call (``pip install "dnnimprove[fast]"``), several times faster for small networks;
        not with ``keep_prob < 1`` or ``batch_norm``.
"""


class _DNNBase(BaseEstimator):
    """Hyperparameters and the fit shared by :class:`DNNClassifier` and :class:`DNNRegressor`."""

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
        seed: Any = None,
        dtype: str = "float64",
        engine: str = "numpy",
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
        self.seed = seed
        self.dtype = dtype
        self.engine = engine

    # -- validation (at fit: set_params hands values through unchecked) -------------------------
    def _make_optimizer(self) -> Optimizer:
        name = check_choice("optimizer", self.optimizer, OPTIMIZERS)
        settings: dict[str, Any] = {"lr": check_number("lr", self.lr, low=0.0, low_open=True)}
        beta = _check_optional_beta("beta", self.beta)
        if name in ("momentum", "rmsprop") and beta is not None:
            settings["beta"] = beta
        if name in ("adam", "adamw"):
            settings["beta1"] = _check_optional_beta("beta1", self.beta1)
            settings["beta2"] = _check_optional_beta("beta2", self.beta2)
        if name in ("rmsprop", "adam", "adamw"):
            settings["epsilon"] = check_number("epsilon", self.epsilon, low=0.0, low_open=True)
        return get_optimizer(name, **settings)

    def _make_schedule(self, epochs: int) -> Schedule | None:
        if self.schedule is None:
            if self.decay_rate is not None or self.schedule_params:
                raise ValueError("decay_rate and schedule_params need a schedule; got schedule=None")
            return None
        name = check_choice("schedule", self.schedule, SCHEDULES)
        if self.schedule_params is not None and not isinstance(self.schedule_params, dict):
            raise TypeError(f"schedule_params must be a dict or None; got {self.schedule_params!r}")
        settings = dict(self.schedule_params or {})
        if self.decay_rate is not None:
            settings["decay_rate"] = self.decay_rate
        if name == "cosine":
            settings.setdefault("total", epochs)
        try:
            return get_schedule(name, lr0=self.lr, **settings)
        except TypeError as error:  # a setting this schedule does not take
            raise ValueError(f"schedule {name!r}: {error}") from None

    def _make_layers(self, n_outputs: int) -> list[Layer]:
        check_choice("activation", self.activation, ACTIVATIONS)
        get_initializer(self.init)
        keep_prob = check_number("keep_prob", self.keep_prob, low=0.0, high=1.0, low_open=True)
        batch_norm = check_bool("batch_norm", self.batch_norm)
        hidden = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        return dense_stack(hidden, n_outputs, self.activation, self.init, batch_norm, keep_prob)

    def _early_stopping_settings(self, n_samples: int) -> dict[str, Any]:
        if not check_bool("early_stopping", self.early_stopping):
            return {}
        if n_samples < 2:
            raise ValueError(f"early_stopping needs at least 2 samples (a dev set and a training set); got {n_samples} sample")
        fraction = check_number("validation_fraction", self.validation_fraction, low=0.0, high=1.0,
                                low_open=True, high_open=True)
        patience = check_int("patience", self.patience, low=0)
        return {"fraction": fraction, "callbacks": [EarlyStopping(patience=patience)]}

    def _fit_model(self, X: np.ndarray, targets: np.ndarray, n_outputs: int, loss: str) -> None:
        """Validate the hyperparameters, build the network and train it on validated arrays."""
        epochs = check_int("epochs", self.epochs, low=1)
        batch_size = None if self.batch_size is None else check_int("batch_size", self.batch_size, low=1)
        l2 = check_number("l2", self.l2, low=0.0)
        optimizer = self._make_optimizer()
        schedule = self._make_schedule(epochs)
        stopping = self._early_stopping_settings(X.shape[0])
        model = Sequential(self._make_layers(n_outputs), loss=loss, seed=self.seed, dtype=self.dtype)
        validation = None
        if stopping:
            X, targets, X_dev, y_dev = split_dev(X, targets, stopping["fraction"])
            validation = (X_dev, y_dev)
        with blas_threads(1):
            self.history_ = model.fit(
                X, targets, epochs=epochs, batch_size=batch_size, optimizer=optimizer, schedule=schedule, l2=l2,
                validation_data=validation, callbacks=stopping.get("callbacks", []), engine=self.engine,
            )
        self.model_ = model
        self.n_iter_ = self.history_.epoch[-1] + 1 if self.history_.epoch else 0

    def _validate_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return validate_data(self, X, reset=False, dtype=self.model_.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.seed is None
        return tags


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
        What training recorded (cost per epoch, ...).
    n_features_in_ : int
    n_iter_ : int
        Epochs run.
    """

    def fit(self, X: Any, y: Any) -> "DNNClassifier":
        """Train on ``X`` of shape ``(m, n_features)`` and labels ``y`` of shape ``(m,)``; returns ``self``."""
        dtype = resolve_dtype(self.dtype)
        X, y = validate_data(self, X, y, dtype=dtype)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        if encoder.classes_.size < 2:
            raise ValueError(
                f"DNNClassifier needs at least 2 classes in y; got 1 class ({encoder.classes_[0].item()!r})"
            )
        self.classes_ = encoder.classes_
        binary = self.classes_.size == 2
        self._fit_model(
            X,
            encoder.transform(y),
            1 if binary else self.classes_.size,
            "binary_crossentropy" if binary else "categorical_crossentropy",
        )
        return self

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
    n_iter_ : int
    """

    def fit(self, X: Any, y: Any) -> "DNNRegressor":
        """Train on ``X`` of shape ``(m, n_features)`` and targets ``y`` of shape ``(m,)`` or ``(m, k)``."""
        dtype = resolve_dtype(self.dtype)
        X, y = validate_data(self, X, y, dtype=dtype, multi_output=True, y_numeric=True)
        self._single_output = y.ndim == 1
        targets = y.reshape(-1, 1) if self._single_output else y
        self._fit_model(X, targets, targets.shape[1], "mse")
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, shape ``(m,)`` (or ``(m, k)`` when fitted on ``k`` outputs)."""
        X = self._validate_X(X)
        predictions = self.model_.forward(X, training=False)
        return predictions.reshape(-1) if self._single_output else predictions

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


for _estimator in (DNNClassifier, DNNRegressor):
    _estimator.__doc__ = _estimator.__doc__.replace("    {parameters}\n", _PARAMETERS_DOC.lstrip("\n") + "\n")
del _estimator
