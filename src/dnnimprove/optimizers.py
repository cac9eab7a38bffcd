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

Each update rule is written once, as :meth:`Optimizer.rule`: an element-wise formula over NumPy expressions
that works on the flat arrays (``step``, the NumPy engine) and on single numbers (the compiled engine,
:mod:`dnnimprove.compiled`, applies the same function element by element in one pass). Its numbers come
from :meth:`Optimizer.constants`, a function of the step ``t`` and the learning rate, cast to the
parameters' dtype by the engine, so float32 updates compute in float32 in both engines.
"""

from __future__ import annotations


from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ._inplace import in_place
from ._validation import Boolean, Constraint, Real, set_params_checked
from .ewma import ewma, ewma_step

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
    "ewma_step",
]


@dataclass
class OptimizerState:
    """What an optimizer remembers between steps: the algorithm's state, nothing else.

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
    """

    t: int = 0
    v: np.ndarray | None = None
    s: np.ndarray | None = None
    decay_mask: np.ndarray | None = None


BETA = Real(low=0.0, high=1.0, high_open=True)
"""An averaging weight (``beta``, ``beta1``, ``beta2``): in ``[0, 1)``."""
POSITIVE = Real(low=0.0, low_open=True)
"""A learning rate or an ``epsilon``: ``> 0``."""


class Optimizer:
    """Base class: ``init(params) -> OptimizerState`` and ``step(params, grads, state, lr)``.

    A subclass writes its update once, as three parts the engines share:

    - ``slots``: the state arrays the rule updates (``("v",)``, ``("s",)``, ``("v", "s")``), and ``inputs``:
      state arrays it only reads (AdamW's ``("decay_mask",)``);
    - ``hyperparameters()``: its fixed numbers, and ``constants(t, lr, *hyperparameters)``: the numbers of
      step ``t`` (a static function, computed in float64 and cast to the parameters' dtype);
    - ``rule(w, g, *slots, *inputs, *constants) -> (w, *slots)``: the new parameter and slot values, element-wise.
    """

    name: ClassVar[str] = "optimizer"
    slots: ClassVar[tuple[str, ...]] = ()
    inputs: ClassVar[tuple[str, ...]] = ()
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"lr": POSITIVE}
    """Each constructor argument's legal values (:func:`dnnimprove._validation.validate_params`)."""
    lr: float
    _program: RuleProgram | None = None

    def __init__(self, lr: float) -> None:
        set_params_checked(self, lr=lr)

    @property
    def uses_v(self) -> bool:
        return "v" in self.slots

    @property
    def uses_s(self) -> bool:
        return "s" in self.slots

    def init(self, params: np.ndarray, weight_mask: np.ndarray | None = None) -> OptimizerState:
        """Fresh state for a flat parameter vector: ``t = 0`` and zeros for each slot (``v``, ``s``).

        ``weight_mask`` (1 on weights, 0 elsewhere, as ``model.weight_mask``) is used by AdamW only.
        """
        return OptimizerState(t=0, **{key: np.zeros_like(params) for key in self.slots})

    def hyperparameters(self) -> tuple[float, ...]:
        """The fixed numbers :meth:`constants` receives after ``t`` and ``lr``."""
        return ()

    @staticmethod
    def constants(t, lr, *hyperparameters):
        """The rule's numbers for step ``t`` (counted from 1) at learning rate ``lr``."""
        return (lr,)

    @staticmethod
    def rule(w, g, *arguments):
        """``(new w, *new slots)`` from ``w``, ``g``, the slots, the inputs and the constants, element-wise."""
        raise NotImplementedError

    def arrays(self, state: OptimizerState) -> tuple[np.ndarray, ...]:
        """The state arrays the rule takes after ``w`` and ``g``: the slots, then the inputs."""
        return tuple(getattr(state, key) for key in self.slots + self.inputs)

    def check_state(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState) -> None:
        """Raise a clear ``ValueError`` unless ``state`` was made by ``self.init`` for these parameters."""
        if not isinstance(state, OptimizerState):
            raise TypeError(f"state must be an OptimizerState from optimizer.init(params); got {state!r}")
        if grads.shape != params.shape:
            raise ValueError(f"grads must have the shape of params {params.shape}; got {grads.shape}")
        for key in self.slots + self.inputs:
            array = getattr(state, key)
            if array is None or array.shape != params.shape or array.dtype != params.dtype:
                found = "missing" if array is None else f"{array.size} {array.dtype} values"
                raise ValueError(
                    f"optimizer state does not match the model: state.{key} is {found}, the model has "
                    f"{params.size} {params.dtype} parameters (was the model rebuilt, or the state made by "
                    f"another optimizer? call {type(self).__name__}.init(params) again)"
                )

    def step(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float | None = None) -> None:
        """Update ``params`` in place from ``grads`` (both shape ``(n_params,)``); advances ``state.t``.

        ``lr`` overrides the optimizer's own learning rate for this step (a schedule's value).
        """
        self.check_state(params, grads, state)
        self.update(params, grads, state, self.lr if lr is None else lr)

    def update(self, params: np.ndarray, grads: np.ndarray, state: OptimizerState, lr: float,
               program: RuleProgram | None = None) -> None:
        """``state.t += 1`` and one application of :meth:`rule` to the whole arrays (no state check), in place.

        The rule runs as traced in-place ufunc calls (:mod:`dnnimprove._inplace`): the same operations as
        ``rule`` on new arrays, so the same numbers, with its intermediates in workspaces that ``program``
        keeps (a training engine passes its own; by default a one-entry cache of this optimizer's).
        """
        state.t += 1
        if program is None:
            program = self._program
            if program is None:
                program = self._program = RuleProgram()
        program.apply(self, params, grads, state, lr)

    def config(self) -> dict:
        return {"lr": self.lr}

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.config().items())
        return f"{type(self).__name__}({args})"


class RuleProgram:
    """An optimizer's :meth:`~Optimizer.rule` run in place over one set of arrays (parameters, gradients, state).

    Holds the traced program (:func:`dnnimprove._inplace.in_place`: the rule's own ufunc calls, in its order,
    writing the new parameters and slots into their arrays and every intermediate into a workspace) and
    the workspaces, allocated once: an Adam step over ``n`` parameters keeps two ``(n,)`` workspaces instead
    of making ten new arrays. Traced again when the arrays, the optimizer's class or a number its rule tests
    with ``if`` change. Not for two threads at once.
    """

    __slots__ = ("key", "arrays", "program", "numbers", "views")

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.arrays: tuple = ()
        self.program: Any = None
        self.numbers = np.empty(0)
        self.views: tuple = ()

    def apply(self, optimizer: Optimizer, params: np.ndarray, grads: np.ndarray, state: OptimizerState,
              lr: float) -> None:
        """One application of ``optimizer``'s rule for step ``state.t`` (already advanced) at rate ``lr``."""
        constants = optimizer.constants(state.t, lr, *optimizer.hyperparameters())
        arrays = (params, grads, *optimizer.arrays(state))
        key = (type(optimizer), len(constants), *map(id, arrays))  # the arrays are held below: their ids stay theirs
        if key == self.key:
            # the constants cast to the parameters' dtype, passed as 0-d views of one array (a ufunc takes a
            # 0-d array faster than a NumPy scalar, and rounds the same)
            self.numbers[:] = constants
            if self.program(*arrays, *self.views) is not None:
                return
        self.key, self.arrays = None, ()
        self.numbers = numbers = np.array(constants, dtype=params.dtype)
        self.views = tuple(numbers[index:index + 1].reshape(()) for index in range(numbers.size))
        self.program = in_place(optimizer.rule, (*arrays, *self.views), (0, *range(2, 2 + len(optimizer.slots))))
        self.program(*arrays, *self.views)
        self.key, self.arrays = key, arrays


def _adam(w, g, v, s, beta1, one_minus_beta1, beta2, one_minus_beta2, epsilon, correction1, correction2, lr):
    """Adam's element-wise update (``correction = 1 - beta**t``): see :class:`Adam`."""
    v = ewma_step(v, g, beta1, one_minus_beta1)
    s = ewma_step(s, g * g, beta2, one_minus_beta2)
    return w - ((v / correction1) * lr) / (np.sqrt(s / correction2) + epsilon), v, s


class GradientDescent(Optimizer):
    """Plain gradient descent ``W -= lr * g`` (batch, mini-batch or stochastic, by ``fit``'s ``batch_size``).

    PyTorch: ``torch.optim.SGD(lr=lr)``; Keras: ``keras.optimizers.SGD(learning_rate=lr)``;
    scikit-learn: ``MLPClassifier(solver="sgd", momentum=0, learning_rate_init=lr)``.
    """

    name = "gd"

    @staticmethod
    def rule(w, g, lr):
        return (w - g * lr,)


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
    slots = ("v",)
    _parameter_constraints = {**Optimizer._parameter_constraints, "beta": BETA, "nesterov": Boolean()}
    beta: float
    nesterov: bool

    def __init__(self, lr: float = 0.01, beta: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(lr)
        set_params_checked(self, beta=beta, nesterov=nesterov)

    def hyperparameters(self) -> tuple[float, ...]:
        return (self.beta, float(self.nesterov))

    @staticmethod
    def constants(t, lr, beta, nesterov):
        return (beta, 1 - beta, lr, nesterov)

    @staticmethod
    def rule(w, g, v, beta, one_minus_beta, lr, nesterov):
        v = ewma_step(v, g, beta, one_minus_beta)
        return (w - (g * one_minus_beta + v * beta) * lr if nesterov else w - v * lr), v

    def config(self) -> dict:
        return {"lr": self.lr, "beta": self.beta, "nesterov": self.nesterov}


class RMSProp(Optimizer):
    """RMSprop: ``s = beta s + (1 - beta) g**2``; ``W -= lr * g / (sqrt(s) + epsilon)`` (``s`` starts at zero).

    No bias correction (Adam with ``beta1 = 0`` is the bias-corrected form). PyTorch's
    ``RMSprop(alpha=beta, eps=epsilon)`` is this formula exactly (its default alpha is 0.99); Keras's
    ``RMSprop(rho=beta, epsilon=epsilon)`` too (defaults 0.9 and 1e-7).
    """

    name = "rmsprop"
    slots = ("s",)
    _parameter_constraints = {**Optimizer._parameter_constraints, "beta": BETA, "epsilon": POSITIVE}
    beta: float
    epsilon: float

    def __init__(self, lr: float = 0.001, beta: float = 0.999, epsilon: float = 1e-8) -> None:
        super().__init__(lr)
        set_params_checked(self, beta=beta, epsilon=epsilon)

    def hyperparameters(self) -> tuple[float, ...]:
        return (self.beta, self.epsilon)

    @staticmethod
    def constants(t, lr, beta, epsilon):
        return (beta, 1 - beta, epsilon, lr)

    @staticmethod
    def rule(w, g, s, beta, one_minus_beta, epsilon, lr):
        s = ewma_step(s, g * g, beta, one_minus_beta)
        return w - (g * lr) / (np.sqrt(s) + epsilon), s

    def config(self) -> dict:
        return {"lr": self.lr, "beta": self.beta, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam with the course's bias correction (``t`` counts steps from 1)::

        v = beta1 v + (1 - beta1) g            s = beta2 s + (1 - beta2) g**2
        v_hat = v / (1 - beta1**t)             s_hat = s / (1 - beta2**t)
        W -= lr * v_hat / (sqrt(s_hat) + epsilon)

    computed as ``W - ((v / (1 - beta1**t)) lr) / (sqrt(s / (1 - beta2**t)) + epsilon)``.
    ``beta1 = 0`` is bias-corrected RMSprop. PyTorch's ``Adam(lr, betas=(beta1, beta2), eps=epsilon)`` is
    this formula exactly. Keras's ``Adam`` and scikit-learn's ``solver="adam"`` add their epsilon to
    ``sqrt(s)`` before the correction ("epsilon hat", Keras default 1e-7): theirs equals ours with
    ``epsilon_hat = epsilon * sqrt(1 - beta2**t)``, a factor that changes with ``t``.
    """

    name = "adam"
    slots = ("v", "s")
    _parameter_constraints = {**Optimizer._parameter_constraints, "beta1": BETA, "beta2": BETA, "epsilon": POSITIVE}
    beta1: float
    beta2: float
    epsilon: float

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8) -> None:
        super().__init__(lr)
        set_params_checked(self, beta1=beta1, beta2=beta2, epsilon=epsilon)

    def hyperparameters(self) -> tuple[float, ...]:
        return (self.beta1, self.beta2, self.epsilon)

    @staticmethod
    def constants(t, lr, beta1, beta2, epsilon):
        return (beta1, 1 - beta1, beta2, 1 - beta2, epsilon, 1 - beta1 ** float(t), 1 - beta2 ** float(t), lr)

    rule = staticmethod(_adam)

    def config(self) -> dict:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay: ``W -= lr * weight_decay * W`` (weights only), then the Adam step.

    The decay multiplies the parameters by ``1 - lr * weight_decay`` before the Adam update, as
    ``torch.optim.AdamW`` does (with the scheduled ``lr``); ``init(params, weight_mask)`` limits it to the
    weights (``fit`` passes the model's mask: ``W -= (W M) (lr weight_decay)``), ``weight_mask=None`` decays
    every parameter as PyTorch does by default. Unlike L2 (``fit(l2=...)``), the decay does not pass through
    the moments ``v`` and ``s``.
    """

    name = "adamw"
    inputs = ("decay_mask",)
    _parameter_constraints = {**Adam._parameter_constraints, "weight_decay": Real(low=0.0)}
    weight_decay: float

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(lr, beta1, beta2, epsilon)
        set_params_checked(self, weight_decay=weight_decay)

    def init(self, params: np.ndarray, weight_mask: np.ndarray | None = None) -> OptimizerState:
        """As :meth:`Optimizer.init`; ``decay_mask`` is ``weight_mask`` in the parameters' dtype, or all ones
        (every parameter decays, as PyTorch's default) when it is None."""
        state = super().init(params)
        if weight_mask is None:
            state.decay_mask = np.ones_like(params)
        else:
            mask = np.asarray(weight_mask, dtype=params.dtype)
            if mask.shape != params.shape:
                raise ValueError(f"weight_mask must have the shape of params {params.shape}; got {mask.shape}")
            state.decay_mask = mask
        return state

    def hyperparameters(self) -> tuple[float, ...]:
        return (self.beta1, self.beta2, self.epsilon, self.weight_decay)

    @staticmethod
    def constants(t, lr, beta1, beta2, epsilon, weight_decay):
        return (beta1, 1 - beta1, beta2, 1 - beta2, epsilon, 1 - beta1 ** float(t), 1 - beta2 ** float(t), lr,
                lr * weight_decay)

    @staticmethod
    def rule(w, g, v, s, decay_mask, beta1, one_minus_beta1, beta2, one_minus_beta2, epsilon, correction1,
             correction2, lr, decay):
        w = w - (w * decay_mask) * decay
        return _adam(w, g, v, s, beta1, one_minus_beta1, beta2, one_minus_beta2, epsilon, correction1, correction2, lr)

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
