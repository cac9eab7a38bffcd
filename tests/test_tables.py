"""Reading user tables: every format into the same named columns, and one clear error per bad file."""

from __future__ import annotations

import numpy as np
import pytest

from dnnimprove import tables
from dnnimprove.tables import TableError, as_table, read_table, split_target

CSV = "age,city,label\n31,Paris,yes\n45,,no\n,Lyon,yes\n"


def test_csv_columns_are_float_or_text_with_missing_values_marked(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    table = read_table(path)
    assert list(table) == ["age", "city", "label"]
    assert table["age"].dtype == np.float64 and np.isnan(table["age"][2]) and table["age"][1] == 45.0
    assert table["city"].tolist() == ["Paris", None, "Lyon"]


def test_csv_without_pandas_reads_the_same_table(tmp_path, monkeypatch):
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    with_pandas = read_table(path)
    monkeypatch.setitem(__import__("sys").modules, "pandas", None)  # import pandas now raises ImportError
    plain = read_table(path)
    assert list(plain) == list(with_pandas)
    np.testing.assert_array_equal(plain["age"], with_pandas["age"])
    assert plain["city"].tolist() == with_pandas["city"].tolist()


@pytest.mark.parametrize("suffix", [".parquet", ".feather"])
def test_arrow_files_read_as_the_csv_does(tmp_path, suffix):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"age": [31.0, 45.0, np.nan], "city": ["Paris", None, "Lyon"], "n": [1, 2, 3]})
    path = tmp_path / f"people{suffix}"
    frame.to_parquet(path) if suffix == ".parquet" else frame.to_feather(path)
    table = read_table(path)
    assert table["city"].tolist() == ["Paris", None, "Lyon"]
    assert np.isnan(table["age"][2]) and table["n"].tolist() == [1.0, 2.0, 3.0]


def test_npz_gives_x_columns_and_y(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, X=np.arange(6.0).reshape(3, 2), y=np.array([0, 1, 0]))
    table = read_table(path)
    assert list(table) == ["x0", "x1", "y"] and table["x1"].tolist() == [1.0, 3.0, 5.0]


@pytest.mark.parametrize("name, content, message", [
    ("missing.csv", None, "does not exist"),
    ("data.xlsx", "a,b\n1,2\n", "unknown extension '.xlsx'"),
    ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a text table"),
    ("empty.csv", "", "is empty"),
    ("header.csv", "a,b\n", "has no rows"),
    ("broken.npz", b"not a zip", "not a readable .npz"),
])
def test_a_file_that_is_not_a_table_is_one_error_naming_it(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(TableError, match=message) as caught:
        read_table(path)
    assert name in str(caught.value) and "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_split_target_names_an_unknown_column_and_lists_the_others():
    table = as_table({"a": [1, 2], "b": ["x", "y"]})
    features, y = split_target(table, "b")
    assert list(features) == ["a"] and y.tolist() == ["x", "y"]
    with pytest.raises(TableError, match="no target column 'label'; its columns: 'a', 'b'"):
        split_target(table, "label")
    with pytest.raises(TableError, match="target column 'a' .* 1 missing"):
        split_target(as_table({"a": [1.0, np.nan], "b": ["x", "y"]}), "a")


def test_as_table_accepts_frames_and_refuses_ragged_columns():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "s": ["a", "b"]})
    table = as_table(frame)
    assert np.isnan(table["n"][1]) and table["s"].tolist() == ["a", "b"]
    with pytest.raises(TableError, match="different lengths"):
        as_table({"a": [1, 2], "b": [1]})
    assert tables.is_table(frame) and not tables.is_table(np.zeros((2, 2)))


def test_write_csv_leaves_no_partial_file_on_failure(tmp_path):
    path = tmp_path / "out.csv"
    with pytest.raises(Exception, match="iterable expected"):
        tables.write_csv(path, ["a"], [[1], object])  # a row that is not a sequence fails mid-write
    assert not path.exists() and list(tmp_path.iterdir()) == []
