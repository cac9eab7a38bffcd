"""npzfiles: an .npz member is read only once the zip directory and its .npy header agree on its size."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dnnimprove.npzfiles import DEFLATE_MAX_RATIO, MAX_NPY_HEADER_BYTES, NpzArchive


class Deflatable(NpzArchive):
    compressed = True


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def archive(tmp_path, members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> str:
    path = tmp_path / "a.npz"
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in members.items():
            zipped.writestr(name, data, compress_type=method)
    return str(path)


def test_a_member_is_described_then_read_stored_or_deflated_where_allowed(tmp_path):
    values = np.arange(6, dtype=np.int32).reshape(2, 3)
    stored = archive(tmp_path, {"v.npy": npy(values)})
    with open(stored, "rb") as stream, NpzArchive(stored, stream) as opened:
        assert opened.describe("v") == ((2, 3), np.dtype(np.int32))
        assert opened.array("v", (2, 3), np.int32).tolist() == values.tolist()
    deflated = archive(tmp_path, {"v.npy": npy(values)}, zipfile.ZIP_DEFLATED)
    with open(deflated, "rb") as stream, pytest.raises(ValueError, match=r"member 'v.npy' is compressed \(zip method 8\)"):
        NpzArchive(deflated, stream)
    with open(deflated, "rb") as stream, Deflatable(deflated, stream) as opened:
        assert opened.array("v", (2, 3), np.int32).tolist() == values.tolist()


def test_a_member_must_hold_exactly_the_bytes_its_header_declares(tmp_path):
    path = archive(tmp_path, {"v.npy": npy(np.zeros(4)) + b"\0" * 8})
    with open(path, "rb") as stream, NpzArchive(path, stream) as opened:
        with pytest.raises(ValueError, match=r"array 'v' holds more bytes than its shape \(4,\) needs: 40, not 32"):
            opened.describe("v")


def test_sizes_no_deflate_stream_or_npy_header_could_have_are_refused_before_reading(tmp_path):
    data = npy(np.zeros(1000))
    path = archive(tmp_path, {"v.npy": data}, zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path) as zipped:
        compressed = zipped.getinfo("v.npy").compress_size
    raw = bytearray(Path(path).read_bytes())  # the central directory's uncompressed size, past deflate's ratio
    at = raw.rindex(b"PK\x01\x02")
    raw[at + 24 : at + 28] = (DEFLATE_MAX_RATIO * compressed + 1).to_bytes(4, "little")
    Path(path).write_bytes(bytes(raw))
    with open(path, "rb") as stream, pytest.raises(ValueError, match=rf"declares {DEFLATE_MAX_RATIO * compressed + 1} "
                                                                    rf"bytes from {compressed} deflated bytes"):
        Deflatable(path, stream)
    long_header = b"\x93NUMPY\x02\x00" + (MAX_NPY_HEADER_BYTES + 1).to_bytes(4, "little") + b" " * (MAX_NPY_HEADER_BYTES + 1)
    path = archive(tmp_path, {"v.npy": long_header})
    with open(path, "rb") as stream, NpzArchive(path, stream) as opened:
        with pytest.raises(ValueError, match=rf"array 'v' has a {MAX_NPY_HEADER_BYTES + 1}-byte .npy header"):
            opened.describe("v")
