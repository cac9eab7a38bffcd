"""Pruning on the dev accuracy per epoch: the median rule and successive halving (continued or retrained)."""

from __future__ import annotations

import math

import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import dnnimprove as dn
from dnnimprove.search import HiddenLayers, LogUniform, MedianPruner, SuccessiveHalving, random_search
from dnnimprove.search.pruning import MedianRule

SPACE = {"dnnclassifier__lr": LogUniform(1e-4, 3e-1),
         "dnnclassifier__hidden_layer_sizes": HiddenLayers(units=(4, 16), layers=(1, 2))}


def search(moons_200, epochs, n_trials=9, **settings):
    X, y = moons_200
    estimator = make_pipeline(StandardScaler(), dn.DNNClassifier(epochs=epochs))
    return random_search(estimator, SPACE, X, y, n_trials=n_trials, seed=4, refit=False, **settings)


def by_trial(result):
    return {trial["trial"]: trial for trial in result.trials}


def test_the_median_rule_stops_a_trial_below_the_median_after_the_warmup():
    rule = MedianPruner(warmup_epochs=2, startup_trials=2).rule([[0.5, 0.6, 0.7], [0.7, 0.8, 0.9]])
    assert rule.medians == (0.6, 0.7, 0.8)
    assert rule(0, 0.1) is False  # still warming up
    assert rule(1, 0.75) is False and rule(2, 0.76) is True  # best so far 0.76 < 0.8
    assert MedianPruner(startup_trials=3).rule([[0.5], [0.7]]) is None  # too few completed trials
    assert MedianRule((0.5,), 1, [-math.inf])(0, 0.5) is False  # equal to the median goes on


def test_successive_halving_budgets_end_at_the_full_epochs():
    assert SuccessiveHalving(min_epochs=3, factor=3).budgets(27) == [3, 9, 27]
    assert SuccessiveHalving(min_epochs=3, factor=3).budgets(30) == [3, 10, 30]
    assert SuccessiveHalving(min_epochs=5, factor=2).budgets(4) == [4]
    assert [SuccessiveHalving(factor=3).keep(n) for n in (9, 3, 2)] == [3, 1, 1]


def test_median_pruning_stops_trials_early_and_counts_the_epochs_saved(moons_200):
    full = search(moons_200, 12)
    pruned = search(moons_200, 12, pruner=MedianPruner(warmup_epochs=2, startup_trials=3))
    states = [trial["state"] for trial in pruned.trials]
    assert "pruned" in states and states.count("complete") >= 3
    assert pruned.epochs_budget == 9 * 12 and full.epochs_trained == 9 * 12
    assert pruned.epochs_trained == sum(t["epochs"] for t in pruned.trials) < pruned.epochs_budget
    assert pruned.epochs_saved == pruned.epochs_budget - pruned.epochs_trained
    for trial in pruned.trials:  # a completed trial scores exactly as without pruning
        if trial["state"] == "complete":
            assert trial["dev_score"] == by_trial(full)[trial["trial"]]["dev_score"]
        else:
            assert 2 <= trial["epochs"] < 12


def test_halving_continued_from_checkpoints_ends_exactly_where_one_trained_in_one_go_would(moons_200):
    full = search(moons_200, 9)
    continued = search(moons_200, 9, pruner=SuccessiveHalving(min_epochs=1, factor=3))
    retrained = search(moons_200, 9, pruner=SuccessiveHalving(min_epochs=1, factor=3, continue_trials=False))
    assert [t["state"] for t in continued.trials].count("complete") == 1
    winner = continued.best
    assert winner["state"] == "complete" and winner["epochs"] == 9
    assert winner["dev_score"] == by_trial(full)[winner["trial"]]["dev_score"]  # bit for bit
    assert retrained.best["trial"] == winner["trial"] and retrained.best["dev_score"] == winner["dev_score"]
    assert retrained.best["epochs"] == 1 + 3 + 9
    # rungs 1, 3, 9 epochs over 9 -> 3 -> 1 trials
    assert continued.epochs_trained == 9 * 1 + 3 * 2 + 1 * 6
    assert retrained.epochs_trained == 9 * 1 + 3 * 3 + 1 * 9
    assert sorted(t["epochs"] for t in continued.trials if t["state"] == "pruned") == [1] * 6 + [3] * 2


def test_pruning_needs_a_network_that_trains_by_epochs(moons_200):
    from sklearn.linear_model import LogisticRegression

    X, y = moons_200
    with pytest.raises(ValueError, match="pruning needs a DNNClassifier or DNNRegressor"):
        random_search(LogisticRegression(), {"C": LogUniform(0.1, 1)}, X, y, n_trials=2, pruner=MedianPruner())
