"""Comparisons on any data: the grid of variants, and `dnnimprove compare` reproducing a classic study."""

from __future__ import annotations

import dataclasses
import json

import pytest

import dnnimprove as dn
from dnnimprove import cli
from dnnimprove.studies import STUDIES, DataSpec, run_study
from dnnimprove.studies.compare import comparison_study, variant_name
from dnnimprove.studies.runner import check_expectations


def test_the_variants_are_every_combination_of_the_varied_values():
    study = comparison_study(DataSpec("moons"), {"optimizer": ["gd", "adam"], "init": ["he", "xavier"]},
                             base={"lr": 0.01})
    assert [variant.name for variant in study.variants] == [
        "optimizer=gd, init=he", "optimizer=gd, init=xavier", "optimizer=adam, init=he", "optimizer=adam, init=xavier"]
    assert study.settings(study.variants[3])["lr"] == 0.01 and study.kind == "compare"
    assert variant_name({"optimizer": "adam"}) == "adam"


@pytest.mark.parametrize("vary, base, message", [
    ({}, {}, "at least one setting"),
    ({"optimiser": ["gd"]}, {}, "unknown setting 'optimiser'"),
    ({"optimizer": []}, {}, "at least one value"),
    ({"optimizer": ["gd", "gd"]}, {}, "repeats a value"),
    ({"optimizer": ["gd"]}, {"optimizer": "adam"}, "both varied and fixed"),
])
def test_a_bad_grid_is_refused_naming_the_setting(vary, base, message):
    with pytest.raises(ValueError, match=message):
        comparison_study(DataSpec("moons"), vary, base=base)


def test_compare_on_the_moons_csv_reproduces_the_optimization_studys_runs_and_conclusion(tmp_path, capsys):
    X, y = dn.datasets.moons(300, 0.2, 3)  # the optimization study's training set, written as a user's CSV
    path = tmp_path / "moons.csv"
    path.write_text("x1,x2,label\n" + "".join(f"{a!r},{b!r},{c}\n" for (a, b), c in zip(X.tolist(), y.tolist())))
    epochs = 60
    status = cli.main(["compare", "--data", str(path), "--target", "label", "--no-standardize",
                       "--vary", "optimizer=gd,momentum,adam", "--set", "lr=0.0007", "--set", "batch_size=64",
                       "--layers", "5,2", "--epochs", str(epochs), "--seeds", "2", "--out", str(tmp_path / "out"),
                       "--json", "--no-progress"])
    assert status == 0
    ours = {run["name"]: run for run in json.loads(capsys.readouterr().out)["runs"]}
    optimization = STUDIES["optimization"]
    classic = dataclasses.replace(optimization, variants=optimization.variants[:3], expectations=optimization.expectations[:1])
    theirs = run_study(classic, mode="robust", seeds=[0, 1], epochs=epochs)
    for variant in theirs.variants:
        assert [run.train_accuracy for run in variant.runs] == [seed["train_accuracy"] for seed in ours[variant.name]["per_seed"]]
    (text, held), = check_expectations(classic, theirs.variants)
    assert held == (ours["adam"]["train_accuracy"] > ours["gd"]["train_accuracy"])
    assert (tmp_path / "out" / "index.html").exists() and (tmp_path / "out" / "compare" / "cost.png").exists()


@pytest.mark.parametrize("argv, message", [
    (["--vary", "optimiser=gd"], "unknown setting 'optimiser'"),
    (["--vary", "optimizer"], "expected KEY=VALUE"),
    (["--vary", "optimizer=gd,nesterov"], "variant 'nesterov': unknown optimizer 'nesterov'"),
    (["--vary", "optimizer=gd", "--vary", "optimizer=adam"], "is given twice"),
    (["--vary", "optimizer=gd", "--set", "lr=0.1,0.2"], "takes one value"),
])
def test_compare_refuses_bad_grids_in_one_line(tmp_path, capsys, argv, message):
    status = cli.main(["compare", "--dataset", "moons", "--epochs", "1", "--out", str(tmp_path), *argv])
    assert status == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_compare_on_a_regression_target_reports_r2_beside_the_mse_in_the_targets_units(tmp_path, capsys):
    import numpy as np
    from sklearn.metrics import mean_squared_error, r2_score

    from dnnimprove.studies.table_data import TableSpec

    rng = np.random.default_rng(0)
    X = rng.normal(size=(160, 3))
    y = 1000.0 + 40.0 * (X @ [3.0, -2.0, 1.0]) + 10.0 * rng.normal(size=160)  # far from standardized units
    path = tmp_path / "values.csv"
    path.write_text("a,b,c,y\n" + "".join(f"{p!r},{q!r},{r!r},{t!r}\n" for (p, q, r), t in zip(X.tolist(), y.tolist())))
    argv = ["compare", "--data", str(path), "--target", "y", "--task", "regression", "--vary", "optimizer=gd,adam",
            "--set", "lr=0.01", "--set", "batch_size=32", "--layers", "8", "--epochs", "40", "--seeds", "1",
            "--dev-fraction", "0.2", "--test-fraction", "0.2", "--out", str(tmp_path / "out"), "--no-progress"]
    assert cli.main(argv) == 0
    header = capsys.readouterr().out.splitlines()[1].split()
    assert header[:8] == ["variant", "train", "R2", "dev", "R2", "test", "R2", "test"] and "MSE" in header
    assert cli.main([*argv, "--json"]) == 0
    adam = {run["name"]: run for run in json.loads(capsys.readouterr().out)["runs"]}["adam"]

    data = TableSpec(str(path), "y", task="regression", dev=0.2, test=0.2).load()
    study = comparison_study(TableSpec(str(path), "y", task="regression", dev=0.2, test=0.2),
                             {"optimizer": ["adam"]}, base={"lr": 0.01, "batch_size": 32}, hidden=(8,), epochs=40,
                             loss="mse")
    run = run_study(study, seeds=[0]).variants[0].runs[0]
    truth = data.preprocessing.decode(data.y_test)
    predicted = data.preprocessing.decode(run.model.loss.predict(run.model.forward(data.X_test)))
    assert adam["test_r2"] == pytest.approx(r2_score(truth, predicted), rel=1e-12)
    assert adam["test_mse"] == pytest.approx(mean_squared_error(truth, predicted), rel=1e-12)
    assert adam["test_mse"] > 100 * run.model.evaluate(data.X_test, data.y_test)["cost"]  # not the standardized MSE
    assert adam["train_r2"] > adam["test_r2"] - 0.2 and adam["train_accuracy"] is None
