"""Training health: an opt-in callback that watches gradients and activations layer by layer.

``fit(..., callbacks=[health := dn.TrainingHealth()])`` records, per measured epoch:

- ``grad_norm[layer]``: the Frobenius norm of each weighted layer's weight gradient ``||dW||``, averaged over
  the epoch's mini-batches;
- ``activation_mean[layer]``, ``activation_std[layer]``: of every layer's output on a probe batch (the first
  ``probe_size`` training rows) in inference mode;
- ``dead_fraction[layer]``: for every ReLU layer, the fraction of its units that output 0 for every probe row.

and flags, each with the epoch and the layer where it first appears:

=============  ===========================================================================================
``vanishing``  a weighted layer's ``||dW||`` is below ``vanishing_ratio`` (default 1e-2: two orders of
               magnitude) times the *last* weighted layer's
``exploding``  a gradient norm is not finite, is above ``exploding_ratio`` (default 1e2) times the last
               layer's, or has grown by ``growth`` (default 1e3) since the first measured epoch
``dead_units`` a ReLU layer has at least ``dead_fraction`` (default 0.5) of its units dead
=============  ===========================================================================================

Measured (``tests/test_health.py``: 10 layers of 8 units, standardized moons, seeds 0-3, first epoch):
``||dW_1|| / ||dW_10||`` is 6e-4 to 3e-3 for sigmoid with standard-normal weights and 0.08 to 1.4 for
He-initialized ReLU, which the 1e-2 default separates. Wider standard-normal sigmoid networks vanish less
(at initialization, one seed: about 5e-3 at width 16, 1e-2 at 32), because their larger weights offset the sigmoid's small slope.
Deep, narrow ReLU networks on low-dimensional inputs often have half of a layer's units dead from the start
(a real effect, flagged as such), so ``dead_units`` may appear for He-initialized networks too.
A non-finite gradient also stops ``fit`` with :class:`dnnimprove.TrainingDiverged` before this callback sees
it; the growth test is the early warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ._validation import Constraint, Integer, Real, set_params_checked
from .layers import ReLU
from .training import Callback, TrainingRun

__all__ = ["TrainingHealth", "HealthRecord", "HealthFlag"]


@dataclass
class HealthRecord:
    """What :class:`TrainingHealth` measured at one epoch (dicts keyed by layer name, e.g. ``"dense_3"``)."""

    epoch: int
    grad_norm: dict[str, float] = field(default_factory=dict)
    activation_mean: dict[str, float] = field(default_factory=dict)
    activation_std: dict[str, float] = field(default_factory=dict)
    dead_fraction: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthFlag:
    """A problem seen at ``epoch`` in ``layer``: ``kind`` is ``vanishing``, ``exploding`` or ``dead_units``."""

    kind: str
    epoch: int
    layer: str
    value: float
    message: str

    def __str__(self) -> str:
        return f"epoch {self.epoch}, {self.layer}: {self.message}"


class TrainingHealth(Callback):
    """Record gradient norms and activation statistics per layer and flag vanishing, exploding and dead units.

    Parameters
    ----------
    every : int >= 1
        Measure every this many epochs (and at the last one); gradient norms average the mini-batches since
        the previous measurement.
    probe_size : int >= 1
        Rows of the training set used for the activation statistics (one inference-mode forward pass).
    vanishing_ratio : float in (0, 1)
        A layer whose ``||dW||`` is below this times the last weighted layer's is flagged ``vanishing``.
    exploding_ratio : float > 1
        A layer whose ``||dW||`` is above this times the last weighted layer's is flagged ``exploding``.
    growth : float > 1
        A layer whose ``||dW||`` grew by this factor since the first measurement is flagged ``exploding``.
    dead_fraction : float in (0, 1]
        A ReLU layer with at least this fraction of dead units is flagged ``dead_units``.

    Attributes
    ----------
    records : list of HealthRecord
        One per measured epoch.
    flags : list of HealthFlag
        One per (kind, layer), at the first epoch it appeared.
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "every": Integer(low=1),
        "probe_size": Integer(low=1),
        "vanishing_ratio": Real(low=0.0, high=1.0, low_open=True, high_open=True),
        "exploding_ratio": Real(low=1.0, low_open=True),
        "growth": Real(low=1.0, low_open=True),
        "dead_fraction": Real(low=0.0, high=1.0, low_open=True),
    }
    """Each constructor argument's legal values (:func:`dnnimprove._validation.validate_params`)."""
    every: int
    probe_size: int
    vanishing_ratio: float
    exploding_ratio: float
    growth: float
    dead_fraction: float

    def __init__(
        self,
        every: int = 1,
        probe_size: int = 512,
        vanishing_ratio: float = 1e-2,
        exploding_ratio: float = 1e2,
        growth: float = 1e3,
        dead_fraction: float = 0.5,
    ) -> None:
        set_params_checked(self, every=every, probe_size=probe_size, vanishing_ratio=vanishing_ratio,
                           exploding_ratio=exploding_ratio, growth=growth, dead_fraction=dead_fraction)
        self.records: list[HealthRecord] = []
        self.flags: list[HealthFlag] = []

    # -- callback hooks ---------------------------------------------------------------------------
    def on_train_begin(self, run: TrainingRun) -> None:
        model = run.model
        self.records, self.flags = [], []
        self._weights = [(model.layers[info.layer].name, info.slice) for info in model.table if info.role == "weight"]
        self._sums = np.zeros(len(self._weights))
        self._batches = 0
        self._first: dict[str, float] = {}

    def on_batch_end(self, run: TrainingRun) -> None:
        grads = run.model.grads
        with np.errstate(over="ignore", invalid="ignore"):  # a huge gradient is what we want to record
            for index, (_, where) in enumerate(self._weights):
                gradient = grads[where]
                self._sums[index] += math.sqrt(float(np.dot(gradient, gradient)))
        self._batches += 1

    def on_epoch_end(self, run: TrainingRun) -> None:
        if run.epoch % self.every != 0 and run.epoch != run.epochs - 1 and not run.stop:
            return
        record = HealthRecord(run.epoch)
        means = self._sums / max(self._batches, 1)
        record.grad_norm = {name: float(value) for (name, _), value in zip(self._weights, means)}
        self._sums[:] = 0
        self._batches = 0
        self._measure_activations(run, record)
        self.records.append(record)
        self._check(record)

    # -- measuring and judging --------------------------------------------------------------------
    def _measure_activations(self, run: TrainingRun, record: HealthRecord) -> None:
        A = run.X[: self.probe_size]
        with np.errstate(all="ignore"):  # overflowing activations are recorded as inf/nan, not warned about
            self._probe(run, record, A)

    def _probe(self, run: TrainingRun, record: HealthRecord, A: np.ndarray) -> None:
        for layer in run.model.layers:
            A = layer.forward(A, training=False)
            record.activation_mean[layer.name] = float(A.mean())
            record.activation_std[layer.name] = float(A.std())
            if isinstance(layer, ReLU):
                record.dead_fraction[layer.name] = float(np.mean(~np.any(A > 0, axis=0)))

    def _flag(self, kind: str, epoch: int, layer: str, value: float, message: str) -> None:
        if not any(flag.kind == kind and flag.layer == layer for flag in self.flags):
            self.flags.append(HealthFlag(kind, epoch, layer, value, message))

    def _check(self, record: HealthRecord) -> None:
        epoch, norms = record.epoch, record.grad_norm
        names = list(norms)
        last = names[-1]
        reference = norms[last]
        for name in names:
            norm = norms[name]
            self._first.setdefault(name, norm)
            if not math.isfinite(norm):
                self._flag("exploding", epoch, name, norm, f"gradient norm is {norm}")
                continue
            if name != last and reference > 0:
                ratio = norm / reference
                if ratio < self.vanishing_ratio:
                    self._flag("vanishing", epoch, name, ratio,
                               f"||dW|| = {norm:.3g} is {ratio:.2g} x the last layer's ({last}: {reference:.3g})")
                elif ratio > self.exploding_ratio:
                    self._flag("exploding", epoch, name, ratio,
                               f"||dW|| = {norm:.3g} is {ratio:.2g} x the last layer's ({last}: {reference:.3g})")
            first = self._first[name]
            if first > 0 and norm / first >= self.growth:
                self._flag("exploding", epoch, name, norm / first,
                           f"||dW|| grew {norm / first:.3g}-fold since the first measurement ({first:.3g} -> {norm:.3g})")
        for name, fraction in record.dead_fraction.items():
            if fraction >= self.dead_fraction:
                self._flag("dead_units", epoch, name, fraction,
                           f"{fraction:.0%} of the units output 0 for every probe row")

    # -- reading ----------------------------------------------------------------------------------
    def flagged(self, kind: str | None = None) -> list[HealthFlag]:
        """The flags, or only those of ``kind`` (``"vanishing"``, ``"exploding"``, ``"dead_units"``)."""
        return [flag for flag in self.flags if kind is None or flag.kind == kind]

    def report(self) -> str:
        """The flags, one line each, or a line saying nothing was flagged."""
        if not self.records:
            return "training health: nothing measured (was the callback passed to fit?)"
        if not self.flags:
            return f"training health: {len(self.records)} measurements, nothing flagged"
        return "\n".join([f"training health: {len(self.flags)} flags"] + [f"  {flag.kind}: {flag}" for flag in self.flags])
