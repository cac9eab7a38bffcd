"""Babysitting one model ("pandas"): change the learning rate of a run while it trains, or of a saved run.

The course contrasts two ways of tuning: with little compute, *babysit* one model, watching its cost
curve day by day and nudging the learning rate (a panda raising one cub); with plenty, train many models
in parallel and keep the best (caviar: :mod:`dnnimprove.search` with ``n_jobs`` or a Dask cluster).

- :class:`ManualDecay` is a schedule you change by hand while ``fit`` runs: ``set(lr, epoch)`` records
  a new rate from an epoch on, from a callback watching the cost or from another thread. It stays a
  function of the epoch (of its recorded changes), like every schedule.
- :func:`continue_with_lr` continues a fitted model, or a run saved by
  :class:`~dnnimprove.callbacks.Checkpoint`, for more epochs at a new learning rate, keeping the
  optimizer's state (momentum's ``v``, Adam's ``v``, ``s`` and ``t``), the batch-norm statistics and
  the random stream, so only the rate changes.
"""

from __future__ import annotations

import os
import threading
from typing import Any, ClassVar

from ._validation import Constraint, Integer, IsInstance, Real, validate_params

__all__ = ["ManualDecay", "continue_with_lr", "SET_CONSTRAINTS", "CONTINUE_CONSTRAINTS"]

_RATE = Real(low=0.0, low_open=True)

SET_CONSTRAINTS = {"lr": _RATE, "epoch": Integer(low=0)}
"""The legal values of :meth:`ManualDecay.set`'s arguments."""

CONTINUE_CONSTRAINTS = {
    "lr": _RATE, "epochs": Integer(low=0),
    "checkpoint": IsInstance((str, os.PathLike), "a checkpoint file path", none_ok=True),
}
"""The legal values of :func:`continue_with_lr`'s settings (the model, data and ``fit_options`` are checked by
``fit``)."""


class ManualDecay:
    """A learning rate you set by hand while training runs: ``lr(epoch)`` is the last rate set for an epoch <= it.

    >>> schedule = ManualDecay(0.1)
    >>> schedule.set(0.01, epoch=30)
    >>> schedule(29), schedule(30)
    (0.1, 0.01)

    ``set`` may be called from a callback (``on_epoch_end``: takes effect from the next epoch) or from
    another thread; the changes are kept in :attr:`changes` as ``[(epoch, lr), ...]``.
    """

    name = "manual"
    per_step = False
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"lr0": _RATE}
    """The constructor argument's legal values (:func:`dnnimprove._validation.validate_params`)."""

    def __init__(self, lr0: float) -> None:
        self.changes: list[tuple[int, float]] = [(0, validate_params(self._parameter_constraints, lr0=lr0)["lr0"])]
        self._lock = threading.Lock()

    def set(self, lr: float, epoch: int) -> None:
        """Use ``lr`` from epoch ``epoch`` on (epochs count from 0, as ``fit`` counts them)."""
        lr, epoch = validate_params(SET_CONSTRAINTS, lr=lr, epoch=epoch).values()
        with self._lock:
            kept = [change for change in self.changes if change[0] < epoch]
            self.changes = kept + [(epoch, lr)]

    def __call__(self, epoch: int) -> float:
        with self._lock:
            changes = self.changes
        return next(lr for start, lr in reversed(changes) if start <= epoch) if epoch >= 0 else changes[0][1]

    def config(self) -> dict:
        return {"name": self.name, "changes": [list(change) for change in self.changes]}

    def __repr__(self) -> str:
        return f"ManualDecay(changes={self.changes})"


def continue_with_lr(
    model: Any, X: Any, y: Any, *, lr: float, epochs: int, checkpoint: str | os.PathLike | None = None,
    **fit_options: Any,
) -> Any:
    """Train ``model`` ``epochs`` more epochs at learning rate ``lr``, continuing its optimizer's state.

    Without ``checkpoint`` the model must have been fitted: its ``optimizer_`` and ``optimizer_state_``
    continue with the new rate. With ``checkpoint`` (a file written by
    :class:`~dnnimprove.callbacks.Checkpoint`) the saved run is restored into ``model`` first: give the
    same data and ``fit_options`` it was trained with (batch size, L2, ...; the checkpoint checks them).
    ``fit_options`` go to both fits; the continuation runs at the constant rate ``lr`` (no schedule).

    Returns
    -------
    History
        The continuation's history (epochs counted from 0 again); the model holds the result.
    """
    from .optimizers import get_optimizer

    lr, epochs, checkpoint = validate_params(CONTINUE_CONSTRAINTS, lr=lr, epochs=epochs, checkpoint=checkpoint).values()
    if "optimizer" in fit_options or "schedule" in fit_options:
        raise ValueError("continue_with_lr sets the optimizer's rate itself: give no optimizer or schedule")
    if checkpoint is not None:
        _restore(model, X, y, os.fspath(checkpoint), fit_options)
    optimizer, state = getattr(model, "optimizer_", None), getattr(model, "optimizer_state_", None)
    if optimizer is None or state is None:
        raise ValueError("continue_with_lr needs a fitted model (or checkpoint=): this model was never trained")
    faster = get_optimizer(optimizer.name, **{**optimizer.config(), "lr": lr})
    return model.fit(X, y, epochs=epochs, optimizer=(faster, state), **fit_options)


def _restore(model: Any, X: Any, y: Any, path: str, fit_options: dict[str, Any]) -> None:
    """Put the run saved in ``path`` into ``model``: a fit resumed from it that has no epoch left to run."""
    from .checkpoint import Checkpoint
    from .optimizers import get_optimizer
    from .persistence import ModelFileError, read_archive

    def saved_run(archive: Any, header: dict) -> tuple[int, dict]:
        section = header.get("checkpoint")
        if header.get("kind") != "checkpoint" or not isinstance(section, dict):
            raise archive.error("is a model file, not a checkpoint (save one with callbacks=[Checkpoint(path)])")
        epoch, optimizer = section.get("epoch"), section.get("optimizer")
        if not isinstance(epoch, int) or not isinstance(optimizer, dict):
            raise archive.error("has no valid checkpoint.epoch and checkpoint.optimizer")
        return epoch, optimizer

    epoch, optimizer = read_archive(path, saved_run)
    try:
        saved_optimizer = get_optimizer(optimizer.get("name"), **optimizer.get("config", {}))
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: its optimizer cannot be rebuilt ({error})") from None
    callbacks = [*fit_options.pop("callbacks", ()), Checkpoint(path, resume=True)]
    model.fit(X, y, epochs=epoch, optimizer=saved_optimizer, callbacks=callbacks, **fit_options)
    fit_options["callbacks"] = callbacks[:-1]
