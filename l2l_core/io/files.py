"""Files: the one atomic write, the one CSV/NPZ writer, output-path checks and the run lock.

Every file the project writes goes through :func:`atomic_write`: a temporary
file in the target's directory, fsynced, then renamed over the target, so a
process killed mid-write leaves the old file or the new one, never half of
one. Every command checks its output path with :func:`check_output_file` or
:func:`check_output_dir` before any work starts, and a ValueError names what
is wrong in one line. Pure Python and numpy: pages and the CLI share it.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

LOCK_NAME = ".lock"


# -- output paths -------------------------------------------------------------------------------


def _check_parent(path: Path, what: str) -> None:
    parent = path.parent
    if not parent.exists():
        raise ValueError(f"{what} {path}: folder {parent} does not exist")
    if not parent.is_dir():
        raise ValueError(f"{what} {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {path}: folder {parent} is not writable")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def resolved(path: str | os.PathLike, what: str = "--out") -> Path:
    """``Path.resolve`` with its failures as one-line ValueErrors (a symbolic-link loop is a
    RuntimeError there, a name too long an OSError)."""
    path = Path(path)
    try:
        return path.resolve()
    except RuntimeError:
        raise ValueError(f"{what} {path}: a symbolic link in it points back to itself (a loop); "
                         "remove the loop or give another path") from None
    except OSError as e:
        raise ValueError(f"{what} {path}: cannot be used ({e.strerror}); give another path") from None


def _is_special_tree(path: Path, what: str) -> bool:
    """/proc and /sys hold files that look regular but are kernel interfaces."""
    real = resolved(path, what)
    return any(real.is_relative_to(root) for root in (Path("/proc"), Path("/sys"), Path("/dev")))


def _refuse_link(path: Path, what: str) -> None:
    """A file of ours is never reached through a symbolic link: a write would land wherever it points."""
    if path.is_symlink():
        raise ValueError(f"{what} {path} is a symbolic link (to {os.readlink(path)}); "
                         "give the real path, or remove the link")


def check_output_file(path: str | os.PathLike, *, force: bool = False, what: str = "--out") -> Path:
    """Checks that ``path`` can be written as a regular file; returns it as a Path.

    Rules: the parent folder exists and is writable; the target is not a folder,
    a device, a pipe or a socket, nor under /proc, /sys or /dev; an existing
    regular file is replaced only when ``force`` is true.

    Raises:
      ValueError: one line saying what is wrong and what to do.
    """
    path = Path(path)
    if str(path) in ("", "."):
        raise ValueError(f"{what}: give a file name")
    if _is_special_tree(path, what):
        raise ValueError(f"{what} {path}: /proc, /sys and /dev are not places to write results")
    _refuse_link(path, what)
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):  # the parent check says which
        st = None
    except OSError as e:
        raise ValueError(f"{what} {path}: cannot be used ({e.strerror})") from None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{what} {path} is {_kind(st.st_mode)}, not a file name to write")
        if not force:
            raise ValueError(f"{what} {path} already exists; pass --force to replace it")
    _check_parent(path, what)
    return path


def check_output_dir(path: str | os.PathLike, *, what: str = "--out") -> Path:
    """Checks that ``path`` is, or can be created as, a writable folder; returns it.

    Rules: an existing target must be a folder (not a file or special file) and
    writable; a missing one needs an existing, writable parent.
    """
    path = Path(path)
    if str(path) == "":
        raise ValueError(f"{what}: give a folder name")
    if _is_special_tree(path, what):
        raise ValueError(f"{what} {path}: /proc, /sys and /dev are not places to write results")
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):  # the parent check says which
        _check_parent(path, what)
        return path
    except OSError as e:
        raise ValueError(f"{what} {path}: cannot be used ({e.strerror})") from None
    if not stat.S_ISDIR(st.st_mode):
        kind = "a file" if stat.S_ISREG(st.st_mode) else _kind(st.st_mode)
        raise ValueError(f"{what} {path} is {kind}; give a folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {path}: folder is not writable")
    return path


# -- the atomic write ---------------------------------------------------------------------------


def atomic_write(path: str | os.PathLike, data: bytes | str, *, mode: int = 0o644) -> Path:
    """Writes ``data`` to ``path`` atomically: temp file in the same folder, fsync, rename.

    The parent folder is created if missing. A target that exists but is not a
    regular file (a folder, a device, a symbolic link) is refused with ValueError
    rather than replaced, so a rename can never turn a device node into a file
    nor a write land where a link points. On any failure (a full disk, a
    read-only folder) the temp file is removed and the old target is untouched.
    """
    path = Path(path)
    try:
        st = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else _kind(st.st_mode)
        raise ValueError(f"{path} is {kind}, not a regular file; not replacing it")
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:64]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.filename is None:  # fsync and write name no file: name the target
            raise OSError(e.errno, e.strerror, str(path)) from e
        raise
    return path


# -- CSV and NPZ --------------------------------------------------------------------------------


def columns_csv(**columns) -> str:
    """Equal-length 1-D columns as CSV text with a header row (NaN kept as 'nan')."""
    cols = {k: np.asarray(v).ravel() for k, v in columns.items()}
    lengths = {len(v) for v in cols.values()}
    if len(lengths) > 1:
        raise ValueError(f"CSV columns differ in length: { {k: len(v) for k, v in cols.items()} }")
    lines = [",".join(cols)]
    lines += [",".join(f"{x:.9g}" for x in row) for row in zip(*cols.values())]
    return "\n".join(lines) + "\n"


def csv_text(arrays: dict[str, np.ndarray]) -> str:
    """A grid as a matrix (first row log10 lr, first column log10(1-momentum));
    anything else as equal-length columns."""
    if "loss" in arrays and np.ndim(arrays["loss"]) == 2 and "log_lrs" in arrays:
        lrs, omm, z = arrays["log_lrs"], arrays["log_one_minus_moms"], arrays["loss"]
        lines = ["log10_1m_momentum\\log10_lr," + ",".join(f"{v:.9g}" for v in lrs)]
        lines += [f"{m:.9g}," + ",".join(f"{v:.7g}" for v in row) for m, row in zip(omm, z)]
        return "\n".join(lines) + "\n"
    if "loss" in arrays and np.ndim(arrays["loss"]) == 2:  # any two axes, in their display units
        xs, ys, z = arrays["x_values"], arrays["y_values"], arrays["loss"]
        lines = ["y\\x," + ",".join(f"{v:.9g}" for v in xs)]
        lines += [f"{m:.9g}," + ",".join(f"{v:.7g}" for v in row) for m, row in zip(ys, z)]
        return "\n".join(lines) + "\n"
    return columns_csv(**arrays)


def npz_bytes(**arrays) -> bytes:
    """Compressed NPZ of ``arrays`` as bytes (object arrays refused: no pickle)."""
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    for k, v in arrays.items():
        if v.dtype == object:
            raise ValueError(f"array {k!r} has dtype object; NPZ files here hold numbers and text only")
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def write_arrays(path: str | os.PathLike, arrays: dict, meta: dict | None = None) -> Path:
    """Writes ``arrays`` as CSV (by the suffix ``.csv``) or NPZ (with ``meta`` as JSON), atomically."""
    path = Path(path)
    if path.suffix == ".csv":
        return atomic_write(path, csv_text(arrays))
    extra = {} if meta is None else {"meta": np.asarray(json.dumps(meta))}
    return atomic_write(path, npz_bytes(**extra, **arrays))


# -- the run lock -------------------------------------------------------------------------------


def _open_lock(file: Path) -> int:
    """Opens the lock file without following a link; refuses anything but a regular file."""
    try:
        fd = os.open(file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ValueError(f"{file} is a symbolic link; a run's lock is never followed out of its folder: "
                             "remove the link") from None
        if e.errno == errno.EISDIR:
            raise ValueError(f"{file} is a folder, where the run's lock file belongs: remove it or pick "
                             "another --out") from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ValueError(f"{file} is {_kind(st.st_mode)}, where the run's lock file belongs: remove it or "
                         "pick another --out")
    return fd


@contextlib.contextmanager
def locked_dir(directory: str | os.PathLike) -> Iterator[Path]:
    """Holds an exclusive lock on ``DIR/.lock`` for the block.

    A second process (or thread) asking for the same folder gets a ValueError at
    once instead of waiting. The lock is the kernel's (``fcntl.flock``), so it is
    released when the process dies, however it dies. The lock file is opened
    with ``O_NOFOLLOW`` and must be a regular file: a link planted as ``.lock``
    is refused, never followed. The holder removes the file when the block
    ends (and a folder it created that is still empty), so nothing is left
    behind; a holder that finds its file already replaced by another gives up.
    """
    import fcntl

    directory = Path(directory)
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    file = directory / LOCK_NAME
    try:
        fd = _open_lock(file)
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    held = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            try:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            except OSError:
                holder = ""
            who = f" (process {holder})" if holder.isdigit() else ""
            raise ValueError(f"another run is writing to {directory}{who}; wait for it or pick another --out") \
                from None
        try:  # the file we locked must still be the one at the path (its last holder removes it)
            same = os.path.samestat(os.fstat(fd), os.lstat(file))
        except FileNotFoundError:
            same = False
        if not same:
            raise ValueError(f"another run is writing to {directory}; wait for it or pick another --out")
        held = True
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield directory
    finally:
        if held:  # removed while still held: a process waiting on the old file sees it gone
            with contextlib.suppress(OSError):
                os.unlink(file)
        os.close(fd)  # closing the descriptor releases the lock
        if created:
            with contextlib.suppress(OSError):
                directory.rmdir()  # only if empty: a run that wrote nothing leaves nothing
