"""What the blocks' element-wise formulas may call besides NumPy's ufuncs and arithmetic.

A formula of the toolkit (an activation, a loss term, an optimizer rule) is written once, in NumPy
expressions that work on whole arrays (the NumPy engine) and on single numbers (the compiled engine
applies it element by element). ``np.where`` is the one function that does not do both under numba (it
returns an array for numbers), so formulas select with :func:`where`; the compiled engine gives numba a
version for numbers. Every other number a formula uses is an argument in the arrays' dtype, so a float32
formula computes in float32 in both engines.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["where"]


def where(condition: Any, x: Any, y: Any) -> Any:
    """``x`` where ``condition`` holds, else ``y``: ``np.where`` on arrays, a plain choice on numbers."""
    return np.where(condition, x, y)
