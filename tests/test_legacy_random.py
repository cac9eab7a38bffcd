"""The kernel's copy of NumPy's legacy reseeded shuffle gives NumPy's own permutations."""

import numpy as np
import pytest

from dnnimprove.compiled._legacy_random import STATE_WORDS, legacy_permutation


@pytest.mark.parametrize("seed", [0, 1, 11, 12345, 2**31 + 7, 2**32 - 1])
@pytest.mark.parametrize("n", [1, 2, 3, 64, 300, 1000])
def test_it_is_numpys_seed_then_permutation(seed, n):
    order = np.empty(n, dtype=np.int64)
    legacy_permutation(order, seed, np.zeros(STATE_WORDS, dtype=np.int64))
    np.random.seed(seed)
    np.testing.assert_array_equal(order, np.random.permutation(n))


def test_a_long_permutation_twists_the_state_more_than_once():
    order = np.empty(2000, dtype=np.int64)  # about 2400 draws: four twists of the 624 words
    legacy_permutation(order, 10, np.zeros(STATE_WORDS, dtype=np.int64))
    np.random.seed(10)
    np.testing.assert_array_equal(order, np.random.permutation(2000))
