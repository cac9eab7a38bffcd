"""Bounded reading of NumPy ``.npz`` archives: every size is checked against the file before it is allocated.

An ``.npz`` is a zip of ``.npy`` members. :class:`NpzArchive` opens one (from a stream that
:func:`dnnimprove.safefiles.open_regular` opened) and reads its members one at a time, by name without
the ``.npy``. It serves model files and checkpoints (:mod:`dnnimprove.persistence`, members stored
uncompressed) and ``.npz`` data tables (:mod:`dnnimprove.tables`, members stored or deflated).

Checked when the archive is opened, before any member is read:

* the zip's central directory (its size and member count read from the end record) is at most
  :data:`MAX_DIRECTORY_BYTES` bytes and :data:`MAX_MEMBERS` members;
* every member, read later or not, is unencrypted and lies inside the file, and is stored uncompressed
  (as :func:`numpy.savez` writes it) or, where the archive allows compression, deflated (as
  :func:`numpy.savez_compressed` writes it). bzip2 and lzma members are refused: :mod:`zipfile`
  decompresses them without a bound on one call's output. A stored member's two sizes agree; a
  deflated member declares at most :data:`DEFLATE_MAX_RATIO` times its compressed bytes, the most
  deflate can produce, so a directory cannot claim more than its compressed bytes could hold.

Checked for each member read, before its data is read:

* its ``.npy`` header (version 1.0 or 2.0) is at most :data:`MAX_NPY_HEADER_BYTES` long, a length
  checked before the header is read; it is parsed by :mod:`numpy.lib.format` without pickle;
* its shape is made of non-negative integers and its dtype holds no Python objects and is at least one
  byte wide;
* the header and the data its shape declares (``prod(shape) * itemsize`` bytes) are exactly the bytes
  the zip directory declares for the member.

The data is then read in 16 KiB pieces straight into an array of the declared shape. :mod:`zipfile`
never returns more than the directory declares, and inflates at most one piece at a time, so a member
whose compressed stream holds more than it declares costs no more than its declared size; reaching
its end checks its CRC, and a mismatch is refused. Reading a member therefore takes its declared size
plus a few pieces, whatever the file holds.

A problem raises :meth:`NpzArchive.error` (a ``ValueError`` naming the file; subclasses choose the
type and wording). Damaged bytes raise one of :data:`READ_ERRORS` from :mod:`zipfile`, :mod:`zlib` or
:mod:`numpy.lib.format`; callers turn those into their own error.
"""

from __future__ import annotations

import io
import math
import os
import struct
import tokenize
import zipfile
import zlib
from typing import Any, BinaryIO

import numpy as np

from ._validation import all_finite

__all__ = [
    "MAX_DIRECTORY_BYTES", "MAX_MEMBERS", "MAX_NPY_HEADER_BYTES", "DEFLATE_MAX_RATIO", "READ_ERRORS", "NpzArchive",
]

MAX_DIRECTORY_BYTES = 2**20
"""A zip central directory larger than this is refused (about 100 bytes per array; a file has a handful)."""
MAX_MEMBERS = 10_000
"""An archive with more members than this is refused."""
MAX_NPY_HEADER_BYTES = 10_000
"""The longest ``.npy`` header read (numpy's own default limit; numpy writes about 128 bytes)."""
DEFLATE_MAX_RATIO = 1032
"""The most bytes deflate produces from one compressed byte (a 258-byte match coded in two bits)."""
PIECE_BYTES = 1 << 14
"""Member data is read in pieces of this many bytes."""

# What zipfile, zlib and numpy.lib.format raise on damaged bytes; callers turn them into their own error.
READ_ERRORS = (
    OSError, EOFError, KeyError, IndexError, ValueError, TypeError, OverflowError, NotImplementedError,
    RuntimeError, MemoryError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error,
    SyntaxError, tokenize.TokenError,  # numpy parses a .npy header with ast/tokenize: corrupt bytes raise these
)


class NpzArchive:
    """An open ``.npz`` whose members are read one by one, each checked before its data is read.

    Use as a context manager; the zip is closed on exit (the stream is the caller's). Subclasses set
    :attr:`compressed` (whether deflated members are read) and :attr:`what` (the file's kind in
    messages), and may override :meth:`error`.

    Parameters
    ----------
    path : str
        The file's name, for messages.
    stream : binary file
        The open file (a regular file: its size bounds every member).
    """

    compressed = False
    """Whether deflated members are read (otherwise every member must be stored uncompressed)."""
    what = ".npz file"
    """What the file is, in messages: ``"a {what} holds at most ..."``."""

    def __init__(self, path: str, stream: BinaryIO) -> None:
        self.path = path
        self.file_size = os.fstat(stream.fileno()).st_size
        self._check_directory(stream)
        self.zipped = zipfile.ZipFile(stream)
        try:
            self.check_members()
        except BaseException:
            self.zipped.close()
            raise

    def __enter__(self) -> "NpzArchive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.zipped.close()

    def error(self, problem: str) -> ValueError:
        """The error to raise for ``problem`` (a phrase that follows the file's name)."""
        return ValueError(f"{self.path}: {problem}")

    def _check_directory(self, stream: BinaryIO) -> None:
        """Refuse a zip whose central directory (read from its end record) is too large, before parsing it."""
        end = zipfile._EndRecData(stream)  # the end-of-central-directory record: no allocation beyond 64 KiB
        stream.seek(0)
        if end is None:
            raise zipfile.BadZipFile("File is not a zip file")
        if end[zipfile._ECD_SIZE] > MAX_DIRECTORY_BYTES or end[zipfile._ECD_ENTRIES_TOTAL] > MAX_MEMBERS:
            raise self.error(
                f"its zip directory declares {end[zipfile._ECD_ENTRIES_TOTAL]} members in {end[zipfile._ECD_SIZE]} "
                f"bytes; a {self.what} holds at most {MAX_MEMBERS} members in {MAX_DIRECTORY_BYTES} bytes"
            )

    def check_members(self) -> None:
        """Refuse encrypted, oversized, wrongly compressed or too many members before reading any of them."""
        members = self.zipped.infolist()
        if len(members) > MAX_MEMBERS:
            raise self.error(f"holds {len(members)} members; a {self.what} holds at most {MAX_MEMBERS}")
        methods = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) if self.compressed else (zipfile.ZIP_STORED,)
        for info in members:
            name = f"{info.filename!r:.80}"
            if info.compress_type not in methods:
                raise self.error(
                    f"member {name} is compressed (zip method {info.compress_type}); a {self.what} stores its "
                    + ("arrays uncompressed or deflated, as numpy.savez and numpy.savez_compressed write them"
                       if self.compressed else "arrays uncompressed, as numpy.savez writes them")
                )
            if info.flag_bits & 0x1:
                raise self.error(f"member {name} is encrypted")
            if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                raise self.error(f"member {name} declares {info.file_size} bytes but stores {info.compress_size}")
            if info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > DEFLATE_MAX_RATIO * info.compress_size:
                raise self.error(
                    f"member {name} declares {info.file_size} bytes from {info.compress_size} deflated bytes; "
                    f"deflate expands at most {DEFLATE_MAX_RATIO} times"
                )
            if info.header_offset + info.compress_size > self.file_size:
                raise self.error(
                    f"member {name} declares {info.compress_size} bytes at offset {info.header_offset}, "
                    f"past the end of the {self.file_size}-byte file"
                )

    def has(self, key: str) -> bool:
        """Whether the archive holds the array ``key`` (member ``key.npy``)."""
        return f"{key}.npy" in self.zipped.NameToInfo

    def _member(self, key: str) -> tuple:
        """Open member ``key`` and check its ``.npy`` header; returns ``(stream, shape, fortran, dtype, size)``
        with ``size`` the data bytes, exactly what the member holds after its header."""
        if not self.has(key):
            raise self.error(f"array {key!r} is missing")
        info = self.zipped.getinfo(f"{key}.npy")
        stream = self.zipped.open(info)
        try:
            version = np.lib.format.read_magic(stream)
            if version not in ((1, 0), (2, 0)):
                raise self.error(f"array {key!r} has an unsupported .npy version {version}")
            length_format = "<H" if version == (1, 0) else "<I"
            field = stream.read(struct.calcsize(length_format))
            if len(field) != struct.calcsize(length_format):
                raise self.error(f"array {key!r} ends inside its .npy header")
            (length,) = struct.unpack(length_format, field)
            if length > MAX_NPY_HEADER_BYTES:
                raise self.error(
                    f"array {key!r} has a {length}-byte .npy header; at most {MAX_NPY_HEADER_BYTES} bytes are read"
                )
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = reader(io.BytesIO(field + stream.read(length)))
            if not all(isinstance(n, int) and n >= 0 for n in shape):
                raise self.error(f"array {key!r} has the invalid shape {shape!r:.80}")
            if dtype.hasobject:
                raise self.error(f"array {key!r} holds Python objects (dtype {dtype}); arrays are read without pickle")
            if dtype.itemsize == 0:  # numpy would allocate a byte per element its shape declares, from no data
                raise self.error(f"array {key!r} has the zero-width dtype {dtype}")
            start = np.lib.format.MAGIC_LEN + len(field) + length
            size = math.prod(shape) * dtype.itemsize
            if start + size > info.file_size:
                raise self.error(
                    f"array {key!r} is truncated: its shape {tuple(shape)} needs {size} bytes, "
                    f"the member holds {info.file_size - start}"
                )
            if start + size < info.file_size:
                raise self.error(
                    f"array {key!r} holds more bytes than its shape {tuple(shape)} needs: {info.file_size - start}, "
                    f"not {size}"
                )
        except BaseException:
            stream.close()
            raise
        return stream, tuple(shape), fortran, dtype, size

    def describe(self, key: str) -> tuple[tuple[int, ...], np.dtype]:
        """``(shape, dtype)`` of member ``key``, its ``.npy`` header checked, without reading its data."""
        stream, shape, _, dtype, _ = self._member(key)
        stream.close()
        return shape, dtype

    def _open(self, key: str, shape: tuple[int, ...] | None, dtype: Any, max_bytes: int | None) -> tuple:
        """Open member ``key`` and check its ``.npy`` header; returns ``(stream, shape, fortran, size)``.

        ``dtype``: one dtype, or a tuple of accepted ones (then the member's own is used). ``shape=None``:
        any 1-D length up to ``max_bytes``."""
        stream, found_shape, fortran, found_dtype, size = self._member(key)
        try:
            accepted = dtype if isinstance(dtype, tuple) else (dtype,)
            if found_dtype not in accepted:
                raise self.error(f"array {key!r} has dtype {found_dtype}; expected {' or '.join(map(str, accepted))}")
            if shape is None:
                if len(found_shape) != 1 or size > (max_bytes or 0):
                    raise self.error(f"array {key!r} has shape {found_shape}; expected a 1-D array of at most {max_bytes} bytes")
            elif found_shape != tuple(shape):
                raise self.error(f"array {key!r} has shape {found_shape}; the header declares {tuple(shape)}")
        except BaseException:
            stream.close()
            raise
        return stream, found_shape, fortran, size

    def check(self, key: str, shape: tuple[int, ...], dtype: Any) -> None:
        """Check member ``key``'s ``.npy`` header (dtype, shape, size) without reading its data."""
        stream, _, _, _ = self._open(key, shape, np.dtype(dtype), None)
        stream.close()

    def array(
        self,
        key: str,
        shape: tuple[int, ...] | None,
        dtype: Any,
        max_bytes: int | None = None,
        out: np.ndarray | None = None,
        nonnegative: bool = False,
        as_bytes: bool = False,
        finite: bool = True,
    ) -> Any:
        """Member ``key``, checked to have ``dtype`` and ``shape`` (``None``: any 1-D length up to ``max_bytes``).

        With ``out`` (a C-contiguous array of that shape and dtype) the data is read straight into it.
        Floating-point data must be finite unless ``finite=False`` (and ``>= 0`` with ``nonnegative``).
        ``as_bytes``: the raw bytes (a ``bytearray``) instead of an array.
        """
        dtype = np.dtype(dtype)
        stream, shape, fortran, size = self._open(key, shape, dtype, max_bytes)
        with stream:  # read in pieces straight into the result: no second copy of the data
            if as_bytes:
                result = bytearray(size)
                target = memoryview(result)
            else:
                order = "F" if fortran and len(shape) > 1 else "C"
                result = out if out is not None and order == "C" else np.empty(shape, dtype=dtype, order=order)
                flat = result.T if order == "F" else result  # C-contiguous either way, in the file's byte order
                target = memoryview(flat.reshape(-1).view(np.uint8))
            done = 0
            while done < size:
                chunk = stream.read(min(size - done, PIECE_BYTES))
                if not chunk:
                    break
                target[done : done + len(chunk)] = chunk
                done += len(chunk)
            if done != size:
                raise self.error(f"array {key!r} holds fewer bytes than its shape {shape} needs (truncated?)")
            if stream.read(1):  # the member must end here; reaching its end also checks the CRC
                raise self.error(f"array {key!r} holds more bytes than its shape {shape} needs")
        if as_bytes:
            return result
        if out is not None and result is not out:
            np.copyto(out, result)
            result = out
        if finite and dtype.kind == "f" and result.size and not all_finite(result.reshape(-1)):
            bad = int(np.flatnonzero(~np.isfinite(result.reshape(-1)))[0])
            raise self.error(f"array {key!r} holds the non-finite value {result.reshape(-1)[bad]} at flat index {bad}")
        if nonnegative and result.size and result.min() < 0:
            raise self.error(f"array {key!r} must be >= 0 (a variance); it holds {result.min()}")
        return result
