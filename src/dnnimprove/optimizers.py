"""Optimizers: explicit state plus an update rule over the model's flat parameter vector.

Usage::

    state = optimizer.init(params)               # OptimizerState(t=0, v=zeros, s=zeros)
    optimizer.step(params, grads, state, lr)     # in place; state.t counts steps from 1

The formulas are the course's, element-wise on the flat vectors (``g`` is the gradient):

- gradient descent: ``W -= lr * g``
- momentum (exponentially weighted average): ``v = beta v + (1 - beta) g``; ``W -= lr * v``
- RMSprop: ``s = beta s + (1 - beta) g**2``; ``W -= lr * g / (sqrt(s) + epsilon)``
- Adam: ``v = beta1 v + (1 - beta1) g``; ``s = beta2 s + (1 - beta2) g**2``;
  ``v_hat = v / (1 - beta1**t)``; ``s_hat = s / (1 - beta2**t)``; ``W -= lr * v_hat / (sqrt(s_hat) + epsilon)``
- AdamW: Adam plus decoupled weight decay ``W -= lr * weight_decay * W`` before the Adam step
  (Loshchilov & Hutter; as ``torch.optim.AdamW``), on weights only unless told otherwise.

Where the peers differ (``dnnimprove.conventions`` translates each of them):

- PyTorch's ``SGD(momentum=beta)`` keeps ``buf = beta buf + (1 - dampening) g`` with ``dampening=0`` by
  default, so its buffer is ours divided by ``1 - beta``: ``SGD(lr=lr*(1-beta), momentum=beta)`` is exactly
  our ``Momentum(lr, beta)`` (nesterov too). With ``dampening=beta`` it would be ours, except that its first
  step sets ``buf = g`` instead of ``(1 - beta) g``; pre-set ``optimizer.state[p]["momentum_buffer"]`` to
  zeros to make it exact. Keras's ``SGD(momentum=beta)`` is ``velocity = beta velocity - lr g`` (also
  without ``(1 - beta)``).
- RMSprop: PyTorch's ``alpha`` is our ``beta`` (default 0.99, ours 0.999), epsilon outside the square root
  as ours; Keras's ``rho`` (default 0.9) likewise, but its epsilon default is 1e-7; optax puts epsilon inside.
- Adam: PyTorch's ``Adam``/``AdamW`` are ours (same bias correction, epsilon outside, default 1e-8);
  Keras's epsilon is "epsilon hat" (default 1e-7), added to ``sqrt(s)`` *before* the bias correction:
  Keras's ``epsilon_hat`` is our ``epsilon * sqrt(1 - beta2**t)``, a factor that changes with t;
  scikit-learn's ``MLPClassifier(solver="adam")`` folds the corrections into the learning rate the same way.
- AdamW: PyTorch multiplies every parameter by ``1 - lr * weight_decay`` (biases included unless parameter
  groups exclude them); the model's weight mask limits ours to the weights. Loshchilov & Hutter's paper
  uses the schedule multiplier instead of ``lr``.

The step allocates nothing parameter-sized: the state holds the scratch buffers. With numba installed
(the ``fast`` extra), the training loop's ``stepper`` runs each built-in update as one compiled pass
(:mod:`dnnimprove._optimizer_kernels`) that rounds exactly as the NumPy passes here; ``step`` is always
the NumPy code.
"""

from __future__ import annotations


import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterable

import numpy as np

from . import _numba
from . import _optimizer_kernels as kernels
from ._scalars import constant
from ._validation import check_bool, check_number

__all__ = [
    "OptimizerState",
    "Optimizer",
    "GradientDescent",
    "Momentum",
    "RMSProp",
    "Adam",
    "AdamW",
    "OPTIMIZERS",
    "get_optimizer",
    "ewma",
    "ewma_update",
]


@dataclass
class OptimizerState:
    """What an optimizer remembers between steps.

    Attributes
    ----------
    t : int
        Steps taken so far (the next step is number ``t + 1``; Adam's bias correction uses it).
    v : ndarray of shape (n_params,) or None
        First moment / velocity, the course's ``v["dW1"]`` etc. flattened (momentum, Adam).
    s : ndarray of shape (n_params,) or None
        Second moment, the course's ``s["dW1"]`` etc. flattened (RMSprop, Adam).
    decay_mask : ndarray of shape (n_params,) or None
        AdamW: 1 where weight decay applies, 0 elsewhere.
    scratch, scratch2 : ndarray or None
        Preallocated work buffers, so a step allocates nothing parameter-sized.
    """

    t: int = 0
    v: np.ndarray | None = None
    s: np.ndarray | None = None
    decay_mask: np.ndarray | None = None
    scratch: np.ndarray | None = field(default=None, repr=False)
    scratch2: np.ndarray | None = field(default=None, repr=False)
    verified: tuple = field(default=(), repr=False, compare=False)
    """The (params, grads, v, s) objects last checked against this state: a step with the same ones skips the check."""

    @property
    def size(self) -> int:
        """Number of parameters the state was made for (-1 for an empty state)."""
        return -1 if self.scratch is None else self.scratch.size


def _check_beta(name: str, value: Any) -> float:
    return check_number(name, value, low=0.0, high=1.0, high_open=True)


def ewma_update(
    average: np.ndarray, value: np.ndarray, beta: Any, scratch: np.ndarray, one_minus_beta: Any = None
) -> None:
    """One in-place step of the exponentially weighted average: ``average = beta average + (1 - beta) value``.

    The form every moving average here uses (momentum's ``v``, RMSprop's and Adam's ``s``, batch-norm
    running statistics). It rounds as the course's ``beta * v + (1 - beta) * dW`` does; ``scratch``
    (same shape, may be ``value`` itself) receives ``(1 - beta) * value``. ``beta`` and ``one_minus_beta``
    (default ``1 - beta``) may be 0-d arrays of the average's dtype, which the optimizers pass for speed.
    """
    average *= beta
    np.multiply(value, 1 - beta if one_minus_beta is None else one_minus_beta, scratch)
    average += scratch


class Optimizer:
    """Base class: ``init(params) -> OptimizerState`` and ``step(params, grads, state, lr)``.

    Subclasses implement ``_update``; ``step`` checks the state against the parameters (a state made
    for another model, or by another optimizer, is a clear error) and counts ``t``.
    """

    name: ClassVar[str] = "optimizer"
    uses_v: ClassVar[bool] = False
    uses_s: ClassVar[bool] = False
    _constants_memo: tuple | None = None

    def __init__(self, lr: float) -> None:
        self.lr = check_number("lr", lr, low=0.0, low_open=True)

    @property
    def _uses_scratch2(self) -> bool:
        return self.uses_s

    def init(self, params: np.ndarray, weight_mask: np.ndarray | None = None) -> OptimizerState:
        """Fresh state for a flat parameter vector: ``t = 0`` and zeros for ``v`` and ``s``.

        ``weight_mask`` (1 on weights, 0 elsewhere, as ``model.weight_mask``) is used by AdamW only.
        """
        return OptimizerState(
            t=0,
            v=np.zeros_like(params) if self.uses_v else None,
            s=np.zeros_like(params) if self.uses_s else None,
            scratch=np.empty_like(params),
            scratch2=np.empty_like(params) if self._uses_scratch2 else None,
        )

    def check_state(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState) -> None:
        """Raise a clear ``ValueError`` unless ``state`` was made by ``self.init`` for these parameters."""
        if not isinstance(state, OptimizerState):
            raise TypeError(f"state must be an OptimizerState from optimizer.init(params); got {state!r}")
        if grads.shape != params.shape:
            raise ValueError(f"grads must have the shape of params {params.shape}; got {grads.shape}")
        buffers = {"scratch": state.scratch, "v": state.v if self.uses_v else params, "s": state.s if self.uses_s else params}
        if self._uses_scratch2:
            buffers["scratch2"] = state.scratch2
        for key, buffer in buffers.items():
            if buffer is None or buffer.shape != params.shape or buffer.dtype != params.dtype:
                found = "missing" if buffer is None else f"{buffer.size} {buffer.dtype} values"
                raise ValueError(
                    f"optimizer state does not match the model: state.{key} is {found}, the model has "
                    f"{params.size} {params.dtype} parameters (was the model rebuilt, or the state made by "
                    f"another optimizer? call {type(self).__name__}.init(params) again)"
                )

    def step(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float | None = None) -> None:
        """Update ``params`` in place from ``grads`` (both shape ``(n_params,)``); advances ``state.t``.

        ``lr`` overrides the optimizer's own learning rate for this step (a schedule's value). The state is
        checked against the arrays on the first step with them (a rebuilt model has new arrays, so it is
        checked again); later steps with the same arrays skip the check.
        """
        verified = state.verified
        if not (verified and verified[0] is params and verified[1] is grads and verified[2] is state.v
                and verified[3] is state.s):
            self.check_state(params, grads, state)
            state.verified = (params, grads, state.v, state.s)
        state.t += 1
        self._update(params, grads, state, self.lr if lr is None else lr)

    def stepper(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState) -> Callable[[float], bool]:
        """``step(lr) -> bool`` for a training loop: ``self.step(params, grads, state, lr)`` unless a gradient is
        NaN or infinite, in which case nothing changes (not even ``state.t``) and it returns ``False``.

        The state is checked once, here, instead of at every call (on a tiny network the check is a tenth
        of the step's time). With numba, a built-in optimizer whose ``_update`` is not overridden runs as
        one compiled pass with the same rounding (see :mod:`dnnimprove._optimizer_kernels`).
        """
        self.check_state(params, grads, state)
        if self.uses_kernel(params):
            fused = self._fused_update

            def step(lr: float) -> bool:
                state.t += 1
                if fused(params, grads, state, lr):
                    return True
                state.t -= 1
                return False

            return step
        update, add_reduce, isfinite = self._update, np.add.reduce, math.isfinite

        def step(lr: float) -> bool:
            if not isfinite(add_reduce(grads)) and not np.isfinite(grads).all():
                return False
            state.t += 1
            update(params, grads, state, lr)
            return True

        return step

    _kernel_owner: ClassVar[type | None] = None
    """The class whose ``_update`` the compiled ``_fused_update`` reproduces (None: no kernel)."""

    def uses_kernel(self, params: np.ndarray) -> bool:
        """Whether ``stepper`` runs the compiled one-pass update for these parameters: numba is available,
        the parameters are a contiguous float vector, and ``_update`` is the built-in one (a subclass that
        overrides it gets its own arithmetic)."""
        owner = self._kernel_owner
        return (
            _numba.AVAILABLE
            and owner is not None
            and type(self)._update is owner._update
            and params.ndim == 1
            and params.flags.c_contiguous
            and params.dtype in (np.float32, np.float64)
        )

    def _fused_update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> bool:
        raise NotImplementedError

    @staticmethod
    def _scalar(dtype: np.dtype) -> Callable[[float], Any]:
        """Cast a Python float as NumPy casts it when it meets an array of ``dtype`` (NEP 50)."""
        return float if dtype == np.float64 else dtype.type

    def _update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> None:
        raise NotImplementedError

    def _constants(self, dtype: np.dtype, *values: float) -> tuple[np.ndarray, ...]:
        """Hyperparameters as read-only 0-d arrays of ``dtype``, for ``_update``.

        NumPy multiplies a small array by a 0-d array about twice as fast as by a Python float, and to the
        same value (see :mod:`dnnimprove._scalars`). Cached while ``dtype`` and ``values`` stay the same, in
        one attribute, so threads sharing an optimizer never see a half-updated cache.
        """
        key = (dtype, values)
        memo = self._constants_memo
        if memo is None or memo[0] != key:
            memo = (key, tuple(constant(value, dtype) for value in values))
            self._constants_memo = memo
        return memo[1]

    def config(self) -> dict:
        return {"lr": self.lr}

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.config().items())
        return f"{type(self).__name__}({args})"


class GradientDescent(Optimizer):
    """Plain gradient descent ``W -= lr * g`` (batch, mini-batch or stochastic, by ``fit``'s ``batch_size``).

    PyTorch: ``torch.optim.SGD(lr=lr)``; Keras: ``keras.optimizers.SGD(learning_rate=lr)``;
    scikit-learn: ``MLPClassifier(solver="sgd", momentum=0, learning_rate_init=lr)``.
    """

    name = "gd"

    def _update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> None:
        np.multiply(grads, lr, state.scratch)
        params -= state.scratch

    def _fused_update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> bool:
        return kernels.gd_step(params, grads, self._scalar(params.dtype)(lr))


class Momentum(Optimizer):
    """Gradient descent with momentum, the course's exponentially weighted average of the gradients.

    ``v = beta v + (1 - beta) g``; ``W -= lr * v`` (``v`` starts at zero). With ``nesterov=True`` the
    step is the look-ahead ``W -= lr * (beta v + (1 - beta) g)`` with the new ``v``.
    ``beta = 0`` is plain gradient descent.

    Peers: PyTorch's ``SGD(momentum=beta)`` (``dampening=0``) and Keras's ``SGD(momentum=beta)`` keep
    ``buf = beta buf + g``, which is our ``v / (1 - beta)``: they equal ours with ``lr * (1 - beta)`` as
    their learning rate. PyTorch's ``dampening=beta`` gives our formula except on the first step, where it
    sets ``buf = g``; see :mod:`dnnimprove.conventions`.
    """

    name = "momentum"
    uses_v = True

    def __init__(self, lr: float = 0.01, beta: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(lr)
        self.beta = _check_beta("beta", beta)
        self.nesterov = check_bool("nesterov", nesterov)

    @property
    def _uses_scratch2(self) -> bool:
        return self.nesterov

    def _update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> None:
        v, scratch = state.v, state.scratch
        beta, one_minus_beta = self._constants(params.dtype, self.beta, 1 - self.beta)
        ewma_update(v, grads, beta, scratch, one_minus_beta)
        if self.nesterov:  # scratch holds (1 - beta) g: add beta v
            np.multiply(v, beta, state.scratch2)
            scratch += state.scratch2
            scratch *= lr
        else:
            np.multiply(v, lr, scratch)
        params -= scratch

    def _fused_update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> bool:
        cast = self._scalar(params.dtype)
        return kernels.momentum_step(
            params, grads, state.v, cast(self.beta), cast(1 - self.beta), cast(lr), self.nesterov
        )

    def config(self) -> dict:
        return {"lr": self.lr, "beta": self.beta, "nesterov": self.nesterov}


class RMSProp(Optimizer):
    """RMSprop: ``s = beta s + (1 - beta) g**2``; ``W -= lr * g / (sqrt(s) + epsilon)`` (``s`` starts at zero).

    No bias correction (Adam with ``beta1 = 0`` is the bias-corrected form). PyTorch's
    ``RMSprop(alpha=beta, eps=epsilon)`` is this formula exactly (its default alpha is 0.99); Keras's
    ``RMSprop(rho=beta, epsilon=epsilon)`` too (defaults 0.9 and 1e-7).
    """

    name = "rmsprop"
    uses_s = True

    def __init__(self, lr: float = 0.001, beta: float = 0.999, epsilon: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta = _check_beta("beta", beta)
        self.epsilon = check_number("epsilon", epsilon, low=0.0, low_open=True)

    def _update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> None:
        s, scratch, denom = state.s, state.scratch, state.scratch2
        beta, one_minus_beta, epsilon = self._constants(params.dtype, self.beta, 1 - self.beta, self.epsilon)
        np.multiply(grads, grads, scratch)
        ewma_update(s, scratch, beta, scratch, one_minus_beta)
        np.sqrt(s, denom)
        denom += epsilon
        np.multiply(grads, lr, scratch)
        scratch /= denom
        params -= scratch

    def _fused_update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> bool:
        cast = self._scalar(params.dtype)
        return kernels.rmsprop_step(
            params, grads, state.s, cast(self.beta), cast(1 - self.beta), cast(self.epsilon), cast(lr)
        )

    def config(self) -> dict:
        return {"lr": self.lr, "beta": self.beta, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam with the course's bias correction (``t`` counts steps from 1)::

        v = beta1 v + (1 - beta1) g            s = beta2 s + (1 - beta2) g**2
        v_hat = v / (1 - beta1**t)             s_hat = s / (1 - beta2**t)
        W -= lr * v_hat / (sqrt(s_hat) + epsilon)

    ``beta1 = 0`` is bias-corrected RMSprop. PyTorch's ``Adam(lr, betas=(beta1, beta2), eps=epsilon)`` is
    this formula exactly. Keras's ``Adam`` and scikit-learn's ``solver="adam"`` add their epsilon to
    ``sqrt(s)`` before the correction ("epsilon hat", Keras default 1e-7): theirs equals ours with
    ``epsilon_hat = epsilon * sqrt(1 - beta2**t)``, a factor that changes with ``t``.
    """

    name = "adam"
    uses_v = True
    uses_s = True

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1 = _check_beta("beta1", beta1)
        self.beta2 = _check_beta("beta2", beta2)
        self.epsilon = check_number("epsilon", epsilon, low=0.0, low_open=True)

    def _update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> None:
        v, s, scratch, denom = state.v, state.s, state.scratch, state.scratch2
        t = state.t
        beta1, one_minus_beta1, beta2, one_minus_beta2, epsilon = self._constants(
            params.dtype, self.beta1, 1 - self.beta1, self.beta2, 1 - self.beta2, self.epsilon
        )
        ewma_update(v, grads, beta1, scratch, one_minus_beta1)
        np.multiply(grads, grads, scratch)
        ewma_update(s, scratch, beta2, scratch, one_minus_beta2)
        # denom = sqrt(s / (1 - beta2**t)) + epsilon ; step = (lr * (v / (1 - beta1**t))) / denom
        np.divide(s, 1 - self.beta2**t, denom)
        np.sqrt(denom, denom)
        denom += epsilon
        np.divide(v, 1 - self.beta1**t, scratch)
        scratch *= lr
        scratch /= denom
        params -= scratch

    def _fused_update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> bool:
        return self._adam_kernel(params, grads, state, lr, 0, 0.0, params)

    def _adam_kernel(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float,
                     decay_mode: int, decay: float, decay_mask: np.ndarray) -> bool:
        cast, t = self._scalar(params.dtype), state.t
        return kernels.adam_step(
            params, grads, state.v, state.s, cast(self.beta1), cast(1 - self.beta1), cast(self.beta2),
            cast(1 - self.beta2), cast(self.epsilon), cast(1 - self.beta1**t), cast(1 - self.beta2**t), cast(lr),
            decay_mode, cast(decay), decay_mask,
        )

    def config(self) -> dict:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay: ``W -= lr * weight_decay * W`` (weights only), then the Adam step.

    The decay multiplies the parameters by ``1 - lr * weight_decay`` before the Adam update, as
    ``torch.optim.AdamW`` does (with the scheduled ``lr``); ``init(params, weight_mask)`` limits it to the
    weights (``fit`` passes the model's mask), ``weight_mask=None`` decays every parameter as PyTorch does
    by default. Unlike L2 (``fit(l2=...)``), the decay does not pass through the moments ``v`` and ``s``.
    """

    name = "adamw"

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(lr, beta1, beta2, epsilon)
        self.weight_decay = check_number("weight_decay", weight_decay, low=0.0)

    def init(self, params: np.ndarray, weight_mask: np.ndarray | None = None) -> OptimizerState:
        state = super().init(params)
        if weight_mask is not None:
            mask = np.asarray(weight_mask, dtype=params.dtype)
            if mask.shape != params.shape:
                raise ValueError(f"weight_mask must have the shape of params {params.shape}; got {mask.shape}")
            state.decay_mask = mask
        return state

    def check_state(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState) -> None:
        super().check_state(params, grads, state)
        mask = state.decay_mask
        if mask is not None and (mask.shape != params.shape or mask.dtype != params.dtype):
            raise ValueError(
                f"optimizer state does not match the model: state.decay_mask has {mask.size} {mask.dtype} values, "
                f"the model has {params.size} {params.dtype} parameters (call AdamW.init(params, weight_mask) again)"
            )

    def _update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> None:
        if self.weight_decay:
            if state.decay_mask is None:
                params *= 1 - lr * self.weight_decay
            else:
                np.multiply(params, state.decay_mask, out=state.scratch)
                state.scratch *= lr * self.weight_decay
                params -= state.scratch
        super()._update(params, grads, state, lr)

    def _fused_update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> bool:
        if not self.weight_decay:
            return self._adam_kernel(params, grads, state, lr, 0, 0.0, params)
        if state.decay_mask is None:
            return self._adam_kernel(params, grads, state, lr, 1, 1 - lr * self.weight_decay, params)
        return self._adam_kernel(params, grads, state, lr, 2, lr * self.weight_decay, state.decay_mask)

    def config(self) -> dict:
        return {**super().config(), "weight_decay": self.weight_decay}


for _optimizer in (GradientDescent, Momentum, RMSProp, Adam, AdamW):
    _optimizer._kernel_owner = _optimizer
del _optimizer

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "gd": GradientDescent,
    "momentum": Momentum,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
}


def get_optimizer(optimizer: str | Optimizer, **settings: Any) -> Optimizer:
    """Resolve an optimizer by name (see ``OPTIMIZERS``) with its settings, or return the one given."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; valid values: {', '.join(map(repr, sorted(OPTIMIZERS)))}")
    return OPTIMIZERS[optimizer](**settings)


def ewma(values: Iterable[float] | np.ndarray, beta: float, bias_correction: bool = True) -> np.ndarray:
    """Exponentially weighted average of a sequence.

    ``v_0 = 0``; ``v_t = beta v_{t-1} + (1 - beta) x_t`` (the update :func:`ewma_update` performs); with bias
    correction the result is ``v_t / (1 - beta**t)`` (t from 1), which removes the start-up bias towards
    zero. It averages over roughly the last ``1 / (1 - beta)`` values. ``beta = 0`` returns the values.

    Parameters
    ----------
    values : array-like of shape (n,) or (n, ...)
        The sequence; the first axis is time.
    beta : float in [0, 1)
    bias_correction : bool

    Returns
    -------
    ndarray of float, the same shape as ``values``: the average after each element.
    """
    beta = _check_beta("beta", beta)
    x = np.array(values, dtype=float)
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"values must be a non-empty sequence; got shape {x.shape}")
    out = np.empty_like(x)
    average = np.zeros_like(x[0])
    scratch = np.empty_like(x[0])
    for t in range(x.shape[0]):
        ewma_update(average, x[t], beta, scratch)
        out[t] = average / (1 - beta ** (t + 1)) if bias_correction else average
    return out
