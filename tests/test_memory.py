"""memory: estimates are checked against this machine's limit before any large allocation."""

import pytest

import dnnimprove as dn
from dnnimprove.memory import InsufficientMemoryError, check_memory, fit_bytes, format_bytes, memory_limit, network_bytes


def test_the_limit_is_a_positive_number_of_bytes_here():
    assert memory_limit() > 2**20


def test_an_estimate_beyond_the_limit_is_refused_with_both_numbers():
    limit = memory_limit()
    with pytest.raises(InsufficientMemoryError, match=rf"the thing needs about .* \(why\); this machine allows {format_bytes(limit)}"):
        check_memory("the thing", limit + 1, "why")
    check_memory("the thing", limit)  # at the limit: allowed


def test_the_refusal_is_both_a_value_error_and_a_memory_error():
    assert issubclass(InsufficientMemoryError, ValueError) and issubclass(InsufficientMemoryError, MemoryError)


def test_a_network_too_large_for_this_machine_is_refused_before_allocation():
    if memory_limit() > 250 * 2**30:
        pytest.skip("this machine could hold the 298 GB this network needs")
    model = dn.Sequential([dn.Dense(100_000), dn.ReLU(), dn.Dense(100_000), dn.Dense(1)], loss="binary_crossentropy")
    with pytest.raises(InsufficientMemoryError, match=r"the network \(2 -> 100000 -> 100000 -> 1\) needs about .* GB \(10000500001 float64"):
        model.build(2)
    assert not model.built


def test_the_estimates_count_what_is_allocated():
    assert network_bytes(10, 8) == 4 * 10 * 8  # params, grads, weight mask, workspace
    assert fit_bytes(10, [5, 1], batch_size=4, itemsize=8) == 2 * 10 * 8 + 3 * 4 * 6 * 8
    assert format_bytes(1536) == "1.5 KB" and format_bytes(3 * 2**30) == "3.0 GB" and format_bytes(12) == "12 bytes"


def test_a_generated_dataset_too_large_is_refused_before_generation():
    with pytest.raises(InsufficientMemoryError, match=r"n_samples=\d+ needs about"):
        dn.datasets.moons(n_samples=2**40)


def test_a_fit_whose_mini_batch_needs_more_than_the_machine_is_refused_before_training():
    import numpy as np

    if memory_limit() > 150 * 2**30:
        pytest.skip("this machine could hold the 180 GB this fit needs")
    model = dn.Sequential([dn.Dense(20_000), dn.ReLU(), dn.Dense(1)], loss="binary_crossentropy", seed=0)
    X = np.zeros((400_000, 1), dtype=np.float32)
    with pytest.raises(InsufficientMemoryError, match=r"training on mini-batches of 400000 rows needs about .*; this machine allows"):
        model.fit(X, np.zeros(400_000), epochs=1)
    assert model.history_ is None or len(model.history_.cost) == 0
