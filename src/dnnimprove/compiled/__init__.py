"""The compiled engine: each block's own formulas, compiled with numba into one call per epoch.

The only part of dnnimprove that imports numba, and only when a fit uses it (``import dnnimprove`` does
not). Nothing here writes arithmetic of its own: the kernels are generated from the blocks' definitions
(:meth:`Activation.function`/``derivative``, the losses' ``terms``/``gradient_terms``,
:func:`dnnimprove.regularizers.l2_gradient`, :meth:`Optimizer.rule`/``constants``, the dropout and
batch-norm formulas), which numba compiles and applies element by element. What the engine supplies is the
plumbing between them: the gather of the shuffled rows, the matrix products and the sums over the batch.

Setting ``DNNIMPROVE_DISABLE_NUMBA=1`` turns it off (every fit runs on NumPy, ``engine="auto"`` says why).
A numba that fails to import or to compile leaves the NumPy engine running, with one warning.
"""

from __future__ import annotations

from ._support import unavailable_reason, unsupported_reason

__all__ = ["unavailable_reason", "unsupported_reason", "CompiledEngine", "CompileFailed", "ready_for"]


def __getattr__(name: str):
    if name in ("CompiledEngine", "CompileFailed", "ready_for"):  # imports numba: only when a fit runs on this engine
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
