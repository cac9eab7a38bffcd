"""TrainResult: one training run, written and printed as the report writes a study's result."""

from __future__ import annotations

import json

import dnnimprove as dn
from dnnimprove import report
from dnnimprove.studies import DataSpec
from dnnimprove.studies.runner import evaluate_run
from dnnimprove.studies.single import TrainResult


def one_run(epochs: int = 5) -> TrainResult:
    spec = DataSpec("moons", {"n_samples": 80, "seed": 1}, test=0.25)
    data = spec.load()
    model = dn.Sequential(dn.dense_stack([4], 1), seed=0)
    model.fit(data.X_train, data.y_train, epochs=epochs, optimizer=dn.Adam(0.01))
    run = evaluate_run(model, data, epochs)
    return TrainResult("train: moons", "robust", spec.as_dict(), data, (4,), "binary_crossentropy",
                       {"optimizer": "adam", "lr": 0.01}, run)


def test_a_train_result_is_written_with_a_studys_keys_its_cost_curve_and_its_boundary(tmp_path):
    result = one_run()
    path = report.write_study(result, tmp_path)
    assert path == tmp_path / "train" / "results.json"
    written = json.loads(path.read_text())
    assert set(written) == {"study", "title", "mode", "smoke_test", "dataset", "architecture", "runs", "checks",
                            "seconds", "reading", "environment", "figures"}
    assert written["checks"] == [] and written["architecture"] == {"hidden": [4], "loss": "binary_crossentropy"}
    (row,) = written["runs"]
    assert row["name"] == "train" and row["per_seed"][0]["train_accuracy"] == result.run.train_accuracy
    assert [figure["file"] for figure in written["figures"]] == ["cost.png", "boundary.png"]
    assert written["reading"][0] == "One run of dnnimprove train."


def test_a_train_result_prints_as_a_one_row_table():
    table = report.text_table(one_run())
    lines = table.splitlines()
    assert lines[0] == "train: moons [robust]" and lines[3].startswith("train ") and len(lines) == 4
