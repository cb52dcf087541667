"""Atomic file writes: a file is either its old complete self or the new one.

Every file the package writes for users (restored audio, score CSVs,
metrics tables and JSON, exported model folders, token-cache entries) goes
through :func:`atomic_write` (or :func:`atomic_open` for text): the content
is written to a hidden temporary file in the same folder (same extension,
so writers such as ``soundfile`` that pick the format from the name keep
working), flushed to disk with ``fsync`` and renamed over the target with
``os.replace``. A writer that is killed or raises leaves any earlier file
untouched; on an exception the temporary file is removed. The rename
replaces a symlink at the target by the new file (it never writes through
the link). With ``overwrite=False`` the temporary file is published with a
hard link that fails if the target exists (an exclusive publish: a file
that another writer put there meanwhile is never replaced).

A writer that is killed (``SIGKILL``, power loss) cannot remove its
temporary file. While it writes, it holds an ``flock`` lock on that file,
which the system releases when the process dies; so
:func:`remove_stale_files` can tell the temporary files of killed writers
(unlocked, older than a given time) from those of live ones, and removes
only the former. Temporary files are hidden (their names start with a dot),
and the package never takes hidden files as inputs.

Writers that must not both produce one output (two ``masksr-restore`` runs
into one folder) claim it first with :func:`claim_output`: a hidden claim
file ``.<name>.claim`` next to the output, held with an ``flock`` lock for
as long as the work lasts. A second claimant gets
:class:`~speechbrain_masksr.errors.OutputTakenError` naming the output; a
claim left by a killed process holds no lock and is simply taken over.
Locks need ``fcntl`` (POSIX systems); elsewhere claims always succeed and
stale files are only listed, never removed.

Authors
 * speechbrain-masksr contributors 2026
"""

import contextlib
import errno
import os
import re
import secrets
import tempfile
from pathlib import Path

from speechbrain_masksr.errors import OutputError, OutputTakenError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

__all__ = [
    "atomic_open",
    "atomic_write",
    "check_output_path",
    "check_writable_folder",
    "claim_output",
    "claim_path",
    "fsync_path",
    "remove_stale_files",
    "temp_path",
]

#: Marks temporary files (``.<stem>.<random>.tmp<suffix>``).
TMP_MARK = ".tmp"
#: Marks claim files (``.<name>.claim``, see :func:`claim_output`).
CLAIM_MARK = ".claim"
# What temp_path and claim_path produce (nothing else is ever removed).
_TEMP_NAME = re.compile(r"\.(?P<stem>.+)\.[0-9a-f]{8}\.tmp(?P<suffix>\.[^.]+)?")
_CLAIM_NAME = re.compile(r"\.(?P<name>.+)\.claim")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# os.link errors of file systems without hard links (FAT, some FUSE).
_NO_LINKS = {
    errno.EPERM,
    errno.EMLINK,
    errno.EXDEV,
    errno.ENOSYS,
    getattr(errno, "ENOTSUP", errno.EPERM),
    getattr(errno, "EOPNOTSUPP", errno.EPERM),
}


def temp_path(path):
    """A fresh hidden temporary name next to ``path``, same extension.

    Arguments
    ---------
    path : str or Path
        The final file.

    Returns
    -------
    Path
        ``<folder>/.<stem>.<random>.tmp<suffix>`` (not created).

    Example
    -------
    >>> tmp = temp_path("/data/out/a.wav")
    >>> tmp.parent.as_posix(), tmp.name.startswith(".a."), tmp.suffix
    ('/data/out', True, '.wav')
    """
    path = Path(path)
    token = secrets.token_hex(4)
    return path.with_name(f".{path.stem}.{token}{TMP_MARK}{path.suffix}")


def fsync_path(path, directory=False):
    """Flush a written file (or a folder's entries) to disk.

    Arguments
    ---------
    path : str or Path
        A file, or a folder with ``directory=True``.
    directory : bool
        Sync a folder (after a rename). Failures are ignored there, as
        some file systems do not support it.

    Example
    -------
    >>> path = getfixture("tmpdir") / "x.txt"
    >>> _ = path.write("x")
    >>> fsync_path(path)
    >>> fsync_path(path.dirpath(), directory=True)
    """
    if os.path.islink(path):
        return  # a symlink has no data of its own
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) * bool(directory)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def _try_lock(fd):
    """Take an exclusive ``flock`` lock without waiting.

    ``True`` if taken, ``False`` if another open file holds it, ``None``
    where locks are not available (no ``fcntl``).
    """
    if fcntl is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as err:
        if err.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise
    return True


def _is_open_file(fd, path):
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _create_temp(path):
    """Create and lock a fresh temporary file for ``path``: ``(tmp, fd)``.

    Its times are set to 0 (the epoch) so that a writer that never wrote
    to it can be told from one that wrote an empty file.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
    for _ in range(100):
        tmp = temp_path(path)
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # at most a cleanup's moment
        if _is_open_file(fd, tmp):
            with contextlib.suppress(OSError, NotImplementedError):
                os.utime(fd, ns=(0, 0))
            return tmp, fd
        os.close(fd)  # removed by a cleanup before the lock: a new name
    raise FileExistsError(f"{path}: cannot create a temporary file")


def _publish(tmp, path, overwrite):
    """Move the complete ``tmp`` to ``path`` (no replace without overwrite)."""
    if overwrite:
        os.replace(tmp, path)
        return
    taken = OutputTakenError(
        f"{path} was created by another writer while this one worked; "
        "it is not replaced (overwrite=False)"
    )
    try:
        os.link(tmp, path, follow_symlinks=False)
    except FileExistsError:
        raise taken from None
    except (OSError, NotImplementedError) as err:
        if isinstance(err, OSError) and err.errno not in _NO_LINKS:
            raise
        # no hard links here: check, then rename (not atomic)
        if os.path.lexists(path):
            raise taken from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


@contextlib.contextmanager
def atomic_write(path, overwrite=True):
    """Context manager: write a file through a temporary path, then commit.

    Yields a temporary path in the same folder (the folder is created);
    whatever the block writes there replaces ``path`` at the end, after an
    ``fsync``. If the block raises (or is interrupted), the temporary
    file is removed and an existing ``path`` is left as it was. The
    temporary file is created (empty) and locked before the block runs
    (see :func:`remove_stale_files`); the block writes it by name.

    Arguments
    ---------
    path : str or Path
        The final file.
    overwrite : bool
        Replace an existing ``path`` (default). With ``False`` the file is
        published only if ``path`` does not exist when the block ends
        (even if another process creates it meanwhile); else the
        temporary file is removed and
        :class:`~speechbrain_masksr.errors.OutputTakenError` is raised.

    Yields
    ------
    Path
        Where to write (hidden name, same extension as ``path``).

    Example
    -------
    >>> path = Path(getfixture("tmpdir")) / "sub" / "a.txt"
    >>> with atomic_write(path) as tmp:
    ...     _ = tmp.write_text("complete")
    >>> with atomic_write(path) as tmp:
    ...     _ = tmp.write_text("trunc")
    ...     raise RuntimeError("killed while writing")
    Traceback (most recent call last):
    ...
    RuntimeError: killed while writing
    >>> path.read_text(), sorted(p.name for p in path.parent.iterdir())
    ('complete', ['a.txt'])
    >>> with atomic_write(path, overwrite=False) as tmp:
    ...     _ = tmp.write_text("second")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.OutputTakenError: .../a.txt was created by another writer...
    >>> path.read_text(), sorted(p.name for p in path.parent.iterdir())
    ('complete', ['a.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, fd = _create_temp(path)
    try:
        yield tmp
        st = os.stat(tmp, follow_symlinks=False)  # FileNotFoundError if gone
        if st.st_size == 0 and st.st_mtime_ns == 0:
            raise FileNotFoundError(f"{path}: nothing was written")
        fsync_path(tmp)
        _publish(tmp, path, overwrite)
    except BaseException:
        with contextlib.suppress(OSError):
            if tmp.is_symlink() or tmp.exists():
                tmp.unlink()
        raise
    finally:
        os.close(fd)  # releases the lock (after the file is gone)
    fsync_path(path.parent, directory=True)


@contextlib.contextmanager
def atomic_open(path, mode="w", encoding="utf-8", **kwargs):
    """Context manager: ``open`` for writing, committed atomically.

    Like ``open(path, mode)`` but the data go to a temporary file that
    replaces ``path`` only when the block ends without an error (see
    :func:`atomic_write`).

    Arguments
    ---------
    path : str or Path
        The final file.
    mode : str
        ``"w"`` (text) or ``"wb"`` (binary).
    encoding : str
        Text encoding (ignored for binary modes).
    **kwargs : dict
        Passed to ``open`` (e.g. ``newline=""`` for CSV).

    Yields
    ------
    file
        The open temporary file.

    Example
    -------
    >>> path = getfixture("tmpdir") / "t.csv"
    >>> with atomic_open(path, newline="") as fout:
    ...     _ = fout.write("a,b\\n")
    >>> path.read()
    'a,b\\n'
    """
    if "w" not in mode:
        raise ValueError(f"atomic_open writes whole files, got mode {mode!r}")
    if "b" in mode:
        encoding = None
    with atomic_write(path) as tmp:
        with open(tmp, mode, encoding=encoding, **kwargs) as handle:
            yield handle


def claim_path(path):
    """The claim file of an output (see :func:`claim_output`).

    Arguments
    ---------
    path : str or Path
        The output file.

    Returns
    -------
    Path
        ``<folder>/.<name>.claim``.

    Example
    -------
    >>> claim_path("/data/out/a.wav").as_posix()
    '/data/out/.a.wav.claim'
    """
    path = Path(path)
    return path.with_name(f".{path.name}{CLAIM_MARK}")


def _claim_owner(fd):
    """`` (process N)`` from a claim file's content, or ``""``."""
    with contextlib.suppress(OSError, ValueError):
        return f" (process {int(os.pread(fd, 32, 0).decode().strip())})"
    return ""


@contextlib.contextmanager
def claim_output(path):
    """Context manager: hold an exclusive claim on an output file.

    The claim is an ``flock`` lock on the hidden file ``.<name>.claim``
    next to ``path`` (created if needed, the process id written in it),
    released and removed when the block ends. A claim held by another
    live process (or another open claim in this one) raises
    :class:`~speechbrain_masksr.errors.OutputTakenError` at once, naming
    the output; a claim file left by a killed process holds no lock and is
    taken over. The claim does not write ``path``: check for an existing
    output inside the block, and publish with
    ``atomic_write(path, overwrite=False)`` (or ``save_audio(...,
    overwrite=False)``) so that writers that do not claim cannot be
    overwritten either.

    Arguments
    ---------
    path : str or Path
        The output file (its folder is created).

    Yields
    ------
    Path
        The claim file.

    Example
    -------
    >>> out = Path(getfixture("tmpdir")) / "out" / "a.wav"
    >>> with claim_output(out):
    ...     with claim_output(out):
    ...         pass
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.OutputTakenError: output .../a.wav is being written by another process...
    >>> with claim_output(out) as claim:  # released: free again
    ...     claim.name
    '.a.wav.claim'
    >>> sorted(p.name for p in out.parent.iterdir())
    []
    """
    path = Path(path)
    lock = claim_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW
    for _ in range(100):
        try:
            fd = os.open(lock, flags, 0o644)
        except OSError as err:
            raise OutputError(
                f"cannot claim the output {path}: {lock}: {err.strerror or err}"
            ) from err
        locked = _try_lock(fd)
        if locked is False:
            owner = _claim_owner(fd)
            os.close(fd)
            raise OutputTakenError(
                f"output {path} is being written by another process{owner} "
                f"(it holds {lock.name}); left to it"
            )
        if _is_open_file(fd, lock):
            break
        os.close(fd)  # released and removed before the lock: try again
    else:
        raise OutputTakenError(f"output {path}: cannot claim {lock.name}")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield lock
    finally:
        with contextlib.suppress(OSError):
            if _is_open_file(fd, lock):
                os.unlink(lock)  # while holding the lock
        os.close(fd)


def remove_stale_files(folder, suffixes=None, before=None):
    """Remove the temporary and claim files that killed writers left.

    Only names of this package's patterns are considered (``.<stem>.<8 hex
    digits>.tmp<suffix>`` from :func:`temp_path`, ``.<name>.claim`` from
    :func:`claim_path`), only regular files, and only those that no live
    process holds locked (a live writer locks its temporary file and its
    claim). With ``before``, files modified at or after that time are left
    too (they may belong to a writer that is starting).

    Arguments
    ---------
    folder : str or Path
        The folder (not searched recursively; a missing folder has none).
    suffixes : tuple of str, optional
        Only files for outputs with these endings (e.g. ``(".wav",)``).
    before : float, optional
        A ``time.time()`` value: only files last modified before it.

    Returns
    -------
    removed : list of Path
        The files removed.
    left : list of Path
        Matching files that are unlocked but too recent, or whose lock
        cannot be tested (no ``fcntl``); files of live writers are not
        listed.

    Example
    -------
    >>> import time
    >>> out = Path(getfixture("tmpdir"))
    >>> _ = (out / ".a.0123abcd.tmp.wav").write_bytes(b"RIFF, truncated")
    >>> _ = (out / ".notes.txt").write_text("not ours")
    >>> with atomic_write(out / "b.wav") as live:  # a writer at work
    ...     removed, left = remove_stale_files(out, before=time.time() + 1)
    ...     _ = live.write_bytes(b"RIFF")
    >>> [p.name for p in removed], left
    (['.a.0123abcd.tmp.wav'], [])
    >>> sorted(p.name for p in out.iterdir())
    ['.notes.txt', 'b.wav']
    """
    folder = Path(folder)
    removed, left = [], []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return removed, left
    for entry in entries:
        temp = _TEMP_NAME.fullmatch(entry.name)
        claim = _CLAIM_NAME.fullmatch(entry.name)
        if temp:
            final = temp.group("stem") + (temp.group("suffix") or "")
        elif claim:
            final = claim.group("name")
        else:
            continue
        if suffixes is not None and not final.lower().endswith(
            tuple(s.lower() for s in suffixes)
        ):
            continue
        if not entry.is_file(follow_symlinks=False):
            continue
        path = Path(entry.path)
        try:
            fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
        except OSError:
            continue  # gone meanwhile, or not ours to open
        try:
            locked = _try_lock(fd)
            if locked is False or not _is_open_file(fd, path):
                continue  # a live writer's, or just released and removed
            recent = before is not None and os.fstat(fd).st_mtime >= before
            if locked is None or recent:
                left.append(path)
            else:
                os.unlink(path)  # while holding the lock
                removed.append(path)
        finally:
            os.close(fd)
    return removed, left


def check_writable_folder(folder):
    """Check that files can be created in an existing folder (a real try).

    A temporary file is created there and removed at once: unlike
    ``os.access``, this also fails for ``root`` where nothing can be
    written (``/proc``, read-only mounts).

    Arguments
    ---------
    folder : str or Path
        An existing folder.

    Raises
    ------
    OutputError
        Naming the folder and the system's reason.

    Example
    -------
    >>> check_writable_folder(getfixture("tmpdir"))
    >>> check_writable_folder("/proc")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.OutputError: cannot create files in the folder /proc (...)
    """
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OutputError(
            f"cannot create files in the folder {folder} "
            f"({err.strerror or err})"
        ) from err


def check_output_path(path):
    """Check, before any work, that a file can be written at ``path``.

    The path must not be a folder, and its folder must exist and be
    writable, or be creatable in a writable folder (nothing is created).

    Arguments
    ---------
    path : str or Path
        The output file.

    Raises
    ------
    OutputError
        Naming ``path`` and the reason.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> check_output_path(tmp / "new" / "sub" / "a.wav")
    >>> check_output_path(tmp)
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.OutputError: output path ... is a folder, not a file
    >>> check_output_path("/proc/masksr/a.wav")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.OutputError: cannot write /proc/masksr/a.wav: cannot create files in the folder /proc (...)
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"output path {path} is a folder, not a file")
    existing = path.parent
    while not (existing.exists() or existing.is_symlink()):
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(
            f"cannot write {path}: {existing} is not a folder (a file or a "
            "broken link where a folder is needed)"
        )
    try:
        check_writable_folder(existing)
    except OutputError as err:
        raise OutputError(f"cannot write {path}: {err}") from err
