"""The command line on the user's own file: --data/--target, train --out model.npz, predict, and bad input."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove import cli
from dnnimprove.tables import read_table


@pytest.fixture
def table_file(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["width,colour,weight,kind"]
    for _ in range(120):
        width, colour = rng.normal(), rng.choice(["red", "blue", "green"])
        weight = "" if rng.random() < 0.05 else f"{rng.normal(5, 2):.3f}"
        kind = "big" if width + (colour == "red") > 0.4 else "small"
        lines.append(f"{width:.4f},{colour},{weight},{kind}")
    path = tmp_path / "things.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def read_rows(path):
    with open(path, newline="") as stream:
        return list(csv.reader(stream))


def test_train_on_a_csv_writes_a_model_that_predict_uses_on_raw_rows(tmp_path, table_file, capsys):
    model_path = tmp_path / "model.npz"
    status = cli.main(["train", "--data", str(table_file), "--target", "kind", "--impute", "median", "--layers", "8",
                       "--lr", "0.01", "--epochs", "60", "--test-fraction", "0.25", "--json", "--out", str(model_path)])
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    assert result["test_accuracy"] > 0.7 and result["dataset"]["target"] == "kind"
    out = tmp_path / "predictions.csv"
    assert cli.main(["predict", "--model", str(model_path), "--data", str(table_file), "--out", str(out)]) == 0
    rows = read_rows(out)
    assert rows[0] == ["prediction", "proba_big", "proba_small"] and len(rows) == 121
    model = dn.load(model_path)
    raw = read_table(table_file)
    assert [row[0] for row in rows[1:]] == model.predict(raw).tolist()
    assert [float(row[1]) for row in rows[1:]] == model.predict_proba(raw)[:, 0].tolist()  # repr round-trips


def test_regression_target_trains_with_mse_and_predicts_values(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    path = tmp_path / "values.npz"
    np.savez(path, X=X, y=X @ [3.0, -2.0, 1.0] + 50.0)
    model_path = tmp_path / "model.npz"
    assert cli.main(["train", "--data", str(path), "--task", "regression", "--layers", "8", "--lr", "0.01",
                     "--epochs", "200", "--test-fraction", "0.2", "--out", str(model_path)]) == 0
    printed = capsys.readouterr().out
    r2 = float(printed.split("test MSE")[1].split("R2 ")[1].split()[0].rstrip(";"))
    assert r2 > 0.9
    assert cli.main(["predict", "--model", str(model_path), "--data", str(path)]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["prediction"] and len(rows) == 151
    predicted = np.array([float(row[0]) for row in rows[1:]])
    assert np.corrcoef(predicted, X @ [3.0, -2.0, 1.0])[0, 1] > 0.95


def test_search_on_a_regression_target_tunes_a_regressor_scored_by_r2(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    path = tmp_path / "values.npz"
    np.savez(path, X=X, y=500.0 + 30.0 * (X @ [3.0, -2.0, 1.0]))
    out = tmp_path / "search"
    assert cli.main(["search", "--data", str(path), "--task", "regression", "--trials", "4", "--rounds", "1",
                     "--epochs", "30", "--seed", "0", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "best dev R2" in printed and "test R2" in printed and "accuracy" not in printed
    with (out / "trials.csv").open() as trials:
        rows = list(csv.DictReader(trials))
    assert len(rows) == 4 and "dnnregressor__lr" in rows[0]
    best = max(float(row["dev_score"]) for row in rows)
    assert float(printed.split("best dev R2 ")[1].split()[0]) == pytest.approx(best, abs=5e-5)
    assert 0.5 < best <= 1.0  # an R2 of a learnable linear target (an accuracy would not be compared with it)


def write(path, text):
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("argv, message", [
    (["--data", "{tmp}/absent.csv", "--target", "y"], "data file '{tmp}/absent.csv' does not exist"),
    (["--data", "{table}", "--target", "label"], "has no target column 'label'"),
    (["--data", "{one_class}", "--target", "y"], "target column 'y' of data file '{one_class}' has one class"),
    (["--data", "{all_missing}", "--target", "y"], "column 'a' is entirely missing"),
    (["--data", "{identifier}", "--target", "y"], "column 'id' is text with 250 distinct values"),
    (["--data", "{binary}", "--target", "y"], "is not a text table"),
    (["--data", "{table}"], "needs --target COLUMN"),
    (["--dataset", "moons", "--data", "{table}", "--target", "kind"], "--dataset describe built-in datasets"),
])
def test_bad_data_input_is_one_line_and_status_2_and_writes_no_model(tmp_path, table_file, capsys, argv, message):
    files = {
        "tmp": str(tmp_path), "table": str(table_file),
        "one_class": write(tmp_path / "one.csv", "a,y\n1,x\n2,x\n3,x\n"),
        "all_missing": write(tmp_path / "holes.csv", "a,b,y\n,1,0\n,2,1\n,3,0\n,4,1\n"),
        "identifier": write(tmp_path / "ids.csv", "id,y\n" + "".join(f"u{i},{i % 2}\n" for i in range(250))),
    }
    (tmp_path / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    files["binary"] = str(tmp_path / "binary.csv")
    argv = [part.format(**files) for part in argv]
    model_path = tmp_path / "model.npz"
    status = cli.main(["train", *argv, "--epochs", "1", "--impute", "mean", "--out", str(model_path)])
    error = capsys.readouterr().err
    assert status == 2
    assert error.count("\n") == 1 and message.format(**files) in error
    assert not model_path.exists()


@pytest.mark.parametrize("header, message", [
    ("width,weight,kind", "missing the column(s) 'colour'"),
    ("width,colour,weight,extra,kind", "has the column(s) 'extra' the model was not trained with"),
    ("colour,width,weight,kind", "another order (first differing: 'colour')"),
])
def test_predict_names_missing_extra_and_reordered_columns(tmp_path, table_file, capsys, header, message):
    model_path = tmp_path / "model.npz"
    assert cli.main(["train", "--data", str(table_file), "--target", "kind", "--impute", "mean", "--epochs", "2",
                     "--out", str(model_path)]) == 0
    values = {"width": "0.5", "colour": "red", "weight": "4", "extra": "1", "kind": "big"}
    other = write(tmp_path / "new.csv", header + "\n" + ",".join(values[name] for name in header.split(",")) + "\n")
    capsys.readouterr()
    out = tmp_path / "p.csv"
    assert cli.main(["predict", "--model", str(model_path), "--data", other, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error and "new.csv" in error
    assert not out.exists()
