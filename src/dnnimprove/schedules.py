"""Learning-rate schedules: plain functions of a counter (the epoch, or the step when asked).

``schedule(epoch) -> lr``. A schedule keeps no state and knows nothing of the optimizer; the training
loop owns the counter and calls it at the start of every epoch (``fit(..., schedule=...)``) or before
every step (``per_step=True``).

=====================  =================================================
schedule               ``lr(epoch)``
=====================  =================================================
``Constant``           ``lr0``
``InverseTimeDecay``   ``lr0 / (1 + decay_rate * epoch)``
``InverseSqrtDecay``   ``k * lr0 / sqrt(epoch + 1)``
``FixedIntervalDecay`` ``lr0 / (1 + decay_rate * floor(epoch / time_interval))``
``ExponentialDecay``   ``lr0 * decay_rate ** epoch``
``StepDecay``          ``lr0 * drop ** floor(epoch / every)`` (``Staircase``)
``CosineDecay``        ``lr_min + (lr0 - lr_min) * (1 + cos(pi * min(epoch, total) / total)) / 2``
=====================  =================================================

The course lists four decays beside manual decay: ``1 / (1 + decay_rate * epoch_num) * lr0``
(``InverseTimeDecay``), ``0.95 ** epoch_num * lr0`` (``ExponentialDecay``), ``k / sqrt(epoch_num) * lr0``
(``InverseSqrtDecay``) and the *discrete staircase*, a rate that drops by a fixed factor every few epochs
(``StepDecay``, also exported as ``Staircase``; ``drop=0.5`` halves it). ``FixedIntervalDecay`` is the
staircase form of the inverse-time decay (the rate changes only every ``time_interval`` epochs), the
course's ``schedule_lr_decay``. Epochs count from 0 here and from 1 in the course (``epoch_num = epoch + 1``);
only ``InverseSqrtDecay``, whose formula divides by ``sqrt(epoch_num)``, needs the shift to be defined at 0.

Peers count differently (``dnnimprove.conventions`` translates): Keras's
``InverseTimeDecay(initial_learning_rate, decay_steps, decay_rate, staircase)`` is evaluated at the optimizer
*step*, ``lr0 / (1 + decay_rate * step / decay_steps)`` (``floor`` with ``staircase=True``), so our per-epoch
``FixedIntervalDecay`` is Keras's staircase form with ``decay_steps = time_interval * steps_per_epoch``;
scikit-learn's ``learning_rate="invscaling"`` is ``lr0 / t**power_t`` with ``t`` counting *samples* seen;
PyTorch has no inverse-time scheduler (``LambdaLR(opt, lambda epoch: 1 / (1 + k * epoch))`` stepped per epoch).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable, ClassVar

from ._validation import Constraint, Integer, IsCallable, Real, check_choice, check_number, validate_params

__all__ = [
    "Schedule",
    "Constant",
    "InverseTimeDecay",
    "InverseSqrtDecay",
    "FixedIntervalDecay",
    "ExponentialDecay",
    "StepDecay",
    "Staircase",
    "CosineDecay",
    "Shifted",
    "SCHEDULES",
    "get_schedule",
    "checked_lr",
]


class Schedule:
    """Base class: a frozen dataclass with ``__call__(counter) -> lr``.

    Its fields are checked at construction against the class's ``_parameter_constraints`` table.
    """

    name: ClassVar[str] = "schedule"
    per_step: bool = False
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {}

    def __post_init__(self) -> None:
        validate_params(self._parameter_constraints, **{name: getattr(self, name) for name in self._parameter_constraints})

    def __call__(self, counter: int) -> float:
        raise NotImplementedError

    def config(self) -> dict:
        return {"name": self.name, **asdict(self)}


LR0 = Real(low=0.0, low_open=True)
"""The initial learning rate: ``> 0``."""
RATE = Real(low=0.0)
"""An inverse-time decay rate: ``>= 0``."""
FACTOR = Real(low=0.0, high=1.0, low_open=True)
"""A multiplicative decay factor: in ``(0, 1]``."""


@dataclass(frozen=True)
class Constant(Schedule):
    """``lr = lr0`` at every epoch."""

    lr0: float
    per_step: bool = False
    name: ClassVar[str] = "constant"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"lr0": LR0}

    def __call__(self, counter: int) -> float:
        return self.lr0


@dataclass(frozen=True)
class InverseTimeDecay(Schedule):
    """``lr = lr0 / (1 + decay_rate * epoch)``: the course's ``update_lr``."""

    lr0: float
    decay_rate: float = 1.0
    per_step: bool = False
    name: ClassVar[str] = "inverse_time"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"lr0": LR0, "decay_rate": RATE}

    def __call__(self, counter: int) -> float:
        return self.lr0 / (1 + self.decay_rate * counter)


@dataclass(frozen=True)
class InverseSqrtDecay(Schedule):
    """``lr = k * lr0 / sqrt(epoch + 1)``: the course's ``k / sqrt(epoch_num) * lr0`` with ``epoch_num = epoch + 1``.

    The course counts epochs from 1, so its formula is defined at its first epoch; counting from 0 as
    ``fit`` does, the first epoch runs at ``k * lr0`` (``lr0`` with the default ``k = 1``), the fourth at
    ``k * lr0 / 2``. ``k > 0`` scales the whole curve (the course's constant; with ``k = 1`` it is
    ``lr0 / sqrt(epoch_num)``).
    """

    lr0: float
    k: float = 1.0
    per_step: bool = False
    name: ClassVar[str] = "inverse_sqrt"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"lr0": LR0, "k": Real(low=0.0, low_open=True)}

    def __call__(self, counter: int) -> float:
        return self.k * self.lr0 / math.sqrt(counter + 1)


@dataclass(frozen=True)
class FixedIntervalDecay(Schedule):
    """``lr = lr0 / (1 + decay_rate * floor(epoch / time_interval))``: the course's ``schedule_lr_decay``.

    The staircase form of :class:`InverseTimeDecay`: constant for ``time_interval`` epochs, then one step
    down the inverse-time curve (Keras's ``InverseTimeDecay(..., staircase=True)`` per epoch).
    """

    lr0: float
    decay_rate: float = 1.0
    time_interval: int = 1000
    per_step: bool = False
    name: ClassVar[str] = "fixed_interval"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"lr0": LR0, "decay_rate": RATE,
                                                               "time_interval": Integer(low=1)}

    def __call__(self, counter: int) -> float:
        return self.lr0 / (1 + self.decay_rate * math.floor(counter / self.time_interval))


@dataclass(frozen=True)
class ExponentialDecay(Schedule):
    """``lr = lr0 * decay_rate ** epoch`` (``decay_rate`` in (0, 1])."""

    lr0: float
    decay_rate: float = 0.95
    per_step: bool = False
    name: ClassVar[str] = "exponential"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"lr0": LR0, "decay_rate": FACTOR}

    def __call__(self, counter: int) -> float:
        return self.lr0 * self.decay_rate**counter


@dataclass(frozen=True)
class StepDecay(Schedule):
    """``lr = lr0 * drop ** floor(epoch / every)``: drop by a factor every ``every`` epochs.

    The course's *discrete staircase* (also exported as :data:`Staircase`): the rate stays flat for
    ``every`` epochs, then drops by the factor ``drop`` in (0, 1] (``0.5``: halved at each stair).
    """

    lr0: float
    drop: float = 0.5
    every: int = 100
    per_step: bool = False
    name: ClassVar[str] = "step"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"lr0": LR0, "drop": FACTOR, "every": Integer(low=1)}

    def __call__(self, counter: int) -> float:
        return self.lr0 * self.drop ** math.floor(counter / self.every)


@dataclass(frozen=True)
class CosineDecay(Schedule):
    """``lr = lr_min + (lr0 - lr_min) * (1 + cos(pi * min(epoch, total) / total)) / 2``."""

    lr0: float
    total: int = 1000
    lr_min: float = 0.0
    per_step: bool = False
    name: ClassVar[str] = "cosine"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"lr0": LR0, "total": Integer(low=1), "lr_min": Real(low=0.0)}

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number("lr_min", self.lr_min, low=0.0, high=self.lr0)  # its upper bound is another field

    def __call__(self, counter: int) -> float:
        progress = min(counter, self.total) / self.total
        return self.lr_min + (self.lr0 - self.lr_min) * (1 + math.cos(math.pi * progress)) / 2


@dataclass(frozen=True)
class Shifted(Schedule):
    """``lr(epoch) = schedule(max(epoch - by, 0))``: another schedule, ``by`` epochs late.

    The course's exercises decay *after* epoch ``i`` from its index, so epochs 0 and 1 both run at
    ``lr0`` and epoch ``e >= 1`` at ``schedule(e - 1)``: ``Shifted(FixedIntervalDecay(0.1))`` reproduces
    its published decay table exactly; the plain schedule is the textbook ``lr0 / (1 + k * epoch)``.
    """

    schedule: Callable[[int], float]
    by: int = 1
    name: ClassVar[str] = "shifted"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"schedule": IsCallable("epoch -> lr"), "by": Integer(low=0)}

    @property
    def per_step(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.schedule, "per_step", False))

    def __call__(self, counter: int) -> float:
        return self.schedule(max(counter - self.by, 0))

    def config(self) -> dict:
        inner = self.schedule.config() if isinstance(self.schedule, Schedule) else repr(self.schedule)
        return {"name": self.name, "schedule": inner, "by": self.by}


Staircase = StepDecay
"""The course's discrete staircase: another name for :class:`StepDecay` (its config keeps the name ``"step"``)."""

SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls
    for cls in (Constant, InverseTimeDecay, InverseSqrtDecay, FixedIntervalDecay, ExponentialDecay, StepDecay,
                CosineDecay)
}


def get_schedule(name: str, **settings: Any) -> Schedule:
    """Build a schedule by name (see ``SCHEDULES``)."""
    check_choice("schedule", name, SCHEDULES)
    return SCHEDULES[name](**settings)


def checked_lr(schedule: Callable[[int], float], counter: int) -> float:
    """Call ``schedule(counter)`` and check the result is a finite, non-negative learning rate.

    Zero is allowed (a cosine schedule with ``lr_min=0`` ends there; the step then changes nothing);
    a negative, infinite, NaN or non-numeric value is a ``ValueError`` naming the schedule and the counter.
    """
    lr = schedule(counter)
    try:
        return check_number(f"learning rate from schedule {schedule!r} at {counter}", lr, low=0.0)
    except TypeError as error:
        raise ValueError(str(error)) from None
