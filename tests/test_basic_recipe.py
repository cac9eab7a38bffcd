"""The basic recipe: bias first, then variance, one remedy at a time, kept only when the dev error improves."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.datasets import make_classification

import dnnimprove as dn
from dnnimprove import cli
from dnnimprove.basic_recipe import (BASELINE, RecipeStep, _Walk, _load, _refit, _train, baseline_config, dev_losses,
                                     improves, recipe)
from dnnimprove.recipe_remedies import TUNING_KNOBS

PLAIN = {**BASELINE, "optimizer": "gd", "lr": 0.05, "init": "xavier"}
"""A first network that leaves every bias remedy something to do."""


class _Bar:
    def update(self, n):
        pass

    def set_postfix_str(self, text):
        pass


def walk_at(train_error: float, dev_error: float, bayes: float = 0.0, config: dict | None = None) -> _Walk:
    walk = _Walk(data=None, seed=0, bayes=bayes, tolerance=0.01, deadline=None, max_steps=10, bar=_Bar())
    walk.steps.append(RecipeStep(0, "baseline", "baseline", dict(config or BASELINE), train_error, dev_error, kept=True))
    return walk


def test_the_baseline_uses_the_courses_defaults_for_a_relu_network():
    defaults = (BASELINE["activation"], BASELINE["init"], BASELINE["optimizer"], BASELINE["lr"])
    assert defaults == ("relu", "he", "adam", 0.001)


def test_the_baseline_is_as_wide_as_its_input_and_at_least_sixteen_units(small):
    X, y = small
    narrow = _load(X, y, None, "auto", None, 0.2, 0.2, 0)
    wide = _load(np.hstack([X] * 5), y, None, "auto", None, 0.2, 0.2, 0)
    assert baseline_config(narrow, 30)["hidden"] == (16,) and baseline_config(wide, 30)["hidden"] == (30,)
    assert baseline_config(wide, 30)["epochs"] == 30


def test_high_avoidable_bias_is_fixed_first_with_a_bigger_network():
    remedy, kind, candidates, verdict, reason = walk_at(0.20, 0.40).next_remedy()
    assert (remedy, kind) == ("wider network", "bias") and candidates[0]["hidden"] == (32,)
    assert "avoidable bias 0.2000 > 0.01" in reason


def test_variance_is_worked_on_once_bias_is_small_starting_with_an_l2_search_on_a_log_scale():
    remedy, kind, candidates, _, _ = walk_at(0.05, 0.15, bayes=0.05).next_remedy()
    assert (remedy, kind) == ("L2 regularization", "variance")
    assert [c["l2"] for c in candidates] == [0.01, 0.1, 1.0, 10.0]


def test_the_walk_stops_when_neither_gap_is_worth_closing():
    assert walk_at(0.055, 0.06, bayes=0.05).next_remedy().startswith("neither gap is worth closing")


def test_bias_remedies_follow_the_courses_order_and_a_rejected_one_is_not_retried():
    walk = walk_at(0.3, 0.3, config=PLAIN)
    order = []
    for _ in range(8):
        plan = walk.next_remedy()
        if isinstance(plan, str):
            break
        remedy = plan[0]
        order.append(remedy)
        walk.tried[remedy] = walk.tried.get(remedy, 0) + 1
        walk.steps.append(RecipeStep(len(walk.steps), remedy, "bias", plan[2][0], 0.3, 0.31, kept=False))
    assert order == ["wider network", "deeper network", "train longer", "Adam", "He initialization", "batch norm",
                     "L2 regularization", "dropout"][: len(order)]
    assert order[:6] == ["wider network", "deeper network", "train longer", "Adam", "He initialization", "batch norm"]


@pytest.fixture(scope="module")
def small():
    X, y = make_classification(n_samples=240, n_features=6, n_informative=4, flip_y=0.05, random_state=0)
    return X, np.where(y == 1, "yes", "no")


def test_recipe_keeps_a_step_only_when_the_dev_set_shows_an_improvement_and_its_model_predicts_labels(small, tmp_path):
    X, y = small
    result = recipe(X, y, seed=0, epochs=20, max_steps=4, out=tmp_path)
    kept = [step for step in result.steps if step.kept]
    assert result.steps[0].remedy == "baseline" and result.steps[0].kept
    for earlier, later in zip(kept, kept[1:]):  # better beyond noise, or stronger L2 the dev set cannot tell apart
        assert improves(later.losses, earlier.losses) or later.config.get("l2", 0) > earlier.config.get("l2", 0)
    assert len(result.steps) <= 5 and result.stopped
    assert 0.6 < result.test_score <= 1 and set(result.model.predict(X)) <= {"yes", "no"}
    for name in ("recipe.html", "recipe.json", "recipe_cost.png", "recipe_errors.png", "model.npz"):
        assert (tmp_path / name).exists(), name
    np.testing.assert_array_equal(dn.load(tmp_path / "model.npz").predict(X), result.model.predict(X))
    page = (tmp_path / "recipe.html").read_text()
    assert "baseline" in page and result.stopped.split(" (")[0] in page
    assert "Dev error measured by the dev set" in page and "Final model: trained again on train + dev" in page


def test_a_rejected_step_leaves_the_best_configuration_unchanged(small):
    X, y = small
    result = recipe(X, y, seed=0, epochs=20, max_steps=4)
    kept = [step for step in result.steps if step.kept]
    assert result.config == kept[-1].config
    for step in result.steps[1:]:
        if not step.kept:
            before = [earlier for earlier in result.steps[: step.index] if earlier.kept][-1]
            assert not improves(step.losses, before.losses)


def test_an_improvement_must_exceed_one_standard_error_of_the_paired_dev_differences():
    current = np.zeros((100, 2))
    one_fewer = current.copy()
    one_fewer[0, 0] = -1.0  # one dev example fewer wrong: mean -0.01, standard error 0.01
    assert not improves(one_fewer, current)
    two_fewer = current.copy()
    two_fewer[:2, 0] = -1.0  # mean -0.02, standard error 0.0142
    assert improves(two_fewer, current)
    same_errors_lower_cost = np.column_stack([np.zeros(100), np.full(100, -0.1) + 0.01 * np.sin(np.arange(100))])
    assert improves(same_errors_lower_cost, current)
    assert not improves(np.column_stack([np.eye(100)[0], np.full(100, -1.0)]), current)  # more errors: never


def test_dev_losses_average_to_the_dev_error_and_cost(small):
    X, y = small
    data = _load(X, y, None, "auto", None, 0.2, 0.2, 0)
    model = _train({**BASELINE, "epochs": 10}, data, seed=0).model
    losses = dev_losses(model, data)
    evaluated = model.evaluate(data.X_dev, data.y_dev)
    assert losses.mean(axis=0) == pytest.approx([1 - evaluated["accuracy"], evaluated["cost"]], rel=1e-12)


def test_the_budget_stops_the_walk(small):
    X, y = small
    result = recipe(X, y, seed=0, epochs=5, max_steps=1, human_error=0.0, tolerance=0.0)
    assert len(result.steps) == 2 and result.stopped == "max_steps=1 reached"


@pytest.mark.parametrize("kwargs, message", [
    ({"human_error": 1.5}, "human_error must be in"),
    ({"max_steps": 0}, "max_steps must be"),
    ({"dev": 0.0}, "dev must be in"),
    ({"folds": 1}, "folds must be an integer in"),
    ({"folds": "many"}, "folds must be 'auto', None or an integer"),
])
def test_bad_arguments_are_value_errors_naming_them(small, kwargs, message):
    X, y = small
    with pytest.raises(ValueError, match=message):
        recipe(X, y, **kwargs)


def test_regression_walks_on_the_standardized_mean_squared_error(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    result = recipe(X, X @ [2.0, -1.0, 0.5] + 0.1 * rng.normal(size=200), task="regression", seed=0, epochs=100,
                    max_steps=2)
    assert result.score_name == "R2" and result.test_score > 0.8


def test_the_recipe_command_writes_its_report_and_refuses_an_empty_dev_set(tmp_path, small, capsys):
    X, y = small
    path = tmp_path / "small.csv"
    path.write_text("a,b,c,d,e,f,label\n" + "".join(",".join(map(repr, row)) + f",{label}\n"
                                                    for row, label in zip(X.tolist(), y)))
    assert cli.main(["recipe", "--data", str(path), "--target", "label", "--epochs", "10", "--max-steps", "2",
                     "--folds", "3", "--average", "2", "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "baseline" in printed and "final:" in printed and (tmp_path / "out" / "model.npz").exists()
    assert "3-fold cross-validation" in printed and "with 2 seeds; the final model averages" in printed
    assert cli.main(["recipe", "--data", str(path), "--target", "label", "--dev-fraction", "0",
                     "--out", str(tmp_path / "out2")]) == 2
    assert "--dev-fraction must be > 0" in capsys.readouterr().err
    assert cli.main(["recipe", "--data", str(path), "--target", "label", "--folds", "1",
                     "--out", str(tmp_path / "out3")]) == 2
    assert "--folds must be 0 (the dev set) or at least 2; got 1" in capsys.readouterr().err


def test_a_rejected_remedy_is_tried_once_more_after_another_change_was_kept():
    walk = walk_at(0.05, 0.15, bayes=0.05)
    walk.tried["L2 regularization"] = 1
    walk.steps.append(RecipeStep(1, "L2 regularization", "variance", dict(BASELINE), 0.05, 0.16, kept=False))
    assert walk.next_remedy()[0] == "dropout"  # rejected, nothing kept since: not again yet
    walk.tried["dropout"] = 1
    walk.steps.append(RecipeStep(2, "dropout", "variance", {**BASELINE, "keep_prob": 0.9}, 0.05, 0.12, kept=True))
    remedy, _, candidates, _, _ = walk.next_remedy()
    assert remedy == "L2 regularization" and all(c["keep_prob"] == 0.9 for c in candidates)
    walk.tried["L2 regularization"] = 2  # at most twice
    assert walk.next_remedy()[0] == "dropout" and walk.next_remedy()[2][0]["keep_prob"] == 0.8


def test_a_budget_left_after_the_gaps_are_closed_tunes_one_knob_at_a_time(small):
    X, y = small
    result = recipe(X, y, seed=0, epochs=10, tolerance=1.0, max_minutes=0.05, n_seeds=2)
    tuning = [step for step in result.steps if step.kind.startswith("tuning")]
    assert result.stopped.startswith("neither gap is worth closing") and "; then " in result.stopped
    baseline = result.steps[0]
    variance, bias = baseline.dev_error - baseline.train_error, baseline.train_error - result.bayes_error
    larger = "variance" if variance > bias else "bias"
    assert tuning and tuning[0].remedy == next(name for name, kind, _ in TUNING_KNOBS if kind == larger)
    assert "budget left" in result.steps[tuning[0].index - 1].reason
    for step in tuning:
        before = [earlier for earlier in result.steps[: step.index] if earlier.kept][-1].config
        changed = {key for key in set(before) | set(step.config) if before.get(key) != step.config.get(key)}
        if step.kind == "tuning (again)":  # converged with time left: the same configuration, more seeds
            assert not changed and step.remedy.startswith("measure again with") and step.kept
            continue
        assert changed and changed <= {"lr", "optimizer", "hidden", "batch_size", "schedule", "decay_rate",
                                       "batch_norm", "l2", "keep_prob", "epochs", "early_stopping"}
        assert len(changed - {"optimizer", "decay_rate", "early_stopping"}) == 1, changed  # one knob


def test_a_converged_tuning_with_time_left_measures_again_with_twice_the_seeds(small):
    X, y = small
    data = _load(X, y, None, "auto", None, 0.2, 0.2, 0)
    walk = _Walk(data, seed=0, bayes=0.0, tolerance=0.01, deadline=time.perf_counter() + 60, max_steps=None,
                 bar=_Bar(), n_seeds=3)
    walk.run_step("baseline", "baseline", [{**BASELINE, "epochs": 5}])
    walk.factor, walk.rounds = 1.05, 1  # a round at the finest factor kept nothing
    remedy, kind, candidates, _, reason = walk.next_knob()
    assert remedy == "measure again with 6 seeds" and candidates == [walk.current.config] and "budget left" in reason
    step = walk.run_step(remedy, kind, candidates)
    assert step.kept and walk.n_seeds == 6 and walk.factor == 3.0 and step.config == walk.steps[0].config
    walk.deadline = time.perf_counter()  # no time left: convergence ends the walk
    walk.factor, walk.rounds, walk.round = 1.05, 1, []
    assert walk.next_knob().startswith("tuning converged")


def test_the_tuning_knobs_move_on_a_log_scale_coarse_to_fine():
    knobs = {name: knob for name, _, knob in TUNING_KNOBS}
    l2 = knobs["tune L2 (log scale)"]
    assert [c["l2"] for c in l2(BASELINE, 3.0)] == [1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0]
    assert [c["l2"] for c in l2({**BASELINE, "l2": 1.0}, 3.0)] == [0.111, 9.0, 0.0]
    lr = knobs["tune learning rate (log scale)"]
    assert [c["lr"] for c in lr(BASELINE, 3.0)] == [0.000333, 0.003]
    assert [c["lr"] for c in lr(BASELINE, 3.0 ** 0.5)] == [0.000577, 0.00173]


def test_the_one_standard_error_rule_prefers_the_stronger_l2_the_dev_set_cannot_tell_apart():
    walk = walk_at(0.05, 0.15, bayes=0.05)
    rng = np.random.default_rng(0)
    best = rng.random((200, 1))
    walk.best_losses = np.column_stack([best, best])
    close = best + 0.001 * rng.standard_normal((200, 1))  # indistinguishable
    far = best + 0.2  # clearly worse
    trained = [({**BASELINE, "l2": 1.0}, None, 0, 0, 0, np.column_stack([close, close])),
               ({**BASELINE, "l2": 10.0}, None, 0, 0, 0, np.column_stack([close, close])),
               ({**BASELINE, "l2": 100.0}, None, 0, 0, 0, np.column_stack([far, far]))]
    assert walk.simpler(trained, BASELINE)[0]["l2"] == 10.0
    assert walk.simpler(trained[2:], BASELINE) is None


def test_architecture_search_is_the_last_variance_remedy():
    walk = walk_at(0.05, 0.15, bayes=0.05)
    for remedy in ("L2 regularization", "dropout", "early stopping", "augmentation"):
        walk.tried[remedy] = 2
    remedy, kind, candidates, _, _ = walk.next_remedy()
    assert (remedy, kind) == ("architecture search", "variance")
    assert [c["hidden"] for c in candidates] == [(32,), (64,), (16, 16)]


def test_refit_trains_the_chosen_configuration_on_train_and_dev_rows(small):
    X, y = small
    kept = recipe(X, y, seed=0, epochs=20, max_steps=2, refit=False)
    refitted = recipe(X, y, seed=0, epochs=20, max_steps=2)
    assert kept.refit == "" and refitted.refit.startswith("trained again on train + dev (192 rows")
    assert f"{refitted.config['epochs']} epochs" in refitted.refit or refitted.config.get("early_stopping")
    assert kept.config == refitted.config and kept.model is not refitted.model
    assert refitted.model.preprocessing_ is refitted.data.preprocessing


def test_with_folds_every_decision_rests_on_the_cross_validated_train_and_dev_rows(small):
    X, y = small
    result = recipe(X, y, seed=0, epochs=10, max_steps=2, folds=3)
    rows = len(result.data.y_train) + len(result.data.y_dev)
    assert result.validation == f"3-fold cross-validation over the train + dev rows ({rows} rows)"
    assert "dev error measured by 3-fold cross-validation" in result.table()
    for step in result.steps:  # one loss per row, each row held out once: its mean is the out-of-fold error
        assert step.losses.shape == (rows, 2) and len(step.epochs_run) == 3
        assert step.losses[:, 0].mean() == pytest.approx(step.dev_error, abs=1 / rows)  # folds differ by <= 1 row


def test_a_time_budget_cross_validates_small_tables_by_default(small):
    X, y = small
    assert recipe(X, y, seed=0, epochs=5, max_steps=1).validation == "the dev set (48 rows)"
    budgeted = recipe(X, y, seed=0, epochs=5, max_steps=1, max_minutes=0.2)
    assert budgeted.validation.startswith("3-fold cross-validation")
    assert recipe(X, y, seed=0, epochs=5, max_steps=1, max_minutes=0.2, folds=None).validation.startswith(
        "the dev set (48 rows, mean of 3 seeds")


def test_refit_with_early_stopping_trains_for_the_median_of_the_epochs_early_stopping_chose(small):
    X, y = small
    data = _load(X, y, None, "auto", None, 0.2, 0.2, 0)
    config = {**BASELINE, "epochs": 40, "early_stopping": 2}
    step = RecipeStep(0, "baseline", "baseline", config, 0.1, 0.1, kept=True, epochs_run=[7, 30, 12])
    run = _train(config, data, seed=0)
    model, note, networks = _refit(step, run, data, seed=0)
    assert note == "trained again on train + dev (192 rows, 12 epochs)" and networks == [model]


def test_the_final_model_can_average_the_logits_of_several_seeds_of_the_chosen_configuration(small, tmp_path):
    X, y = small
    result = recipe(X, y, seed=0, epochs=10, max_steps=1, average=3, out=tmp_path)
    assert len(result.networks) == 3 and "with 3 seeds; the final model averages" in result.refit
    widths = [layer.units for layer in result.model.layers if hasattr(layer, "units")]
    assert widths == [3 * result.config["hidden"][0], 1]  # the three networks side by side
    arrays = result.data.X_test  # preprocessed rows: what the networks (without preprocessing) take
    mean_logits = np.mean([network.decision_function(arrays) for network in result.networks], axis=0)
    np.testing.assert_allclose(result.model.forward(arrays), mean_logits, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(dn.load(tmp_path / "model.npz").predict(X), result.model.predict(X))
