"""The compiled kernel's sums over the mini-batch: plumbing, not formulas, added in an order of the compiler's choosing.

A weight's or a bias's gradient is a sum over the mini-batch's rows (the course's ``dW = dZ A_prev^T``,
``db = sum(dZ)``). Added strictly in row order, each sum is a chain of dependent additions; numba compiles
these functions with :data:`OPTIONS` (reassociation only: no other fast-math liberty), so the sum runs in
vector lanes, several partial sums at once. The result differs from the row-order sum by rounding only, as
BLAS's blocked sums (the NumPy engine's) do.
"""

from __future__ import annotations

from typing import Any

__all__ = ["batch_dots", "batch_sums", "OPTIONS", "jit_options"]

OPTIONS: dict[str, Any] = {"fastmath": {"reassoc"}}
"""numba's options for the functions of this module: the additions of a sum may be reordered."""


def batch_dots(x, y, out, n, zero):
    """``out[k, j] = sum(x[k, i] * y[j, i] for i < n)`` for every row ``k`` of ``x`` and ``j`` of ``y``."""
    for k in range(x.shape[0]):
        for j in range(y.shape[0]):
            s = zero
            for i in range(n):
                s += x[k, i] * y[j, i]
            out[k, j] = s


def batch_sums(x, out, n, zero):
    """``out[j] = sum(x[j, i] for i < n)`` for every row ``j`` of ``x``."""
    for j in range(x.shape[0]):
        s = zero
        for i in range(n):
            s += x[j, i]
        out[j] = s


def jit_options(function: Any) -> dict[str, Any]:
    """The numba options ``function`` compiles with: :data:`OPTIONS` for this module's sums, none for a formula."""
    return OPTIONS if function in (batch_dots, batch_sums) else {}
