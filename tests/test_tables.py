"""Reading user tables: every format into the same named columns, and one clear error per bad file."""

from __future__ import annotations

import re

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


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed], ids=["stored", "deflated"])
def test_an_npz_reads_the_same_stored_or_deflated_in_any_layout(tmp_path, save):
    """NaN stays a missing value, a Fortran-ordered or big-endian X reads as its values, a text y stays text,
    and members other than X and y are ignored."""
    X = np.asfortranarray(np.arange(12.0).reshape(4, 3).astype(">f4"))
    X[1, 2] = np.nan
    path = tmp_path / "data.npz"
    save(path, X=X, y=np.array(["a", "b", "a", "c"]), notes=np.arange(5))
    table = read_table(path)
    assert list(table) == ["x0", "x1", "x2", "y"] and table["y"].tolist() == ["a", "b", "a", "c"]
    assert table["x1"].tolist() == [1.0, 4.0, 7.0, 10.0] and table["x0"].dtype == np.float64
    assert np.isnan(table["x2"][1]) and table["x2"][3] == 11.0


def test_reading_an_npz_table_takes_about_what_its_headers_declare(tmp_path):
    """The peak traced memory of a read is X and y as stored plus the float64 table (npz_table_bytes),
    within 64 KiB: the bound the memory check uses holds for what the read really allocates."""
    import tracemalloc

    X, y = np.random.default_rng(0).standard_normal((4096, 8)), np.arange(4096)
    path = tmp_path / "data.npz"
    np.savez_compressed(path, X=X, y=y)
    declared = tables.npz_table_bytes(X.shape, X.dtype, y.dtype)
    read_table(path)  # imports and caches first
    tracemalloc.start()
    try:
        read_table(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"\nread peak {peak} bytes; declared {declared}")
    assert X.nbytes + y.nbytes < peak <= declared + 65536


def test_an_npz_table_beyond_this_machine_s_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """4 MB of zeros deflate to a few KB: allowed where memory allows, refused unread (under 128 KB of peak)
    when this machine's limit is below what X and y declare with their table."""
    import tracemalloc

    from dnnimprove import memory

    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, X=np.zeros((65536, 8)), y=np.zeros(65536))
    assert path.stat().st_size < 65536 and read_table(path)["x7"].shape == (65536,)
    needed = tables.npz_table_bytes((65536, 8), np.float64, np.float64)
    monkeypatch.setattr(memory, "memory_limit", lambda: needed - 1)
    tracemalloc.start()
    try:
        with pytest.raises(TableError, match=rf"^data file '{re.escape(str(path))}' needs about 9.0 MB \(X \(65536, 8\) float64 and "
                                              r"y \(65536,\) float64, read and turned into a table\); this machine allows 9.0 MB$"):
            read_table(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 131072, peak  # the zip, two .npy headers and their inflaters: nothing of the 9 MB
    monkeypatch.setattr(memory, "memory_limit", lambda: needed)
    assert read_table(path)["y"].shape == (65536,)  # at the limit: read


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
