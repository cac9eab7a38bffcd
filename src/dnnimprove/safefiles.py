"""Files opened and written safely: regular files only, atomic locked writes, no clobbering.

Reading (:func:`open_regular`)
    Only a regular file is opened. A directory, a device (``/dev/zero``, ``/dev/urandom``), a FIFO or a
    socket, directly or behind a symbolic link, raises :class:`UnsafePathError` (a ``ValueError``) naming
    the path and what it is; a symbolic-link loop too. The file is checked with ``stat`` before it is
    opened and again with ``fstat`` on the open descriptor (opened with ``O_NONBLOCK``, so a FIFO can
    never make the call wait). A missing file raises :class:`FileNotFoundError`, as ``open`` does.

Writing (:func:`write_atomically`)
    * **Symbolic links are written through**: a link to an existing regular file has that file
      replaced (the link stays); the target then obeys every rule below. A dangling link or a loop is
      refused.
    * **Only regular files are replaced**: a device node, FIFO, socket or directory at the path is
      refused (:class:`UnsafePathError`), never replaced by a regular file.
    * **No clobbering**: an existing non-empty file is replaced only when ``is_ours(path)`` says it is a
      file of the same kind (a dnnimprove model over a model, a checkpoint over a checkpoint), or when
      the caller passes ``overwrite=True``. An empty file holds nothing to lose and is replaced.
    * **Atomic**: the bytes go to a hidden temporary file ``.NAME.XXXXXXXX.tmp`` in the same folder,
      are flushed and fsynced, and the temporary is renamed over ``NAME``; the file keeps its previous
      permission bits (a new file gets ``0o666 & ~umask``). A crash leaves the old file intact.
    * **Stale temporaries** of a killed write (same ``.NAME.*.tmp`` pattern) are removed by the next
      write to ``NAME``, under the lock.
    * **Locked**: a write holds an exclusive advisory lock (``fcntl.flock``) on ``.NAME.lock`` beside the
      file; :class:`PathLock` lets a caller hold it for longer (a training run over all its checkpoint
      writes). A second process asking for the same lock gets :class:`FileLockedError` at once. The lock
      is re-entrant within one process and is released (and its file removed) when the last holder
      releases it, or by the operating system when the process dies. Where ``fcntl`` does not exist
      (Windows) writes are not locked.
    * **Errors name the path**: an ``OSError`` while writing (disk full, read-only file system) is
      re-raised with the target path as its ``filename``; the temporary file is removed.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import threading
from typing import IO, Any, BinaryIO, Callable

try:  # POSIX; absent on Windows, where writes are not locked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "UnsafePathError",
    "FileLockedError",
    "describe_mode",
    "open_regular",
    "PathLock",
    "check_target",
    "write_atomically",
    "stale_temporaries",
]


class UnsafePathError(ValueError):
    """A path that is not a regular file (or holds a file of another kind): refused, never read or replaced."""


class FileLockedError(OSError):
    """Another process holds the write lock of this path (e.g. a second training run on one checkpoint)."""


def describe_mode(mode: int) -> str:
    """``"a directory"``, ``"a character device"``, ... for a ``stat`` mode (``"a regular file"`` for one)."""
    for test, name in (
        (stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "a special file"


def _refuse(path: str, mode: int, action: str) -> UnsafePathError:
    return UnsafePathError(f"{path!r} is {describe_mode(mode)}, not a regular file; refusing to {action} it")


def _stat(path: str, action: str) -> os.stat_result | None:
    """``os.stat`` following links; ``None`` when nothing is there; a loop or dangling link is refused."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise UnsafePathError(f"{path!r} is a symbolic link to nothing ({os.readlink(path)!r}); refusing to {action} it") from None
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafePathError(f"{path!r} is a symbolic link loop; refusing to {action} it") from None
        raise


# -- reading ------------------------------------------------------------------------------------
def open_regular(path: str | os.PathLike) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file (see the module docstring).

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``.
    UnsafePathError
        A directory, device, FIFO, socket, dangling link or link loop.
    """
    path = os.fspath(path)
    found = _stat(path, "read")
    if found is None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    if not stat.S_ISREG(found.st_mode):
        raise _refuse(path, found.st_mode, "read")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        handle = os.open(path, flags)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
            raise UnsafePathError(f"{path!r} cannot be opened as a regular file ({error.strerror})") from None
        raise
    try:
        opened = os.fstat(handle)
        if not stat.S_ISREG(opened.st_mode):  # replaced between stat and open
            raise _refuse(path, opened.st_mode, "read")
        if fcntl is not None and flags & getattr(os, "O_NONBLOCK", 0):
            fcntl.fcntl(handle, fcntl.F_SETFL, fcntl.fcntl(handle, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(handle, "rb")
    except BaseException:
        os.close(handle)
        raise


# -- locking ------------------------------------------------------------------------------------
_HELD: dict[str, list] = {}  # lock path -> [file descriptor, holders in this process]
_HELD_GUARD = threading.Lock()


class PathLock:
    """The exclusive write lock of ``path``: ``.NAME.lock`` beside it, held with ``fcntl.flock``.

    Use as a context manager or with :meth:`acquire` / :meth:`release`. Acquiring never waits: when
    another process holds the lock it raises :class:`FileLockedError` naming the path. Re-entrant within
    one process (a count of holders).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        directory, name = os.path.split(os.path.abspath(self.path))
        self.lock_path = os.path.join(directory, f".{name}.lock")
        self.held = False

    def acquire(self) -> "PathLock":
        if self.held:
            return self
        with _HELD_GUARD:
            entry = _HELD.get(self.lock_path)
            if entry is not None:
                entry[1] += 1
            else:
                _HELD[self.lock_path] = [self._lock(), 1]
        self.held = True
        return self

    def _lock(self) -> int | None:
        if fcntl is None:  # pragma: no cover
            return None
        for _ in range(5):  # the previous holder may remove the file between our open and flock: retry
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
            try:
                handle = os.open(self.lock_path, flags, 0o666)
            except OSError as error:
                if error.errno == errno.ELOOP:
                    raise UnsafePathError(f"the lock file {self.lock_path!r} is a symbolic link; refusing to use it") from None
                raise OSError(error.errno, f"cannot create the lock file of {self.path!r} ({error.strerror})", self.lock_path) from None
            try:
                opened = os.fstat(handle)
                if not stat.S_ISREG(opened.st_mode):
                    raise _refuse(self.lock_path, opened.st_mode, "lock")
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise FileLockedError(
                        f"{self.path!r} is being written by another process (it holds {self.lock_path!r}); "
                        "wait for that run to end or choose another path"
                    ) from None
                try:
                    current = os.stat(self.lock_path, follow_symlinks=False)
                except FileNotFoundError:
                    current = None
                if current is not None and (current.st_ino, current.st_dev) == (opened.st_ino, opened.st_dev):
                    return handle
            except BaseException:
                os.close(handle)
                raise
            os.close(handle)
        raise FileLockedError(f"{self.path!r}: could not take the lock {self.lock_path!r} (it keeps changing)")

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        with _HELD_GUARD:
            entry = _HELD.get(self.lock_path)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del _HELD[self.lock_path]
            if entry[0] is not None:
                try:
                    os.unlink(self.lock_path)  # while still holding it: a waiter re-checks the inode
                except OSError:
                    pass
                os.close(entry[0])

    def __enter__(self) -> "PathLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


# -- writing ------------------------------------------------------------------------------------
def _temporary_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(name)}\.[a-z0-9_]{{8}}\.tmp")


def stale_temporaries(path: str | os.PathLike) -> list[str]:
    """The temporary files a killed write to ``path`` left behind (regular files ``.NAME.XXXXXXXX.tmp``)."""
    directory, name = os.path.split(os.path.abspath(os.fspath(path)))
    pattern = _temporary_pattern(name)
    found = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            found.append(entry.path)
    return sorted(found)


def check_target(
    path: str | os.PathLike,
    *,
    is_ours: Callable[[str], bool] | None = None,
    overwrite: bool = False,
    what: str = "file",
) -> tuple[str, os.stat_result | None]:
    """Check that a write to ``path`` is allowed (see :func:`write_atomically`) without writing anything.

    Returns the file the write would replace (symbolic links followed) and its ``stat`` (``None`` when
    nothing is there yet).
    """
    path = os.fspath(path)
    found = _stat(path, "write over")
    target = os.path.realpath(path) if os.path.islink(path) else path
    if found is None:
        return target, None
    if not stat.S_ISREG(found.st_mode):
        raise _refuse(path, found.st_mode, "write over")
    if found.st_size > 0 and not overwrite and is_ours is not None and not is_ours(target):
        raise UnsafePathError(
            f"{path!r} exists and is not a dnnimprove {what}; refusing to replace it "
            "(pass overwrite=True, or --overwrite on the command line, to replace it)"
        )
    return target, found


def write_atomically(
    path: str | os.PathLike,
    write: Callable[[IO[bytes]], None],
    *,
    is_ours: Callable[[str], bool] | None = None,
    overwrite: bool = False,
    what: str = "file",
) -> str:
    """Write a file at ``path`` with ``write(stream)``, atomically, under its lock; returns the path.

    Parameters
    ----------
    path : str or path-like
    write : callable(stream) -> None
        Writes the whole content to a binary stream.
    is_ours : callable(path) -> bool, optional
        Whether the existing file at ``path`` may be replaced without ``overwrite`` (a file of the same
        kind). ``None``: any regular file may be replaced.
    overwrite : bool
        Replace an existing regular file even when ``is_ours`` says no.
    what : str
        What is written, for messages (``"model file"``, ``"checkpoint"``).

    Raises
    ------
    UnsafePathError
        The path is (or links to) a directory, device, FIFO or socket, a dangling link or a loop, or an
        existing file of another kind without ``overwrite=True``.
    FileLockedError
        Another process is writing the same path.
    OSError
        Writing failed (disk full, read-only, permissions); its ``filename`` is ``path``.
    """
    path = os.fspath(path)
    target, found = check_target(path, what=what)
    with PathLock(target):
        target, found = check_target(path, is_ours=is_ours, overwrite=overwrite, what=what)  # under the lock
        for stale in stale_temporaries(target):
            try:
                os.unlink(stale)
            except OSError:
                pass
        mode = stat.S_IMODE(found.st_mode) if found is not None else None
        _write_and_rename(target, write, mode)
    return path


def _write_and_rename(target: str, write: Callable[[IO[bytes]], None], mode: int | None) -> None:
    directory, name = os.path.split(os.path.abspath(target))
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise OSError(error.errno, error.strerror, target) from None
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes the file private (0600); give it the mode it had or open() gives
            if mode is None:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(error, OSError) and not isinstance(error, FileLockedError):
            raise OSError(error.errno, error.strerror or str(error), target) from None
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
