"""safefiles: only regular files are read or replaced, writes are atomic, locked and never clobber.

Every special file is created inside the test's own temporary folder (FIFOs, links to /dev/zero and
/dev/urandom); nothing outside it is ever written.
"""

import errno
import os
import stat

import pytest

from dnnimprove.safefiles import (
    FileLockedError,
    PathLock,
    UnsafePathError,
    check_target,
    open_regular,
    stale_temporaries,
    write_atomically,
)

fcntl = pytest.importorskip("fcntl")  # POSIX: FIFOs, flock


def special_paths(folder):
    """Paths in ``folder`` that are not regular files (or lead nowhere), by name."""
    paths = {}
    paths["directory"] = folder / "a_directory"
    paths["directory"].mkdir()
    paths["fifo"] = folder / "a_fifo"
    os.mkfifo(paths["fifo"])
    for device in ("/dev/zero", "/dev/urandom", "/dev/null"):
        if os.path.exists(device):
            link = folder / f"link_to_{os.path.basename(device)}"
            link.symlink_to(device)
            paths[link.name] = link
    paths["loop"] = folder / "loop_a"
    paths["loop"].symlink_to(folder / "loop_b")
    (folder / "loop_b").symlink_to(paths["loop"])
    paths["dangling"] = folder / "dangling"
    paths["dangling"].symlink_to(folder / "nothing_here")
    paths["link_to_fifo"] = folder / "link_to_fifo"
    paths["link_to_fifo"].symlink_to(paths["fifo"])
    return paths


def fingerprint(path):
    """What a write must not change: the kind of node, its inode, and where a link points."""
    info = os.lstat(path)
    return (stat.S_IFMT(info.st_mode), info.st_ino, os.readlink(path) if os.path.islink(path) else None)


def test_open_regular_reads_a_regular_file_and_through_a_link_to_one(tmp_path):
    (tmp_path / "data").write_bytes(b"abc")
    (tmp_path / "link").symlink_to(tmp_path / "data")
    with open_regular(tmp_path / "link") as stream:
        assert stream.read() == b"abc"


def test_open_regular_refuses_every_special_path_at_once(tmp_path):
    for name, path in special_paths(tmp_path).items():
        with pytest.raises(UnsafePathError, match=r"not a regular file|symbolic link (loop|to nothing)") as info:
            open_regular(path)
        assert str(path) in str(info.value), name


def test_open_regular_keeps_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_regular(tmp_path / "missing")


def test_a_write_never_replaces_a_special_file(tmp_path):
    paths = special_paths(tmp_path)
    before = {name: fingerprint(path) for name, path in paths.items()}
    for name, path in paths.items():
        with pytest.raises(UnsafePathError):
            write_atomically(path, lambda stream: stream.write(b"x"))
    assert {name: fingerprint(path) for name, path in paths.items()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporaries, no locks


def test_a_write_through_a_link_replaces_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.bin"
    target.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    write_atomically(link, lambda stream: stream.write(b"new"))
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_an_existing_file_of_another_kind_is_kept_unless_overwrite(tmp_path):
    path = tmp_path / "config.txt"
    path.write_bytes(b"precious")
    with pytest.raises(UnsafePathError, match="is not a dnnimprove model file; refusing to replace it.*overwrite=True"):
        write_atomically(path, lambda stream: stream.write(b"x"), is_ours=lambda p: False, what="model file")
    assert path.read_bytes() == b"precious"
    write_atomically(path, lambda stream: stream.write(b"x"), is_ours=lambda p: False, overwrite=True)
    assert path.read_bytes() == b"x"


def test_an_empty_file_holds_nothing_to_lose_and_is_replaced(tmp_path):
    path = tmp_path / "empty"
    path.touch()
    write_atomically(path, lambda stream: stream.write(b"x"), is_ours=lambda p: False)
    assert path.read_bytes() == b"x"


def test_the_file_keeps_its_permission_bits(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"a")
    path.chmod(0o640)
    write_atomically(path, lambda stream: stream.write(b"b"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_failed_write_keeps_the_old_file_removes_its_temporary_and_names_the_path(tmp_path):
    path = tmp_path / "run.npz"
    path.write_bytes(b"old")

    def disk_full(stream):
        stream.write(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError, match="No space left on device") as info:
        write_atomically(path, disk_full)
    assert info.value.filename == str(path) and info.value.errno == errno.ENOSPC
    assert path.read_bytes() == b"old"
    assert stale_temporaries(path) == []


def test_stale_temporaries_of_a_killed_write_are_removed_by_the_next_write(tmp_path):
    path = tmp_path / "run.npz"
    stale = [tmp_path / ".run.npz.abcd1234.tmp", tmp_path / ".run.npz.zz_9zz9z.tmp"]
    for leftover in stale:
        leftover.write_bytes(b"half")
    other = tmp_path / ".other.npz.abcd1234.tmp"  # another file's temporary: not ours to remove
    other.write_bytes(b"half")
    assert stale_temporaries(path) == sorted(map(str, stale))
    write_atomically(path, lambda stream: stream.write(b"x"))
    assert stale_temporaries(path) == [] and other.exists() and path.read_bytes() == b"x"


def test_a_second_process_holding_the_lock_gets_a_clear_error(tmp_path):
    path = tmp_path / "run.npz"
    lock = PathLock(path)
    # another process's lock: a separate open file description flocked outside this process's registry
    handle = os.open(lock.lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with pytest.raises(FileLockedError, match=r"is being written by another process"):
            write_atomically(path, lambda stream: stream.write(b"x"))
        assert not path.exists()
    finally:
        os.close(handle)
    write_atomically(path, lambda stream: stream.write(b"x"))
    assert path.read_bytes() == b"x"


def test_the_lock_is_reentrant_in_one_process_and_removed_when_released(tmp_path):
    path = tmp_path / "run.npz"
    with PathLock(path) as outer:
        write_atomically(path, lambda stream: stream.write(b"x"))  # takes the same lock again
        assert os.path.exists(outer.lock_path)
    assert not os.path.exists(outer.lock_path)


def test_check_target_follows_a_link_and_reports_nothing_there(tmp_path):
    assert check_target(tmp_path / "new") == (str(tmp_path / "new"), None)
    (tmp_path / "real").write_bytes(b"a")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    target, found = check_target(tmp_path / "link")
    assert target == os.path.realpath(tmp_path / "real") and found.st_size == 1
