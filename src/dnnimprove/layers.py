"""Layers: a dense (fully connected) layer and activation functions, each with a hand-written backward.

Shapes are in row layout: a batch ``X`` is ``(m, n_in)``; a dense weight ``W`` is ``(n_in, n_out)`` and
its bias ``b`` is ``(n_out,)``. In the course's column notation ``Z = W X + b`` is our ``Z = X @ W + b``.

A layer's trainable tensors are *views* into the model's one flat parameter vector (and its
gradients into the flat gradient vector): the model asks each layer for its :class:`ParamSpec` list,
allocates the buffers and hands the views back through :meth:`Layer.bind`. ``backward`` writes the
parameter gradients into those views in place and returns the gradient for the layer's input.

To write a custom layer, subclass :class:`Layer` and implement ``output_dim`` (if it changes the width),
``param_specs``, ``forward`` and ``backward``; :func:`dnnimprove.check_gradients` will verify it.
"""

from __future__ import annotations


from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ._validation import check_int, check_number
from .initializers import Initializer, get_initializer

__all__ = [
    "ParamSpec",
    "Layer",
    "Dense",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "SELU",
    "Tanh",
    "Sigmoid",
    "ACTIVATIONS",
    "get_activation",
]


@dataclass(frozen=True)
class ParamSpec:
    """One trainable tensor of a layer.

    ``role`` is one of ``"weight"`` (L2 and weight decay apply), ``"bias"``, ``"scale"`` (batch-norm
    gamma) or ``"shift"`` (batch-norm beta).
    """

    name: str
    shape: tuple[int, ...]
    role: str


class Layer:
    """Base class of every layer.

    Life cycle: the model calls ``build(input_dim)`` (returns the output width), allocates the flat
    buffers from ``param_specs()``, calls ``bind(params, grads)`` with dicts of views and then
    ``initialize(source)``. Training calls ``forward(X, training=True)`` then ``backward(dA)``.
    """

    kind: ClassVar[str] = "layer"

    def __init__(self) -> None:
        self.name: str = self.kind
        self.input_dim: int | None = None
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.source: Any = None
        self.needs_input_grad: bool = True

    # -- structure -------------------------------------------------------------------------
    def build(self, input_dim: int) -> int:
        """Record the input width and return the output width."""
        self.input_dim = input_dim
        return self.output_dim(input_dim)

    def output_dim(self, input_dim: int) -> int:
        return input_dim

    def param_specs(self) -> list[ParamSpec]:
        return []

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Receive views into the model's flat parameter and gradient vectors."""
        self.params = params
        self.grads = grads

    def initialize(self, source: Any) -> None:
        """Fill the parameter views with their initial values (default: zeros)."""
        for array in self.params.values():
            array[...] = 0

    # -- non-trained state (e.g. batch-norm running statistics) -------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        """Arrays that are not trained but belong to the model (saved with it)."""
        return {}

    def freeze_randomness(self, frozen: bool) -> None:
        """While frozen, a random layer replays its last draws (used by gradient checking)."""

    # -- computation -----------------------------------------------------------------------
    def forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dA: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def config(self) -> dict:
        """The constructor arguments, enough to rebuild the layer by name."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.config().items())
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """Fully connected layer ``Z = X @ W + b``.

    Parameters
    ----------
    units : int
        Output width ``n_out`` (>= 1).
    init : str or Initializer
        Weight initializer (``"he"``, ``"xavier"``, ``"glorot"``, ``"random"``, ``"zeros"``, ...).
        Biases start at zero.
    use_bias : bool
        Leave the bias out when a batch-norm layer follows (its shift makes the bias redundant).

    Backward, with ``dZ`` of shape ``(m, n_out)``::

        dW = X.T @ dZ          (n_in, n_out)
        db = sum(dZ, axis=0)   (n_out,)
        dX = dZ @ W.T          (m, n_in)
    """

    kind = "dense"

    def __init__(self, units: int, init: str | Initializer = "he", use_bias: bool = True) -> None:
        super().__init__()
        self.units = check_int("units", units, low=1)
        self.init = get_initializer(init)
        self.use_bias = bool(use_bias)
        self._X: np.ndarray | None = None

    def output_dim(self, input_dim: int) -> int:
        return self.units

    def param_specs(self) -> list[ParamSpec]:
        specs = [ParamSpec("W", (self.input_dim, self.units), "weight")]
        if self.use_bias:
            specs.append(ParamSpec("b", (self.units,), "bias"))
        return specs

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        super().bind(params, grads)
        self.W = params["W"]
        self.dW = grads["W"]
        self.b = params.get("b")
        self.db = grads.get("b")

    def initialize(self, source: Any) -> None:
        self.W[...] = self.init((self.input_dim, self.units), source, self.W.dtype)
        if self.b is not None:
            self.b[...] = 0

    def forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        self._X = X
        Z = X @ self.W
        if self.b is not None:
            Z += self.b
        return Z

    def backward(self, dZ: np.ndarray) -> np.ndarray:
        np.matmul(self._X.T, dZ, out=self.dW)
        if self.db is not None:
            np.sum(dZ, axis=0, out=self.db)
        if not self.needs_input_grad:
            return dZ  # the model's first layer: nobody needs dX
        return dZ @ self.W.T

    def config(self) -> dict:
        return {"units": self.units, "init": self.init.name, "use_bias": self.use_bias}


class Activation(Layer):
    """Element-wise activation ``A = g(Z)``; backward is ``dZ = dA * g'(Z)``."""

    kind = "activation"

    def output_dim(self, input_dim: int) -> int:
        return input_dim


class ReLU(Activation):
    """``A = max(0, Z)``; ``g'(Z) = 1 where Z > 0 else 0`` (the kink at 0 takes 0)."""

    kind = "relu"

    def forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        A = np.maximum(X, 0)
        self._A = A
        return A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return dA * (self._A > 0)


class LeakyReLU(Activation):
    """``A = Z if Z > 0 else alpha * Z``; ``g'(Z) = 1 or alpha``."""

    kind = "leaky_relu"

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = check_number("alpha", alpha, low=0.0)

    def forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        self._positive = X > 0
        return np.where(self._positive, X, self.alpha * X)

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return np.where(self._positive, dA, self.alpha * dA)

    def config(self) -> dict:
        return {"alpha": self.alpha}


class ELU(Activation):
    """``A = Z if Z > 0 else alpha * (exp(Z) - 1)``; ``g'(Z) = 1 or A + alpha``."""

    kind = "elu"

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = check_number("alpha", alpha, low=0.0, low_open=True)

    def forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        self._positive = X > 0
        A = np.where(self._positive, X, self.alpha * np.expm1(np.minimum(X, 0)))
        self._A = A
        return A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return np.where(self._positive, dA, dA * (self._A + self.alpha))

    def config(self) -> dict:
        return {"alpha": self.alpha}


class SELU(Activation):
    """Scaled ELU (Klambauer et al., 2017): ``A = lambda * (Z if Z > 0 else alpha * (exp(Z) - 1))``
    with ``alpha = 1.6732632423543772`` and ``lambda = 1.0507009873554805``;
    ``g'(Z) = lambda or A + lambda * alpha``."""

    kind = "selu"
    ALPHA: ClassVar[float] = 1.6732632423543772848170429916717
    SCALE: ClassVar[float] = 1.0507009873554804934193349852946

    def forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        self._positive = X > 0
        A = self.SCALE * np.where(self._positive, X, self.ALPHA * np.expm1(np.minimum(X, 0)))
        self._A = A
        return A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return dA * np.where(self._positive, self.SCALE, self._A + self.SCALE * self.ALPHA)


class Tanh(Activation):
    """``A = tanh(Z)``; ``g'(Z) = 1 - A**2``."""

    kind = "tanh"

    def forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        A = np.tanh(X)
        self._A = A
        return A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return dA * (1 - self._A * self._A)


class Sigmoid(Activation):
    """``A = 1 / (1 + exp(-Z))``; ``g'(Z) = A * (1 - A)``.

    As a hidden activation. For a sigmoid *output*, use the ``binary_crossentropy`` loss, which
    fuses it with the cost.
    """

    kind = "sigmoid"

    def forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        with np.errstate(over="ignore"):  # exp(-Z) overflows to inf for Z < -709: A is then 0, correctly
            A = 1.0 / (1.0 + np.exp(-X))
        self._A = A
        return A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return dA * self._A * (1 - self._A)


ACTIVATIONS: dict[str, type[Activation]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "selu": SELU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
}


def get_activation(name: str | Activation) -> Activation:
    """Build an activation layer from its name (see ``ACTIVATIONS``), or return the one given."""
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; valid values: {', '.join(map(repr, sorted(ACTIVATIONS)))}")
    return ACTIVATIONS[name]()


