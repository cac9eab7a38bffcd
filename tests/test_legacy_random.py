"""The kernel's copy of NumPy's legacy reseeded shuffle gives NumPy's own permutations, LANES seeds at a time."""

import numpy as np
import pytest

from dnnimprove.compiled._legacy_random import LANES, SCRATCH_WORDS, legacy_permutations


def numpys(seed, n):
    np.random.seed(seed)
    return np.random.permutation(n)


def scratch():
    return np.zeros(SCRATCH_WORDS, dtype=np.int64)


@pytest.mark.parametrize("seed", [0, 11, 2**31 + 7, 2**32 - LANES])
@pytest.mark.parametrize("n", [1, 2, 3, 64, 300])
def test_each_row_is_numpys_seed_then_permutation(seed, n):
    orders = np.empty((LANES, n), dtype=np.int64)
    legacy_permutations(orders, seed, LANES, scratch())
    for row in range(LANES):
        np.testing.assert_array_equal(orders[row], numpys(seed + row, n))


def test_only_count_rows_are_written():
    orders = np.full((LANES, 50), -1, dtype=np.int64)
    legacy_permutations(orders, 5, 3, scratch())
    for row in range(3):
        np.testing.assert_array_equal(orders[row], numpys(5 + row, 50))
    assert (orders[3:] == -1).all()


def test_a_long_permutation_twists_the_state_more_than_once():
    orders = np.empty((2, 2000), dtype=np.int64)  # about 2400 draws: four twists of the 624 words
    legacy_permutations(orders, 10, 2, scratch())
    np.testing.assert_array_equal(orders[0], numpys(10, 2000))
    np.testing.assert_array_equal(orders[1], numpys(11, 2000))


def test_compiled_it_gives_the_same_permutations():
    numba = pytest.importorskip("numba")
    from dnnimprove.compiled._formulas import jitable

    jitable(legacy_permutations)
    run = numba.njit(lambda orders, seed, count, key: legacy_permutations(orders, seed, count, key))
    for n in (2, 300, 1500):
        orders = np.empty((LANES, n), dtype=np.int64)
        run(orders, 1000, LANES, scratch())
        for row in range(LANES):
            np.testing.assert_array_equal(orders[row], numpys(1000 + row, n))
