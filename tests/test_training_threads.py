"""fit(threads=...): BLAS threads are limited during training only, and bad values are named."""

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


def small_fit(**settings):
    X, y = dn.datasets.moons(60, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(3), dn.ReLU(), dn.Dense(1)], seed=0)
    recorder = RecordThreads()
    model.fit(X, y, epochs=2, batch_size=16, callbacks=[recorder], **settings)
    return recorder.seen


@pytest.mark.parametrize("threads", [1, 2])
def test_threads_limit_blas_during_training_and_are_restored_after(threads):
    if not blas_threads():
        pytest.skip("threadpoolctl finds no BLAS library")
    small_fit()  # loads every BLAS library the fit uses (scikit-learn's datasets bring SciPy's)
    with threadpool_limits(3, user_api="blas"):
        before = blas_threads()
        seen = small_fit(threads=threads)
        assert seen and all(counts == [threads] * len(before) for counts in seen), seen
        assert blas_threads() == before == [3] * len(before)


def test_threads_none_leaves_blas_alone():
    if not blas_threads():
        pytest.skip("threadpoolctl finds no BLAS library")
    with threadpool_limits(3, user_api="blas"):
        assert all(counts == blas_threads() for counts in small_fit(threads=None))


@pytest.mark.parametrize("threads, message", [(0, r"threads must be an integer in \[1, inf\); got 0"), (1.5, "threads must be an integer")])
def test_bad_threads_are_named(threads, message):
    with pytest.raises((ValueError, TypeError), match=message):
        small_fit(threads=threads)
