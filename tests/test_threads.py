"""blas_threads(n): BLAS threads are limited inside the block only, and bad values are named."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import dnnimprove as dn


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


class RecordThreads(dn.Callback):
    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    def on_epoch_end(self, run) -> None:
        self.seen.append(blas_threads())


def small_fit() -> list[list[int]]:
    X, y = dn.datasets.moons(60, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(3), dn.ReLU(), dn.Dense(1)], seed=0)
    recorder = RecordThreads()
    model.fit(X, y, epochs=2, batch_size=16, callbacks=[recorder])
    return recorder.seen


@pytest.mark.parametrize("threads", [1, 2])
def test_blas_threads_limit_blas_inside_the_block_and_restore_it_after(threads):
    if not blas_threads():
        pytest.skip("threadpoolctl finds no BLAS library")
    small_fit()  # loads every BLAS library the fit uses (scikit-learn's datasets bring SciPy's)
    with threadpool_limits(3, user_api="blas"):
        before = blas_threads()
        with dn.blas_threads(threads):
            seen = small_fit()
        assert seen and all(counts == [threads] * len(before) for counts in seen), seen
        assert blas_threads() == before == [3] * len(before)


def test_fit_and_blas_threads_none_leave_blas_alone():
    if not blas_threads():
        pytest.skip("threadpoolctl finds no BLAS library")
    with threadpool_limits(3, user_api="blas"):
        assert all(counts == blas_threads() == [3] * len(counts) for counts in small_fit())
        with dn.blas_threads(None):
            assert all(counts == blas_threads() for counts in small_fit())


@pytest.mark.parametrize("threads, error, message", [
    (0, ValueError, r"threads must be an integer in \[1, inf\); got 0"),
    (1.5, TypeError, "threads must be an integer; got 1.5"),
])
def test_bad_threads_are_named(threads, error, message):
    with pytest.raises(error, match=message):
        with dn.blas_threads(threads):
            pass
