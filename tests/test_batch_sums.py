"""The kernel's sums over the mini-batch: the row-order sums up to rounding, over the first ``n`` columns only."""

import numpy as np
import pytest

from dnnimprove.compiled._batch_sums import OPTIONS, batch_dot, batch_sum, jit_options

rng = np.random.default_rng(4)
X = rng.standard_normal((3, 64))
Y = rng.standard_normal((2, 64))


def exact_dot(k, j, n):
    return float(np.sum(X[k, :n].astype(np.longdouble) * Y[j, :n].astype(np.longdouble)))


def test_they_sum_the_first_n_columns_of_a_row():
    for n in (0, 1, 7, 44, 64):
        assert batch_dot(X, 2, Y, 1, n, 0.0) == pytest.approx(exact_dot(2, 1, n), rel=1e-13, abs=1e-13)
        assert batch_sum(X, 1, n, 0.0) == pytest.approx(float(np.sum(X[1, :n])), rel=1e-13, abs=1e-13)


def test_only_the_sums_may_be_reordered_and_nothing_else_is_relaxed():
    assert OPTIONS == {"fastmath": {"reassoc"}}  # no nnan/ninf/nsz/arcp/contract/afn: NaN checks and formulas hold
    assert jit_options(batch_dot) is OPTIONS and jit_options(batch_sum) is OPTIONS
    assert jit_options(np.exp) == {}


def test_compiled_they_agree_with_the_row_order_sums_up_to_rounding():
    numba = pytest.importorskip("numba")
    from dnnimprove.compiled._formulas import jitable

    for function in (batch_dot, batch_sum):
        jitable(function, **jit_options(function))
    dot = numba.njit(lambda x, k, y, j, n, zero: batch_dot(x, k, y, j, n, zero))
    total = numba.njit(lambda x, j, n, zero: batch_sum(x, j, n, zero))
    for n in (0, 5, 44, 64):
        assert dot(X, 0, Y, 1, n, 0.0) == pytest.approx(exact_dot(0, 1, n), rel=1e-13, abs=1e-13)
        assert total(Y, 0, n, 0.0) == pytest.approx(float(np.sum(Y[0, :n])), rel=1e-13, abs=1e-13)
    x32 = X.astype(np.float32)
    assert total(x32, 2, 64, np.float32(0.0)) == pytest.approx(float(np.sum(X[2])), rel=1e-5)
    assert np.isnan(total(np.array([[1.0, np.nan, 2.0]]), 0, 3, 0.0))  # a NaN still shows: no nnan assumption
