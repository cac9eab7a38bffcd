"""One factory from a settings mapping to the network's layers, the optimizer and the schedule.

The estimators, the studies and ``dnnimprove train`` describe a run by the same flat names (the course's):
``activation``, ``init``, ``keep_prob``, ``batch_norm``, ``l1`` for the network; ``optimizer``, ``lr``, ``beta``
(momentum, RMSprop), ``beta1``, ``beta2``, ``epsilon`` (Adam) for the update; ``schedule``,
``decay_rate``, ``time_interval`` and ``schedule_params`` for the learning-rate decay. Each caller keeps
its own defaults (an estimator's are its constructor's, a study's its recipe's) and hands the values here,
where they are checked and turned into objects in one way.

A value ``None`` means "the block's own default". Every given value is range-checked. An optimizer
setting the chosen optimizer does not take (``beta1`` for momentum) is ignored, as in scikit-learn; a
schedule setting the chosen schedule does not take (``decay_rate`` for a step decay) must be left unset
(``None`` or its default in :data:`UNSET`), else it is a ``ValueError`` naming it.
"""

from __future__ import annotations

import numbers
from typing import Any, Iterable, Mapping, Sequence

from ._validation import Boolean, Options, Real, check_choice, check_int, validate_params
from .initializers import get_initializer
from .layers import ACTIVATIONS, Layer, dense_stack
from .optimizers import BETA, OPTIMIZERS, POSITIVE, Optimizer
from .schedules import SCHEDULES, Schedule, Shifted

__all__ = ["OPTIMIZER_SETTINGS", "SCHEDULE_SETTINGS", "UNSET", "build_layers", "build_optimizer", "build_schedule"]

OPTIMIZER_SETTINGS: dict[str, tuple[str, ...]] = {
    "gd": (),
    "momentum": ("beta",),
    "rmsprop": ("beta", "epsilon"),
    "adam": ("beta1", "beta2", "epsilon"),
    "adamw": ("beta1", "beta2", "epsilon"),
}
"""The settings (besides ``lr``) each optimizer takes."""

SCHEDULE_SETTINGS: dict[str, tuple[str, ...]] = {
    "inverse_time": ("decay_rate",),
    "inverse_sqrt": (),
    "fixed_interval": ("decay_rate", "time_interval"),
    "exponential": ("decay_rate",),
    "step": (),
    "cosine": (),
}
"""The flat settings each schedule takes (any other of its arguments comes through ``schedule_params``)."""

UNSET: dict[str, tuple[Any, ...]] = {
    "decay_rate": (None, 1.0),
    "time_interval": (None, 1000),
}
"""Values that count as "not given" for a schedule that does not take the setting."""

SETTING_CONSTRAINTS = {
    "activation": Options(ACTIVATIONS),
    "keep_prob": Real(low=0.0, high=1.0, low_open=True, none_ok=True),
    "batch_norm": Boolean(),
    "optimizer": Options(OPTIMIZERS),
    "lr": POSITIVE,
    "beta": BETA,
    "beta1": BETA,
    "beta2": BETA,
    "epsilon": POSITIVE,
}
"""The legal values of the settings checked here (the blocks' own constructors check the rest)."""


def check_hidden(hidden: Any) -> tuple[int, ...]:
    """Hidden widths as a tuple of positive ints (one int is one layer)."""
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (Sequence, tuple, list)):
        raise TypeError(f"hidden_layer_sizes must be a sequence of positive integers, e.g. (64, 32); got {hidden!r}")
    return tuple(check_int(f"hidden_layer_sizes[{index}]", units, low=1) for index, units in enumerate(hidden))


def build_layers(hidden: Iterable[int], n_outputs: int, settings: Mapping[str, Any]) -> list[Layer]:
    """``Dense -> [BatchNorm] -> activation -> [Dropout]`` per hidden width, then ``Dense(n_outputs)``.

    Uses ``activation`` (default ``"relu"``), ``init`` (default ``"he"``), ``batch_norm`` (default False),
    ``keep_prob`` (``None`` or 1.0: no dropout) and ``l1`` (default 0: every ``Dense`` layer's L1 strength) of
    ``settings``.
    """
    init = settings.get("init", "he")
    get_initializer(init)
    checked = validate_params(SETTING_CONSTRAINTS, activation=settings.get("activation", "relu"),
                              keep_prob=settings.get("keep_prob"), batch_norm=settings.get("batch_norm", False))
    return dense_stack(check_hidden(hidden), n_outputs, init=init, l1=settings.get("l1") or 0.0, **checked)


def _required(settings: Mapping[str, Any], key: str) -> Any:
    if key not in settings:
        raise ValueError(f"settings must give {key!r}; got the keys {sorted(settings)}")
    return settings[key]


def _refuse_unused(settings: Mapping[str, Any], taken: Sequence[str], candidates: Iterable[str], owner: str) -> None:
    """A setting ``owner`` does not take must be unset (see :data:`UNSET`)."""
    for key in candidates:
        value = settings.get(key)
        if key not in taken and value is not None and value not in UNSET[key][1:]:
            raise ValueError(f"{owner}: takes no {key}; got {key}={value!r}")


def build_optimizer(settings: Mapping[str, Any]) -> Optimizer:
    """The optimizer named by ``settings["optimizer"]`` (required, as ``lr``) with the settings of its own that are set.

    Every given ``beta``, ``beta1``, ``beta2``, ``epsilon`` is range-checked; one the optimizer does not take
    is ignored, as scikit-learn's ``MLPClassifier`` ignores ``beta_1`` unless ``solver="adam"`` (a search
    space may draw ``beta`` for every optimizer it tries).
    """
    checked = validate_params(SETTING_CONSTRAINTS, optimizer=_required(settings, "optimizer"), lr=_required(settings, "lr"))
    given = {key: settings[key] for key in ("beta", "beta1", "beta2", "epsilon") if settings.get(key) is not None}
    validate_params(SETTING_CONSTRAINTS, **given)
    name = checked["optimizer"]
    taken = {key: value for key, value in given.items() if key in OPTIMIZER_SETTINGS[name]}
    return OPTIMIZERS[name](lr=checked["lr"], **taken)


def build_schedule(settings: Mapping[str, Any], epochs: int | None = None, course_exact: bool = False) -> Schedule | None:
    """The schedule named by ``settings["schedule"]`` (``None``: a constant rate) with ``lr0 = settings["lr"]``.

    ``decay_rate`` and ``time_interval`` go to the schedules that take them; ``schedule_params`` (a dict)
    gives any other argument. A cosine decay spans ``epochs`` unless ``schedule_params`` says otherwise.
    ``course_exact`` shifts the schedule one epoch late (:class:`~dnnimprove.schedules.Shifted`), as the
    course's loop updates the rate after each epoch.
    """
    name = settings.get("schedule")
    params = settings.get("schedule_params")
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"schedule_params must be a dict or None; got {params!r}")
    if name is None:
        return None
    check_choice("schedule", name, SCHEDULE_SETTINGS)
    arguments = {key: settings[key] for key in SCHEDULE_SETTINGS[name] if settings.get(key) is not None}
    _refuse_unused(settings, SCHEDULE_SETTINGS[name], ("decay_rate", "time_interval"), f"schedule {name!r}")
    arguments.update(params or {})
    if name == "cosine" and epochs is not None:
        arguments.setdefault("total", epochs)
    try:
        schedule = SCHEDULES[name](_required(settings, "lr"), **arguments)
    except TypeError as error:  # a schedule_params key this schedule does not take
        raise ValueError(f"schedule {name!r}: {error}") from None
    return Shifted(schedule) if course_exact else schedule
