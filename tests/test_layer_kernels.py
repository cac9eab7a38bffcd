"""The compiled ReLU kernels give NumPy's ``maximum(Z, 0)`` and ``dA * sign(A)`` bit for bit, edge values included."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove import _layer_kernels, _numba

needs_numba = pytest.mark.skipif(not _numba.AVAILABLE, reason="numba is not installed (the 'fast' extra)")

EDGES = [-0.0, 0.0, np.nan, -np.inf, np.inf, 1.0, -1.0, 1e-310, -1e-310, 5e-39, -5e-39]


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values, NaN where NaN, and the same sign bit everywhere (so +0.0 is not -0.0)."""
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True) \
        and np.array_equal(np.signbit(a), np.signbit(b))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_forward_kernel_is_numpy_maximum_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    Z = np.concatenate([np.array(EDGES * 6), rng.standard_normal(934)]).astype(dtype).reshape(40, 25)
    assert same_bits(_layer_kernels.relu_forward(Z, dtype(0)), np.maximum(Z, dtype(0)))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_kernel_is_dA_times_sign_of_A_bit_for_bit(dtype):
    rng = np.random.default_rng(1)
    A = np.concatenate([np.array(EDGES * 6), np.maximum(rng.standard_normal(934), 0)]).astype(dtype).reshape(40, 25)
    dA = rng.standard_normal(A.shape).astype(dtype)
    dA.flat[:8] = [-0.0, 0.0, -2.0, 3.0, -0.0, np.inf, -np.inf, np.nan]
    with np.errstate(invalid="ignore"):
        assert same_bits(_layer_kernels.relu_backward(dA, A), dA * np.sign(A))


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
def test_relu_layer_takes_any_layout_and_gives_the_numpy_result(compiled, monkeypatch):
    assert 40 * 30 >= dn.layers._KERNEL_MIN_SIZE
    if compiled and not _numba.AVAILABLE:
        pytest.skip("numba is not installed (the 'fast' extra)")
    monkeypatch.setattr(_numba, "AVAILABLE", compiled)
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((30, 40)).T  # not C-contiguous: the NumPy expression runs
    layer = dn.ReLU()
    A = layer.forward(Z, True)
    assert same_bits(A, np.maximum(Z, 0.0))
    dA = rng.standard_normal((40, 30))  # C-contiguous, large enough for the kernel
    assert same_bits(layer.backward(dA), dA * np.sign(A))
    Zc = np.ascontiguousarray(Z)
    assert same_bits(layer.forward(Zc, True), np.maximum(Zc, 0.0))
    assert same_bits(layer.backward(dA), dA * np.sign(np.maximum(Zc, 0.0)))
