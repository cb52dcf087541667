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
the link).

Authors
 * speechbrain-masksr contributors 2026
"""

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["atomic_open", "atomic_write", "fsync_path", "temp_path"]

#: Marks temporary files (``.<stem>.<random>.tmp<suffix>``).
TMP_MARK = ".tmp"


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


@contextlib.contextmanager
def atomic_write(path):
    """Context manager: write a file through a temporary path, then commit.

    Yields a temporary path in the same folder (the folder is created);
    whatever the block writes there replaces ``path`` at the end, after an
    ``fsync``. If the block raises (or is interrupted), the temporary
    file is removed and an existing ``path`` is left as it was.

    Arguments
    ---------
    path : str or Path
        The final file.

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
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        yield tmp
        if not (tmp.exists() or tmp.is_symlink()):
            raise FileNotFoundError(f"{path}: nothing was written")
        fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            if tmp.is_symlink() or tmp.exists():
                tmp.unlink()
        raise
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
