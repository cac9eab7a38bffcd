"""TensorBoard: scalars per epoch, per-layer weight and gradient histograms, training-health statistics.

Writes TensorBoard event files with the ``tensorboard`` package's own writer (no TensorFlow or PyTorch
needed; ``pip install "dnnimprove[tracking]"``). Tags, all with ``step = epoch``:

=========================================  ===================================================================
tag                                        value
=========================================  ===================================================================
``epoch/loss``, ``epoch/val_loss``,        the History metrics of the epoch (Keras's names), plus
``epoch/accuracy``, ``epoch/val_accuracy``,  ``epoch/data_cost`` and ``epoch/penalty``
``epoch/lr``
``weights/<tensor>``                       histogram of each tensor (``dense_1.W``, ``batch_norm_1.gamma``, ...)
``gradients/<tensor>``                     histogram of its gradient from the epoch's last mini-batch
``health/grad_norm/<layer>``, ...          :class:`~dnnimprove.TrainingHealth`'s ``grad_norm``,
                                           ``activation_mean``, ``activation_std``, ``dead_fraction``
=========================================  ===================================================================

Read back with ``tensorboard.backend.event_processing.event_accumulator.EventAccumulator(logdir)``.
"""

from __future__ import annotations

import os
import time
from typing import Any, ClassVar

import numpy as np

from .._validation import Boolean, Constraint, Integer, validate_params
from ..health import TrainingHealth
from ..training import Callback, TrainingRun
from ._metrics import epoch_metrics, import_extra

__all__ = ["TensorBoard"]

HISTOGRAM_BINS = 30


class TensorBoard(Callback):
    """Log training to TensorBoard event files in ``logdir`` (created if missing).

    Parameters
    ----------
    logdir : path
        The run's directory (``tensorboard --logdir`` its parent to compare runs).
    histograms_every : int >= 0
        Write weight and gradient histograms every this many epochs (and at the last); 0: never.
    health : bool
        Also measure and write the training-health statistics (one inference pass over up to 512 rows
        per recorded epoch, as :class:`~dnnimprove.TrainingHealth` does).
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"histograms_every": Integer(low=0), "health": Boolean()}
    """The checked constructor arguments' legal values (:func:`dnnimprove._validation.validate_params`)."""

    def __init__(self, logdir: str | os.PathLike, histograms_every: int = 1, health: bool = True) -> None:
        self.logdir = os.fspath(logdir)
        checked = validate_params(self._parameter_constraints, histograms_every=histograms_every, health=health)
        self.histograms_every: int = checked["histograms_every"]
        self.health = TrainingHealth() if checked["health"] else None
        self._summary = import_extra("tensorboard.compat.proto.summary_pb2", "TensorBoard logging")
        self._event = import_extra("tensorboard.compat.proto.event_pb2", "TensorBoard logging")
        self._writer_module = import_extra("tensorboard.summary.writer.event_file_writer", "TensorBoard logging")
        self._writer: Any = None

    # -- callback hooks ---------------------------------------------------------------------------------------
    def on_train_begin(self, run: TrainingRun) -> None:
        os.makedirs(self.logdir, exist_ok=True)
        self._writer = self._writer_module.EventFileWriter(self.logdir)
        if self.health is not None:
            self.health.on_train_begin(run)

    def on_batch_end(self, run: TrainingRun) -> None:
        if self.health is not None:
            self.health.on_batch_end(run)

    def on_epoch_end(self, run: TrainingRun) -> None:
        if self.health is not None:
            self.health.on_epoch_end(run)
        if not run.recorded:
            return
        values = [self._scalar(f"epoch/{key}", value) for key, value in epoch_metrics(run).items()]
        if self.health is not None and self.health.records and self.health.records[-1].epoch == run.epoch:
            record = self.health.records[-1]
            for statistic in ("grad_norm", "activation_mean", "activation_std", "dead_fraction"):
                for layer, value in getattr(record, statistic).items():
                    if np.isfinite(value):
                        values.append(self._scalar(f"health/{statistic}/{layer}", value))
        last = run.epoch == run.epochs - 1 or run.stop
        if self.histograms_every and (run.epoch % self.histograms_every == 0 or last):
            model = run.model
            for info in model.table:
                values.append(self._histogram(f"weights/{info.name}", model.params[info.slice]))
                values.append(self._histogram(f"gradients/{info.name}", model.grads[info.slice]))
        self._write(run.epoch, values)

    def on_train_end(self, run: TrainingRun) -> None:
        self._close()

    def on_interrupt(self, run: TrainingRun) -> None:
        self._close()

    # -- writing ----------------------------------------------------------------------------------------------
    def _scalar(self, tag: str, value: float) -> Any:
        return self._summary.Summary.Value(tag=tag, simple_value=float(value))

    def _histogram(self, tag: str, values: np.ndarray) -> Any:
        values = np.asarray(values, dtype=np.float64)
        values = values[np.isfinite(values)]
        proto = self._summary.HistogramProto()
        if values.size:
            counts, edges = np.histogram(values, bins=HISTOGRAM_BINS)
            proto.min, proto.max = float(values.min()), float(values.max())
            proto.num, proto.sum = float(values.size), float(values.sum())
            proto.sum_squares = float(np.dot(values, values))
            proto.bucket_limit.extend(edges[1:].tolist())
            proto.bucket.extend(counts.astype(float).tolist())
        return self._summary.Summary.Value(tag=tag, histo=proto)

    def _write(self, step: int, values: list[Any]) -> None:
        event = self._event.Event(wall_time=time.time(), step=int(step), summary=self._summary.Summary(value=values))
        self._writer.add_event(event)
        self._writer.flush()

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __repr__(self) -> str:
        return f"TensorBoard({self.logdir!r}, histograms_every={self.histograms_every}, health={self.health is not None})"
