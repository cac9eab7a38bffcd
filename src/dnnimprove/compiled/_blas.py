"""The kernels' matrix products through NumPy's own BLAS: its CBLAS ``?gemm`` and ``?gemv``, called from numba.

numba's ``np.dot`` calls the BLAS SciPy ships (``scipy.linalg.cython_blas``), which may be another library
and another version than the one NumPy's ``np.dot`` calls. :func:`numpy_blas` finds NumPy's (the CBLAS
symbols of the library NumPy's core extension is linked with) as ``ctypes`` functions; a kernel receives them
as an argument (which keeps it cacheable on disk) and calls them through :func:`gemm` and :func:`gemv`. Both
engines then multiply with the same library, at the thread count ``dn.blas_threads`` gives it.

Symbols looked for: ``scipy_cblas_?gemm64_`` / ``cblas_?gemm64_`` (64-bit integers), ``scipy_cblas_?gemm`` /
``cblas_?gemm`` (64-bit integers when NumPy's BLAS is built with ``USE64BITINT``, else 32-bit). A library
whose product of two small matrices differs from ``np.dot``'s is not used. None found: the kernel uses
numba's ``np.dot``.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

__all__ = ["gemm", "gemv", "numpy_blas"]

ROW_MAJOR, COL_MAJOR, NO_TRANS, TRANS = 101, 102, 111, 112  # CBLAS's enumerations

_FOUND: dict[str, tuple[Any, Any] | None] = {}


def _ilp64() -> bool:
    """Whether NumPy's BLAS takes 64-bit integers (NumPy's build configuration says ``USE64BITINT``)."""
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
    except (AttributeError, KeyError, TypeError):  # pragma: no cover - an older NumPy: only suffixed names used
        return True
    return "USE64BITINT" in str(blas.get("openblas configuration", ""))


def _library() -> ctypes.CDLL | None:
    """NumPy's core extension opened with ``dlopen``: symbol look-ups search the libraries it is linked with."""
    try:
        from numpy._core import _multiarray_umath as core
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core import _multiarray_umath as core  # type: ignore[no-redef]
    try:
        return ctypes.CDLL(core.__file__)
    except (OSError, AttributeError, TypeError):  # pragma: no cover - a static build, another platform
        return None


def _prototypes(library: ctypes.CDLL, prefix: str) -> tuple[Any, Any] | None:
    """``(gemm, gemv)`` of type ``prefix`` ("s" or "d") with their C signatures, or None when not found."""
    real = ctypes.c_float if prefix == "s" else ctypes.c_double
    pointer, enum = ctypes.c_void_p, ctypes.c_int
    for template, wide in (("scipy_cblas_{}64_", True), ("cblas_{}64_", True), ("scipy_cblas_{}", None),
                           ("cblas_{}", None)):
        integer = ctypes.c_int64 if (wide or (wide is None and _ilp64())) else ctypes.c_int32
        try:
            gemm_function = getattr(library, template.format(prefix + "gemm"))
            gemv_function = getattr(library, template.format(prefix + "gemv"))
        except AttributeError:
            continue
        gemm_function.restype = gemv_function.restype = None
        # gemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        gemm_function.argtypes = [enum, enum, enum, integer, integer, integer, real, pointer, integer, pointer, integer,
                                  real, pointer, integer]
        # gemv(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy)
        gemv_function.argtypes = [enum, enum, integer, integer, real, pointer, integer, pointer, integer, real, pointer,
                                  integer]
        return gemm_function, gemv_function
    return None


def _agrees(functions: tuple[Any, Any], dtype: np.dtype) -> bool:
    """Whether the functions compute a small product and a matrix-vector product as ``np.dot`` does."""
    gemm_function, gemv_function = functions
    a = np.arange(1, 7, dtype=dtype).reshape(2, 3)
    b = np.arange(1, 13, dtype=dtype).reshape(3, 4)
    out = np.zeros((2, 4), dtype=dtype)
    x = np.arange(1, 4, dtype=dtype)
    y = np.zeros(2, dtype=dtype)
    gemm_function(ROW_MAJOR, NO_TRANS, NO_TRANS, 2, 4, 3, 1.0, a.ctypes.data, 3, b.ctypes.data, 4, 0.0, out.ctypes.data, 4)
    gemv_function(ROW_MAJOR, NO_TRANS, 2, 3, 1.0, a.ctypes.data, 3, x.ctypes.data, 1, 0.0, y.ctypes.data, 1)
    return bool(np.array_equal(out, a @ b) and np.array_equal(y, a @ x))


def numpy_blas(dtype: Any) -> tuple[Any, Any] | None:
    """NumPy's own CBLAS ``(gemm, gemv)`` for ``dtype`` (float32 or float64) as ``ctypes`` functions, or None
    when they cannot be found (or disagree with ``np.dot``). Imports no numba; looked up once per dtype."""
    dtype = np.dtype(dtype)
    if dtype.name not in _FOUND:
        library = _library() if dtype.name in ("float32", "float64") else None
        functions = None if library is None else _prototypes(library, "s" if dtype == np.float32 else "d")
        _FOUND[dtype.name] = functions if functions is not None and _agrees(functions, dtype) else None
    return _FOUND[dtype.name]


def gemm(function, a, b, out):
    """``out = a @ b`` through CBLAS ``?gemm`` ``function``; ``a`` (m, k), ``b`` (k, n), ``out`` (m, n), each C- or
    F-contiguous. The call is row-major for a C-contiguous ``out``, column-major otherwise; an operand stored in
    the other order is passed transposed. numba code (the kernels); the arrays are not checked."""
    m, k = a.shape
    n = b.shape[1]
    row_major = out.flags.c_contiguous
    order = ROW_MAJOR if row_major else COL_MAJOR
    a_rows = a.flags.c_contiguous  # stored row after row
    b_rows = b.flags.c_contiguous
    trans_a = NO_TRANS if a_rows == row_major else TRANS
    trans_b = NO_TRANS if b_rows == row_major else TRANS
    lda = a.shape[1] if a_rows else a.shape[0]
    ldb = b.shape[1] if b_rows else b.shape[0]
    ldc = n if row_major else m
    function(order, trans_a, trans_b, m, n, k, 1.0, a.ctypes, lda, b.ctypes, ldb, 0.0, out.ctypes, ldc)


def gemv(function, a, x, out):
    """``out = a @ x`` through CBLAS ``?gemv`` ``function``; ``a`` (m, n) C- or F-contiguous, ``x`` (n,) and
    ``out`` (m,) contiguous. numba code (the kernels); the arrays are not checked."""
    m, n = a.shape
    if a.flags.c_contiguous:
        function(ROW_MAJOR, NO_TRANS, m, n, 1.0, a.ctypes, n, x.ctypes, 1, 0.0, out.ctypes, 1)
    else:
        function(COL_MAJOR, NO_TRANS, m, n, 1.0, a.ctypes, m, x.ctypes, 1, 0.0, out.ctypes, 1)
