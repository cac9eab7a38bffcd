"""Conditional search spaces: an entry is drawn only where its condition holds, and never shifts the others."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.search import Choice, LogUniform, OneMinusLogUniform, Switch, Uniform, course_space, random_search
from dnnimprove.search.spaces import active, check_space, draw, narrow_space

SPACE = {
    "optimizer": Choice(["gd", "momentum", "adam"]),
    "beta": OneMinusLogUniform(0.9, 0.999).when(optimizer="momentum"),
    "beta1": OneMinusLogUniform(0.9, 0.999).when(optimizer="adam"),
    "beta2": OneMinusLogUniform(0.99, 0.9999).when(optimizer="adam"),
    "regularization": Switch(["l2", "dropout"]),
    "l2": LogUniform(1e-4, 1e-1).when(regularization="l2"),
    "keep_prob": Uniform(0.5, 0.95).when(regularization="dropout"),
}


def test_each_entry_is_drawn_only_where_its_condition_holds():
    space = check_space(SPACE, dn.DNNClassifier())
    draws = [draw(space, np.random.default_rng(seed)) for seed in range(60)]
    for params in draws:
        assert (params["beta"] is not None) == (params["optimizer"] == "momentum")
        assert (params["beta1"] is not None) == (params["beta2"] is not None) == (params["optimizer"] == "adam")
        assert (params["keep_prob"] is not None) == (params["regularization"] == "dropout")
        assert (params["l2"] is not None) == (params["regularization"] == "l2")
    assert {params["optimizer"] for params in draws} == {"gd", "momentum", "adam"}


def test_a_condition_never_shifts_the_draws_of_the_other_entries():
    conditional = check_space(SPACE, dn.DNNClassifier())
    plain = {name: dimension for name, dimension in conditional.items()}
    plain["beta"] = OneMinusLogUniform(0.9, 0.999)  # the same entry without its condition
    for seed in range(10):
        with_condition = draw(conditional, np.random.default_rng(seed))
        without = draw(plain, np.random.default_rng(seed))
        assert {k: v for k, v in with_condition.items() if k != "beta"} == {k: v for k, v in without.items() if k != "beta"}


def test_trials_set_only_active_entries_and_never_the_switch():
    X, y = dn.datasets.moons(n_samples=120, noise=0.2, seed=0)
    result = random_search(dn.DNNClassifier(epochs=3), SPACE, X, y, n_trials=8, seed=0)
    for trial in result.trials:
        if trial["optimizer"] == "gd":
            assert trial["beta"] is trial["beta1"] is trial["beta2"] is None
    best = result.best_params
    assert "regularization" not in best and all(value is not None for value in best.values())
    assert result.best_estimator.get_params()["optimizer"] == result.best["optimizer"]
    lines = result.table().splitlines()
    assert any(" - " in line for line in lines[1:])  # inactive entries shown as "-"


def test_the_course_space_over_every_optimizer_is_conditional():
    space = check_space(course_space("any"), dn.DNNClassifier())
    flags = [active(space, draw(space, np.random.default_rng(seed))) for seed in range(40)]
    assert any(f["beta"] for f in flags) and any(f["beta1"] and f["beta2"] for f in flags)
    assert not any(f["beta"] and f["beta1"] for f in flags)


def test_narrowing_keeps_conditions_and_uses_only_the_trials_where_an_entry_was_active():
    space = check_space(SPACE, dn.DNNClassifier())
    best = [{"optimizer": "adam", "beta": None, "beta1": 0.99, "beta2": 0.999, "regularization": "l2", "l2": 1e-3,
             "keep_prob": None}]
    narrowed = narrow_space(space, best)
    assert narrowed["beta"] is space["beta"]  # never active among the best: kept as it was
    assert narrowed["beta1"].condition == ("optimizer", ("adam",)) and narrowed["beta1"].high < 0.999
    assert narrowed["optimizer"] == Choice(["adam"])


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"beta": OneMinusLogUniform(0.9, 0.999).when(optimizer="adam")},
         r"space\['beta'\] is conditioned on 'optimizer', which must be a Choice or Switch entry"),
        ({"optimizer": Choice(["gd", "adam"]), "beta": OneMinusLogUniform(0.9, 0.999).when(optimizer="momentum")},
         r"conditioned on optimizer='momentum', which 'optimizer' never takes"),
        ({"dropout": Choice([True, False])}, r"space has 'dropout', which is not a parameter of DNNClassifier.*Switch"),
        ({"a": Switch([1, 2]).when(b=1), "b": Switch([1, 2]).when(a=1)}, r"cycle of conditions"),
    ],
)
def test_bad_conditions_are_clear_errors(space, message):
    with pytest.raises(ValueError, match=message):
        check_space(space, dn.DNNClassifier())
