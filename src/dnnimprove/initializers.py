"""Weight initializers: one variance-scaling rule with named presets.

Every preset draws ``W = N(0, 1) * std`` of shape ``(fan_in, fan_out)`` from the run's random source
(biases start at zero), with

============  ===================================  ==========================================
name          std                                  why
============  ===================================  ==========================================
``zeros``     0 (no draw)                          shows symmetry: every hidden unit stays identical
``random``    ``scale`` (default 1; the course's    too large a scale saturates sigmoids
              "large random" is 10)
``xavier``    ``sqrt(1 / fan_in)``                 keeps the variance of tanh units
``glorot``    ``sqrt(2 / (fan_in + fan_out))``     averages the forward and backward fan
``he``        ``sqrt(2 / fan_in)``                 keeps the variance of ReLU units
============  ===================================  ==========================================

The course draws ``W_l = randn(n_l, n_{l-1}) * std``; our weight is its transpose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ._validation import Constraint, Options, Real, check_choice, validate_params

__all__ = ["Initializer", "VarianceScaling", "Zeros", "get_initializer", "initializer_config", "INITIALIZERS"]


class Initializer:
    """Base class: ``init(shape, source, dtype)`` returns a new weight array of ``shape``."""

    name: str = "initializer"

    def __call__(self, shape: tuple[int, int], source: Any, dtype: Any) -> np.ndarray:
        raise NotImplementedError

    def config(self) -> dict:
        return {"name": self.name}


class Zeros(Initializer):
    """All weights zero: the network never breaks symmetry."""

    name = "zeros"

    def __call__(self, shape: tuple[int, int], source: Any, dtype: Any) -> np.ndarray:
        return np.zeros(shape, dtype=dtype)


@dataclass(frozen=True)
class VarianceScaling(Initializer):
    """``W = N(0, 1) * std`` with ``std`` given by ``mode``.

    Parameters
    ----------
    mode : {"constant", "fan_in", "fan_avg"}
        ``constant``: ``std = scale``; ``fan_in``: ``std = sqrt(scale / fan_in)``;
        ``fan_avg``: ``std = sqrt(2 * scale / (fan_in + fan_out))``.
    scale : float
        The ``scale`` above (> 0).
    name : str
        The preset's name, reported in configs and tables.
    """

    mode: str = "fan_in"
    scale: float = 2.0
    name: str = "variance_scaling"

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "mode": Options(("constant", "fan_in", "fan_avg")), "scale": Real(low=0.0, low_open=True),
    }
    """Each checked argument's legal values (:func:`dnnimprove._validation.validate_params`); ``name`` is a label."""

    def __post_init__(self) -> None:
        validate_params(self._parameter_constraints, mode=self.mode, scale=self.scale)

    def std(self, fan_in: int, fan_out: int) -> float:
        """The standard deviation of the weights of a ``(fan_in, fan_out)`` layer."""
        if self.mode == "constant":
            return float(self.scale)
        if self.mode == "fan_in":
            return math.sqrt(self.scale / fan_in)
        return math.sqrt(2.0 * self.scale / (fan_in + fan_out))

    def __call__(self, shape: tuple[int, int], source: Any, dtype: Any) -> np.ndarray:
        # Draw, then multiply by the std, in float64 as the course does (bit-identical weights).
        weights = source.normal(shape, np.float64) * self.std(*shape)
        return weights.astype(dtype, copy=False)

    def config(self) -> dict:
        return {"name": self.name, "mode": self.mode, "scale": self.scale}


def _random(scale: float = 1.0) -> VarianceScaling:
    return VarianceScaling(mode="constant", scale=scale, name="random")


INITIALIZERS = {
    "zeros": lambda: Zeros(),
    "random": _random,
    "large_random": lambda: _random(10.0),
    "xavier": lambda: VarianceScaling(mode="fan_in", scale=1.0, name="xavier"),
    "glorot": lambda: VarianceScaling(mode="fan_avg", scale=1.0, name="glorot"),
    "he": lambda: VarianceScaling(mode="fan_in", scale=2.0, name="he"),
}


def get_initializer(init: Any) -> Initializer:
    """Resolve an initializer given by name (see ``INITIALIZERS``), as a config dict
    (:func:`initializer_config`'s output) or as an :class:`Initializer`."""
    if isinstance(init, Initializer):
        return init
    if isinstance(init, str):
        check_choice("initializer", init, INITIALIZERS)
        return INITIALIZERS[init]()
    if isinstance(init, dict):
        settings = dict(init)
        if settings.get("name") == "zeros" and len(settings) == 1:
            return Zeros()
        try:
            return VarianceScaling(**settings)
        except TypeError as error:
            raise TypeError(f"init config must hold name, mode and scale; got {init!r} ({error})") from None
    raise TypeError(f"init must be a name ({', '.join(sorted(INITIALIZERS))}) or an Initializer; got {init!r}")


def initializer_config(init: Initializer) -> str | dict:
    """The preset's name when ``init`` is a preset, else its config dict; either rebuilds it via
    :func:`get_initializer` (used by ``Dense.config`` and model files)."""
    preset = INITIALIZERS.get(init.name)
    if preset is not None and preset().config() == init.config():
        return init.name
    return init.config()
