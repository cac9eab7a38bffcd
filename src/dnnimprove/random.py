"""Sources of randomness for a run: one object drives initialization, shuffling and dropout masks.

A *random source* (:class:`RandomSource`) answers what training asks::

    source.normal((fan_in, fan_out), dtype)   # standard-normal weights, row layout
    source.permutation(m, epoch)              # order of the examples in epoch ``epoch``
    source.uniform(shape, dtype)              # U[0, 1) draws, e.g. dropout masks
    source.start_forward()                    # a training forward pass begins (a place to reseed)
    source.get_state() / set_state(state)     # the stream's position, as JSON, for checkpoints

:class:`GeneratorSource` wraps one ``numpy.random.Generator`` (the default: a seed or a
Generator passed as ``seed=``). :class:`CourseRandom` draws from NumPy's *legacy* global stream
in the course's order, so the course's published tables reproduce exactly: it seeds once before the
first weight, draws each weight as the course's ``randn(n_l, n_{l-1})`` and returns its transpose, and
reseeds with ``shuffle_seed + epoch + 1`` before each epoch's permutation (as the course's
``random_mini_batches(X, Y, mini_batch_size, seed)`` with ``seed`` incremented every epoch).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["RandomSource", "GeneratorSource", "CourseRandom", "as_random_source"]


@runtime_checkable
class RandomSource(Protocol):
    """What a model, its layers, the training loop and checkpoints draw from and ask of a random source."""

    def normal(self, shape: tuple[int, int], dtype: Any) -> np.ndarray:
        """Standard-normal array of ``shape`` (a weight ``(fan_in, fan_out)``)."""

    def permutation(self, m: int, epoch: int) -> np.ndarray:
        """A permutation of ``range(m)`` used to shuffle the examples of ``epoch``."""

    def uniform(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """Uniform draws in ``[0, 1)``."""

    def start_forward(self) -> None:
        """Called at the start of every training forward pass (nothing to do for most sources)."""

    def get_state(self) -> dict:
        """The stream's position as a JSON-serializable dict (checkpoints save it)."""

    def set_state(self, state: dict) -> None:
        """Put the stream back to a position ``get_state`` returned."""


class GeneratorSource:
    """Random source backed by one ``numpy.random.Generator``.

    Parameters
    ----------
    generator : numpy.random.Generator
        Used for every draw, in the order the run asks for them.
    """

    def __init__(self, generator: np.random.Generator) -> None:
        self.generator = generator

    def normal(self, shape: tuple[int, int], dtype: Any) -> np.ndarray:
        return self.generator.standard_normal(shape, dtype=np.dtype(dtype).type)

    def permutation(self, m: int, epoch: int) -> np.ndarray:
        return self.generator.permutation(m)

    def uniform(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        return self.generator.random(shape, dtype=np.dtype(dtype).type)

    def start_forward(self) -> None:
        """Nothing: one Generator's stream simply goes on."""

    def get_state(self) -> dict:
        """The generator's state, a JSON-serializable dict (for checkpoints)."""
        return self.generator.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.generator.bit_generator.state = state

    def __repr__(self) -> str:
        return f"GeneratorSource({type(self.generator.bit_generator).__name__})"


class CourseRandom:
    """Random source that reproduces the course's draws from NumPy's legacy global stream.

    Parameters
    ----------
    init_seed : int
        ``np.random.seed(init_seed)`` runs once, before the first weight is drawn.
    shuffle_seed : int
        Before the permutation of epoch ``e`` (counted from 0) the stream is reseeded with
        ``shuffle_seed + e + 1``, as the course's ``random_mini_batches`` does.
    dropout_seed : int or None
        If given, the stream is reseeded with it before the first dropout mask of every forward pass
        (the course's regularization exercise seeds 1 inside its forward pass).

    Notes
    -----
    The course keeps examples in columns: a weight drawn as ``randn(n_l, n_{l-1})`` is our
    ``W.T`` and a dropout mask drawn as ``rand(n_l, m)`` is our mask transposed.
    This source uses (and changes) the *global* legacy state, by design.
    """

    def __init__(self, init_seed: int = 3, shuffle_seed: int = 10, dropout_seed: int | None = None) -> None:
        self.init_seed = init_seed
        self.shuffle_seed = shuffle_seed
        self.dropout_seed = dropout_seed
        self._seeded_for_init = False

    def normal(self, shape: tuple[int, int], dtype: Any) -> np.ndarray:
        if not self._seeded_for_init:
            np.random.seed(self.init_seed)
            self._seeded_for_init = True
        fan_in, fan_out = shape
        return np.random.randn(fan_out, fan_in).T.astype(dtype, copy=False)

    def permutation(self, m: int, epoch: int) -> np.ndarray:
        np.random.seed(self.shuffle_seed + epoch + 1)
        return np.random.permutation(m)

    def uniform(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        return np.random.rand(*shape[::-1]).T.astype(dtype, copy=False)

    def start_forward(self) -> None:
        """Called by the model at the start of every training forward pass: reseeds where the course does."""
        if self.dropout_seed is not None:
            np.random.seed(self.dropout_seed)

    def get_state(self) -> dict:
        name, keys, pos, has_gauss, cached = np.random.get_state()
        return {
            "legacy": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)],
            "seeded_for_init": self._seeded_for_init,
        }

    def set_state(self, state: dict) -> None:
        name, keys, pos, has_gauss, cached = state["legacy"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
        self._seeded_for_init = state["seeded_for_init"]

    def __repr__(self) -> str:
        return f"CourseRandom(init_seed={self.init_seed}, shuffle_seed={self.shuffle_seed}, dropout_seed={self.dropout_seed})"


def as_random_source(seed: Any) -> RandomSource:
    """Turn ``seed`` (None, an int, a ``numpy.random.Generator`` or a random source) into a source."""
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
        return GeneratorSource(np.random.default_rng(seed))
    if isinstance(seed, np.random.Generator):
        return GeneratorSource(seed)
    if isinstance(seed, RandomSource):
        return seed
    raise TypeError(
        f"seed must be None, an int, a numpy.random.Generator or a random source; got {seed!r}"
    )
