"""User tables: read a data file into named columns, and turn frames, dicts and arrays into the same shape.

A *table* here is an ordered ``dict`` ``column name -> 1-D ndarray`` of one length: numeric columns are
``float64`` (a missing value is ``NaN``), every other column is an ``object`` array of ``str`` (a missing
value is ``None``). It is what :mod:`dnnimprove.preprocessing` learns from and transforms.

Files (by extension):

=========================  ==========================================================================
``.csv`` ``.tsv`` ``.txt``  comma- (tab- for ``.tsv``) separated text with a header row; read with pandas
                           when it is installed, else with the standard :mod:`csv` module
``.parquet`` ``.pq``       Apache Parquet, read with pyarrow (``pip install "dnnimprove[data]"``)
``.feather`` ``.arrow``    Feather / Arrow IPC, read with pyarrow
``.npz``                   a NumPy archive with ``X`` (2-D, numeric) and ``y`` (1-D): columns
                           ``x0 .. x{n-1}`` and the target ``y``; read without pickle, members
                           stored or deflated (:func:`numpy.savez`, :func:`numpy.savez_compressed`)
=========================  ==========================================================================

An ``.npz`` is read with bounded memory, like a model file (:class:`dnnimprove.npzfiles.NpzArchive`):
each member's zip entry and ``.npy`` header are checked before its data is read (sizes that disagree, a
member that inflates beyond its declared size, an object dtype, an over-long header are refused), other
members are never read, and the memory ``X`` and ``y`` declare together with the table built from them
(:func:`npz_table_bytes`) must fit this machine's limit (:func:`dnnimprove.memory.memory_limit`)
before either is allocated.

Every problem (a missing file, an unknown extension, a file that is not a table, an unknown target
column) raises :class:`TableError`, a :class:`ValueError` whose one-line message names the file or the
column. pandas and pyarrow are imported only when a file or a frame needs them.
"""

from __future__ import annotations

import csv
import io
import math
import os
from typing import Any

import numpy as np

from .npzfiles import READ_ERRORS, NpzArchive

__all__ = ["TableError", "Table", "read_table", "write_csv", "as_table", "split_target", "is_table", "EXTENSIONS"]

Table = dict
"""``{column name: 1-D ndarray}``: float64 columns (NaN missing) or object columns of str (None missing)."""

EXTENSIONS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".feather": "feather", ".arrow": "feather",
    ".npz": "npz",
}
"""File extension -> reader."""

_SNIFF_BYTES = 4096


class TableError(ValueError):
    """A data file or table that cannot be used; the message names the file or the column."""


# -- columns ------------------------------------------------------------------------------------
def _is_missing(value: Any) -> bool:
    """None, a float NaN, or pandas' NA / NaT markers."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    pandas = _pandas_or_none()
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def _pandas_or_none() -> Any:
    import sys

    return sys.modules.get("pandas")  # only when the caller already imported it: never loads pandas here


def _column(name: str, values: Any) -> np.ndarray:
    """One column as float64 (numbers, NaN missing) or object-of-str (anything else, None missing)."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise TableError(f"column {name!r} must be 1-D; got shape {array.shape}")
    if array.dtype.kind in "iuf":
        return array.astype(np.float64)
    cells = array.tolist()
    present = [cell for cell in cells if not _is_missing(cell)]
    if present and all(isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, bool)
                       for cell in present):
        return np.array([np.nan if _is_missing(cell) else float(cell) for cell in cells], dtype=np.float64)
    column = np.empty(len(cells), dtype=object)
    column[:] = [None if _is_missing(cell) else str(cell) for cell in cells]
    return column


def _text_column(name: str, cells: list[str]) -> np.ndarray:
    """A column of CSV text: numbers when every non-empty cell parses as one, else strings."""
    present = [cell for cell in cells if cell.strip() != ""]
    try:
        numbers = [float(cell) if cell.strip() != "" else np.nan for cell in cells]
    except ValueError:
        numbers = None
    if numbers is not None and present:
        return np.array(numbers, dtype=np.float64)
    column = np.empty(len(cells), dtype=object)
    column[:] = [cell if cell.strip() != "" else None for cell in cells]
    return column


def is_table(data: Any) -> bool:
    """Whether ``data`` is a table-like object (a pandas DataFrame, a dict of columns or a structured array)."""
    frame_type = getattr(_pandas_or_none(), "DataFrame", None)
    if frame_type is not None and isinstance(data, frame_type):
        return True
    if isinstance(data, dict):
        return True
    return isinstance(data, np.ndarray) and data.dtype.names is not None


def as_table(data: Any, name: str = "X") -> Table:
    """A pandas DataFrame, a dict of columns or a structured array as a table (see the module doc).

    Column names become ``str``; a column that is not 1-D, columns of unequal lengths or an empty table
    raise :class:`TableError` naming ``name`` and the column.
    """
    if isinstance(data, np.ndarray) and data.dtype.names is not None:
        data = {field: data[field] for field in data.dtype.names}
    frame_type = getattr(_pandas_or_none(), "DataFrame", None)
    if frame_type is not None and isinstance(data, frame_type):
        if data.columns.duplicated().any():
            duplicated = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
            raise TableError(f"{name} has duplicated column names: {', '.join(map(repr, duplicated))}")
        columns = {str(column): data[column].to_numpy(dtype=object if _pandas_object(data[column]) else None)
                   for column in data.columns}
    elif isinstance(data, dict):
        columns = {str(key): value for key, value in data.items()}
    else:
        raise TypeError(f"{name} must be a pandas DataFrame, a dict of columns or a structured array; "
                        f"got {type(data).__name__}")
    if not columns:
        raise TableError(f"{name} has no columns")
    table = {key: _column(key, value) for key, value in columns.items()}
    lengths = {len(column) for column in table.values()}
    if len(lengths) > 1:
        raise TableError(f"{name}'s columns have different lengths: {sorted(lengths)}")
    if not lengths.pop():
        raise TableError(f"{name} has no rows")
    return table


def _pandas_object(series: Any) -> bool:
    """Whether a pandas column should leave pandas as objects (strings, categories, booleans, nullable types)."""
    return series.dtype.kind not in "iuf" or str(series.dtype)[0].isupper()  # Int64/Float64: pd.NA inside


# -- files --------------------------------------------------------------------------------------
def read_table(path: str | os.PathLike) -> Table:
    """Read the data file ``path`` into a table (see the module doc for the formats).

    Raises
    ------
    TableError
        (a ``ValueError``) naming the file: it does not exist, is a folder, has an unknown extension,
        or is not a readable table (binary bytes in a CSV, no header, no rows, a damaged Parquet file, an
        ``.npz`` whose members are damaged, lie about their sizes or need more memory than this machine
        allows).
    """
    from .safefiles import UnsafePathError, open_regular

    path = os.fspath(path)
    try:  # a regular file only: a folder, FIFO, device (a link to /dev/zero), socket or link loop is refused
        opened = open_regular(path)
    except FileNotFoundError:
        raise TableError(f"data file {path!r} does not exist") from None
    except UnsafePathError as error:
        raise TableError(f"data file {error}") from None
    with opened as stream:
        extension = os.path.splitext(path)[1].lower()
        reader = EXTENSIONS.get(extension)
        if reader is None:
            raise TableError(f"data file {path!r}: unknown extension {extension or '(none)'!r}; "
                             f"expected one of {', '.join(sorted(EXTENSIONS))}")
        table = {"csv": _read_csv, "parquet": _read_arrow, "feather": _read_arrow, "npz": _read_npz}[reader](path, stream)
    if not table:
        raise TableError(f"data file {path!r} has no columns")
    if not len(next(iter(table.values()))):
        raise TableError(f"data file {path!r} has a header but no rows")
    return table


def _read_csv(path: str, stream: Any) -> Table:
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    if b"\x00" in head:
        raise TableError(f"data file {path!r} is not a text table (it holds binary bytes)")
    if not head.strip():
        raise TableError(f"data file {path!r} is empty")
    separator = "\t" if path.lower().endswith(".tsv") else ","
    try:
        import pandas as pd
    except ImportError:
        pd = None
    try:
        if pd is not None:
            frame = pd.read_csv(stream, sep=separator, skipinitialspace=True)
            table = as_table(frame, name=f"data file {path!r}")
        else:
            table = _read_csv_plain(path, separator, stream)
    except TableError:
        raise
    except (ValueError, UnicodeDecodeError, csv.Error) as error:  # pandas' ParserError/EmptyDataError are ValueErrors
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TableError(f"data file {path!r} is not a readable table: {first}") from None
    unnamed = [name for name in table if name.startswith("Unnamed: ") or name == ""]
    if unnamed and len(unnamed) == len(table):
        raise TableError(f"data file {path!r} has no header row naming its columns")
    return table


def _read_csv_plain(path: str, separator: str, stream: Any) -> Table:
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    rows = [row for row in csv.reader(text, delimiter=separator, skipinitialspace=True) if row]
    if not rows:
        raise TableError(f"data file {path!r} is empty")
    header, body = [cell.strip() for cell in rows[0]], rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise TableError(f"data file {path!r} is not a readable table: line {number} has {len(row)} fields, "
                             f"the header {len(header)}")
    if len(set(header)) != len(header):
        raise TableError(f"data file {path!r} has duplicated column names")
    return {name: _text_column(name, [row[index] for row in body]) for index, name in enumerate(header)}


def _read_arrow(path: str, stream: Any) -> Table:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise TableError(f"data file {path!r}: reading Parquet/Feather needs pyarrow "
                         '(pip install "dnnimprove[data]")') from None
    import pyarrow.feather as feather
    import pyarrow.parquet as parquet

    try:
        if path.lower().endswith((".parquet", ".pq")):
            arrow = parquet.read_table(stream)
        else:
            arrow = feather.read_table(stream)
    except (OSError, ValueError, pyarrow.ArrowException) as error:
        raise TableError(f"data file {path!r} is not a readable table: {str(error).splitlines()[0]}") from None
    columns = {}
    for name, chunked in zip(arrow.column_names, arrow.columns):
        values = chunked.to_pylist()
        columns[str(name)] = np.array(values, dtype=object)
    if len(set(columns)) != len(arrow.column_names):
        raise TableError(f"data file {path!r} has duplicated column names")
    return {name: _column(name, values) for name, values in columns.items()}


NPZ_VALUE_BYTES = 100
"""The memory a text target value takes in a table beyond its stored width (a ``str`` object and its pointer)."""
NPZ_COLUMN_BYTES = 200
"""The memory one column takes in a table beyond its values (an array object, its name and its dict entry)."""


def npz_table_bytes(x_shape: tuple[int, int], x_dtype: Any, y_dtype: Any) -> int:
    """The memory reading an ``.npz`` table takes, from what its ``.npy`` headers declare.

    ``X`` (``n x d``) and ``y`` (``n``) as stored, plus the table built from them: ``8 n (d + 1)`` bytes
    of float64 columns and ``NPZ_COLUMN_BYTES`` a column, and for a text target ``NPZ_VALUE_BYTES``
    plus its stored width a value:
    ``n d s_X + n s_y + 8 n (d + 1) + 200 (d + 1)`` (``+ n (100 + s_y)`` for text).
    """
    n_rows, n_columns = (int(n) for n in x_shape)
    x_dtype, y_dtype = np.dtype(x_dtype), np.dtype(y_dtype)
    stored = n_rows * n_columns * x_dtype.itemsize + n_rows * y_dtype.itemsize
    table = 8 * n_rows * (n_columns + 1) + NPZ_COLUMN_BYTES * (n_columns + 1)
    text = 0 if y_dtype.kind in "biuf" else n_rows * (NPZ_VALUE_BYTES + y_dtype.itemsize)
    return stored + table + text


class _TableArchive(NpzArchive):
    """The archive of an ``.npz`` data table: members stored or deflated, errors naming the data file."""

    compressed = True
    what = ".npz data table"

    def error(self, problem: str) -> TableError:
        return TableError(f"data file {self.path!r}: {problem}")


def _read_npz(path: str, stream: Any) -> Table:
    """``X`` and ``y`` of an ``.npz`` through :class:`dnnimprove.npzfiles.NpzArchive`: every size checked
    before it is allocated, and what they declare (:func:`npz_table_bytes`) checked against this
    machine's memory (:func:`dnnimprove.memory.check_memory`) before either is read."""
    from .memory import InsufficientMemoryError, check_memory

    try:
        with _TableArchive(path, stream) as archive:
            missing = [key for key in ("X", "y") if not archive.has(key)]
            if missing:
                raise TableError(f"data file {path!r} must hold arrays 'X' and 'y'; missing {', '.join(missing)}")
            x_shape, x_dtype = archive.describe("X")
            y_shape, y_dtype = archive.describe("y")
            if len(x_shape) != 2 or x_dtype.kind not in "biuf":
                raise TableError(f"data file {path!r}: X must be a 2-D numeric array; got shape {x_shape}, dtype {x_dtype}")
            if len(y_shape) != 1 or y_shape[0] != x_shape[0] or y_dtype.kind == "V":
                raise TableError(f"data file {path!r}: y must be 1-D with one value per row of X; "
                                 f"got shape {y_shape}, dtype {y_dtype}")
            if not x_shape[0]:
                raise TableError(f"data file {path!r} has no rows: X has shape {x_shape}")
            needed = npz_table_bytes(x_shape, x_dtype, y_dtype)
            try:
                check_memory(f"data file {path!r}", needed,
                             f"X {x_shape} {x_dtype} and y {y_shape} {y_dtype}, read and turned into a table")
            except InsufficientMemoryError as error:
                raise TableError(str(error)) from None
            X = archive.array("X", x_shape, x_dtype, finite=False)
            y = archive.array("y", y_shape, y_dtype, finite=False)
    except TableError:
        raise
    except READ_ERRORS as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TableError(f"data file {path!r} is not a readable .npz archive: {first}") from None
    table = {f"x{index}": X[:, index].astype(np.float64) for index in range(X.shape[1])}
    table["y"] = _column("y", y)
    return table


def split_target(table: Table, target: str, source: str = "the table") -> tuple[Table, np.ndarray]:
    """``(features, y)``: the table without the ``target`` column, and that column.

    An unknown target (the columns are listed), a target with missing values or a table with no other
    column raises :class:`TableError` naming ``source`` and the column.
    """
    if target not in table:
        shown = ", ".join(map(repr, list(table)[:20])) + (", ..." if len(table) > 20 else "")
        raise TableError(f"{source} has no target column {target!r}; its columns: {shown}")
    y = table[target]
    missing = int(np.sum(np.isnan(y))) if y.dtype.kind == "f" else sum(cell is None for cell in y)
    if missing:
        raise TableError(f"target column {target!r} of {source} has {missing} missing value(s); drop those rows")
    features = {name: column for name, column in table.items() if name != target}
    if not features:
        raise TableError(f"{source} has no feature column besides the target {target!r}")
    return features, y


def write_csv(path: str | os.PathLike, header: list[str], rows: list[list[str]]) -> str:
    """Write a CSV file atomically with :func:`dnnimprove.safefiles.write_atomically`: never half a file."""
    import io

    from .safefiles import write_atomically

    def write(stream) -> None:
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        text.flush()
        text.detach()  # leave the binary stream open for write_atomically to close

    return write_atomically(path, write, what="CSV file")
