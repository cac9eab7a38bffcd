"""The kernels' products through NumPy's own CBLAS equal ``np.dot``'s, whatever the operands' memory order."""

import numpy as np
import pytest

from dnnimprove.compiled._blas import _agrees, gemm, gemv, numpy_blas


def _scipy_openblas() -> bool:
    try:
        return np.__config__.CONFIG["Build Dependencies"]["blas"]["name"] == "scipy-openblas"
    except (AttributeError, KeyError, TypeError):
        return False


def functions(dtype):
    found = numpy_blas(dtype)
    if found is None:
        pytest.skip("NumPy's BLAS exports no CBLAS symbols known here")
    return found


def test_numpys_scipy_openblas_is_found_for_both_float_types():
    if not _scipy_openblas():
        pytest.skip("NumPy is built with another BLAS than scipy-openblas")
    assert numpy_blas(np.float32) is not None and numpy_blas(np.float64) is not None
    assert numpy_blas(np.int64) is None  # no integer products


def ordered(array, order):
    return np.ascontiguousarray(array) if order == "C" else np.asfortranarray(array)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-13)])
@pytest.mark.parametrize("orders", ["CCC", "CFC", "FCC", "FFC", "CCF", "CFF", "FCF", "FFF"])
@pytest.mark.parametrize("m, k, n", [(7, 5, 3), (1, 4, 6), (6, 4, 1), (5, 1, 2)])
def test_gemm_is_the_matrix_product_for_every_memory_order(dtype, rtol, orders, m, k, n):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = ordered(rng.standard_normal((m, k)).astype(dtype), orders[0])
    b = ordered(rng.standard_normal((k, n)).astype(dtype), orders[1])
    out = ordered(np.full((m, n), np.nan, dtype=dtype), orders[2])
    gemm(functions(dtype)[0], a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-13)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_gemv_is_the_matrix_vector_product_for_either_memory_order(dtype, rtol, order):
    rng = np.random.default_rng(3)
    a = ordered(rng.standard_normal((6, 9)).astype(dtype), order)
    x = rng.standard_normal(9).astype(dtype)
    out = np.full(6, np.nan, dtype=dtype)
    gemv(functions(dtype)[1], a, x, out)
    np.testing.assert_allclose(out, a @ x, rtol=rtol, atol=rtol)


def test_the_transposed_views_a_kernel_passes_are_multiplied_as_views():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((8, 5)).astype(np.float32)  # (fan_in, fan_out), activations held as features x batch
    A = rng.standard_normal((8, 3)).astype(np.float32)
    Z = np.empty((5, 3), dtype=np.float32)
    gemm(functions(np.float32)[0], W.T, A, Z)
    np.testing.assert_allclose(Z, W.T @ A, rtol=1e-5)


def test_a_library_whose_products_differ_from_numpys_is_not_used():
    real_gemm, real_gemv = functions(np.float64)

    def no_op(*args):  # leaves the output as it was
        return None

    def doubled_gemm(order, trans_a, trans_b, m, n, k, alpha, *rest):  # computes 2 a @ b
        real_gemm(order, trans_a, trans_b, m, n, k, 2 * alpha, *rest)

    assert _agrees((real_gemm, real_gemv), np.dtype(np.float64))
    assert not _agrees((no_op, real_gemv), np.dtype(np.float64))
    assert not _agrees((doubled_gemm, real_gemv), np.dtype(np.float64))
    assert not _agrees((real_gemm, no_op), np.dtype(np.float64))


def test_the_helpers_compile_with_numba_and_give_the_same_products():
    numba = pytest.importorskip("numba")
    from dnnimprove.compiled._formulas import jitable

    jitable(gemm)
    jitable(gemv)

    @numba.njit
    def products(blas, a, b, out, x, y):
        gemm(blas[0], a.T, b, out)
        gemv(blas[1], a.T, x, y)

    rng = np.random.default_rng(5)
    a, b, x = rng.standard_normal((4, 6)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    out, y = np.empty((6, 3)), np.empty(6)
    products(functions(np.float64), a, b, out, x, y)
    np.testing.assert_allclose(out, a.T @ b, rtol=1e-13)
    np.testing.assert_allclose(y, a.T @ x, rtol=1e-13)
