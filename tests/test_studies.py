"""Studies: recipes are valid data, the runner reproduces the course exactly and summarizes seeds honestly."""

from __future__ import annotations

import numpy as np
import pytest

from dnnimprove.studies import STUDIES, DataSpec, Expectation, Study, Variant, get_study, run_study
from dnnimprove.studies.runner import VariantResult, build_schedule, check_expectations, mean_and_spread


def test_every_study_is_registered_under_its_name_and_runs_with_a_known_runner():
    from dnnimprove.studies import RUNNERS

    assert set(STUDIES) >= {"initialization", "optimization", "minibatch", "softmax", "tuning", "gradient_checking"}
    for name, study in STUDIES.items():
        assert study.name == name and study.kind in RUNNERS
        assert study.quick_epochs < study.epochs


def test_unknown_study_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown study 'nope'; valid values: .*'initialization'"):
        get_study("nope")


def test_a_recipe_with_an_unknown_setting_is_rejected():
    with pytest.raises(ValueError, match=r"unknown setting 'learning_rate'; valid values: .*'lr'"):
        Study("x", "x", "x", DataSpec("moons"), (3,), 10, 1, variants=(Variant("a", {"learning_rate": 0.1}),))


def test_an_expectation_must_name_a_variant_of_the_study():
    with pytest.raises(ValueError, match=r"unknown variant 'adam'"):
        Study("x", "x", "x", DataSpec("moons"), (3,), 10, 1, variants=(Variant("gd"),),
              expectations=(Expectation("t", "adam", ">", "gd"),))


def test_course_exact_optimization_reproduces_versions_a_and_b_exactly():
    result = run_study("optimization", mode="course-exact")
    published = {variant.name: variant.published["train_accuracy"] for variant in result.variants}
    measured = {variant.name: round(variant.metric("train_accuracy")[0], 4) for variant in result.variants}
    assert measured == published  # 0.7967 / 0.7967 / 0.94, then the ten-row version B table
    assert len(measured) == 10 and all(ok for _, ok in result.checks)


def test_course_exact_initialization_reproduces_train_and_test_figures():
    result = run_study("initialization", mode="course-exact")
    for variant in result.variants:
        assert variant.matches_published(), variant.summary()
    assert [round(v.metric("test_accuracy")[0], 4) for v in result.variants] == [0.5, 0.86, 0.96]


def test_course_decay_is_the_schedule_one_epoch_late():
    settings = {"lr": 0.1, "schedule": "fixed_interval", "decay_rate": 1.0, "time_interval": 1000}
    ours, course = build_schedule(settings), build_schedule(settings, course_exact=True)
    assert [ours(e) for e in (0, 999, 1000)] == [0.1, 0.1, 0.05]
    assert [course(e) for e in (0, 1, 1000, 1001)] == [0.1, 0.1, 0.1, 0.05]


def test_robust_mode_reports_mean_and_population_spread_over_the_given_seeds():
    result = run_study("softmax", seeds=[4, 5], epochs=2)
    variant = result.variants[0]
    accuracies = [run.test_accuracy for run in variant.runs]
    row = variant.summary()
    assert row["seeds"] == [4, 5] and len(set(accuracies)) == 2
    assert row["test_accuracy"] == pytest.approx(np.mean(accuracies))
    assert row["test_accuracy_std"] == pytest.approx(np.std(accuracies))
    assert [entry["test_accuracy"] for entry in row["per_seed"]] == accuracies


def test_same_seed_gives_the_same_results():
    first = run_study("minibatch", seeds=[1], epochs=3).to_json()["runs"]
    second = run_study("minibatch", seeds=[1], epochs=3).to_json()["runs"]
    strip = lambda runs: [{k: v for k, v in run.items() if "seconds" not in k and k != "per_seed"} for run in runs]  # noqa: E731
    assert strip(first) == strip(second)


def test_mean_and_spread_is_missing_when_a_value_is_missing():
    assert mean_and_spread([0.5, None]) == (None, None)
    assert mean_and_spread([1.0, 3.0]) == (2.0, 1.0)


def _variant(name: str, accuracies: list[float]) -> VariantResult:
    runs = [type("Run", (), {"train_accuracy": a, "test_accuracy": None})() for a in accuracies]
    return VariantResult(name, {}, runs)


def test_an_expectation_that_does_not_hold_is_reported_as_failing():
    study = Study("x", "x", "x", DataSpec("moons"), (3,), 10, 1, variants=(Variant("adam"), Variant("gd")),
                  expectations=(Expectation("Adam beats gradient descent", "adam", ">", "gd"),
                                Expectation("gd stays below 0.9", "gd", "<", 0.9)))
    holds = check_expectations(study, [_variant("adam", [0.9, 0.94]), _variant("gd", [0.8, 0.8])])
    fails = check_expectations(study, [_variant("adam", [0.7, 0.7]), _variant("gd", [0.95, 0.95])])
    assert [ok for _, ok in holds] == [True, True]
    assert [ok for _, ok in fails] == [False, False]
    assert fails[0][0] == "Adam beats gradient descent: NO, adam 0.7 is not > gd 0.95 (train_accuracy)"
    assert holds[0][0] == "Adam beats gradient descent: yes, adam 0.92 > gd 0.8 (train_accuracy)"
    assert fails[1][0] == "gd stays below 0.9: NO, gd 0.95 is not < 0.9 (train_accuracy)"


def test_a_published_figure_we_do_not_reach_is_reported_as_differing():
    assert VariantResult("he", {}, _variant("he", [0.9933]).runs, {"train_accuracy": 0.9933}).matches_published()
    assert not VariantResult("he", {}, _variant("he", [0.99]).runs, {"train_accuracy": 0.9933}).matches_published()


def test_gradient_checking_study_passes_the_correct_network_and_names_the_wrong_tensors():
    result = run_study("gradient_checking", seeds=[0])
    reports = {report["name"]: report for report in result.extras["gradient_checks"]}
    assert reports["correct"]["ok"] and reports["correct"]["difference"] < 1e-7
    assert set(reports["buggy_dense_2"]["wrong_tensors"]) == {"dense_2.W", "dense_2.b"}
    assert all(ok for _, ok in result.checks)


def test_tuning_study_samples_learning_rates_on_a_log_scale_and_compares_with_a_grid():
    result = run_study("tuning", seeds=[0], epochs=1)
    trials = result.extras["trials"]
    random_lrs = [t["settings"]["lr"] for t in trials if t["stage"] in ("coarse", "fine")]
    grid_lrs = {t["settings"]["lr"] for t in trials if t["stage"] == "grid"}
    assert len(random_lrs) == len([t for t in trials if t["stage"] == "grid"])  # same budget
    assert len(set(random_lrs)) == len(random_lrs) > len(grid_lrs) == 3
    assert all(1e-4 <= lr <= 1 for lr in random_lrs)
    assert {t["stage"] for t in trials} == {"coarse", "fine", "grid"}
    betas = [t["settings"]["beta"] for t in trials if t["stage"] == "coarse"]
    assert all(0.9 <= beta <= 0.999 for beta in betas)


def test_regularization_study_shrinks_the_train_test_gap_over_three_seeds():
    result = run_study("regularization")
    gaps = {variant.name: variant.metric("gap")[0] for variant in result.variants}
    assert gaps["none"] > 0.1  # the plain network overfits the noisy set
    assert gaps["l2"] < gaps["none"] and gaps["dropout"] < gaps["none"] and gaps["early_stopping"] < gaps["none"]
    stopped = result.variants[3].runs
    assert all(run.epochs < result.study.epochs for run in stopped)  # early stopping stopped early
    near_zero = {variant.name: variant.metric("near_zero")[0] for variant in result.variants}
    assert gaps["l1"] < gaps["none"] and near_zero["l1"] > 0.5 > near_zero["l2"] > near_zero["none"]


def test_batch_norm_study_trains_where_the_plain_network_fails_at_a_high_learning_rate():
    result = run_study("batch_norm")
    test = {variant.name: variant.metric("test_accuracy")[0] for variant in result.variants}
    assert test["batch_norm"] > 0.95 and test["plain"] < 0.5
    assert all(ok for _, ok in result.checks)


def test_a_diverging_run_is_recorded_not_raised():
    study = Study("x", "x", "x", DataSpec("moons"), (20, 20), 30, 1,
                  base={"optimizer": "gd", "lr": 1e6, "activation": "leaky_relu"}, variants=(Variant("too_high"),))
    with np.errstate(over="ignore", invalid="ignore"):
        result = run_study(study, seeds=[0])
    run = result.variants[0].runs[0]
    assert run.diverged and "learning rate 1e+06" in run.diverged
    assert result.variants[0].summary()["diverged"] == 1
    assert run.epochs < 30 and run.train_accuracy is not None
