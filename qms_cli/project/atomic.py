"""Replace a file all or nothing, and only if nobody else saved it since it was read.

A temporary file in the same folder (fsync, then rename) means a reader sees the old file or the new one,
never half of each. qms's lock keeps other qms processes out, but not the studio app, which saves the same
project.json (issue 15: 37 of 1,379 of its saves were lost). So, just before the swap, the file must still be
the one read (same inode, size, modification time and bytes); then, on Linux, the new file and the old one
are exchanged in one step (renameat2 RENAME_EXCHANGE), and what comes out is checked again: if another
program saved in the instant between, its save is put back and the caller re-reads and re-applies its change.
Elsewhere a plain rename follows the check, which leaves that instant open.

Each temporary file is locked (flock) while it is written, so one left behind by a killed qms (unlocked) is
told apart from one another qms is still writing (locked), and the next write removes it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import Any

from qms_cli.errors import DataError

Identity = tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns


def identity(st: os.stat_result) -> Identity:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class Temporary:
    """A temporary file beside `target` holding `text`, written and synced, locked while it exists."""

    def __init__(self, path: Path, target: Path, text: str, sync: bool = True) -> None:
        import tempfile

        self.target = target
        try:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as e:
            raise DataError(f"{path}: cannot write in {target.parent} ({e.strerror or e}); "
                            "the file is unchanged") from None
        self.fd, self.name = fd, name
        try:
            _flock(fd, blocking=True)
            data = text.encode("utf-8")
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if sync:
                os.fsync(fd)
            os.fchmod(fd, _mode_for(target))
            self.ino = os.fstat(fd).st_ino
        except OSError as e:
            self.discard()
            raise DataError(f"{path}: cannot be written ({e.strerror or e}); the file is unchanged") from None

    def discard(self) -> None:
        """Remove whatever the temporary name holds now, and let go of the lock."""
        with contextlib.suppress(OSError):
            os.unlink(self.name)
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _flock(fd: int, blocking: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # not on this system: temporaries are then removed only when old
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        return True
    except OSError:
        return False


STALE_WITHOUT_LOCKS_S = 3600.0  # where flock is missing, a temporary this old is taken as abandoned


def remove_abandoned(target: Path) -> list[str]:
    """Remove `.NAME.*.tmp` files beside `target` that no live process holds (left by a killed qms)."""
    import glob
    import time

    removed = []
    has_locks = _has_flock()
    for name in glob.glob(os.path.join(glob.escape(str(target.parent)), f".{glob.escape(target.name)}.*.tmp")):
        try:
            fd = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                continue
            if has_locks:
                if not _flock(fd, blocking=False):
                    continue  # another qms is writing it
            elif time.time() - st.st_mtime < STALE_WITHOUT_LOCKS_S:
                continue
            if os.lstat(name).st_ino == st.st_ino:  # still the file we hold
                os.unlink(name)
                removed.append(name)
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed


def _has_flock() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return False
    return True


_RENAMEAT2: list[object] = []  # libc's renameat2, looked up once (None where there is none)


def _exchange(a: str, b: str) -> bool:
    """Swap two names in one step (Linux renameat2 RENAME_EXCHANGE); False where that is not supported."""
    import sys

    if not sys.platform.startswith("linux"):
        return False
    if not _RENAMEAT2:
        import ctypes

        _RENAMEAT2.append(getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None))
    fn: Any = _RENAMEAT2[0]
    if fn is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    import ctypes

    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), b)


def replace_if_unchanged(path: Path, text: str, expected: Identity, expected_bytes: bytes, limit: int,
                         sync_first: bool = True) -> bool:
    """Replace the file at `path` (its target, for a symlink) with `text`, provided it is still the file
    read (`expected`: identity and bytes). False, with the file as the other program left it, when not.

    Where the swap is atomic, the file that comes out of it is what is checked, so no instant is left open.
    The new file reaches the disk before the swap (`sync_first`) or right after it: a retry after another
    program's save must fit between two of its saves (every 5 ms in issue 15's test), and flushing first
    takes about as long."""
    target = path.resolve()  # a symlink stays a symlink: its target is replaced
    tmp = Temporary(path, target, text, sync=sync_first)
    try:
        # A cheap look first: most saves by the other program are seen here, before anything is swapped.
        if not _is(str(target), expected):
            return False
        try:
            swapped = _exchange(tmp.name, str(target))
        except FileNotFoundError:
            return False  # removed meanwhile: the caller reads again and says so
        if swapped:
            # Until a save that came in between is put back, the file holds qms's copy without it: decide on
            # the identity at once, and read the bytes (a same-size save in place) only when it matches.
            if _is(tmp.name, expected) and _holds(tmp.name, expected, expected_bytes, limit):
                if not sync_first:
                    os.fsync(tmp.fd)  # the new file, now in place
                _fsync_dir(target.parent)
                return True
            _put_back(tmp, target)
            return False
        # No atomic swap on this system: check, then rename; the instant between stays open.
        if not sync_first:
            os.fsync(tmp.fd)
        if not _holds(str(target), expected, expected_bytes, limit):
            return False
        os.replace(tmp.name, target)
        _fsync_dir(target.parent)
        return True
    except OSError as e:
        raise DataError(f"{path}: cannot be written ({e.strerror or e}); the file is unchanged") from None
    finally:
        tmp.discard()


def _is(name: str, expected: Identity) -> bool:
    """Whether `name` has the identity of the file that was read (no bytes read)."""
    try:
        return identity(os.lstat(name)) == expected  # a symlink put there is not the file read
    except OSError:
        return False


def _holds(name: str, expected: Identity, expected_bytes: bytes, limit: int) -> bool:
    """Whether `name` is the file that was read: same inode, size, modification time and bytes."""
    from qms_cli.catalog.parsing import ReadError, read_bytes

    try:
        now, st = read_bytes(Path(name), limit)
    except ReadError:
        return False
    return identity(st) == expected and now == expected_bytes


def _put_back(tmp: Temporary, target: Path) -> None:
    """Another program saved between the check and the swap: swap its save back in. Should it save yet again
    in that instant, the name qms used holds that newer save: swap once more, so the newest stays."""
    for _ in range(4):
        _exchange(tmp.name, str(target))
        try:
            if os.lstat(tmp.name).st_ino == tmp.ino:
                return
        except OSError:
            return


def write_atomic(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Replace (or, if `exclusive`, create) the file at `path` with `text`, all or nothing."""
    target = path.resolve()
    tmp = Temporary(path, target, text)
    try:
        if exclusive:
            os.link(tmp.name, target)  # fails if the file appeared meanwhile: never clobber
        else:
            os.replace(tmp.name, target)
    except FileExistsError:
        raise DataError(f"{path}: already exists; pass --force to replace it") from None
    except OSError as e:
        raise DataError(f"{path}: cannot be written ({e.strerror or e}); the file is unchanged") from None
    finally:
        tmp.discard()  # after a rename the name is free and this does nothing but unlock
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
