"""The compiled element-wise kernels against the NumPy code they replace, call by call (numba required).

    python benchmarks/kernels.py               # optimizer updates and ReLU, one BLAS thread, medians

Rows: one optimizer update (``Optimizer.step``, NumPy passes, against ``Optimizer.stepper``, the one-pass
kernel with its NaN/inf guard) for the tiny network's 23 float64 parameters and the wide network's 235,146
float32 ones; Adam's kernel compiled with numba's default ``error_model="python"`` (a zero test before every
division, which keeps the loop scalar) beside the ``"numpy"`` one the package uses; ReLU forward
(``np.maximum(Z, 0)``) and backward (``dA * np.sign(A)``) against their kernels at the batch shapes of the
two networks and between; the sum-of-gradients guard the kernels replaced (a different check: the sum
against a per-element test), and a numba batch gather that was tried and measured slower than ``take``.
Every other pair is checked to give the same bits before it is timed. Speed only: the comparison with
other libraries is ``benchmarks/run.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # benchmark this checkout

import dnnimprove as dn  # noqa: E402
from dnnimprove import _layer_kernels, _numba, _optimizer_kernels  # noqa: E402


def per_call_us(function: Callable[[], object], seconds: float = 0.2, rounds: int = 5) -> float:
    """Median over ``rounds`` of the mean time of one call, each round about ``seconds`` long."""
    function()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        elapsed = time.perf_counter() - start
        if elapsed > seconds / 10:
            break
        calls *= 4
    calls = max(1, int(calls * seconds / elapsed))  # a round of about `seconds`
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(times)


def optimizer_rows() -> list[tuple[str, float, float]]:
    rows = []
    for label, size, dtype in (("tiny, 23 float64", 23, np.float64), ("wide, 235146 float32", 235146, np.float32)):
        for name, make in (("GD", lambda: dn.GradientDescent(0.01)), ("momentum", lambda: dn.Momentum(0.01)),
                           ("RMSprop", lambda: dn.RMSProp(0.001)), ("Adam", lambda: dn.Adam(0.001))):
            rng = np.random.default_rng(0)
            params = rng.standard_normal(size).astype(dtype)
            grads = rng.standard_normal(size).astype(dtype)
            numpy_opt, kernel_opt = make(), make()
            p_numpy, p_kernel = params.copy(), params.copy()
            s_numpy, s_kernel = numpy_opt.init(p_numpy), kernel_opt.init(p_kernel)
            step = kernel_opt.stepper(p_kernel, grads, s_kernel)
            for _ in range(3):
                numpy_opt.step(p_numpy, grads, s_numpy, 0.001)
                step(0.001)
            assert np.array_equal(p_numpy, p_kernel), f"{name} {label}: the kernel's bits differ"
            rows.append((f"{name} step, {label}", per_call_us(lambda: numpy_opt.step(p_numpy, grads, s_numpy, 0.001)),
                         per_call_us(lambda: step(0.001))))
    return rows


def error_model_row() -> tuple[str, float, float]:
    """Adam's kernel with numba's default error model against the package's ``error_model="numpy"``."""
    import numba

    python_model = numba.njit(nogil=True, error_model="python")(_optimizer_kernels._adam_step)
    rng = np.random.default_rng(0)
    f = np.float32
    arrays = [rng.standard_normal(235146).astype(f) for _ in range(2)] + [np.zeros(235146, f), np.zeros(235146, f)]
    scalars = (f(0.9), f(0.1), f(0.999), f(0.001), f(1e-8), f(0.1), f(0.001), f(0.001), 0, f(0.0), arrays[0])
    python_model(*arrays, *scalars)
    return ("Adam kernel, 235146 float32: error_model python | numpy",
            per_call_us(lambda: python_model(*arrays, *scalars)),
            per_call_us(lambda: _optimizer_kernels.adam_step(*arrays, *scalars)))


def relu_rows() -> list[tuple[str, float, float]]:
    rows = []
    for shape, dtype in (((64, 5), np.float64), ((64, 32), np.float64), ((128, 128), np.float32),
                         ((128, 256), np.float32), ((128, 256), np.float64)):
        rng = np.random.default_rng(0)
        Z = rng.standard_normal(shape).astype(dtype)
        A = np.maximum(Z, dtype(0))
        dA = rng.standard_normal(shape).astype(dtype)
        zero = np.array(0, dtype)
        assert np.array_equal(_layer_kernels.relu_forward(Z, dtype(0)), np.maximum(Z, zero))
        assert np.array_equal(_layer_kernels.relu_backward(dA, A), dA * np.sign(A))
        label = f"{shape[0]} x {shape[1]} {np.dtype(dtype).name}"
        rows.append((f"ReLU forward, {label}", per_call_us(lambda: np.maximum(Z, zero)),
                     per_call_us(lambda: _layer_kernels.relu_forward(Z, dtype(0)))))

        def numpy_backward():
            dZ = np.sign(A)
            np.multiply(dA, dZ, dZ)
            return dZ

        rows.append((f"ReLU backward, {label}", per_call_us(numpy_backward),
                     per_call_us(lambda: _layer_kernels.relu_backward(dA, A))))
    return rows


def guard_and_gather_rows() -> list[tuple[str, float, float]]:
    """The divergence guard the kernels replaced (a sum over the gradient) against their element check; and a
    numba row-gather loop (tried, not used) against NumPy's ``take``, both on the wide workload's sizes."""
    import numba

    rng = np.random.default_rng(0)
    grads = rng.standard_normal(235146).astype(np.float32)
    rows = [("gradient guard, 235146 float32: np.add.reduce | kernel element check",
             per_call_us(lambda: np.add.reduce(grads)), per_call_us(lambda: _optimizer_kernels._finite(grads)))]

    @numba.njit(nogil=True, error_model="numpy")
    def gather(X, picked, out):
        for r in range(picked.size):
            out[r, :] = X[picked[r], :]

    X = rng.standard_normal((60000, 784), dtype=np.float32)
    out = np.empty((128, 784), np.float32)
    orders = iter([rng.permutation(60000)[:128] for _ in range(64)] * 100000)
    picked = next(orders)
    gather(X, picked, out)
    assert np.array_equal(out, X[picked])
    rows.append(("batch gather, 128 random rows of 784 float32: take | numba loop (not used)",
                 per_call_us(lambda: X.take(next(orders), 0, out, "clip")),
                 per_call_us(lambda: gather(X, next(orders), out))))
    return rows


def main() -> None:
    if not _numba.AVAILABLE:
        sys.exit("benchmarks/kernels.py needs numba: pip install \"dnnimprove[fast]\"")
    with threadpool_limits(1, user_api="blas"):
        rows = optimizer_rows() + [error_model_row()] + relu_rows() + guard_and_gather_rows()
    width = max(len(row[0]) for row in rows)
    print(f"{'call':<{width}}  {'NumPy us':>9}  {'kernel us':>9}  faster")
    for label, numpy_us, kernel_us in rows:
        print(f"{label:<{width}}  {numpy_us:>9.2f}  {kernel_us:>9.2f}  {numpy_us / kernel_us:5.2f}x")
    print("\nmedians of 5 rounds per call, one BLAS thread; rows naming 'a | b' compare a (first column) with b")


if __name__ == "__main__":
    main()
