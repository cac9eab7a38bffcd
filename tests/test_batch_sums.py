"""The kernel's sums over the mini-batch: the row-order sums up to rounding, over the first ``n`` columns only."""

import numpy as np
import pytest

from dnnimprove.compiled._batch_sums import OPTIONS, batch_dots, batch_sums, jit_options

rng = np.random.default_rng(4)
X = rng.standard_normal((3, 64))
Y = rng.standard_normal((2, 64))


def exact_dots(n):
    """``X[:, :n] @ Y[:, :n].T`` in extended precision."""
    return (X[:, :n].astype(np.longdouble) @ Y[:, :n].T.astype(np.longdouble)).astype(np.float64)


def run(dots, sums, n, dtype=np.float64):
    x, y = X.astype(dtype), Y.astype(dtype)
    out, row_sums = np.full((3, 2), np.nan, dtype), np.full(2, np.nan, dtype)
    dots(x, y, out, n, dtype(0.0))
    sums(y, row_sums, n, dtype(0.0))
    return out, row_sums


def test_they_sum_the_first_n_columns_of_every_row_pair():
    for n in (0, 1, 7, 44, 64):
        out, row_sums = run(batch_dots, batch_sums, n)
        np.testing.assert_allclose(out, exact_dots(n), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(row_sums, Y[:, :n].sum(axis=1), rtol=1e-13, atol=1e-13)


def test_only_the_sums_may_be_reordered_and_nothing_else_is_relaxed():
    assert OPTIONS == {"fastmath": {"reassoc"}}  # no nnan/ninf/nsz/arcp/contract/afn: NaN checks and formulas hold
    assert jit_options(batch_dots) is OPTIONS and jit_options(batch_sums) is OPTIONS
    assert jit_options(np.exp) == {}


def test_compiled_they_agree_with_the_row_order_sums_up_to_rounding():
    numba = pytest.importorskip("numba")
    from dnnimprove.compiled._formulas import jitable

    for function in (batch_dots, batch_sums):
        jitable(function, **jit_options(function))
    dots = numba.njit(lambda x, y, out, n, zero: batch_dots(x, y, out, n, zero))
    sums = numba.njit(lambda x, out, n, zero: batch_sums(x, out, n, zero))
    for n in (0, 5, 44, 64):
        out, row_sums = run(dots, sums, n)
        np.testing.assert_allclose(out, exact_dots(n), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(row_sums, Y[:, :n].sum(axis=1), rtol=1e-13, atol=1e-13)
    out, row_sums = run(dots, sums, 64, np.float32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, exact_dots(64), rtol=1e-5, atol=1e-5)
    with_nan = np.array([[1.0, np.nan, 2.0]])
    sums(with_nan, row_sums[:1], 3, 0.0)
    assert np.isnan(row_sums[0])  # a NaN still shows: no nnan assumption
