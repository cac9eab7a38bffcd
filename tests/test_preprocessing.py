"""Preprocessing learned on the training rows: scikit-learn's arithmetic, plain data, and the same bits anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import dnnimprove as dn
from dnnimprove.preprocessing import Preprocessing, fit_preprocessing, infer_task
from dnnimprove.tables import read_table

SRC = str(Path(__file__).resolve().parents[1] / "src")


def people(m: int = 40, seed: int = 0, holes: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    table = {
        "age": rng.normal(40, 12, m),
        "income": rng.lognormal(10, 1, m),
        "city": rng.choice(["Lyon", "Paris", "Nice"], m).astype(object),
    }
    if holes:
        table["age"][[1, 5]] = np.nan
        table["city"][[2]] = None
    return table


def test_numeric_columns_are_scikit_learns_standard_scaling_bit_for_bit():
    table = people()
    prep = fit_preprocessing(table, np.arange(40) % 2)
    M = np.column_stack([table["age"], table["income"]])
    np.testing.assert_array_equal(prep.transform(table)[:, :2], StandardScaler().fit(M).transform(M))


def test_text_columns_are_one_hot_encoded_after_the_numeric_ones_in_sorted_order():
    table = people()
    prep = fit_preprocessing(table, np.arange(40) % 2)
    assert prep.numeric == ["age", "income"] and prep.categories == {"city": ["Lyon", "Nice", "Paris"]}
    expected = OneHotEncoder(sparse_output=False).fit_transform(table["city"].reshape(-1, 1))
    np.testing.assert_array_equal(prep.transform(table)[:, 2:], expected)
    assert prep.n_features_out == 5


@pytest.mark.parametrize("impute", ["mean", "median"])
def test_imputation_fills_with_the_training_statistic_of_simple_imputer(impute):
    table = people(holes=True)
    prep = fit_preprocessing(table, np.arange(40) % 2, impute=impute)
    statistic = SimpleImputer(strategy=impute).fit(np.column_stack([table["age"], table["income"]])).statistics_
    assert prep.fill["age"] == statistic[0] and prep.fill["income"] == statistic[1]
    cities = [city for city in table["city"] if city is not None]
    assert prep.fill["city"] == max(sorted(set(cities)), key=cities.count)
    assert np.isfinite(prep.transform(table)).all()


def test_missing_values_without_imputation_are_refused_naming_the_column():
    with pytest.raises(ValueError, match="column 'age' has 2 missing value"):
        fit_preprocessing(people(holes=True), np.arange(40) % 2)
    prep = fit_preprocessing(people(), np.arange(40) % 2)
    with pytest.raises(ValueError, match="column 'city' has 1 missing value"):
        prep.transform({**people(), "city": np.array([None] + ["Lyon"] * 39, dtype=object)})


@pytest.mark.parametrize("table, y, message", [
    ({"a": [np.nan, np.nan, np.nan], "b": [1.0, 2.0, 3.0]}, [0, 1, 0], "column 'a' is entirely missing"),
    ({"id": [f"u{i}" for i in range(250)]}, np.arange(250) % 2, "column 'id' is text with 250 distinct values"),
    ({"a": [1.0, 2.0, 3.0]}, ["x", "x", "x"], "has one class \\('x'\\)"),
])
def test_unusable_columns_and_targets_are_refused_naming_them(table, y, message):
    with pytest.raises(ValueError, match=message):
        fit_preprocessing(table, np.asarray(y), impute="mean")


def test_mismatched_columns_at_prediction_say_which():
    prep = fit_preprocessing(people(), np.arange(40) % 2, target="label")
    table = people(seed=1)
    with pytest.raises(ValueError, match="missing the column\\(s\\) 'income'"):
        prep.transform({"age": table["age"], "city": table["city"]})
    with pytest.raises(ValueError, match="has the column\\(s\\) 'zip' the model was not trained with"):
        prep.transform({**table, "zip": table["age"]})
    with pytest.raises(ValueError, match="another order \\(first differing: 'income'\\)"):
        prep.transform({"income": table["income"], "age": table["age"], "city": table["city"]})
    with pytest.raises(ValueError, match="category 'Rome', not seen in training"):
        prep.transform({**table, "city": np.array(["Rome"] * 40, dtype=object)})
    with pytest.raises(ValueError, match="column 'age' must be numeric"):
        prep.transform({**table, "age": np.array(["old"] * 40, dtype=object)})
    labelled = {**table, "label": np.zeros(40)}  # the target column may be present; it is ignored
    np.testing.assert_array_equal(prep.transform(labelled), prep.transform(table))


def test_labels_map_to_indices_in_sorted_order_and_back():
    prep = fit_preprocessing(None, np.array(["b", "a", "c", "a"]))
    assert prep.columns is None and prep.classes == ["a", "b", "c"]
    assert prep.encode_target(["c", "a"]).tolist() == [2, 0]
    assert prep.decode(np.array([1, 2])).tolist() == ["b", "c"]
    with pytest.raises(ValueError, match="label 'z'"):
        prep.encode_target(["z"])


def test_regression_targets_are_standardized_and_decoded_back():
    y = np.array([10.0, 20.0, 35.5, 12.25])
    prep = fit_preprocessing(people(4), y, task="regression")
    scaled = prep.encode_target(y)
    assert abs(scaled.mean()) < 1e-12 and abs(scaled.std() - 1) < 1e-12
    np.testing.assert_allclose(prep.decode(scaled), y, rtol=1e-15)


def test_infer_task():
    assert infer_task(np.array([0.0, 1.0, 2.0])) == "classification"
    assert infer_task(np.array([0.5, 1.0])) == "regression"
    assert infer_task(np.arange(100.0)) == "regression"


def test_json_round_trip_gives_the_same_bits_and_bad_fields_are_named():
    prep = fit_preprocessing(people(holes=True), np.arange(40) % 3, impute="median", target="label")
    again = Preprocessing.from_json(json.loads(json.dumps(prep.to_json())))
    assert again == prep
    table = people(seed=3, holes=True)
    np.testing.assert_array_equal(again.transform(table), prep.transform(table))
    broken = {**prep.to_json(), "scale": [1.0, 0.0]}
    with pytest.raises(ValueError, match="scale\\[1\\]"):
        Preprocessing.from_json(broken)
    with pytest.raises(ValueError, match="preprocessing field surprise"):
        Preprocessing.from_json({**prep.to_json(), "surprise": 1})


# -- the model file carries it: save -> load in a new process -> the same outputs --------------------------
KINDS = {
    "numeric": dict(columns=("age", "income"), impute=None, labels="text2"),
    "one_hot": dict(columns=("age", "income", "city"), impute=None, labels="text3"),
    "mean": dict(columns=("age", "income", "city"), impute="mean", labels="int2"),
    "median": dict(columns=("age", "income", "city"), impute="median", labels="text3"),
    "regression": dict(columns=("age", "city"), impute="mean", labels="regression"),
}

CHILD = """
import sys, numpy as np, dnnimprove as dn
from dnnimprove.tables import read_table
for folder in sys.argv[1:]:
    model = dn.load(folder + "/model.npz")
    table = read_table(folder + "/data.csv")
    table.pop("target")
    out = {"predict": model.predict(table)}
    if model.loss.is_classifier:
        out["proba"] = model.predict_proba(table)
    np.savez(folder + "/out.npz", **out)
"""


def train_and_save(folder: Path, kind: str) -> dict:
    """Fit a small model of ``kind`` on raw rows, save it and its CSV; returns its in-process outputs."""
    pd = pytest.importorskip("pandas")
    spec = KINDS[kind]
    holes = spec["impute"] is not None
    frame = pd.DataFrame({name: people(60, holes=holes)[name] for name in spec["columns"]})
    rng = np.random.default_rng(1)
    target = {"text2": rng.choice(["no", "yes"], 60), "text3": rng.choice(["a", "b", "c"], 60),
              "int2": rng.integers(3, 5, 60), "regression": rng.normal(100, 20, 60)}[spec["labels"]]
    loss, units = {"text2": ("binary_crossentropy", 1), "text3": ("categorical_crossentropy", 3),
                   "int2": ("binary_crossentropy", 1), "regression": ("mse", 1)}[spec["labels"]]
    model = dn.Sequential([dn.Dense(6), dn.ReLU(), dn.Dense(units)], loss=loss, seed=0)
    if spec["impute"] or kind == "regression":  # the command line's preprocessing: imputation, scaled targets
        model.preprocessing_ = fit_preprocessing(frame, target, task="auto" if loss != "mse" else "regression",
                                                 impute=spec["impute"])
    model.fit(frame, target, epochs=5, batch_size=16)
    folder.mkdir()
    frame.assign(target=target).to_csv(folder / "data.csv", index=False)
    raw = read_table(folder / "data.csv")
    raw.pop("target")
    expected = {"predict": model.predict(raw)}
    if model.loss.is_classifier:
        expected["proba"] = model.predict_proba(raw)
    dn.save(model, folder / "model.npz")
    return expected


def test_a_loaded_model_predicts_the_same_bits_on_raw_rows_in_a_new_process(tmp_path):
    expected = {kind: train_and_save(tmp_path / kind, kind) for kind in sorted(KINDS)}
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run([sys.executable, "-c", CHILD, *(str(tmp_path / kind) for kind in expected)], check=True, env=env)
    for kind, outputs in expected.items():
        with np.load(tmp_path / kind / "out.npz", allow_pickle=False) as got:
            for key, value in outputs.items():
                assert got[key].dtype == value.dtype, (kind, key)
                assert got[key].tobytes() == value.tobytes(), (kind, key)
