"""The course's tuning priorities as search spaces: the learning rate first, Adam's betas and epsilon last."""

from __future__ import annotations

import pytest

import dnnimprove as dn
from dnnimprove.search import PRIORITIES, course_space, priority_space
from dnnimprove.search import random_search


def test_each_priority_adds_the_next_tier_in_the_course_order():
    assert sorted(priority_space(1)) == ["lr"]
    assert sorted(priority_space(2)) == ["batch_size", "beta", "hidden_layer_sizes", "lr"]
    assert sorted(priority_space(3)) == ["batch_size", "beta", "decay_rate", "hidden_layer_sizes", "lr", "schedule"]
    assert "beta1" not in priority_space(3, optimizer="adam") and "beta" not in priority_space(2, optimizer="adam")
    assert {"beta1", "beta2", "epsilon"} <= set(priority_space(4, optimizer="adam"))
    assert list(PRIORITIES) == [1, 2, 3, 4]
    assert course_space(priority=2, optimizer="momentum").keys() == priority_space(2).keys()
    assert "beta" in course_space(priority=2, optimizer="any")  # a search over optimizers: momentum's tiers


def test_layers_stay_at_one_until_priority_three():
    import numpy as np

    rng = np.random.default_rng(0)
    assert {len(priority_space(2)["hidden_layer_sizes"].rvs(random_state=rng)) for _ in range(30)} == {1}
    assert {len(priority_space(3)["hidden_layer_sizes"].rvs(random_state=rng)) for _ in range(60)} == {1, 2, 3}


def test_a_priority_space_searches_a_classifier():
    X, y = dn.datasets.moons(120, 0.2, seed=3)
    estimator = dn.DNNClassifier(hidden_layer_sizes=(8,), optimizer="momentum", epochs=3)
    result = random_search(estimator, priority_space(3), X, y, n_trials=3, seed=0)
    assert len(result.trials) == 3 and all(0 <= trial["dev_score"] <= 1 for trial in result.trials)
    assert set(priority_space(1, prefix="dnnclassifier__")) == {"dnnclassifier__lr"}


@pytest.mark.parametrize("priority", [0, 5])
def test_an_unknown_priority_is_one_clear_error(priority):
    with pytest.raises(ValueError, match=rf"priority must be an integer in \[1, 4\]; got {priority}"):
        priority_space(priority)
