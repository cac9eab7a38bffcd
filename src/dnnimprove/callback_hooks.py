"""Callback hook signatures: dnnimprove's ``(run)`` hooks, Keras's ``(epoch, logs)`` hooks, and refusals.

A :class:`~dnnimprove.training.Callback` subclass is checked when its class is created
(``Callback.__init_subclass__`` calls :func:`adapt_hooks`), so a hook can never run with the wrong
meaning:

==========================================  ==========================================================================
hook defined as                             what happens
==========================================  ==========================================================================
``on_X(self, run)``                         dnnimprove's hook: called with the :class:`~dnnimprove.TrainingRun`
``on_epoch_end(self, epoch, logs=None)``    Keras's meaning: called with the epoch index and the epoch's metrics
                                            under Keras's names (``History.logs()``: ``loss``, ``accuracy``,
                                            ``val_loss``, ``val_accuracy``, ``lr``; ``{}`` at an epoch that
                                            ``record_every`` skips)
``on_train_begin(self, logs=None)``         Keras's meaning: called with ``{}``
``on_train_end(self, logs=None)``           Keras's meaning: called with the last recorded epoch's metrics
``on_batch_end(self, batch, logs)``         refused: Keras's batch logs hold running averages dnnimprove does
                                            not compute; use ``on_batch_end(self, run)`` (``run.batch``,
                                            ``run.batch_cost``)
any other ``on_*`` method                   refused (``on_epoch_begin``, ``on_train_batch_end``, ...): dnnimprove
                                            never calls it, so it would silently not run
==========================================  ==========================================================================

A refusal is a ``TypeError`` naming the class, the method, its signature and the expected one.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

__all__ = ["HOOKS", "adapt_hooks"]

HOOKS = ("on_train_begin", "on_batch_end", "on_epoch_end", "on_train_end", "on_interrupt")
"""The hooks ``fit`` calls, each as ``hook(run)``."""

_KERAS_LOGS_ONLY = {"on_train_begin", "on_train_end"}


def _expected() -> str:
    return ", ".join(f"{name}(self, run)" for name in HOOKS) + "; or Keras's on_epoch_end(self, epoch, logs=None), " \
        "on_train_begin(self, logs=None), on_train_end(self, logs=None)"


def _positional(function: Callable[..., Any]) -> list[inspect.Parameter] | None:
    """The parameters after ``self`` that take positions; ``None`` when it takes ``*args`` (any count)."""
    parameters = list(inspect.signature(function).parameters.values())[1:]
    if any(parameter.kind is inspect.Parameter.VAR_POSITIONAL for parameter in parameters):
        return None
    return [p for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]


def _refuse(cls: type, name: str, function: Callable[..., Any], why: str) -> TypeError:
    return TypeError(f"{cls.__name__}.{name}{inspect.signature(function)}: {why}; expected {_expected()}")


def _keras_epoch_end(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def on_epoch_end(self: Any, run: Any) -> None:
        function(self, run.epoch, run.history.logs(-1) if run.recorded else {})

    return on_epoch_end


def _keras_logs_only(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def hook(self: Any, run: Any) -> None:
        logs = run.history.logs(-1) if name == "on_train_end" and len(run.history) else {}
        function(self, logs)

    return hook


def adapt_hooks(cls: type) -> None:
    """Check the hooks ``cls`` defines itself; wrap Keras-style ones to receive Keras's arguments."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("on_") or not callable(member):
            continue
        if name not in HOOKS:
            raise _refuse(cls, name, member, f"dnnimprove never calls {name}, so it would not run")
        if getattr(member, "__wrapped__", None) is not None:
            continue
        parameters = _positional(member)
        if parameters is None:
            continue  # (self, *args): cannot tell, called as ours
        if len(parameters) == 1 and parameters[0].name != "logs":
            continue  # ours: (self, run)
        if name == "on_epoch_end" and len(parameters) == 2:
            setattr(cls, name, _keras_epoch_end(member))
        elif name in _KERAS_LOGS_ONLY and len(parameters) == 1:
            setattr(cls, name, _keras_logs_only(member, name))
        elif name == "on_batch_end" and len(parameters) == 2:
            raise _refuse(cls, name, member, "Keras's batch hook (its logs hold running averages dnnimprove does "
                          "not compute); read run.batch and run.batch_cost in on_batch_end(self, run)")
        else:
            raise _refuse(cls, name, member, "not a signature fit calls")
