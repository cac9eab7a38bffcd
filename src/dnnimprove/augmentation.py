"""Data augmentation: transforms of a training mini-batch, for ``fit(..., augment=...)``.

An augmentation is a callable ``augment(X_batch, source) -> X_batch`` that draws its randomness from the
run's random source (``source.uniform``, ``source.normal``), so a seeded run is reproducible. ``fit``
applies it to every training mini-batch and nowhere else: prediction, evaluation and the dev set never see
it, so it is off at inference by construction. It returns a new array and never changes its input (a
mini-batch may be a view of the training set).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ._validation import check_int, check_number

__all__ = ["RandomShift", "GaussianNoise", "Compose"]


class RandomShift:
    """Shift each image of the batch by a random whole number of pixels, filling the uncovered border.

    Each example is reshaped to ``image_shape``, moved by ``(dy, dx)`` with ``dy, dx`` drawn independently
    and uniformly from ``{-max_shift, ..., max_shift}`` (down/right positive), and flattened back::

        out[i, r, c] = image[i, r - dy_i, c - dx_i]   where that pixel exists, else ``fill``

    Parameters
    ----------
    image_shape : (height, width) or (height, width, channels)
        How a row of ``X`` is laid out (row-major), e.g. ``(8, 8)`` for scikit-learn's digits.
    max_shift : int >= 0
        Largest shift in pixels (a pixel or two is the usual choice); smaller than the height and width.
    fill : float
        Value of the uncovered pixels (0 is the background of the digits; after standardization the
        background is no longer 0, so shift before standardizing or pass the standardized background).

    Notes
    -----
    Two uniform draws per example, ``source.uniform((m, 2))``; the gather is one fancy-indexing pass over a
    padded copy of the batch.
    """

    def __init__(self, image_shape: Sequence[int], max_shift: int = 1, fill: float = 0.0) -> None:
        shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
        if shape is None or len(shape) not in (2, 3):
            raise ValueError(f"image_shape must be (height, width) or (height, width, channels); got {image_shape!r}")
        self.image_shape = tuple(check_int(f"image_shape[{i}]", size, low=1) for i, size in enumerate(shape))
        self.max_shift = check_int("max_shift", max_shift, low=0, high=min(self.image_shape[:2]) - 1)
        self.fill = check_number("fill", fill)
        self.n_features = int(np.prod(self.image_shape))

    def draw_shifts(self, m: int, source: Any, dtype: Any) -> np.ndarray:
        """``(m, 2)`` integer shifts ``(dy, dx)`` in ``[-max_shift, max_shift]``."""
        u = source.uniform((m, 2), dtype)
        return np.minimum(np.floor(u * (2 * self.max_shift + 1)), 2 * self.max_shift).astype(np.intp) - self.max_shift

    def __call__(self, X: np.ndarray, source: Any) -> np.ndarray:
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(
                f"RandomShift(image_shape={self.image_shape}) needs rows of {self.n_features} features; "
                f"got X of shape {X.shape}"
            )
        m, k = X.shape[0], self.max_shift
        shifts = self.draw_shifts(m, source, X.dtype)
        if k == 0:
            return X.copy()
        height, width = self.image_shape[:2]
        images = X.reshape((m,) + self.image_shape)
        pad = [(0, 0), (k, k), (k, k)] + [(0, 0)] * (len(self.image_shape) - 2)
        padded = np.pad(images, pad, constant_values=self.fill)
        rows = np.arange(height) + k - shifts[:, :1]  # (m, height): padded row read for output row r
        cols = np.arange(width) + k - shifts[:, 1:]  # (m, width)
        shifted = padded[np.arange(m)[:, None, None], rows[:, :, None], cols[:, None, :]]
        return shifted.reshape(m, self.n_features)

    def __repr__(self) -> str:
        return f"RandomShift(image_shape={self.image_shape}, max_shift={self.max_shift}, fill={self.fill})"


class GaussianNoise:
    """Add independent Gaussian noise: ``X + std * N(0, 1)``, drawn with ``source.normal(X.shape)``.

    Parameters
    ----------
    std : float >= 0
        Standard deviation of the noise, in the units of ``X`` (e.g. 0.1 for standardized features).
    """

    def __init__(self, std: float = 0.1) -> None:
        self.std = check_number("std", std, low=0.0)

    def __call__(self, X: np.ndarray, source: Any) -> np.ndarray:
        noise = source.normal(X.shape, X.dtype)
        noise *= self.std
        noise += X
        return noise

    def __repr__(self) -> str:
        return f"GaussianNoise(std={self.std})"


class Compose:
    """Apply several augmentations in order: ``Compose(RandomShift((8, 8)), GaussianNoise(0.1))``."""

    def __init__(self, *augmentations: Callable[[np.ndarray, Any], np.ndarray]) -> None:
        for index, augmentation in enumerate(augmentations):
            if not callable(augmentation):
                raise TypeError(f"augmentations[{index}] must be callable (X_batch, source) -> X_batch; got {augmentation!r}")
        self.augmentations = augmentations

    def __call__(self, X: np.ndarray, source: Any) -> np.ndarray:
        for augmentation in self.augmentations:
            X = augmentation(X, source)
        return X

    def __repr__(self) -> str:
        return f"Compose({', '.join(map(repr, self.augmentations))})"
