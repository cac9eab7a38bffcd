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
