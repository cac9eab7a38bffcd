"""What both engines share below them: an epoch's mini-batches and the signal of a non-finite step.

Its own module so that :mod:`dnnimprove.engine` (which chooses an engine and may import the compiled one)
and :mod:`dnnimprove.compiled` (which runs one) both stand above it, with no import circle between them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Batches", "NonFinite"]


class NonFinite(Exception):
    """Raised by an engine when a mini-batch's cost or gradient is NaN or infinite (``what``, ``batch``)."""

    def __init__(self, batch: int, what: str, epoch: int | None = None) -> None:
        self.batch, self.what, self.epoch = batch, what, epoch
        super().__init__(f"non-finite {what} at mini-batch {batch}")



class Batches:
    """The mini-batches of an epoch: ``(start, stop, X_batch, Y_batch)`` each, shuffled ones gathered into
    preallocated buffers; ``order`` is the epoch's permutation (None: not shuffled)."""

    def __init__(self, X: np.ndarray, Y: np.ndarray, batch_size: int | None, shuffle: bool) -> None:
        m = X.shape[0]
        self.size = m if batch_size is None else min(batch_size, m)
        bounds = [(start, min(start + self.size, m)) for start in range(0, m, self.size)]
        self.shuffled = shuffle and len(bounds) > 1
        if self.shuffled:
            X_buffer = np.empty((self.size, X.shape[1]), dtype=X.dtype)
            Y_buffer = np.empty((self.size, Y.shape[1]), dtype=Y.dtype)
            self.items = [(start, stop, X_buffer[: stop - start], Y_buffer[: stop - start]) for start, stop in bounds]
        else:
            self.items = [(start, stop, X[start:stop], Y[start:stop]) for start, stop in bounds]
