"""Read-only 0-d constants for the training step's hot path.

NumPy's ufuncs take a 0-d array operand with less conversion work than a Python number (no scalar to
wrap at every call, which dominates on the small arrays of a tiny network), and the value is the same: a Python float meets
a float32 array as a float32 (NEP 50), exactly as a float32 0-d array does. So ``x * 0.5`` and
``x * constant(0.5, x.dtype)`` give the same bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["constant"]

_CACHE: dict[tuple[Any, np.dtype], np.ndarray] = {}


def constant(value: float, dtype: Any) -> np.ndarray:
    """A cached, read-only 0-d array of ``dtype`` holding ``value`` (for fixed values only: 0, 1, a batch size)."""
    key = (value, dtype)
    array = _CACHE.get(key)
    if array is None:
        if len(_CACHE) > 1024:  # a long run of many batch sizes: start over rather than grow without bound
            _CACHE.clear()
        array = np.array(value, dtype=dtype)
        array.flags.writeable = False
        _CACHE[key] = array
    return array
