"""CSVLogger: one row per recorded epoch, the History metrics under Keras's names."""

from __future__ import annotations

import csv
import os
from typing import Any

from ..training import Callback, TrainingRun
from ._metrics import epoch_metrics

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Write ``epoch`` and the epoch's metrics to ``path`` as CSV, one row per recorded epoch.

    The columns are fixed at the first row: ``epoch, loss, [accuracy,] [val_loss, val_accuracy,] lr,
    data_cost, penalty`` (as recorded; a metric that is NaN at an epoch leaves its cell empty). Each row is
    flushed as it is written, so the file can be followed while training runs. ``append=True`` adds to an
    existing file (its header kept) instead of replacing it, e.g. for a second ``fit`` that continues.
    Read it back with ``csv.DictReader`` or ``pandas.read_csv``.
    """

    def __init__(self, path: str | os.PathLike, append: bool = False, separator: str = ",") -> None:
        self.path = os.fspath(path)
        if not isinstance(append, bool):
            raise TypeError(f"append must be True or False; got {append!r}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator must be one character; got {separator!r}")
        self.append, self.separator = append, separator
        self._stream: Any = None
        self._writer: Any = None

    def on_train_begin(self, run: TrainingRun) -> None:
        keep = self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0
        self._stream = open(self.path, "a" if keep else "w", newline="", encoding="utf-8")
        self._writer = None
        if keep:
            with open(self.path, newline="", encoding="utf-8") as existing:
                header = next(csv.reader(existing, delimiter=self.separator), None)
            if header:
                self._writer = csv.DictWriter(self._stream, header, delimiter=self.separator, restval="",
                                              extrasaction="ignore")

    def on_epoch_end(self, run: TrainingRun) -> None:
        if not run.recorded:
            return
        row = {"epoch": run.epoch, **epoch_metrics(run)}
        if self._writer is None:
            self._writer = csv.DictWriter(self._stream, list(row), delimiter=self.separator, restval="",
                                          extrasaction="ignore")
            self._writer.writeheader()
        self._writer.writerow(row)
        self._stream.flush()

    def on_train_end(self, run: TrainingRun) -> None:
        self._close()

    def on_interrupt(self, run: TrainingRun) -> None:
        self._close()

    def _close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def __repr__(self) -> str:
        return f"CSVLogger({self.path!r}, append={self.append})"
