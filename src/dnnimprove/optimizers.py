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

Where the peers differ: PyTorch's SGD momentum is ``v = beta v + (1 - dampening) g`` (``dampening=0`` by
default, so no ``(1 - beta)``), Keras's Adam epsilon is "epsilon hat" (default 1e-7) and PyTorch/Keras
RMSprop keep epsilon outside the square root as we do (optax puts it inside).

The step allocates nothing parameter-sized: the state holds the scratch buffers.
"""

from __future__ import annotations


from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable

import numpy as np

from ._validation import check_number

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
]


@dataclass
class OptimizerState:
    """What an optimizer remembers between steps.

    Attributes
    ----------
    t : int
        Steps taken so far (the next step is number ``t + 1``).
    v : ndarray or None
        First moment / velocity, same shape as the parameters (momentum, Adam).
    s : ndarray or None
        Second moment (RMSprop, Adam).
    decay_mask : ndarray or None
        AdamW: 1 where weight decay applies, 0 elsewhere.
    """

    t: int = 0
    v: np.ndarray | None = None
    s: np.ndarray | None = None
    decay_mask: np.ndarray | None = None
    scratch: np.ndarray | None = field(default=None, repr=False)
    scratch2: np.ndarray | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return -1 if self.scratch is None else self.scratch.size


def _check_beta(name: str, value: Any) -> float:
    return check_number(name, value, low=0.0, high=1.0, high_open=True)


class Optimizer:
    """Base class: ``init(params) -> OptimizerState`` and ``step(params, grads, state, lr)``."""

    name: ClassVar[str] = "optimizer"
    uses_v: ClassVar[bool] = False
    uses_s: ClassVar[bool] = False

    def __init__(self, lr: float) -> None:
        self.lr = check_number("lr", lr, low=0.0, low_open=True)

    def init(self, params: np.ndarray, weight_mask: np.ndarray | None = None) -> OptimizerState:
        """Fresh state for a flat parameter vector (zeros for ``v`` and ``s``)."""
        zeros = lambda: np.zeros_like(params)  # noqa: E731 - small local factory
        return OptimizerState(
            t=0,
            v=zeros() if self.uses_v else None,
            s=zeros() if self.uses_s else None,
            scratch=np.empty_like(params),
            scratch2=np.empty_like(params) if self.uses_s else None,
        )

    def step(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float | None = None) -> None:
        """Update ``params`` in place from ``grads``; advances ``state.t``."""
        if state.scratch is None or state.scratch.shape != params.shape or grads.shape != params.shape:
            raise ValueError(
                f"optimizer state does not match the model: state is for {state.size} parameters, "
                f"the model has {params.size} (was the model rebuilt? call optimizer.init(params) again)"
            )
        state.t += 1
        self._update(params, grads, state, self.lr if lr is None else lr)

    def _update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> None:
        raise NotImplementedError

    def config(self) -> dict:
        return {"lr": self.lr}

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.config().items())
        return f"{type(self).__name__}({args})"


class GradientDescent(Optimizer):
    """Plain (batch, mini-batch or stochastic) gradient descent ``W -= lr * g``."""

    name = "gd"

    def _update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> None:
        np.multiply(grads, lr, out=state.scratch)
        params -= state.scratch


class Momentum(Optimizer):
    """Gradient descent with momentum, the course's exponentially weighted average.

    ``v = beta v + (1 - beta) g``; ``W -= lr * v``. With ``nesterov=True`` the step uses the
    look-ahead ``beta v + (1 - beta) g`` (with the new ``v``) instead of ``v``.
    ``beta = 0`` is plain gradient descent.
    """

    name = "momentum"
    uses_v = True

    def __init__(self, lr: float = 0.01, beta: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(lr)
        self.beta = _check_beta("beta", beta)
        self.nesterov = bool(nesterov)

    def _update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> None:
        v, scratch = state.v, state.scratch
        v *= self.beta
        np.multiply(grads, 1 - self.beta, out=scratch)
        v += scratch
        if self.nesterov:
            np.multiply(v, self.beta, out=scratch)
            scratch += (1 - self.beta) * grads
            scratch *= lr
        else:
            np.multiply(v, lr, out=scratch)
        params -= scratch

    def config(self) -> dict:
        return {"lr": self.lr, "beta": self.beta, "nesterov": self.nesterov}


class RMSProp(Optimizer):
    """RMSprop: ``s = beta s + (1 - beta) g**2``; ``W -= lr * g / (sqrt(s) + epsilon)``."""

    name = "rmsprop"
    uses_s = True

    def __init__(self, lr: float = 0.001, beta: float = 0.999, epsilon: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta = _check_beta("beta", beta)
        self.epsilon = check_number("epsilon", epsilon, low=0.0, low_open=True)

    def _update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> None:
        s, scratch, denom = state.s, state.scratch, state.scratch2
        s *= self.beta
        np.multiply(grads, grads, out=scratch)
        scratch *= 1 - self.beta
        s += scratch
        np.sqrt(s, out=denom)
        denom += self.epsilon
        np.multiply(grads, lr, out=scratch)
        scratch /= denom
        params -= scratch

    def config(self) -> dict:
        return {"lr": self.lr, "beta": self.beta, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam with the course's bias correction (``1 - beta1**t`` and ``1 - beta2**t``, t from 1)."""

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
        # v = beta1 v + (1 - beta1) g ; s = beta2 s + (1 - beta2) g**2  (same rounding as the course)
        v *= self.beta1
        np.multiply(grads, 1 - self.beta1, out=scratch)
        v += scratch
        s *= self.beta2
        np.multiply(grads, grads, out=scratch)
        scratch *= 1 - self.beta2
        s += scratch
        # denom = sqrt(s / (1 - beta2**t)) + epsilon ; step = (lr * (v / (1 - beta1**t))) / denom
        np.divide(s, 1 - self.beta2**t, out=denom)
        np.sqrt(denom, out=denom)
        denom += self.epsilon
        np.divide(v, 1 - self.beta1**t, out=scratch)
        scratch *= lr
        scratch /= denom
        params -= scratch

    def config(self) -> dict:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay: ``W -= lr * weight_decay * W`` (weights only), then Adam.

    The decay multiplies the parameters by ``1 - lr * weight_decay`` before the Adam update, as
    ``torch.optim.AdamW`` does; ``init(params, weight_mask)`` limits it to the weights (the model
    passes its mask), ``weight_mask=None`` decays every parameter as PyTorch does by default.
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
            state.decay_mask = np.asarray(weight_mask, dtype=params.dtype)
        return state

    def _update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float) -> None:
        if self.weight_decay:
            if state.decay_mask is None:
                params *= 1 - lr * self.weight_decay
            else:
                np.multiply(params, state.decay_mask, out=state.scratch)
                state.scratch *= lr * self.weight_decay
                params -= state.scratch
        super()._update(params, grads, state, lr)

    def config(self) -> dict:
        return {**super().config(), "weight_decay": self.weight_decay}


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

    ``v_0 = 0``; ``v_t = beta v_{t-1} + (1 - beta) x_t``; with bias correction the result is
    ``v_t / (1 - beta**t)`` (t from 1), which removes the start-up bias towards zero.
    It averages over roughly the last ``1 / (1 - beta)`` values.

    Parameters
    ----------
    values : sequence of float, shape (n,) or (n, ...)
        The sequence, first axis is time.
    beta : float in [0, 1)
    bias_correction : bool

    Returns
    -------
    ndarray of the same shape as ``values``.
    """
    beta = _check_beta("beta", beta)
    x = np.asarray(values, dtype=float)
    out = np.empty_like(x)
    v = np.zeros_like(x[0]) if x.ndim > 1 else 0.0
    for t in range(x.shape[0]):
        v = beta * v + (1 - beta) * x[t]
        out[t] = v / (1 - beta ** (t + 1)) if bias_correction else v
    return out


