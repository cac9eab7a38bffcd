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


import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ._elementwise import where
from ._inplace import OwnsWorkspace, Workspace
from ._scalars import constant
from ._validation import Boolean, Constraint, Integer, Options, Real, set_params_checked, validate_params
from .initializers import Initializer, get_initializer, initializer_config
from .ewma import ewma_step
from .regularizers import l1_gradient, l2_gradient

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
    "GELU",
    "SiLU",
    "Dropout",
    "BatchNorm",
    "ACTIVATIONS",
    "get_activation",
    "dense_stack",
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


class Layer(OwnsWorkspace):
    """Base class of every layer.

    Life cycle: the model calls ``build(input_dim)`` (returns the output width), allocates the flat
    buffers from ``param_specs()``, calls ``bind(params, grads)`` with dicts of views and then
    ``initialize(source)``. Training calls ``forward(X, training=True)`` then ``backward(dA)``.
    """

    kind: ClassVar[str] = "layer"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {}
    """Each constructor argument's legal values (:func:`dnnimprove._validation.validate_params`)."""
    takes_sample_weight: ClassVar[bool] = False
    """True: ``forward(X, training, sample_weight)`` also takes the batch's example weights ``(m,)`` or None."""
    reuse: bool = False
    """While True (the model sets it for one :meth:`Sequential.compute_gradients`, whose intermediate arrays
    nobody else sees), ``forward(X, training=True)`` and ``backward`` may return arrays that the layer
    overwrites at its next call: the built-in layers then compute in place, into workspaces of their own."""

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

    def penalty(self, m: int) -> float:
        """A regularization term the layer adds to the cost of an ``m``-row batch (its gradient is added in
        ``backward``); 0.0 by default. The model sums these in :meth:`Sequential.layer_penalty`."""
        return 0.0

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
    l2 : float >= 0
        This layer's own L2 strength, *added* to ``fit(..., l2=...)``'s global one for its weight: the cost
        gains ``(l2 / (2 m)) * ||W||_F**2`` and ``dW`` gains ``(l2 * W) / m`` (``m`` rows in the batch).
    l1 : float >= 0
        This layer's L1 strength (L1 is set per layer, as Keras's ``kernel_regularizer``): the cost gains
        ``(l1 / (2 m)) * sum |W|`` and ``dW`` gains ``(l1 / (2 m)) * sign(W)`` (see :mod:`dnnimprove.regularizers`).

    Notes
    -----
    Backward, with ``dZ`` of shape ``(m, n_out)``::

        dW = X.T @ dZ          (n_in, n_out)     (+ (l2 * W) / m, + (l1 / (2 m)) sign(W) with a layer l2, l1)
        db = sum(dZ, axis=0)   (n_out,)
        dX = dZ @ W.T          (m, n_in)
    """

    kind = "dense"
    _parameter_constraints = {"units": Integer(low=1), "use_bias": Boolean(), "l2": Real(low=0.0), "l1": Real(low=0.0)}
    units: int
    use_bias: bool
    l2: float
    l1: float

    def __init__(self, units: int, init: str | Initializer = "he", use_bias: bool = True, l2: float = 0.0,
                 l1: float = 0.0) -> None:
        super().__init__()
        set_params_checked(self, units=units)
        self.init = get_initializer(init)
        set_params_checked(self, use_bias=use_bias, l2=l2, l1=l1)
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

    # np.dot calls the same BLAS GEMM as ``@`` for 2-D operands (bit-identical results) with less per-call
    # overhead, which is most of a tiny network's step.
    def forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        self._X = X
        if self.reuse and training and X.dtype == self.W.dtype:
            Z = np.dot(X, self.W, self._buffer("Z", X.shape[0], self.units, X.dtype))
        else:
            Z = np.dot(X, self.W)
        if self.b is not None:
            Z += self.b
        return Z

    def _buffer(self, key: str, rows: int, columns: int, dtype: np.dtype) -> np.ndarray:
        """A reusable ``(rows, columns)`` array (``reuse`` mode), one per ``key`` and shape."""
        buffers = self.__dict__.setdefault("_buffers", {})
        buffer = buffers.get((key, rows))
        if buffer is None or buffer.shape[1] != columns or buffer.dtype != dtype:
            if len(buffers) > 16:
                buffers.clear()
            buffer = buffers[(key, rows)] = np.empty((rows, columns), dtype)
        return buffer

    def backward(self, dZ: np.ndarray) -> np.ndarray:
        np.dot(self._X.T, dZ, self.dW)
        if self.l2:
            self.dW += l2_gradient(self.W, self.l2, dZ.shape[0])
        if self.l1:
            self.dW += l1_gradient(self.W, self.l1, dZ.shape[0])
        if self.db is not None:
            np.add.reduce(dZ, 0, None, self.db)  # np.sum(dZ, axis=0, out=db) without its wrapper
        if not self.needs_input_grad:
            return dZ  # the model's first layer: nobody needs dX
        if self.reuse and dZ.dtype == self.W.dtype:
            return np.dot(dZ, self.W.T, self._buffer("dX", dZ.shape[0], self.input_dim, dZ.dtype))
        return np.dot(dZ, self.W.T)

    def penalty(self, m: int) -> float:
        """``(l2 / (2 m)) * ||W||_F**2 + (l1 / (2 m)) * sum |W|`` for this layer's own ``l2`` and ``l1``."""
        penalty = 0.0
        if self.l2:
            weights = self.W.ravel()
            penalty += float(self.l2 / (2 * m) * np.dot(weights, weights))
        if self.l1:
            penalty += float(self.l1 / (2 * m) * np.sum(np.abs(self.W)))
        return penalty

    def config(self) -> dict:
        config = {"units": self.units, "init": initializer_config(self.init), "use_bias": self.use_bias}
        if self.l2:
            config["l2"] = self.l2
        if self.l1:
            config["l1"] = self.l1
        return config


class Activation(Layer):
    """Element-wise activation ``A = g(Z)``; backward is ``dZ = dA * g'(Z)``.

    A subclass writes its arithmetic once, as two static formulas over NumPy expressions that work on
    arrays and on single numbers (see :mod:`dnnimprove._elementwise`), and lists the numbers they use::

        constants()                        -> tuple of Python floats, e.g. (0.0,) or (0.0, alpha)
        function(Z, *constants)            -> A
        derivative(dA, Z, A, *constants)   -> dZ      (dA * g'(Z); Z and A are this layer's input and output)

    The NumPy engine calls them on the batch with the constants cast to the batch's dtype; the compiled
    engine (:mod:`dnnimprove.compiled`) compiles the same two functions and applies them element by element.
    A formula uses no literal numbers (each is a constant), so float32 stays float32 in both engines.
    """

    kind = "activation"

    def output_dim(self, input_dim: int) -> int:
        return input_dim

    def constants(self) -> tuple[float, ...]:
        """The numbers the formulas use, as Python floats (cast to the arrays' dtype by the engine)."""
        return ()

    @staticmethod
    def function(Z: Any, *constants: Any) -> Any:
        """``A = g(Z)``, element-wise."""
        raise NotImplementedError

    @staticmethod
    def derivative(dA: Any, Z: Any, A: Any, *constants: Any) -> Any:
        """``dZ = dA * g'(Z)``, element-wise, from the input ``Z`` and the output ``A``."""
        raise NotImplementedError

    def _typed_constants(self, dtype: np.dtype) -> tuple[np.ndarray, ...]:
        return tuple(constant(value, dtype) for value in self.constants())

    @np.errstate(over="ignore")  # exp overflows to inf for very negative Z; the formulas are then exact (0)
    def forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        if training and self.reuse:  # the same formula, in place (dnnimprove._inplace): the same numbers
            A = self.workspace.run(self.function, (X, *self._typed_constants(X.dtype)))[0]
        else:
            A = self.function(X, *self._typed_constants(X.dtype))
        self._Z, self._A = X, A
        return A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        arguments = (dA, self._Z, self._A, *self._typed_constants(dA.dtype))
        if self.reuse:
            return self.workspace.run(self.derivative, arguments)[0]
        return self.derivative(*arguments)


class ReLU(Activation):
    """``A = max(0, Z)``; ``g'(Z) = 1 where Z > 0 else 0`` (the kink at 0 takes 0), computed as ``sign(A)``."""

    kind = "relu"

    def constants(self) -> tuple[float, ...]:
        return (0.0,)

    @staticmethod
    def function(Z, zero):
        return np.maximum(Z, zero)

    @staticmethod
    def derivative(dA, Z, A, zero):
        return dA * np.sign(A)  # A >= 0, so sign(A) is 0 or 1: the products of dA * (Z > 0)


class LeakyReLU(Activation):
    """``A = Z if Z > 0 else alpha * Z``; ``g'(Z) = 1 or alpha``."""

    kind = "leaky_relu"
    _parameter_constraints = {"alpha": Real(low=0.0)}
    alpha: float

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        set_params_checked(self, alpha=alpha)

    def constants(self) -> tuple[float, ...]:
        return (0.0, self.alpha)

    @staticmethod
    def function(Z, zero, alpha):
        return where(Z > zero, Z, alpha * Z)

    @staticmethod
    def derivative(dA, Z, A, zero, alpha):
        return where(Z > zero, dA, alpha * dA)

    def config(self) -> dict:
        return {"alpha": self.alpha}


class ELU(Activation):
    """``A = Z if Z > 0 else alpha * (exp(Z) - 1)``; ``g'(Z) = 1 or A + alpha``."""

    kind = "elu"
    _parameter_constraints = {"alpha": Real(low=0.0, low_open=True)}
    alpha: float

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        set_params_checked(self, alpha=alpha)

    def constants(self) -> tuple[float, ...]:
        return (0.0, self.alpha)

    @staticmethod
    def function(Z, zero, alpha):
        return where(Z > zero, Z, alpha * np.expm1(np.minimum(Z, zero)))

    @staticmethod
    def derivative(dA, Z, A, zero, alpha):
        return where(Z > zero, dA, dA * (A + alpha))

    def config(self) -> dict:
        return {"alpha": self.alpha}


class SELU(Activation):
    """Scaled ELU (Klambauer et al., 2017): ``A = lambda * (Z if Z > 0 else alpha * (exp(Z) - 1))``
    with ``alpha = 1.6732632423543772`` and ``lambda = 1.0507009873554805``;
    ``g'(Z) = lambda or A + lambda * alpha``."""

    kind = "selu"
    ALPHA: ClassVar[float] = 1.6732632423543772848170429916717
    SCALE: ClassVar[float] = 1.0507009873554804934193349852946

    def constants(self) -> tuple[float, ...]:
        return (0.0, self.ALPHA, self.SCALE, self.SCALE * self.ALPHA)

    @staticmethod
    def function(Z, zero, alpha, scale, scale_alpha):
        return scale * where(Z > zero, Z, alpha * np.expm1(np.minimum(Z, zero)))

    @staticmethod
    def derivative(dA, Z, A, zero, alpha, scale, scale_alpha):
        return dA * where(Z > zero, scale, A + scale_alpha)


class Tanh(Activation):
    """``A = tanh(Z)``; ``g'(Z) = 1 - A**2``."""

    kind = "tanh"

    def constants(self) -> tuple[float, ...]:
        return (1.0,)

    @staticmethod
    def function(Z, one):
        return np.tanh(Z)

    @staticmethod
    def derivative(dA, Z, A, one):
        return dA * (one - A * A)


class Sigmoid(Activation):
    """``A = 1 / (1 + exp(-Z))``; ``g'(Z) = A * (1 - A)``.

    As a hidden activation. For a sigmoid *output*, use the ``binary_crossentropy`` loss, which
    fuses it with the cost.
    """

    kind = "sigmoid"

    def constants(self) -> tuple[float, ...]:
        return (1.0,)

    @staticmethod
    def function(Z, one):
        return one / (one + np.exp(-Z))  # exp(-Z) = inf for Z < -709 gives A = 0, correctly

    @staticmethod
    def derivative(dA, Z, A, one):
        return dA * A * (one - A)


class GELU(Activation):
    """Gaussian error linear unit, tanh form (Hendrycks & Gimpel, 2016), as PyTorch's
    ``nn.GELU(approximate="tanh")``::

        A = 0.5 Z (1 + tanh(u)),   u = sqrt(2 / pi) (Z + 0.044715 Z**3)
        g'(Z) = 0.5 (1 + tanh(u)) + 0.5 Z (1 - tanh(u)**2) sqrt(2 / pi) (1 + 3 * 0.044715 Z**2)
    """

    kind = "gelu"

    def constants(self) -> tuple[float, ...]:
        return (0.5, 1.0, math.sqrt(2.0 / math.pi), 0.044715, 3 * 0.044715)

    @staticmethod
    def function(Z, half, one, k, c, c3):
        return half * Z * (one + np.tanh(k * (Z + c * Z * Z * Z)))

    @staticmethod
    def derivative(dA, Z, A, half, one, k, c, c3):
        t = np.tanh(k * (Z + c * Z * Z * Z))
        return dA * (half * (one + t) + half * Z * (one - t * t) * k * (one + c3 * Z * Z))


class SiLU(Activation):
    """Sigmoid linear unit, also called Swish (Ramachandran et al., 2017), as PyTorch's ``nn.SiLU``::

        A = Z sigmoid(Z) = Z / (1 + exp(-Z))      g'(Z) = s (1 + Z (1 - s)),  s = sigmoid(Z)
    """

    kind = "silu"

    def constants(self) -> tuple[float, ...]:
        return (1.0,)

    @staticmethod
    def function(Z, one):
        return Z / (one + np.exp(-Z))

    @staticmethod
    def derivative(dA, Z, A, one):
        s = one / (one + np.exp(-Z))
        return dA * (s * (one + Z * (one - s)))


ACTIVATIONS: dict[str, type[Activation]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "selu": SELU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "gelu": GELU,
    "silu": SiLU,
}


def get_activation(name: str | Activation) -> Activation:
    """Build an activation layer from its name (see ``ACTIVATIONS``), or return the one given."""
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; valid values: {', '.join(map(repr, sorted(ACTIVATIONS)))}")
    return ACTIVATIONS[name]()




class Dropout(Layer):
    """Inverted dropout: in training ``A = (X * D) / keep_prob`` with ``D = U < keep_prob``, ``U ~ U[0, 1)``.

    Each unit of each example is kept with probability ``keep_prob``; dividing by ``keep_prob`` keeps the
    expected activation ``E[A] = X``, so at inference (``training=False``) the layer is the identity and
    nothing needs rescaling. Backward applies the *same* mask: ``dX = (dA * D) / keep_prob``.

    Parameters
    ----------
    keep_prob : float in (0, 1]
        Probability of keeping a unit (the course's ``keep_prob``; PyTorch's and Keras's ``p``/``rate``
        is the drop probability ``1 - keep_prob``). ``1.0`` turns dropout off.

    Notes
    -----
    The mask ``D`` has the input's shape ``(m, n)`` and is drawn from the model's random source
    (``self.source.uniform``), so a seeded model draws the same masks every run. The course draws
    ``rand(n_l, m)`` in its column layout; :class:`dnnimprove.CourseRandom` draws exactly that and
    transposes it (with ``dropout_seed`` the model reseeds at the start of every training forward pass,
    as the course's ``forward_propagation_with_dropout`` does). While ``freeze_randomness(True)`` is in
    effect the layer replays its last mask, which lets gradient checking run *with* dropout on.
    The boolean mask lives in a buffer reused across mini-batches.
    """

    kind = "dropout"
    _parameter_constraints = {"keep_prob": Real(low=0.0, high=1.0, low_open=True)}
    keep_prob: float

    def __init__(self, keep_prob: float = 0.5) -> None:
        super().__init__()
        set_params_checked(self, keep_prob=keep_prob)
        self._frozen = False
        self._buffer: np.ndarray | None = None  # boolean mask storage, grown to the largest batch seen
        self._mask: np.ndarray | None = None  # the mask of the last training forward pass (a view of _buffer)
        self._active = False  # whether the last forward pass applied a mask
        self._backward_workspace = Workspace()  # apart from forward's: its output is still read by then

    def freeze_randomness(self, frozen: bool) -> None:
        self._frozen = bool(frozen)

    @property
    def mask(self) -> np.ndarray | None:
        """The boolean mask ``D`` of the last training forward pass, shape ``(m, n)`` (None before one)."""
        return self._mask

    def _draw_mask(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        if self._frozen and self._mask is not None:
            if self._mask.shape != shape:
                raise ValueError(
                    f"{self.name}: randomness is frozen with a mask of shape {self._mask.shape}; got input of shape {shape}"
                )
            return self._mask
        if self._buffer is None or self._buffer.shape[0] < shape[0] or self._buffer.shape[1:] != shape[1:]:
            self._buffer = np.empty(shape, dtype=bool)
        if self.source is None:
            raise ValueError(f"{self.name} has no random source: use it inside a Sequential (or set layer.source)")
        mask = self._buffer[: shape[0]]
        mask[...] = self.keep(self.source.uniform(shape, dtype), constant(self.keep_prob, dtype))
        self._mask = mask
        return mask

    def forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        self._active = bool(training) and self.keep_prob < 1.0
        if not self._active:
            return X
        arguments = (X, self._draw_mask(X.shape, X.dtype), constant(self.keep_prob, X.dtype))
        return self.workspace.run(self.apply, arguments)[0] if self.reuse else self.apply(*arguments)

    def backward(self, dA: np.ndarray) -> np.ndarray:
        if not self._active:
            return dA
        arguments = (dA, self._mask, constant(self.keep_prob, dA.dtype))
        return self._backward_workspace.run(self.apply, arguments)[0] if self.reuse else self.apply(*arguments)

    @staticmethod
    def keep(U, keep_prob):
        """The mask ``D = U < keep_prob`` from uniform draws ``U``."""
        return U < keep_prob

    @staticmethod
    def apply(X, D, keep_prob):
        """``(X * D) / keep_prob``: forward on the input, backward on ``dA``, with the same mask."""
        return X * D / keep_prob

    def config(self) -> dict:
        return {"keep_prob": self.keep_prob}


class BatchNorm(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015) of each unit over the mini-batch, then scale and shift.

    Place it between a ``Dense(..., use_bias=False)`` and its activation (the shift ``beta`` makes a bias
    redundant). With ``Z`` of shape ``(m, n)`` in training mode, per unit (column)::

        mu     = (1/m) sum_i Z_i                          (n,)
        var    = (1/m) sum_i (Z_i - mu)**2                (n,)   biased, as the paper and PyTorch normalize
        Z_norm = (Z - mu) / sqrt(var + epsilon)           (m, n)
        A      = gamma * Z_norm + beta                    (m, n)  gamma starts at 1, beta at 0

    and the running statistics used at inference are exponentially weighted averages::

        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var  = momentum * running_var  + (1 - momentum) * var * m / (m - 1)

    (the unbiased batch variance, as in the paper's inference network and PyTorch; Keras averages the biased
    one, and so does the course, whose running ``sigma**2`` averages the very ``var`` it normalizes with:
    ``running_var_estimate="biased"`` drops the ``m / (m - 1)``). They start at 0 and 1. At inference
    ``Z_norm = (Z - running_mean) / sqrt(running_var + epsilon)``,
    so every row is transformed on its own and one example predicts the same alone or inside a batch.

    Backward (the compact form), with ``dZ_norm = dA * gamma``::

        dgamma = sum_i dA_i * Z_norm_i                                         (n,)
        dbeta  = sum_i dA_i                                                    (n,)
        dZ     = (1 / (m sqrt(var + eps))) * (m dZ_norm - sum_i dZ_norm_i - Z_norm * sum_i dZ_norm_i * Z_norm_i)

    With sample weights ``w`` (``forward(Z, True, sample_weight=w)``, a weighted loss's last target column)
    the statistics are those of the weight distribution ``p_i = w_i / sum_j w_j``: ``mu = sum_i p_i Z_i``,
    ``var = sum_i p_i (Z_i - mu)**2``, and ``1/m`` becomes ``p_i`` in the backward::

        dZ_i   = (1 / sqrt(var + eps)) * (dZ_norm_i - p_i sum_j dZ_norm_j - p_i Z_norm_i sum_j dZ_norm_j * Z_norm_j)

    so an integer weight acts exactly as that many copies of the row. The running variance's unbiased
    factor is then numpy's ``cov``'s: ``S / (S - 1)`` with ``S = sum_i w_i`` when every weight is an integer
    (frequency weights: the factor of the repeated rows), ``S**2 / (S**2 - sum_i w_i**2)`` otherwise
    (reliability weights); a batch holding at most one example's worth of weight (factor undefined) leaves
    the running variance as it was. A batch whose weights are all 0 is normalized with its unweighted
    statistics (its gradient is 0 anyway) and leaves both running statistics as they were.

    Parameters
    ----------
    momentum : float in [0, 1)
        Weight of the *old* running value (the course's beta). PyTorch's ``momentum=0.1`` weights the *new*
        value: ours 0.9 is PyTorch's 0.1; Keras's ``momentum=0.99`` has our meaning.
    epsilon : float > 0
        Added to the variance before the square root (PyTorch 1e-5, Keras 1e-3).
    running_var_estimate : {"unbiased", "biased"}
        Which batch variance the running average takes: ``"unbiased"`` (default; ``var * m / (m - 1)``,
        PyTorch's) or ``"biased"`` (``var`` itself, the course's and Keras's). Only inference changes. The
        compiled engine has the unbiased form only (``engine="auto"`` runs ``"biased"`` on NumPy).

    Notes
    -----
    ``gamma`` (role ``"scale"``) and ``beta`` (role ``"shift"``) live in the model's flat vector and are
    not L2-regularized; ``running_mean`` and ``running_var`` are non-trained state (``state_arrays()``).
    A training-mode mini-batch needs at least two rows: the variance of one row is 0 and the unbiased
    estimate is undefined. The normalized batch and the backward scratch reuse buffers across mini-batches.
    """

    kind = "batch_norm"

    RUNNING_VAR = ("unbiased", "biased")
    _parameter_constraints = {"momentum": Real(low=0.0, high=1.0, high_open=True), "epsilon": Real(low=0.0, low_open=True),
                              "running_var_estimate": Options(RUNNING_VAR)}
    momentum: float
    epsilon: float

    def __init__(self, momentum: float = 0.9, epsilon: float = 1e-5, running_var_estimate: str = "unbiased") -> None:
        super().__init__()
        set_params_checked(self, momentum=momentum, epsilon=epsilon)
        estimate = validate_params(self._parameter_constraints, running_var_estimate=running_var_estimate)
        self.unbiased = estimate["running_var_estimate"] == "unbiased"
        self.running_mean: np.ndarray | None = None
        self.running_var: np.ndarray | None = None
        self._buffers: dict[str, np.ndarray] = {}
        self._minus_p: np.ndarray | None = None  # -p_i as (m, 1) after a weighted training forward, else None

    def param_specs(self) -> list[ParamSpec]:
        return [ParamSpec("gamma", (self.input_dim,), "scale"), ParamSpec("beta", (self.input_dim,), "shift")]

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        super().bind(params, grads)
        self.gamma, self.beta = params["gamma"], params["beta"]
        self.dgamma, self.dbeta = grads["gamma"], grads["beta"]
        self.running_mean = np.zeros(self.input_dim, dtype=self.gamma.dtype)
        self.running_var = np.ones(self.input_dim, dtype=self.gamma.dtype)
        self._buffers = {}
        # per-unit statistics of the last training batch, overwritten in place every pass
        self._mu, self._var, self._inv_std, self._scale = np.empty((4, self.input_dim), dtype=self.gamma.dtype)

    def initialize(self, source: Any) -> None:
        self.gamma[...] = 1
        self.beta[...] = 0
        self.running_mean[...] = 0
        self.running_var[...] = 1

    def state_arrays(self) -> dict[str, np.ndarray]:
        if self.running_mean is None:
            return {}
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def _buffer(self, key: str, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
        """A reusable ``(m, n)`` buffer, grown to the largest batch seen; returns its first ``m`` rows."""
        buffer = self._buffers.get(key)
        if buffer is None or buffer.shape[0] < shape[0] or buffer.shape[1] != shape[1] or buffer.dtype != dtype:
            buffer = self._buffers[key] = np.empty(shape, dtype=dtype)
        return buffer[: shape[0]]

    takes_sample_weight = True  # weighted batch statistics (class docstring)

    def forward(self, X: np.ndarray, training: bool, sample_weight: np.ndarray | None = None) -> np.ndarray:
        if not training:
            return (X - self.running_mean) / np.sqrt(self.running_var + self.epsilon) * self.gamma + self.beta
        m = X.shape[0]
        if m < 2:
            raise ValueError(
                f"{self.name}: batch normalization in training mode needs a mini-batch of at least 2 rows; got {m} "
                "(use batch_size >= 2, and avoid a last mini-batch of one row)"
            )
        self._minus_p = None
        if sample_weight is not None:
            total = float(np.add.reduce(sample_weight))
            if total > 0:
                return self._weighted_forward(X, sample_weight, total)
        mu = np.add.reduce(X, 0, None, self._mu)
        mu /= m
        centered = np.subtract(X, mu, out=self._buffer("Z_norm", X.shape, X.dtype))
        var = np.einsum("ij,ij->j", centered, centered, out=self._var)
        var /= m
        inv_std = self._inv_std
        inv_std[...] = self.inverse_std(var, constant(self.epsilon, X.dtype), constant(1, X.dtype))
        Z_norm = self.normalize(X, mu, inv_std)
        self._Z_norm = Z_norm
        if sample_weight is not None:  # all weights 0: the batch holds no example, the running statistics stay
            return self.scale_shift(Z_norm, self.gamma, self.beta)
        self.running_mean[...] = ewma_step(self.running_mean, mu, self.momentum, 1 - self.momentum)
        if self.unbiased:
            var *= m / (m - 1)  # the unbiased estimate, for the running average only
        self.running_var[...] = ewma_step(self.running_var, var, self.momentum, 1 - self.momentum)
        return self.scale_shift(Z_norm, self.gamma, self.beta)

    def _weighted_forward(self, X: np.ndarray, sample_weight: np.ndarray, total: float) -> np.ndarray:
        """Training forward with the statistics of ``p = w / sum(w)`` (see the class docstring)."""
        p = (sample_weight / X.dtype.type(total)).astype(X.dtype, copy=False)
        mu = np.matmul(p, X, out=self._mu)
        centered = np.subtract(X, mu, out=self._buffer("Z_norm", X.shape, X.dtype))
        var = np.einsum("i,ij,ij->j", p, centered, centered, out=self._var)
        inv_std = self._inv_std
        inv_std[...] = self.inverse_std(var, constant(self.epsilon, X.dtype), constant(1, X.dtype))
        Z_norm = self.normalize(X, mu, inv_std)
        self._Z_norm = Z_norm
        self._minus_p = -p.reshape(-1, 1)
        self.running_mean[...] = ewma_step(self.running_mean, mu, self.momentum, 1 - self.momentum)
        factor = 1.0
        if self.unbiased:
            integers = bool(np.array_equal(sample_weight, np.round(sample_weight)))
            squares = float(np.dot(sample_weight, sample_weight))
            denominator = total - 1.0 if integers else total * total - squares
            factor = (total if integers else total * total) / denominator if denominator > 0 else math.nan
        if not math.isnan(factor):  # at most one example's worth of weight: no unbiased estimate
            self.running_var[...] = ewma_step(self.running_var, var * X.dtype.type(factor), self.momentum, 1 - self.momentum)
        return self.scale_shift(Z_norm, self.gamma, self.beta)

    @staticmethod
    def inverse_std(var, epsilon, one):
        """``1 / sqrt(var + epsilon)``."""
        return one / np.sqrt(var + epsilon)

    @staticmethod
    def normalize(X, mu, inv_std):
        """``Z_norm = (X - mu) * inv_std``."""
        return (X - mu) * inv_std

    @staticmethod
    def scale_shift(Z_norm, gamma, beta):
        """``A = Z_norm * gamma + beta``."""
        return Z_norm * gamma + beta

    @staticmethod
    def input_gradient(dA, Z_norm, dgamma, dbeta, gamma, inv_std, minus_inv_m):
        """``dZ = (dA - (Z_norm * dgamma + dbeta) / m) * (gamma * inv_std)``, computed as
        ``((Z_norm * dgamma + dbeta) * (-1 / m) + dA) * (gamma * inv_std)``; with sample weights
        ``minus_inv_m`` is the column ``-p_i`` of shape ``(m, 1)``."""
        return ((Z_norm * dgamma + dbeta) * minus_inv_m + dA) * (gamma * inv_std)

    def backward(self, dA: np.ndarray) -> np.ndarray:
        Z_norm, inv_std = self._Z_norm, self._inv_std
        m = dA.shape[0]
        np.einsum("ij,ij->j", dA, Z_norm, out=self.dgamma)
        np.add.reduce(dA, 0, None, self.dbeta)
        if not self.needs_input_grad:
            return dA
        # sum_i dZ_norm_i = gamma * dbeta and sum_i dZ_norm_i * Z_norm_i = gamma * dgamma
        minus_p = constant(-1.0 / m, dA.dtype) if self._minus_p is None else self._minus_p  # -1/m or -p_i (m, 1)
        return self.input_gradient(dA, Z_norm, self.dgamma, self.dbeta, self.gamma, inv_std, minus_p)

    def config(self) -> dict:
        config = {"momentum": self.momentum, "epsilon": self.epsilon}
        if not self.unbiased:  # only when not the default, so that files written before the option still load
            config["running_var_estimate"] = "biased"
        return config


def dense_stack(
    hidden: Any,
    n_outputs: int,
    activation: str = "relu",
    init: Any = "he",
    batch_norm: bool = False,
    keep_prob: float | None = None,
    l1: float = 0.0,
) -> list[Layer]:
    """The usual fully connected network as a layer list, for ``Sequential``.

    Per hidden width ``Dense -> [BatchNorm] -> activation -> [Dropout(keep_prob)]``, then ``Dense(n_outputs)``
    for the logits. With ``batch_norm`` the hidden ``Dense`` layers have no bias (batch norm's shift replaces
    it); ``keep_prob`` of ``None`` or ``1.0`` adds no dropout layer; ``l1`` is every ``Dense`` layer's L1 strength.

    Examples
    --------
    >>> [layer.kind for layer in dense_stack([5, 2], 1)]
    ['dense', 'relu', 'dense', 'relu', 'dense']
    """
    layers: list[Layer] = []
    with_dropout = keep_prob is not None and keep_prob < 1.0
    for units in hidden:
        layers.append(Dense(units, init=init, use_bias=not batch_norm, l1=l1))
        if batch_norm:
            layers.append(BatchNorm())
        layers.append(get_activation(activation))
        if with_dropout:
            layers.append(Dropout(keep_prob))
    layers.append(Dense(n_outputs, init=init, l1=l1))
    return layers
