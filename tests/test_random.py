"""Random sources: the protocol says everything training asks, and a source's stream is explicit and resumable."""

from __future__ import annotations

import json

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.random import GeneratorSource, RandomSource, as_random_source


@pytest.mark.parametrize("source", [GeneratorSource(np.random.default_rng(0)), dn.CourseRandom(3, 10, dropout_seed=1)])
def test_every_source_implements_the_whole_protocol(source):
    assert isinstance(source, RandomSource)
    for method in ("normal", "permutation", "uniform", "start_forward", "get_state", "set_state"):
        assert callable(getattr(source, method)), method


def test_an_object_missing_a_protocol_method_is_no_random_source():
    class DrawsOnly:
        def normal(self, shape, dtype): ...

        def permutation(self, m, epoch): ...

        def uniform(self, shape, dtype): ...

    assert not isinstance(DrawsOnly(), RandomSource)
    with pytest.raises(TypeError, match="seed must be None, an int, a numpy.random.Generator or a random source"):
        as_random_source(DrawsOnly())


@pytest.mark.parametrize("make", [lambda: GeneratorSource(np.random.default_rng(5)), lambda: dn.CourseRandom(3, 10)])
def test_get_state_is_json_and_set_state_replays_the_same_draws(make):
    source = make()
    source.normal((3, 2), np.float64)
    state = json.loads(json.dumps(source.get_state(), default=lambda value: value.tolist()))
    first = [source.uniform((4, 3), np.float64), source.permutation(7, 2)]
    source.set_state(state)
    again = [source.uniform((4, 3), np.float64), source.permutation(7, 2)]
    for a, b in zip(first, again):
        assert np.array_equal(a, b)


def test_course_random_draws_the_courses_transposed_weights_and_reseeds_each_epoch():
    source = dn.CourseRandom(init_seed=3, shuffle_seed=10)
    np.random.seed(3)
    expected = np.random.randn(5, 2)  # the course's W1 of shape (n_1, n_0)
    assert np.array_equal(source.normal((2, 5), np.float64), expected.T)
    np.random.seed(10 + 4 + 1)  # the course's random_mini_batches(..., seed) with seed = 10 + epoch + 1
    expected_order = np.random.permutation(9)
    assert np.array_equal(source.permutation(9, 4), expected_order)


def test_course_random_reseeds_at_every_forward_pass_only_with_a_dropout_seed():
    with_seed, without = dn.CourseRandom(dropout_seed=1), dn.CourseRandom()
    np.random.seed(123)
    without.start_forward()
    after_nothing = np.random.rand()
    np.random.seed(123)
    assert np.random.rand() == after_nothing  # start_forward left the stream alone
    with_seed.start_forward()
    first = np.random.rand()
    with_seed.start_forward()
    assert np.random.rand() == first


@pytest.mark.parametrize("seed, error, message", [
    (-1, ValueError, r"seed must be a non-negative integer; got -1"),
    ("3", TypeError, r"seed must be None, an int"),
    (True, TypeError, r"seed must be None, an int"),
])
def test_bad_seeds_are_named(seed, error, message):
    with pytest.raises(error, match=message):
        as_random_source(seed)
