"""Engines: what runs an epoch's mini-batches for ``fit``, and the one place that chooses it.

An engine turns one epoch of the training loop into arithmetic: for each mini-batch, the gather of the
shuffled rows, ``forward -> loss -> backward -> (+ L2) -> optimizer update`` and the cost sum. Two exist:

- ``"numpy"`` (:class:`NumpyEngine`): each block's own NumPy code, one call per layer; the reference, and
  bit for bit the course in course-exact mode;
- ``"compiled"`` (:mod:`dnnimprove.compiled`, needs numba): the same formulas, taken from the same blocks and
  compiled into one call per epoch (one per mini-batch when something must run between mini-batches).

:func:`select_engine` resolves ``fit``'s ``engine`` argument (``"auto"``, the default, picks ``"compiled"``
where it can and says why not where it cannot). Both engines draw the same random numbers from the model's
random source in the same order; they agree up to rounding (the order of the sums in the matrix products).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ._validation import check_choice
from .batches import Batches, NonFinite
from .optimizers import RuleProgram

__all__ = ["ENGINES", "EngineChoice", "NumpyEngine", "NonFinite", "select_engine", "build_engine"]

ENGINES = ("auto", "numpy", "compiled")
"""``fit``'s ``engine`` values."""


class EngineChoice:
    """The engine ``fit`` runs and why: ``name`` ("numpy" or "compiled") and ``reason`` (one line)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name, self.reason = name, reason

    def __repr__(self) -> str:
        return f"EngineChoice({self.name!r}, {self.reason!r})"


class Snapshot:
    """The start of an epoch: parameters, optimizer state (``t`` and its slots) and non-trained state
    (batch-norm running statistics), copied into buffers allocated once; ``restore`` puts them back."""

    def __init__(self, run: Any) -> None:
        self.arrays = [run.model.params, *run.model.state_arrays().values()]
        self.arrays += [getattr(run.state, key) for key in run.optimizer.slots]
        self.copies = [array.copy() for array in self.arrays]
        self.state, self.t = run.state, run.state.t

    def take(self) -> None:
        for array, copy in zip(self.arrays, self.copies):
            np.copyto(copy, array)
        self.t = self.state.t

    def restore(self) -> None:
        for array, copy in zip(self.arrays, self.copies):
            np.copyto(array, copy)
        self.state.t = self.t


class NumpyEngine:
    """Each block's NumPy code, mini-batch by mini-batch (see :meth:`Sequential.compute_gradients`)."""

    name = "numpy"
    chunks = False
    """Whether ``epochs`` runs several epochs in one call (the compiled engine's)."""

    def __init__(self, run: Any, batch_size: int | None, shuffle: bool,
                 augment: Callable[[np.ndarray, Any], np.ndarray] | None) -> None:
        self.run = run
        self.batches = Batches(run.X, run.Y, batch_size, shuffle)
        self.augment = augment
        self.order: np.ndarray | None = None
        run.optimizer.check_state(run.model.params, run.model.grads, run.state)
        self.snapshot = Snapshot(run)
        self.t_start = run.state.t
        self.rule_program = RuleProgram()  # the update's workspaces, for this fit's arrays

    def begin_epoch(self, epoch: int) -> None:
        """Keep the epoch's start (for :meth:`restore`) and draw its permutation (shuffled mini-batches only)."""
        self.snapshot.take()
        self.t_start = self.snapshot.t
        if self.batches.shuffled:
            self.order = self.run.model.random.permutation(self.run.X.shape[0], epoch)

    def step(self, index: int, lr: float, need_cost: bool) -> float:
        """Mini-batch ``index`` of the epoch: gradient, checks, update; returns its data cost (NaN if not needed).

        Raises :class:`NonFinite` (and changes no parameter) on a non-finite cost or gradient.
        """
        run = self.run
        model, X, Y = run.model, run.X, run.Y
        start, stop, X_batch, Y_batch = self.batches.items[index]
        if self.order is not None:  # gather into the preallocated views; a permutation's rows are always in
            rows = self.order[start:stop]  # range, so "clip" skips the checked copy
            X.take(rows, 0, X_batch, "clip")
            Y.take(rows, 0, Y_batch, "clip")
        if self.augment is not None:
            X_batch = self.augment(X_batch, model.random)
        cost = model.compute_gradients(X_batch, Y_batch, True, run.l2, need_cost)
        if need_cost and not math.isfinite(cost):
            raise NonFinite(index, "cost")
        grads = model.grads
        if not math.isfinite(np.add.reduce(grads)) and not np.isfinite(grads).all():
            raise NonFinite(index, "gradient")
        run.optimizer.update(model.params, grads, run.state, lr, self.rule_program)
        return cost

    def restore(self) -> None:
        """Put back the start of the current epoch (after a non-finite cost, gradient or parameter)."""
        self.snapshot.restore()

    def check_parameters(self) -> None:
        """Raise :class:`NonFinite` when a parameter is NaN or infinite (an update overflowed)."""
        if not np.isfinite(self.run.model.params).all():
            raise NonFinite(self.n_batches - 1, "parameters")

    @property
    def n_batches(self) -> int:
        return len(self.batches.items)

    def batch_rows(self, index: int) -> int:
        start, stop = self.batches.items[index][:2]
        return stop - start

    def epoch(self, lr: float, need_cost: bool, costs: np.ndarray | None = None) -> float:
        """Every mini-batch of the epoch; returns the sum of ``cost * rows`` (0.0 when costs are not needed).
        ``costs`` (one per mini-batch; with ``need_cost``) receives each mini-batch's data cost."""
        total = 0.0
        for index in range(self.n_batches):
            cost = self.step(index, lr, need_cost)
            if need_cost:
                total += cost * self.batch_rows(index)
                if costs is not None:
                    costs[index] = cost
        return total


AUTO_MIN_STEPS = 2000
"""``engine="auto"`` compiles a network not compiled yet only for runs of at least this many mini-batch steps
(counting this process's earlier short runs of the same network): a first compilation takes seconds, a short
run less. A network already compiled (in this process, or in numba's disk cache: it loads in milliseconds)
runs compiled from ``AUTO_CACHED_MIN_STEPS`` steps."""

AUTO_CACHED_MIN_STEPS = 100
"""Below this many steps even a compiled network runs on NumPy (loading and calling the kernel cost more)."""


def _steps(settings: dict[str, Any]) -> int:
    rows, epochs, batch = settings.get("n_rows", 0), settings.get("epochs", 0), settings.get("batch_size")
    per_epoch = 1 if batch is None or rows == 0 else -(-rows // min(batch, rows))
    return epochs * per_epoch


def select_engine(engine: str, model: Any, course_exact: bool, settings: dict[str, Any]) -> tuple[EngineChoice, Any]:
    """Resolve ``fit``'s ``engine`` for this model and these settings: ``(EngineChoice, compiled module or None)``.

    ``"numpy"`` always runs NumPy. ``"compiled"`` runs the compiled engine or raises a ``ValueError`` naming
    what it cannot run (the layer and why, numba missing); it draws from any random source, the course's
    legacy stream too, with the NumPy engine's calls. ``"auto"`` runs the compiled engine where it can,
    NumPy otherwise, and never fails for that reason: NumPy in course-exact mode (``course_exact``: the
    model draws from :class:`dnnimprove.CourseRandom`, whose figures are the NumPy arithmetic's), without numba, or for a network or setting the compiled engine does
    not cover, or for a short run (fewer than ``AUTO_MIN_STEPS`` steps); the reason says which.
    ``settings`` holds ``fit``'s ``batch_size``, ``augment``, ``l2``, ``optimizer``, ``epochs`` and ``n_rows``.
    """
    check_choice("engine", engine, ENGINES)
    if engine == "numpy":
        return EngineChoice("numpy", "asked for (engine='numpy')"), None
    if course_exact and engine == "auto":
        return EngineChoice("numpy", "course-exact mode runs the course's NumPy arithmetic"), None
    from . import compiled

    reason = compiled.unsupported_reason(model, settings)
    steps = _steps(settings)
    if reason is None and engine == "auto" and steps < AUTO_MIN_STEPS and (
            steps < AUTO_CACHED_MIN_STEPS or compiled.unavailable_reason(imported_only=True) is not None
            or not compiled.ready_for(model, settings.get("optimizer"), steps, AUTO_MIN_STEPS)):
        reason = f"a short run ({steps} steps < {AUTO_MIN_STEPS}): compiling the network would cost more than it saves"
    if reason is None:
        reason = compiled.unavailable_reason()
    if reason is None:
        why = "asked for (engine='compiled')" if engine == "compiled" else "numba is installed and the network is supported"
        return EngineChoice("compiled", why), compiled
    if engine == "compiled":
        raise ValueError(f"engine='compiled' cannot run this fit: {reason}; use engine='numpy' or 'auto'")
    return EngineChoice("numpy", f"{reason} (engine='auto')"), None


def build_engine(choice: EngineChoice, compiled: Any, requested: str, run: Any, batch_size: int | None, shuffle: bool,
                 augment: Any) -> Any:
    """The engine object for ``choice``. When numba fails to compile the network, ``"auto"`` runs NumPy (one
    warning, and ``choice`` says why) and ``"compiled"`` raises a ``ValueError`` with the reason."""
    if compiled is not None:
        try:
            return compiled.CompiledEngine(run, batch_size, shuffle, augment)
        except compiled.CompileFailed as error:
            if requested == "compiled":
                raise ValueError(f"engine='compiled' cannot run this fit: {error}; use engine='numpy' or 'auto'") from None
            import warnings

            warnings.warn(f"{error}; this fit runs on NumPy", RuntimeWarning, stacklevel=3)
            choice.name, choice.reason = "numpy", f"{error} (engine='auto')"
    return NumpyEngine(run, batch_size, shuffle, augment)
