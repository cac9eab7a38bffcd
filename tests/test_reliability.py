"""Reliability: each class of attack on files, paths and inputs is refused with one clear error.

* Crafted model files (compressed members, lying zip and ``.npy`` sizes, JSON header bombs, declared
  architectures the file cannot hold): ``dn.load`` refuses each with :class:`ModelFileError` and its
  peak traced memory stays <= 2x the legitimate file's parameter bytes.
* Special paths (FIFOs, links to /dev/zero and /dev/urandom, directories, link loops), read and written:
  one clear error, never a hang, and no special file replaced.
* Silent wrong answers: input beyond the model's dtype, non-numeric dtypes, non-finite or negative
  loaded statistics.

Every file is created inside the test's own temporary folder.
"""

from __future__ import annotations

import bz2
import functools
import io
import json
import lzma
import os
import re
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.callbacks import Checkpoint
from dnnimprove.persistence import MAX_HEADER_BYTES, ModelFileError, header_budget, write_archive
from dnnimprove.safefiles import UnsafePathError



# -- a legitimate file to craft bombs from ---------------------------------------------------------
N_FEATURES, WIDTH = 128, 256


@pytest.fixture(scope="module")
def legit(tmp_path_factory):
    """A legitimate model file (about 280 KB of float64 parameters) and its parts."""
    model = dn.Sequential([dn.Dense(WIDTH), dn.BatchNorm(), dn.ReLU(), dn.Dense(1)], loss="binary_crossentropy", seed=0)
    model.build(N_FEATURES)
    path = tmp_path_factory.mktemp("legit") / "model.npz"
    dn.save(model, path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    header = json.loads(arrays.pop("header").tobytes())
    return path, header, arrays, model.params.nbytes


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_header_only(shape: tuple, dtype: str = "<f8") -> bytes:
    """A ``.npy`` header declaring ``shape`` (any integers, even negative) and no data."""
    text = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


def write_members(path, members: dict[str, bytes], method: dict[str, int] | None = None) -> None:
    """A zip holding ``members`` (name -> raw ``.npy`` bytes), each with its own compression method."""
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in members.items():
            zipped.writestr(name, data, compress_type=(method or {}).get(name, zipfile.ZIP_STORED))


def stream_member(path, members: dict[str, bytes], name: str, prefix: bytes, zeros: int, method: int) -> None:
    """Like :func:`write_members`, plus member ``name`` = ``prefix`` + ``zeros`` zero bytes, compressed."""
    with zipfile.ZipFile(path, "w") as zipped:
        for key, data in members.items():
            zipped.writestr(key, data)
        info = zipfile.ZipInfo(name)
        info.compress_type = method
        with zipped.open(info, "w", force_zip64=True) as stream:
            stream.write(prefix)
            chunk = bytes(1 << 20)
            for _ in range(zeros >> 20):
                stream.write(chunk)


def legit_members(header: dict, arrays: dict) -> dict[str, bytes]:
    members = {"header.npy": npy(np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))}
    members.update({f"{key}.npy": npy(value) for key, value in arrays.items()})
    return members


def peak_of_refused_load(path) -> int:
    """Peak traced bytes while ``dn.load(path)`` runs; it must raise ModelFileError."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError):
            dn.load(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bombs(folder, header: dict, arrays: dict) -> dict[str, str]:
    """Crafted files by name; each would make a trusting reader allocate far more than the file holds."""
    made = {}
    members = legit_members(header, arrays)
    params_npy = members["params.npy"]
    npy_prefix = params_npy[: len(params_npy) - arrays["params"].nbytes]

    def craft(name, build):
        path = folder / f"{name}.npz"
        build(path)
        made[name] = path

    # compressed members: a few KB that decompress to 32 MB (a trusting reader allocates all of it)
    big_header = npy_header_only((32 << 20,))
    for method, label in ((zipfile.ZIP_DEFLATED, "deflate"), (zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "lzma")):
        others = {k: v for k, v in members.items() if k != "params.npy"}
        craft(f"{label} params", lambda p, m=method, o=others: stream_member(p, o, "params.npy", big_header, 32 << 20, m))
    others = {k: v for k, v in members.items() if k != "header.npy"}
    craft("deflate header", lambda p: stream_member(p, others, "header.npy", npy_header_only((32 << 20,), "|u1"), 32 << 20, zipfile.ZIP_DEFLATED))
    json_bomb = b"[" * 200_000 + b"]" * 200_000  # nested lists, deflated
    craft("deflated JSON nesting", lambda p: write_members(
        p, {**members, "header.npy": npy(np.frombuffer(json_bomb, dtype=np.uint8))}, {"header.npy": zipfile.ZIP_DEFLATED}))
    # stored JSON that expands in memory (lists and short strings cost ~60-200 bytes for 2-5 bytes of text)
    for label, text in (("stored JSON lists", b"[" + b"[]," * 150_000 + b"[]]"), ("stored JSON strings", b"[" + b'"ab",' * 100_000 + b'"ab"]'),
                        ("stored JSON numbers", b"[" + b"1e1," * 100_000 + b"1]")):
        craft(label, lambda p, t=text: write_members(p, {**members, "header.npy": npy(np.frombuffer(t, dtype=np.uint8))}))
    # numbers as long as the file's parameters allow a header to be (1 MiB + their bytes, over 3): read, then refused
    at_limit = header_budget(arrays["params"].nbytes) // 3 - 200
    craft("stored JSON numbers at the size limit", lambda p: write_members(
        p, {**members, "header.npy": npy(np.frombuffer(b"[" + b"1e1," * (at_limit // 4) + b"1]", dtype=np.uint8))}))
    # a valid header padded with one long string: the file really holds it, parsing it would cost little
    # more than its size, but its size alone is beyond what the file's parameters allow (1 MiB + their bytes)
    for label, size in (("stored 2 MB header", 2 << 20), ("stored 16 MB header", MAX_HEADER_BYTES - 4096)):
        padded = json.dumps({**header, "padding": ""}).encode()
        padded = padded[:-2] + b"a" * (size - len(padded)) + b'"}'
        craft(label, lambda p, t=padded: write_members(p, {**members, "header.npy": npy(np.frombuffer(t, dtype=np.uint8))}))
    # .npy headers declaring sizes the member does not hold
    for label, shape in (("negative npy shape", (-2,)), ("huge npy shape", (1 << 40,)), ("npy shape product overflow", (1 << 62, 1 << 62))):
        craft(label, lambda p, s=shape: write_members(p, {**members, "params.npy": npy_header_only(s) + b"\0" * 64}))
    # zip central directory lying about the member's size
    def lie_about_size(p):
        write_members(p, members)
        data = bytearray(p.read_bytes())
        at = data.index(b"PK\x01\x02" + data[data.index(b"PK\x01\x02") + 4 : data.index(b"PK\x01\x02") + 4])
        position = 0
        while True:
            at = data.index(b"PK\x01\x02", position)
            name_length = struct.unpack_from("<H", data, at + 28)[0]
            if data[at + 46 : at + 46 + name_length] == b"params.npy":
                struct.pack_into("<II", data, at + 20, 0xFFFFFFF0, 0xFFFFFFF0)
                break
            position = at + 4
        p.write_bytes(bytes(data))
    craft("zip declared size", lie_about_size)
    # headers declaring more parameters or a bigger architecture than the file holds
    def edited(edit):
        def build(p):
            changed = json.loads(json.dumps(header))
            edit(changed)
            write_members(p, {**members, "header.npy": npy(np.frombuffer(json.dumps(changed).encode(), dtype=np.uint8))})
        return build
    craft("huge n_params", edited(lambda h: h.update(n_params=1 << 40)))
    craft("huge architecture", edited(lambda h: (h["model"]["layers"][0].update(units=100_000), h.update(n_params=N_FEATURES * 100_000 + 100_000 * 3 + 100_001))))
    craft("huge input width", edited(lambda h: h["model"].update(n_features_in=1 << 40)))
    return made


STORED_PAYLOADS = ("stored JSON lists", "stored JSON strings", "stored JSON numbers", "stored JSON numbers at the size limit",
                   "stored 2 MB header", "stored 16 MB header")  # payloads the file really holds


@pytest.fixture(scope="module")
def crafted(legit, tmp_path_factory):
    _, header, arrays, _ = legit
    return bombs(tmp_path_factory.mktemp("bombs"), header, arrays)


def test_crafted_bombs_are_refused_within_twice_the_legitimate_parameter_size(legit, crafted):
    """Compressed bombs, lying sizes and JSON payloads the file really holds: each refused, its peak traced
    memory at most twice the legitimate file's parameter bytes (about 270 KB here)."""
    path, header, arrays, param_bytes = legit
    assert dn.load(path).params.nbytes == param_bytes  # the legitimate file loads
    peaks = {name: peak_of_refused_load(bomb) for name, bomb in crafted.items()}
    print(f"\nbomb peaks in bytes (legitimate parameters: {param_bytes} bytes):", peaks)
    worst = max(peaks, key=peaks.get)
    assert peaks[worst] <= 2 * param_bytes, f"{worst}: peak {peaks[worst]} bytes > 2 x {param_bytes}"
    assert set(STORED_PAYLOADS) <= set(peaks)


def small_model_file(folder, padding: bytes = b"", key: str = "padding"):
    """A 2-input, 1-unit model file (3 float64 parameters, 24 bytes) whose header gains ``key: padding``
    (raw JSON text) when given."""
    model = dn.Sequential([dn.Dense(1)], loss="binary_crossentropy", seed=0).build(2)
    path = folder / f"small{len(padding)}.npz"
    dn.save(model, path)
    if padding:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        text = arrays.pop("header").tobytes()
        text = text[:-1] + b', "' + key.encode() + b'": ' + padding + b"}"
        write_members(path, {"header.npy": npy(np.frombuffer(text, dtype=np.uint8)),
                             **{f"{name}.npy": npy(value) for name, value in arrays.items()}})
    return path, model.params.nbytes


def traced_peak(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_header_is_bounded_by_1_mib_plus_the_parameter_bytes_whatever_the_file_holds(tmp_path):
    """A tiny model (24 parameter bytes) with a JSON payload the file really holds: refused unread beyond
    a third of the budget (1 MiB + 24 bytes), refused unparsed when its objects would exceed it, loaded
    when it fits; the peak stays within the budget plus the model's own buffers."""
    budget = header_budget(24)
    refused = {  # name -> padding
        "a 2 MB string (refused unread)": b'"' + b"a" * (2 << 20) + b'"',
        "numbers up to the size limit (refused unparsed)": b"[" + b"1e1," * (budget // 3 // 4 - 200) + b"1]",
        "nested lists (refused unparsed)": b"[" * 6000 + b"]" * 6000,  # 200 bytes a list: over the budget
    }
    peaks = {}
    for name, padding in refused.items():
        path, param_bytes = small_model_file(tmp_path, padding)
        assert param_bytes == 24
        with pytest.raises(ModelFileError, match="header"):
            dn.load(path)
        peaks[name] = traced_peak(lambda: pytest.raises(ModelFileError, dn.load, path))
    # a string padding that fits (its text, its bytes and the parsed string: 3 x its size): loaded
    path, _ = small_model_file(tmp_path, b'"' + b"a" * (budget // 3 - 16384) + b'"')
    peaks["a string within the budget (loaded)"] = traced_peak(lambda: dn.load(path))
    print(f"\nsmall-model header peaks in bytes (budget {budget}):", peaks)
    for name, peak in peaks.items():
        assert peak <= budget, f"{name}: peak {peak} bytes > the header budget {budget}"
    assert peaks["numbers up to the size limit (refused unparsed)"] > budget // 4  # the payload was read: not a vacuous bound


def test_a_long_run_s_checkpoint_keeps_its_history_in_arrays_and_its_header_small(tmp_path):
    """The history grows with the epochs, not with the parameters: in the header it would soon exceed the
    header budget of a small model (1 MiB + its parameter bytes); as arrays it is read at its size."""
    X = np.random.default_rng(0).standard_normal((16, 2))
    y = (X[:, 0] > 0).astype(int)
    model = dn.Sequential([dn.Dense(1)], loss="binary_crossentropy", seed=0)
    path = tmp_path / "run.npz"
    model.fit(X, y, epochs=800, batch_size=16, callbacks=[Checkpoint(path, every=800)])
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive["header"].tobytes())
        assert archive["header"].size < 8192 and header["checkpoint"]["history"]["cost"] == 800
        assert archive["history.cost"].tolist() == model.history_.cost and archive["history.epoch"].dtype == np.int64
    resumed = dn.Sequential([dn.Dense(1)], loss="binary_crossentropy", seed=0)
    resumed.fit(X, y, epochs=800, batch_size=16, callbacks=[Checkpoint(path, resume=True)])
    assert resumed.history_.cost == model.history_.cost and resumed.history_.epoch == list(range(800))
    # a checkpoint written with the lists in the header (as before they moved to arrays) still resumes
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files if not key.startswith("history.") and key != "header"}
    header["checkpoint"]["history"].update({key: value for key, value in model.history_.as_dict().items()
                                            if isinstance(value, list)})
    write_archive(path, header, arrays)
    older = dn.Sequential([dn.Dense(1)], loss="binary_crossentropy", seed=0)
    older.fit(X, y, epochs=800, batch_size=16, callbacks=[Checkpoint(path, resume=True)])
    assert older.history_.cost == model.history_.cost and (older.params == model.params).all()


def test_writing_refuses_a_header_its_reader_would_refuse(tmp_path):
    model = dn.Sequential([dn.Dense(1)], loss="binary_crossentropy", seed=0).build(2)
    from dnnimprove.persistence import model_arrays, model_header

    header = {**model_header(model), "padding": [1.0] * 100_000}  # ~3.2 MB of float objects for 24 parameter bytes
    with pytest.raises(ValueError, match=r"would take about \d+ bytes of memory to read, more than the 1048600"):
        write_archive(tmp_path / "m.npz", header, model_arrays(model))
    assert not (tmp_path / "m.npz").exists()


def test_peak_resident_memory_of_each_refused_bomb_stays_within_twice_the_parameter_size(legit, crafted, tmp_path):
    """The same bombs in a child process: before each load its peak resident set (VmHWM) is reset to the
    current one (``/proc/self/clear_refs``), after it the growth is read back."""
    import subprocess
    import sys

    if not os.access(f"/proc/{os.getpid()}/clear_refs", os.W_OK):
        pytest.skip("needs Linux's /proc/self/clear_refs to reset the peak resident set")
    path, _, _, param_bytes = legit
    names = sorted(crafted)
    script = f"""if True:
        import json, dnnimprove as dn
        def status(key):
            with open("/proc/self/status") as lines:
                return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(key))
        def growth(path):
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")  # the peak resident set becomes the current one
            before = status("VmRSS:")
            try:
                dn.load(path)
            except dn.ModelFileError:
                pass
            return status("VmHWM:") - before
        growth({str(path)!r})  # warm up: the first load imports what every load uses
        print(json.dumps({{"legitimate": growth({str(path)!r}), **{{name: growth(path) for name, path in {dict((name, str(crafted[name])) for name in names)!r}.items()}}}}))
    """
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-800:]
    growth = json.loads(done.stdout)
    print(f"\nresident-set growth in bytes (legitimate parameters: {param_bytes} bytes):", growth)
    assert set(growth) == {"legitimate", *names}
    worst = max(names, key=growth.get)
    assert growth[worst] <= 2 * param_bytes, f"{worst}: the peak resident set grew by {growth[worst]} bytes > 2 x {param_bytes}"


def test_a_compressed_member_is_named_before_any_decompression(crafted):
    bomb = crafted["bzip2 params"]
    with pytest.raises(ModelFileError, match=r"member 'params.npy' is compressed \(zip method 12\).*uncompressed"):
        dn.load(bomb)


def test_a_negative_npy_shape_is_refused_by_name(crafted):
    with pytest.raises(ModelFileError, match=r"array 'params' has the invalid shape \(-2,\)"):
        dn.load(crafted["negative npy shape"])


# -- crafted .npz data tables ------------------------------------------------------------------------
TABLE_ROWS, TABLE_COLUMNS = 2048, 16


@pytest.fixture(scope="module")
def legit_table(tmp_path_factory):
    """A legitimate compressed ``.npz`` data table: X (2048 x 16 float64, 262 KB) and y (2048 int64)."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((TABLE_ROWS, TABLE_COLUMNS)), rng.integers(0, 2, TABLE_ROWS)
    path = tmp_path_factory.mktemp("table") / "table.npz"
    np.savez_compressed(path, X=X, y=y)
    return path, X, y


def patch_directory(path, name: str, **fields: int) -> None:
    """Overwrite member ``name``'s ``crc``, ``compress_size`` or ``file_size`` in the zip's central directory."""
    offsets = {"crc": 16, "compress_size": 20, "file_size": 24}
    with zipfile.ZipFile(path) as zipped:
        at = zipped.start_dir
    data = bytearray(Path(path).read_bytes())
    while data[at + 46 : at + 46 + struct.unpack_from("<H", data, at + 28)[0]] != name.encode():
        at = data.index(b"PK\x01\x02", at + 4)
    for field, value in fields.items():
        struct.pack_into("<I", data, at + offsets[field], value)
    Path(path).write_bytes(bytes(data))


TABLE_BOMBS = {  # name -> what the one-line refusal says
    "deflated X inflating beyond its declared size": r"Bad CRC-32 for file 'X.npy'",
    "deflated 2 GiB X from a few KB": r"member 'X.npy' declares 2147483776 bytes from \d+ deflated bytes",
    "stored 2 GiB X from 64 bytes": r"array 'X' is truncated: its shape \(2048, 131072\) needs 2147483648 bytes",
    "zip declared size": r"member 'X.npy' declares 4294967280 bytes at offset \d+, past the end",
    "bzip2 X": r"member 'X.npy' is compressed \(zip method 12\)",
    "lzma X": r"member 'X.npy' is compressed \(zip method 14\)",
    "deflated 8 MB npy header": r"array 'X' has a 8388608-byte .npy header; at most 10000 bytes are read",
    "pickled y": r"array 'y' holds Python objects \(dtype object\)",
    "10**12 rows of a zero-width y": r"array 'y' has the zero-width dtype",
    "10**12 columns and no rows": r"has no rows: X has shape \(0, 1000000000000\)",
}


def table_bombs(folder, X: np.ndarray, y: np.ndarray) -> dict[str, Path]:
    """Crafted ``.npz`` tables by name (see :data:`TABLE_BOMBS`); each would make a trusting reader allocate
    far more than the file holds, or read data it should not."""
    y_member = {"y.npy": npy(y)}
    x_header = npy(X)[: len(npy(X)) - X.nbytes]
    made = {}

    def craft(name, build):
        path = folder / f"{name}.npz"
        build(path)
        made[name] = path

    def inflating_beyond(p):  # the directory and the .npy header declare 262 KB; the stream inflates to 32 MB
        stream_member(p, y_member, "X.npy", x_header, 32 << 20, zipfile.ZIP_DEFLATED)
        patch_directory(p, "X.npy", file_size=len(x_header) + X.nbytes)
    craft("deflated X inflating beyond its declared size", inflating_beyond)
    huge = npy_header_only((TABLE_ROWS, 1 << 17))  # 2 GiB of float64, one row per value of y

    def deflated_huge(p):  # the directory agrees with the .npy header: 2 GiB from a few KB
        write_members(p, {"X.npy": huge + bytes(4096), **y_member}, {"X.npy": zipfile.ZIP_DEFLATED})
        patch_directory(p, "X.npy", file_size=len(huge) + (1 << 31))
    craft("deflated 2 GiB X from a few KB", deflated_huge)
    craft("stored 2 GiB X from 64 bytes", lambda p: write_members(p, {"X.npy": huge + bytes(64), **y_member}))

    def lying_size(p):
        write_members(p, {"X.npy": npy(X), **y_member})
        patch_directory(p, "X.npy", compress_size=0xFFFFFFF0, file_size=0xFFFFFFF0)
    craft("zip declared size", lying_size)
    for method, label in ((zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "lzma")):
        craft(f"{label} X", lambda p, m=method: stream_member(
            p, y_member, "X.npy", npy_header_only((1 << 18, TABLE_COLUMNS)), 32 << 20, m))
    long_header = b"\x93NUMPY\x02\x00" + struct.pack("<I", 8 << 20) + b" " * (8 << 20)
    craft("deflated 8 MB npy header", lambda p: write_members(
        p, {"X.npy": long_header, **y_member}, {"X.npy": zipfile.ZIP_DEFLATED}))
    pickled = io.BytesIO()
    np.lib.format.write_array(pickled, np.array([{"label": 1}] * len(y), dtype=object), allow_pickle=True)
    craft("pickled y", lambda p: write_members(p, {"X.npy": npy(X), "y.npy": pickled.getvalue()}))
    craft("10**12 rows of a zero-width y", lambda p: write_members(
        p, {"X.npy": npy_header_only((10**12, 0)), "y.npy": npy_header_only((10**12,), "|S0")}))
    craft("10**12 columns and no rows", lambda p: write_members(
        p, {"X.npy": npy_header_only((0, 10**12)), "y.npy": npy_header_only((0,))}))
    assert set(made) == set(TABLE_BOMBS)
    return made


@pytest.fixture(scope="module")
def crafted_tables(legit_table, tmp_path_factory):
    _, X, y = legit_table
    return table_bombs(tmp_path_factory.mktemp("table_bombs"), X, y)


def peak_of_refused_read(path) -> tuple[int, str]:
    """Peak traced bytes while ``read_table(path)`` runs, and its message; it must raise TableError."""
    from dnnimprove.tables import TableError, read_table

    tracemalloc.start()
    try:
        with pytest.raises(TableError) as caught:
            read_table(path)
        return tracemalloc.get_traced_memory()[1], str(caught.value)
    finally:
        tracemalloc.stop()


def test_crafted_npz_tables_are_refused_within_twice_the_legitimate_table_bytes(legit_table, crafted_tables):
    """Compressed bombs, lying sizes, huge declared shapes, an over-long header, pickled and zero-width
    dtypes: each refused with one line naming the file and the problem, its peak traced memory at most
    twice the legitimate table's X and y (279 KB here)."""
    from dnnimprove.tables import read_table

    path, X, y = legit_table
    table = read_table(path)  # the legitimate table loads
    assert np.array_equal(np.column_stack([table[f"x{index}"] for index in range(TABLE_COLUMNS)]), X)
    stored = X.nbytes + y.nbytes
    peaks, messages = {}, {}
    for name, bomb in crafted_tables.items():
        peaks[name], messages[name] = peak_of_refused_read(bomb)
        assert messages[name].startswith(f"data file {str(bomb)!r}") and "\n" not in messages[name], messages[name]
        assert re.search(TABLE_BOMBS[name], messages[name]), (name, messages[name])
    print(f"\ntable bomb peaks in bytes (legitimate X and y: {stored} bytes):", peaks)
    worst = max(peaks, key=peaks.get)
    assert peaks[worst] <= 2 * stored, f"{worst}: peak {peaks[worst]} bytes > 2 x {stored}"
    assert peaks["deflated X inflating beyond its declared size"] >= X.nbytes  # X was read before the CRC refused it


def test_members_other_than_x_and_y_are_never_read(legit_table, tmp_path):
    """A 32 MB deflated member beside X and y costs nothing: the table loads at the legitimate file's peak."""
    from dnnimprove.tables import read_table

    path, X, y = legit_table
    extra = tmp_path / "extra.npz"
    stream_member(extra, {"X.npy": npy(X), "y.npy": npy(y)}, "notes.npy", npy_header_only((4 << 20,)), 32 << 20,
                  zipfile.ZIP_DEFLATED)
    legitimate, with_extra = traced_peak(lambda: read_table(path)), traced_peak(lambda: read_table(extra))
    print(f"\npeaks in bytes: legitimate {legitimate}, with a 32 MB extra member {with_extra}")
    assert with_extra <= legitimate + 65536
    assert read_table(extra)["x3"].tolist() == X[:, 3].tolist()


def test_the_command_given_a_crafted_npz_table_says_so_in_one_line(crafted_tables, tmp_path, capsys):
    """``train --data`` with every bomb, ``recipe`` and ``predict --data`` with two: status 2, one line."""
    from dnnimprove.cli import main

    model = tmp_path / "model.npz"
    dn.save(dn.Sequential([dn.Dense(1)], loss="binary_crossentropy", seed=0).build(TABLE_COLUMNS), model)
    runs = [(name, ["train", "--data", str(bomb), "--epochs", "1"]) for name, bomb in crafted_tables.items()]
    for name in ("deflated 2 GiB X from a few KB", "pickled y"):
        runs += [(name, ["recipe", "--data", str(crafted_tables[name])]),
                 (name, ["predict", "--model", str(model), "--data", str(crafted_tables[name])])]
    for name, argv in runs:
        assert main(argv) == 2, argv
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1 and str(crafted_tables[name]) in lines[0], (argv, lines)
        assert re.search(TABLE_BOMBS[name], lines[0]), (argv, lines)


# -- loaded values are checked -------------------------------------------------------------------
def test_non_finite_parameters_and_negative_running_variance_are_refused(legit, tmp_path):
    _, header, arrays, _ = legit
    cases = {
        "nan parameter": ("params", 5, np.nan, r"array 'params' holds the non-finite value nan at flat index 5"),
        "inf parameter": ("params", 0, np.inf, r"array 'params' holds the non-finite value inf at flat index 0"),
        "nan running mean": ("state.batch_norm_1.running_mean", 3, np.nan, r"running_mean' holds the non-finite value nan"),
        "negative running variance": ("state.batch_norm_1.running_var", 2, -1.0, r"running_var' must be >= 0 \(a variance\)"),
    }
    for name, (key, index, value, message) in cases.items():
        changed = dict(arrays)
        changed[key] = changed[key].copy()
        changed[key][index] = value
        target = tmp_path / f"{name}.npz"
        write_archive(target, header, changed)
        with pytest.raises(ModelFileError, match=message):
            dn.load(target)


# -- numbers and inputs ----------------------------------------------------------------------------
HUGE_NUMBERS = [10**400, -(10**400), 10**5000, float("inf"), float("nan")]  # beyond every setting's range


def number_settings():
    """Every numeric setting of the public API, as ``name -> call(value)``."""
    X = np.random.default_rng(0).standard_normal((8, 2))
    y = (X[:, 0] > 0).astype(int)

    def fit(**settings):
        return dn.Sequential([dn.Dense(2), dn.ReLU(), dn.Dense(1)], loss="binary_crossentropy", seed=0).fit(X, y, **settings)

    return {
        "GradientDescent(lr)": lambda v: dn.GradientDescent(lr=v), "Momentum(beta)": lambda v: dn.Momentum(beta=v),
        "RMSProp(epsilon)": lambda v: dn.RMSProp(epsilon=v), "Adam(lr)": lambda v: dn.Adam(lr=v),
        "Adam(beta2)": lambda v: dn.Adam(beta2=v), "Dense(units)": lambda v: dn.Sequential([dn.Dense(v)]).build(2), "Dense(l2)": lambda v: dn.Dense(3, l2=v),
        "Dropout(keep_prob)": lambda v: dn.Dropout(v), "BatchNorm(momentum)": lambda v: dn.BatchNorm(v),
        "LeakyReLU(alpha)": lambda v: dn.LeakyReLU(v), "ELU(alpha)": lambda v: dn.ELU(v),
        "InverseTimeDecay(decay_rate)": lambda v: dn.InverseTimeDecay(0.1, decay_rate=v),
        "ExponentialDecay(lr0)": lambda v: dn.ExponentialDecay(v), "StepDecay(lr0)": lambda v: dn.StepDecay(v),
        "fit(epochs)": lambda v: fit(epochs=v), "fit(batch_size)": lambda v: fit(epochs=1, batch_size=v),
        "fit(l2)": lambda v: fit(epochs=1, l2=v), "fit(validation_fraction)": lambda v: fit(epochs=1, validation_fraction=v),
        "moons(n_samples)": lambda v: dn.datasets.moons(n_samples=v), "moons(noise)": lambda v: dn.datasets.moons(noise=v),
        "DNNClassifier(lr)": lambda v: dn.DNNClassifier(lr=v, epochs=1).fit(X, y),
        "DNNClassifier(epochs)": lambda v: dn.DNNClassifier(epochs=v).fit(X, y),
        "DNNRegressor(l2)": lambda v: dn.DNNRegressor(l2=v, epochs=1).fit(X, X[:, 0]),
    }


def test_numbers_beyond_any_range_are_one_value_or_type_error_everywhere():
    for name, call in number_settings().items():
        for value in HUGE_NUMBERS:
            with pytest.raises((ValueError, TypeError)) as info:
                call(value)
            message = str(info.value)
            assert "\n" not in message and len(message) < 400 and not isinstance(info.value, OverflowError), (name, message)


def test_inputs_beyond_the_dtype_or_not_numbers_are_refused_not_answered():
    model32 = dn.Sequential([dn.Dense(2), dn.ReLU(), dn.Dense(1)], loss="binary_crossentropy", dtype="float32", seed=0).build(2)
    beyond = np.array([[3.5e38 * 10, 0.0], [0.0, -1e39]])
    for method in (model32.predict, model32.predict_proba):
        with pytest.raises(ValueError, match="outside the range of the model's dtype float32"):
            method(beyond)
    dates = np.array(["2020-01-01", "2021-01-01", "2022-01-01", "2023-01-01"], dtype="datetime64[D]").reshape(-1, 2)
    odd = [dates, dates - dates[0, 0], np.array([["1", "2"], ["3", "4"]], dtype=object), np.array([["1", "2"], ["3", "4"]])]
    for X in odd:
        for estimator in (dn.DNNClassifier(epochs=1), dn.DNNRegressor(epochs=1)):
            with pytest.raises(TypeError, match="X must hold numbers"):
                estimator.fit(X, [0, 1])
        with pytest.raises(ValueError, match="X must be a numeric array"):
            model32.predict(X)


# -- special paths --------------------------------------------------------------------------------
def special_paths(folder):
    from test_safefiles import special_paths as make

    return make(folder)


def test_loading_a_special_path_is_one_clear_error_never_a_hang(tmp_path):
    for name, path in special_paths(tmp_path).items():
        with pytest.raises(ModelFileError, match=r"not a regular file|symbolic link (loop|to nothing)"):
            dn.load(path)


def special_table_paths(folder):
    """Special paths named like data files: a FIFO, links to /dev/zero and /dev/urandom, a folder, a link
    loop and a dangling link, for every extension :func:`dnnimprove.tables.read_table` reads."""
    from dnnimprove.tables import EXTENSIONS

    paths = []
    for extension in sorted(EXTENSIONS):
        os.mkfifo(folder / f"fifo{extension}")
        for device in ("/dev/zero", "/dev/urandom"):
            if os.path.exists(device):
                (folder / f"{os.path.basename(device)}{extension}").symlink_to(device)
        (folder / f"folder{extension}").mkdir()
        (folder / f"loop{extension}").symlink_to(folder / f"loop_back{extension}")
        (folder / f"loop_back{extension}").symlink_to(folder / f"loop{extension}")
        (folder / f"dangling{extension}").symlink_to(folder / f"nothing{extension}")
        paths += [folder / name for name in ("fifo", "zero", "urandom", "folder", "loop", "dangling")
                  if os.path.lexists(folder / f"{name}{extension}") for name in [f"{name}{extension}"]]
    return paths


def test_reading_a_special_path_as_a_data_table_or_an_estimator_is_one_clear_error_never_a_hang(tmp_path):
    """In a child process with a time limit: a reader that opened a FIFO would wait in C code for ever."""
    import subprocess
    import sys

    paths = [str(path) for path in special_paths(tmp_path).values()]
    tables = tmp_path / "tables"
    tables.mkdir()
    table_paths = [str(path) for path in special_table_paths(tables)]
    assert len(table_paths) >= 40
    script = f"""if True:
        import json
        from dnnimprove.estimator_io import load_estimator
        from dnnimprove.tables import read_table
        for read, paths in ((load_estimator, {paths!r}), (read_table, {table_paths!r})):
            for path in paths:
                try:
                    read(path)
                    print(json.dumps([path, "read", ""]))
                except Exception as error:
                    print(json.dumps([path, type(error).__name__, str(error)]), flush=True)
    """
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-800:]
    outcomes = [json.loads(line) for line in done.stdout.splitlines()]
    assert [path for path, _, _ in outcomes] == paths + table_paths
    for path, kind, message in outcomes:
        expected = "ModelFileError" if path in paths else "TableError"
        assert kind == expected and re.search(r"not a regular file|symbolic link (loop|to nothing)", message), (path, kind, message)
        assert repr(path) in message and "\n" not in message


def test_saving_never_replaces_a_special_file_and_never_clobbers_another_file(legit, tmp_path):
    model = dn.load(legit[0])
    paths = special_paths(tmp_path)
    before = {name: (os.lstat(path).st_mode, os.lstat(path).st_ino) for name, path in paths.items()}
    for name, path in paths.items():
        with pytest.raises(UnsafePathError):
            dn.save(model, path)
    assert {name: (os.lstat(path).st_mode, os.lstat(path).st_ino) for name, path in paths.items()} == before
    config = tmp_path / "settings.conf"
    config.write_text("keep me")
    with pytest.raises(UnsafePathError, match="is not a dnnimprove model file; refusing to replace it"):
        dn.save(model, config)
    assert config.read_text() == "keep me"
    dn.save(model, config, overwrite=True)
    assert dn.load(config).params.nbytes == model.params.nbytes


def test_a_checkpoint_is_not_saved_over_by_a_model_nor_a_model_by_a_checkpoint(tmp_path):
    X = np.random.default_rng(0).standard_normal((20, 3))
    y = (X[:, 0] > 0).astype(int)
    model = dn.Sequential([dn.Dense(2), dn.ReLU(), dn.Dense(1)], loss="binary_crossentropy", seed=0)
    model.fit(X, y, epochs=1, callbacks=[Checkpoint(tmp_path / "run.npz")])
    with pytest.raises(UnsafePathError, match="is not a dnnimprove model file"):
        dn.save(model, tmp_path / "run.npz")
    dn.save(model, tmp_path / "model.npz")
    with pytest.raises(UnsafePathError, match="is not a dnnimprove checkpoint"):
        model.fit(X, y, epochs=1, callbacks=[Checkpoint(tmp_path / "model.npz")])
    assert dn.load(tmp_path / "model.npz").params.nbytes == model.params.nbytes


# -- the command line: a seeded fuzz, in process, in a scratch folder ------------------------------
FUZZ_VECTORS = int(os.environ.get("DNNIMPROVE_CLI_FUZZ", 1200))
HUGE = ["9" * 25, "9" * 5000, "-" + "9" * 30, "2147483648", "4294967296", "18446744073709551617", "1e400", "-1e400",
        "1" + "0" * 400, "0." + "0" * 400 + "1"]
ODD = ["nan", "inf", "-inf", "0", "-1", "-0", "1e-400", "0x10", "1_0", "", " ", "٣", "½", "é", "💥", "\u202e5", "a\x00b",
       "5,", ",", "5,,2", "-5,2", "0,0", "true", "full", "--", "-", "None", "[]", "{}", "'", "%s", "\\"]
PATHS = ["a_fifo", "link_to_fifo", "link_to_zero", "link_to_urandom", "link_to_null", "loop_a", "dangling", "a_directory", "/dev/null",
         "/dev/zero", "/dev/urandom", "not_there/x.npz", "ok.npz", "config.txt", "a_directory/", "ünïcødé.npz",
         "fifo.csv", "zero.parquet", "loop.npz", "folder.feather"]
SPECIAL_DATA_FILES = ["fifo.csv", "zero.parquet", "loop.npz", "folder.feather"]  # special paths named like data files
BASES = {  # valid, fast starting points; each vector changes one to three of their values
    "train": ["train", "--dataset", "moons", "--n-samples", "40", "--epochs", "1", "--layers", "3"],
    "gradcheck": ["gradcheck", "--n-samples", "40", "--epochs", "1", "--layers", "3", "--examples", "3"],
    "search": ["search", "--dataset", "moons", "--n-samples", "40", "--trials", "1", "--rounds", "1", "--epochs", "1",
               "--out", "out"],
    "convert": ["convert", "momentum", "--beta", "0.9", "--to", "pytorch"],
    "study": ["study", "--list"],
}


class _TooLong(BaseException):
    """Raised by the fuzz's alarm in a vector that is valid and would run for long (not a failure)."""


def _options(command):
    from dnnimprove.cli import build_parser

    parser = build_parser()
    sub = next(action for action in parser._actions if action.__class__.__name__ == "_SubParsersAction")
    return [action for action in sub.choices[command]._actions if action.option_strings and action.dest != "help"]


def fuzz_vectors(seed: int, n: int) -> list[list[str]]:
    """``n`` argument vectors: a valid base with 1-3 options given hostile values, or token soup."""
    import random

    rng = random.Random(seed)
    options = {command: _options(command) for command in BASES}
    values = HUGE + ODD + PATHS
    vectors = []
    for _ in range(n):
        command = rng.choice(list(BASES))
        if rng.random() < 0.25:  # token soup: option names and values in any order after the base
            pool = [flag for action in options[command] for flag in action.option_strings] + values
            vectors.append(list(BASES[command]) + [rng.choice(pool) for _ in range(rng.randint(1, 6))])
            continue
        argv = list(BASES[command])
        for _ in range(rng.randint(1, 3)):
            action = rng.choice(options[command])
            flag = rng.choice(action.option_strings)
            if action.nargs == 0:
                argv.append(flag)
            else:
                argv += [flag, rng.choice(values + (list(map(str, action.choices)) if action.choices else []))]
        vectors.append(argv)
    return vectors


def make_scratch(folder):
    special_paths(folder)  # a_directory, a_fifo, link_to_zero/urandom/null, loop_a/loop_b, dangling, link_to_fifo
    os.mkfifo(folder / "fifo.csv")
    (folder / "zero.parquet").symlink_to("/dev/zero")
    (folder / "loop.npz").symlink_to(folder / "loop.npz")
    (folder / "folder.feather").mkdir()
    (folder / "config.txt").write_text("keep me")


def test_a_second_run_on_a_checkpoint_being_written_gets_a_clear_error_and_changes_nothing(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    from dnnimprove.callbacks import Checkpoint
    from dnnimprove.safefiles import FileLockedError, PathLock

    X = np.random.default_rng(0).standard_normal((20, 3))
    y = (X[:, 0] > 0).astype(int)
    path = tmp_path / "run.npz"
    handle = os.open(PathLock(path).lock_path, os.O_RDWR | os.O_CREAT)  # another process's run holds the lock
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        model = dn.Sequential([dn.Dense(2), dn.ReLU(), dn.Dense(1)], loss="binary_crossentropy", seed=0)
        with pytest.raises(FileLockedError, match=r"run.npz' is being written by another process"):
            model.fit(X, y, epochs=2, callbacks=[Checkpoint(path)])
        assert not path.exists()
    finally:
        os.close(handle)
    model.fit(X, y, epochs=2, callbacks=[Checkpoint(path)])  # the lock is free again
    assert path.exists() and not os.path.exists(PathLock(path).lock_path)


def test_the_command_replaces_a_foreign_checkpoint_path_only_with_overwrite(tmp_path, monkeypatch, capsys):
    from dnnimprove.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("keep me")
    argv = ["train", "--n-samples", "30", "--epochs", "1", "--layers", "2", "--checkpoint", "notes.txt"]
    assert main(argv) == 2
    assert "exists and is not a dnnimprove checkpoint" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert main(argv + ["--overwrite"]) == 0
    assert dn.load(tmp_path / "notes.txt").built


def test_the_command_given_a_special_data_file_says_so_in_one_line_and_never_waits(tmp_path):
    """``train --data`` with a FIFO, a link to /dev/zero, a link loop or a folder named like a data file:
    status 2 and one line naming the path, in a child process with a time limit (a FIFO would block)."""
    import subprocess
    import sys

    make_scratch(tmp_path)
    names = SPECIAL_DATA_FILES
    script = f"""if True:
        import contextlib, io, json
        from dnnimprove.cli import main
        for name in {names!r}:
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                status = main(["train", "--data", name, "--target", "y", "--epochs", "1"])
            print(json.dumps([name, status, err.getvalue()]), flush=True)
    """
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-800:]
    outcomes = [json.loads(line) for line in done.stdout.splitlines()]
    assert [name for name, _, _ in outcomes] == names
    for name, status, err in outcomes:
        lines = err.splitlines()
        assert status == 2 and len(lines) == 1 and name in lines[0], (name, status, err)
        assert re.search(r"not a regular file|symbolic link loop", lines[0]), lines[0]


def test_a_seeded_cli_fuzz_gives_no_traceback_and_one_line_per_error(tmp_path, monkeypatch, capsys):
    import gc
    import signal

    from dnnimprove.cli import main

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    make_scratch(scratch)
    monkeypatch.chdir(scratch)  # every relative path a vector names lies in the scratch folder
    protected = {path.name: (os.lstat(path).st_mode, os.lstat(path).st_ino) for path in scratch.iterdir()}

    def too_long(signum, frame):
        raise _TooLong

    for argv in BASES.values():  # warm up: the heavy imports and compilations happen here, never under the alarm
        main(argv)
    capsys.readouterr()
    previous = signal.signal(signal.SIGALRM, too_long)
    outcomes, failures, slowest = Counter(), [], []
    try:
        for argv in fuzz_vectors(int(os.environ.get("DNNIMPROVE_CLI_FUZZ_SEED", 2026)), FUZZ_VECTORS):
            gc.disable()  # the alarm's exception raised inside a collection's callback would be swallowed
            signal.setitimer(signal.ITIMER_REAL, 1.0)
            started = time.perf_counter()
            try:
                status = main(argv)
            except _TooLong:
                status = "ran long"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                gc.enable()
            slow = time.perf_counter() - started
            if slow > 0.3:
                slowest.append((round(slow, 2), argv[:14]))
            captured = capsys.readouterr()
            outcomes[status] += 1
            text = captured.out + captured.err
            errors = [line for line in captured.err.splitlines() if line.strip() and "Warning" not in line]
            verdict = status == 1 and argv[0] == "gradcheck" and not errors  # a failed check: its report, status 1
            if "Traceback" in text or "internal error" in text or status not in (0, 1, 2, "ran long") or (
                status in (1, 2) and len(errors) != 1 and not verdict
            ):
                failures.append((argv[:12], status, captured.err[-600:]))
    finally:
        signal.signal(signal.SIGALRM, previous)
    print(f"\ncli fuzz: {FUZZ_VECTORS} vectors, outcomes {dict(outcomes)}; slowest {sorted(slowest)[-8:]}")
    assert not failures, f"{len(failures)} of {FUZZ_VECTORS} vectors failed; first: {failures[:3]}"
    after = {path.name: (os.lstat(path).st_mode, os.lstat(path).st_ino) for path in scratch.iterdir() if path.name in protected}
    assert after == protected  # no special file (or the config file) replaced
    assert (scratch / "config.txt").read_text() == "keep me"


CTRL_C_DELAYS = [0.0, 0.1, 0.3, 0.7, 1.5, 3.0]  # seconds after NumPy appears in the process


@functools.cache
def _stress_script():
    """benchmarks/ctrl_c_stress.py, the stress run of the test below, loaded once for its probe."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "ctrl_c_stress.py"
    spec = importlib.util.spec_from_file_location("ctrl_c_stress", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _numpy_loaded(pid: int) -> bool:
    """Whether NumPy is mapped into process ``pid`` (the stress script's own probe)."""
    return _stress_script().numpy_loaded(pid)


def test_ctrl_c_at_any_moment_of_start_up_is_one_line_and_status_130(tmp_path):
    """The command interrupted while it imports, parses or trains: one line, status 130, never a traceback.

    Each Ctrl-C is sent a given delay after NumPy appears in the process (its first heavy import, which
    only the package's start-up makes), so the moment is the same on a fast or a loaded machine.
    """
    import signal
    import subprocess
    import sys

    if not os.path.exists(f"/proc/{os.getpid()}/maps"):
        pytest.skip("needs /proc to see when the start-up imports begin")
    delays = CTRL_C_DELAYS
    processes = [
        subprocess.Popen([sys.executable, "-m", "dnnimprove", "train", "--epochs", "1000000", "--n-samples", "50",
                          "--engine", "numpy"],
                         cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in delays
    ]  # in parallel: the whole test takes about one start-up
    loaded_at = {}
    deadline = time.monotonic() + 120
    while len(loaded_at) < len(processes) and time.monotonic() < deadline:
        for index, process in enumerate(processes):
            if index not in loaded_at and _numpy_loaded(process.pid):
                loaded_at[index] = time.monotonic()
        time.sleep(0.005)
    assert len(loaded_at) == len(processes), "a process never imported numpy"
    for index in sorted(range(len(processes)), key=lambda i: loaded_at[i] + delays[i]):
        time.sleep(max(0.0, loaded_at[index] + delays[index] - time.monotonic()))
        processes[index].send_signal(signal.SIGINT)
    for delay, process in zip(delays, processes):
        _, err = process.communicate(timeout=120)
        lines = [line for line in err.splitlines() if line.strip()]
        # 130, or ended by SIGINT itself (-2), which a shell reports as the same status 130
        assert process.returncode in (130, -signal.SIGINT) and "Traceback" not in err and len(lines) == 1, (
            delay, process.returncode, err[-800:])
        assert lines[0] in ("dnnimprove: interrupted", "dnnimprove train: interrupted"), lines


CTRL_C_CASES = {  # (setup before the Ctrl-C, the code that receives it) in a process that is the command
    "inside an import": ("import sys; sys.path.insert(0, folder)",
                         "import interrupted_module"),  # its first line raises SIGINT, its second must not run
    "inside __del__ (Python swallows it)": (
        "class Finalized:\n    def __del__(self):\n        signal.raise_signal(signal.SIGINT)",
        "Finalized()"),
    "while the interpreter shuts down": ("import atexit; atexit.register(signal.raise_signal, signal.SIGINT)",
                                         "main(['study', '--list']) and None; sys.exit(0)"),
}


@pytest.mark.parametrize("case", sorted(CTRL_C_CASES))
def test_ctrl_c_the_command_cannot_recover_from_ends_it_at_once_with_one_line(case, tmp_path):
    """Ctrl-C inside an import (an extension module left half built can abort the interpreter's exit),
    inside a ``__del__`` (where Python would only print "Exception ignored" and carry on) or during
    shutdown (inside ``atexit``, after ``main`` returned): one line, status 130, nothing after it runs."""
    import subprocess
    import sys
    import textwrap

    (tmp_path / "interrupted_module.py").write_text("import signal\nsignal.raise_signal(signal.SIGINT)\nprint('the import went on')\n")
    setup, trigger = CTRL_C_CASES[case]
    script = textwrap.dedent(f"""
        import signal, sys
        sys.argv[0] = "dnnimprove"      # this process is the command: dnnimprove installs its handlers
        folder = {str(tmp_path)!r}
        from dnnimprove import _startup
        from dnnimprove.cli import main
        assert signal.getsignal(signal.SIGINT) is _startup._interrupted
        _startup.release("dnnimprove train")   # what main() does first
        """) + setup + "\n" + trigger + "\nprint('carried on', flush=True)\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, (case, done.returncode, done.stderr[-800:])
    assert done.stderr.splitlines() == ["dnnimprove train: interrupted"], (case, done.stderr[-800:])
    assert "carried on" not in done.stdout and "went on" not in done.stdout


def test_the_docs_page_states_the_sizes_of_these_attack_sets(legit, crafted, crafted_tables, tmp_path):
    """docs/reliability.md quotes how many attacks of each class these tests make; the sets decide it."""
    import re

    page = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
    (tmp_path / "estimators").mkdir()
    (tmp_path / "tables").mkdir()
    rows = {name: int(count) for name, count in re.findall(r"^\| ([^|]+?) \| (\d+) \|", page.read_text(encoding="utf-8"), re.M)}
    expected = {
        "crafted model files (bombs)": len(crafted),
        "crafted `.npz` data tables (bombs)": len(crafted_tables),
        "special paths read": len(special_paths(tmp_path)),
        "special paths read as data tables or saved estimators": len(special_paths(tmp_path / "estimators"))
        + len(special_table_paths(tmp_path / "tables")),
        "numbers beyond range (Python API)": len(number_settings()) * len(HUGE_NUMBERS),
        "Ctrl-C during start-up or training": len(CTRL_C_DELAYS),
        "Ctrl-C inside an import, a finalizer or the shutdown": len(CTRL_C_CASES),
        "special data files given to the command": len(SPECIAL_DATA_FILES),
        "CLI argument vectors": len(fuzz_vectors(2026, 1200)),
    }
    assert {name: rows.get(name) for name in expected} == expected
