"""Sequential model: a stack of layers that owns one flat parameter vector and one flat gradient vector.

At build time (the first ``fit``, or ``build(n_features)``) the model asks every layer for its
tensors, allocates ``params`` and ``grads`` once, and hands each layer *views* into them. The table
of those views (``model.table``: name like ``dense_1.W``, slice, shape, role) is what gradient
checking, L2, optimizers and checkpoints work with, so none of them needs to know the layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ._validation import NotFittedError, check_choice, check_features
from .layers import Layer
from .losses import Loss, get_loss
from .random import RandomSource, as_random_source
from .regularizers import add_l1_gradient, add_l2_gradient, l1_penalty, l2_penalty

if TYPE_CHECKING:  # pragma: no cover
    from .preprocessing import Preprocessing
    from .optimizers import Optimizer, OptimizerState
    from .training import Callback, History, Resume

__all__ = ["ParamInfo", "Sequential"]

DTYPES = {"float32": np.float32, "float64": np.float64}

REUSE_FROM = 8192
"""A training pass computes in place (the layers' and the loss's workspaces, ``Layer.reuse``) when the mini-batch's
rows times the widest layer reach this: below it, NumPy's fresh small arrays cost less than the bookkeeping."""


@dataclass(frozen=True)
class ParamInfo:
    """One row of the parameter table: where a layer's tensor lives in the flat vector."""

    name: str
    layer: int
    key: str
    start: int
    stop: int
    shape: tuple[int, ...]
    role: str

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)

    @property
    def size(self) -> int:
        return self.stop - self.start


def resolve_dtype(dtype: Any) -> np.dtype:
    """``"float64"``/``"float32"`` (or the NumPy types) as a NumPy dtype; anything else is an error."""
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = repr(dtype)
    check_choice("dtype", name, DTYPES)
    return np.dtype(DTYPES[name])


class Sequential:
    """A feed-forward network: layers applied in order, the last ``Dense`` giving the logits.

    Parameters
    ----------
    layers : sequence of Layer
        E.g. ``[Dense(10), ReLU(), Dense(1)]``. The output activation is not a layer: it is fused
        with the loss.
    loss : {"binary_crossentropy", "categorical_crossentropy", "mse"} or Loss
        ``binary_crossentropy`` (sigmoid output, one unit, labels 0/1), ``categorical_crossentropy``
        (softmax output, one unit per class, integer labels), ``mse`` (regression).
    seed : int, numpy.random.Generator, random source or None
        Drives initialization, shuffling and dropout masks (see :mod:`dnnimprove.random`).
    dtype : {"float64", "float32"}
        Parameters, gradients and activations are kept in this dtype end to end.

    Attributes
    ----------
    params, grads : ndarray of shape (n_params,)
        The flat vectors (``None`` before the model is built).
    table : list of ParamInfo
        Where every layer tensor lives in them.
    weight_mask : ndarray of shape (n_params,)
        1.0 on weights (``role == "weight"``), 0.0 elsewhere.
    n_features_in_ : int
        Input width, inferred from the data at the first fit.
    history_ : History or None
        The history of the last ``fit``.
    preprocessing_ : Preprocessing or None
        Set by the first ``fit`` on a table (a pandas DataFrame, a dict of columns) or on text labels:
        how raw columns and labels become arrays (:mod:`dnnimprove.preprocessing`). From then on
        ``fit``, ``predict``, ``predict_proba``, ``decision_function`` and ``evaluate`` take raw inputs
        and labels, and ``predict`` returns labels; a model file carries it.
    optimizer_ : Optimizer or None
        The optimizer of the last ``fit``.
    optimizer_state_ : OptimizerState or None
        Its state at the end of that fit; ``fit(..., optimizer="continue")`` continues from it and from the
        epoch count (``history_.next_epoch``), as a second Keras ``fit`` with ``initial_epoch``.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        loss: str | Loss = "binary_crossentropy",
        seed: Any = None,
        dtype: str = "float64",
    ) -> None:
        layers = list(layers)
        if not layers:
            raise ValueError("layers must hold at least one layer; got an empty list")
        for index, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{index}] must be a Layer (e.g. Dense(10), ReLU()); got {layer!r}")
        self.layers = layers
        self.loss = get_loss(loss)
        self.dtype = resolve_dtype(dtype)
        self.random: RandomSource = as_random_source(seed)
        self.params: np.ndarray | None = None
        self.grads: np.ndarray | None = None
        self.weight_mask: np.ndarray | None = None
        self.table: list[ParamInfo] = []
        self.n_features_in_: int | None = None
        self.n_outputs: int | None = None
        self.history_: History | None = None
        self.preprocessing_: Preprocessing | None = None
        self.optimizer_: Optimizer | None = None
        self.optimizer_state_: OptimizerState | None = None

    # -- building ---------------------------------------------------------------------------
    @property
    def built(self) -> bool:
        return self.params is not None

    def build(self, n_features: int) -> "Sequential":
        """Allocate the flat buffers for ``n_features`` inputs, bind the layers and initialize them."""
        if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) or n_features < 1:
            raise ValueError(f"n_features must be a positive integer; got {n_features!r}")
        counts: dict[str, int] = {}
        self.table = []
        width = int(n_features)
        offset = 0
        for index, layer in enumerate(self.layers):
            counts[layer.kind] = counts.get(layer.kind, 0) + 1
            layer.name = f"{layer.kind}_{counts[layer.kind]}"
            width = layer.build(width)
            for spec in layer.param_specs():
                size = int(np.prod(spec.shape))
                self.table.append(
                    ParamInfo(f"{layer.name}.{spec.name}", index, spec.name, offset, offset + size, tuple(spec.shape), spec.role)
                )
                offset += size
        if not self.table:
            raise ValueError("the model has no trainable tensors: add at least one Dense layer")
        self.n_outputs = width
        self._widest = max(layer.input_dim or 0 for layer in self.layers)
        self._widest = max(self._widest, width)
        self._check_memory(int(n_features), offset)
        self.params = np.zeros(offset, dtype=self.dtype)
        self.grads = np.zeros(offset, dtype=self.dtype)
        self.weight_mask = np.zeros(offset, dtype=self.dtype)
        views: list[tuple[dict, dict]] = [({}, {}) for _ in self.layers]
        for info in self.table:
            if info.role == "weight":
                self.weight_mask[info.slice] = 1.0
            params, grads = views[info.layer]
            params[info.key] = self.params[info.slice].reshape(info.shape)
            grads[info.key] = self.grads[info.slice].reshape(info.shape)
        for index, (layer, (params, grads)) in enumerate(zip(self.layers, views)):
            layer.bind(params, grads)
            layer.source = self.random
            layer.needs_input_grad = index > 0
            layer.initialize(self.random)
        self.n_features_in_ = int(n_features)
        return self

    def _check_memory(self, n_features: int, n_params: int) -> None:
        """Refuse a network whose buffers exceed this machine's memory, before allocating them."""
        from .memory import check_memory, network_bytes

        widths = [n_features] + [info.shape[-1] for info in self.table if info.role == "weight"]
        check_memory(f"the network ({' -> '.join(map(str, widths))})", network_bytes(n_params, self.dtype.itemsize),
                     f"{n_params} {self.dtype} parameters: parameters, gradients and two workspaces")

    def set_random(self, seed: Any) -> None:
        """Replace the model's random source (a seed, Generator or source) for what follows."""
        self.random = as_random_source(seed)
        for layer in self.layers:
            layer.source = self.random

    # -- validation helpers ------------------------------------------------------------------
    def _require_built(self, action: str) -> None:
        if not self.built:
            raise NotFittedError(f"this Sequential model is not fitted yet: call fit(X, y) before {action}")

    def check_X(self, X: Any) -> np.ndarray:
        """Validate ``X`` against the built model: 2-D, finite, the width seen at fit."""
        X = check_features(X, self.dtype)
        if self.n_features_in_ is not None and X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but the model was built for {self.n_features_in_} features"
            )
        return X

    def encode_targets(self, y: Any, n_samples: int) -> np.ndarray:
        """Validate ``y`` and turn it into the loss's target matrix ``Y`` of shape ``(m, n_outputs)``."""
        Y = self.loss.encode(y, self.n_outputs, self.dtype)
        if Y.shape[0] != n_samples:
            raise ValueError(f"X and y must have the same number of rows; got {n_samples} and {Y.shape[0]}")
        return Y

    # -- computation ------------------------------------------------------------------------
    def forward(self, X: np.ndarray, training: bool = False, sample_weight: np.ndarray | None = None) -> np.ndarray:
        """Logits of the last layer, shape ``(m, n_outputs)``. ``training`` switches dropout and batch norm.

        A training pass first calls the random source's ``start_forward()``
        (:class:`dnnimprove.CourseRandom` reseeds there, as the course's forward pass with dropout does).
        ``sample_weight`` ``(m,)`` goes to the layers that take it (batch norm's weighted statistics);
        :meth:`compute_gradients` passes the weights a weighted loss carries in ``Y``.
        """
        if training:
            self.random.start_forward()
        A = X
        for layer in self.layers:
            if sample_weight is not None and layer.takes_sample_weight:
                A = layer.forward(A, training, sample_weight)
            else:
                A = layer.forward(A, training)
        return A

    def backward(self, dZ: np.ndarray) -> None:
        """Back-propagate ``dJ/dlogits`` through every layer, filling ``grads`` in place."""
        for layer in reversed(self.layers):
            dZ = layer.backward(dZ)

    def compute_cost(
        self, X: np.ndarray, Y: np.ndarray, training: bool = True, l2: float = 0.0, l1: float = 0.0
    ) -> float:
        """Cost ``J`` (data cost + L2 and L1 penalties, global and per layer) for validated arrays, without gradients."""
        Z = self.forward(X, training, self.loss.sample_weights(Y))
        m = X.shape[0]
        penalty = l2_penalty(self.params, self.weight_mask, l2, m) + l1_penalty(self.params, self.weight_mask, l1, m)
        return self.loss.cost(Z, Y) + penalty + self.layer_penalty(m)

    def layer_penalty(self, m: int) -> float:
        """The layers' own regularization terms (e.g. ``Dense(..., l2=...)``) for an ``m``-row batch."""
        return sum(layer.penalty(m) for layer in self.layers)

    _widest = 0  # the widest layer input or output, set by build

    def compute_gradients(
        self, X: np.ndarray, Y: np.ndarray, training: bool = True, l2: float = 0.0, need_cost: bool = True,
        l1: float = 0.0,
    ) -> float:
        """Forward, loss and backward on validated arrays: fills ``grads`` (L2 and L1 terms included).

        Returns the *data* cost of the batch (without the L2 penalty, which
        :func:`dnnimprove.regularizers.l2_penalty` gives); NaN when ``need_cost=False`` (the step does
        not need it, so it is not computed).
        """
        weights = self.loss.sample_weights(Y)
        if X.shape[0] * self._widest < REUSE_FROM:
            Z = self.forward(X, training, weights)
            dZ, cost = self.loss.gradient_and_cost(Z, Y, need_cost)
            self.backward(dZ)
        else:
            parts = (*self.layers, self.loss)
            for part in parts:  # nobody else sees this pass's arrays: the layers and the loss may reuse their own
                part.reuse = True
            try:
                Z = self.forward(X, training, weights)
                dZ, cost = self.loss.gradient_and_cost(Z, Y, need_cost)
                self.backward(dZ)
            finally:
                for part in parts:
                    part.reuse = False
        if l2:
            add_l2_gradient(self.grads, self.params, self.weight_mask, l2, X.shape[0])
        if l1:
            add_l1_gradient(self.grads, self.params, self.weight_mask, l1, X.shape[0])
        return cost

    # -- inference ---------------------------------------------------------------------------
    def decision_function(self, X: Any) -> np.ndarray:
        """Logits in inference mode, shape ``(m, n_outputs)`` (raw inputs go through ``preprocessing_``)."""
        self._require_built("predicting")
        if self.preprocessing_ is not None:
            X = self.preprocessing_.transform(X)
        return self.forward(self.check_X(X), training=False)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(m, n_classes)`` (two columns ``[1 - p, p]`` for a binary model)."""
        if not self.loss.is_classifier:
            raise ValueError("predict_proba needs a classification loss; this model uses mse (use predict)")
        probabilities = self.loss.output(self.decision_function(X))
        if probabilities.shape[1] == 1:
            return np.hstack([1 - probabilities, probabilities])
        return probabilities

    def predict(self, X: Any) -> np.ndarray:
        """Labels ``(m,)`` for classification (``p > 0.5`` or argmax), values for regression.

        With ``preprocessing_``: the class labels of training (e.g. strings), regression values in the
        target's units.
        """
        outputs = self.loss.predict(self.decision_function(X))
        return outputs if self.preprocessing_ is None else self.preprocessing_.decode(outputs)

    def evaluate(self, X: Any, y: Any) -> dict[str, float]:
        """``{"cost": J, "accuracy": ...}`` (no ``accuracy`` for regression) in inference mode."""
        Z = self.decision_function(X)
        if self.preprocessing_ is not None:
            y = self.preprocessing_.encode_target(y)
        Y = self.encode_targets(y, Z.shape[0])
        result = {"cost": self.loss.cost(Z, Y)}
        if self.loss.is_classifier:
            result["accuracy"] = self.loss.accuracy(Z, Y)
        return result

    # -- training ----------------------------------------------------------------------------
    def fit(
        self,
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
        """Train the model on ``(X, y)``: :func:`dnnimprove.training.fit` with this model. Returns the History.

        The parameters are ``training.fit``'s, repeated here so that ``help()``, ``inspect`` and editors
        show them (a test keeps the two signatures identical); see :func:`dnnimprove.training.fit` for
        their meaning.

        ``X`` may also be a table (a pandas DataFrame or a dict of columns) and ``y`` text labels: the
        first such fit learns ``preprocessing_`` on them (numeric columns standardized, text columns
        one-hot encoded, labels mapped to ``0 .. k-1``; missing values refused) and every later call
        goes through it; ``validation_data`` too.
        """
        from .training import fit

        if self.preprocessing_ is None and _needs_preprocessing(X, y):
            from .preprocessing import fit_preprocessing

            task = "classification" if self.loss.is_classifier else "regression"
            self.preprocessing_ = fit_preprocessing(X, y, task=task, scale_target=False)
        if self.preprocessing_ is not None:
            X, y = self.preprocessing_.transform(X), self.preprocessing_.encode_target(y)
            if isinstance(validation_data, (tuple, list)) and len(validation_data) == 2:
                validation_data = (self.preprocessing_.transform(validation_data[0]),
                                   self.preprocessing_.encode_target(validation_data[1]))

        return fit(self, X, y, epochs=epochs, batch_size=batch_size, optimizer=optimizer, schedule=schedule, l2=l2,
                   shuffle=shuffle, validation_data=validation_data, callbacks=callbacks, augment=augment,
                   record_every=record_every, engine=engine)


    # -- inspection --------------------------------------------------------------------------
    def tensor(self, name: str, grad: bool = False) -> np.ndarray:
        """The view of tensor ``name`` (e.g. ``"dense_1.W"``) in ``params`` (or ``grads``)."""
        self._require_built("reading tensors")
        for info in self.table:
            if info.name == name:
                return (self.grads if grad else self.params)[info.slice].reshape(info.shape)
        raise KeyError(f"no tensor {name!r}; the model has {', '.join(info.name for info in self.table)}")

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Non-trained arrays (batch-norm running statistics), keyed ``layer.key``."""
        return {f"{layer.name}.{key}": value for layer in self.layers for key, value in layer.state_arrays().items()}

    def freeze_randomness(self, frozen: bool) -> None:
        """Make random layers replay their last draws (``True``) or draw afresh (``False``)."""
        for layer in self.layers:
            layer.freeze_randomness(frozen)

    def summary(self, print_fn: Any = print) -> str:
        """Print and return a table of the model in the shape of Keras's ``model.summary()``.

        One row per layer (name and type, output shape, parameter count), the totals (trainable
        parameters in the flat vector, non-trainable batch-norm statistics beside it), then every tensor's
        slice of the flat vector with its shape and role. ``print_fn=None`` only returns the text.
        """
        self._require_built("summary")
        rule, double = "_" * 72, "=" * 72
        lines = [f"Model: Sequential (loss {self.loss.name}, {self.dtype})", rule,
                 f"{'Layer (type)':<30}{'Output Shape':<22}{'Param #':>10}", double]
        width = self.n_features_in_
        counts = [0] * len(self.layers)
        for info in self.table:
            counts[info.layer] += info.size
        for index, layer in enumerate(self.layers):
            width = layer.output_dim(width)
            lines.append(f"{f'{layer.name} ({type(layer).__name__})':<30}{f'(None, {width})':<22}{counts[index]:>10,}")
        state = sum(value.size for value in self.state_arrays().values())
        lines += [double, f"Total params: {self.params.size + state:,} ({(self.params.size + state) * self.dtype.itemsize:,} bytes)",
                  f"Trainable params: {self.params.size:,} (one flat vector)",
                  f"Non-trainable params: {state:,}" + (" (batch-norm running statistics)" if state else ""), rule,
                  f"{'Tensor':<20}{'Slice of params':<22}{'Shape':<16}Role"]
        for info in self.table:
            lines.append(f"{info.name:<20}{f'{info.start}:{info.stop}':<22}{str(info.shape):<16}{info.role}")
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return text

    def config(self) -> dict:
        return {
            "layers": [{"kind": layer.kind, **layer.config()} for layer in self.layers],
            "loss": self.loss.name,
            "dtype": str(self.dtype),
        }

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], loss={self.loss.name!r}, dtype={str(self.dtype)!r})"


def _needs_preprocessing(X: Any, y: Any) -> bool:
    """Whether ``fit`` must learn a preprocessing: ``X`` is a table or ``y`` holds text labels."""
    from .tables import is_table

    if is_table(X):
        return True
    try:
        kind = np.asarray(y).dtype.kind
    except (TypeError, ValueError):  # ragged y: the loss's own check names it
        return False
    return kind in "UO"
