"""Write files so that they are never seen half-written.

Every file skface writes (model files, checkpoints, CSVs, images of synthetic
datasets) goes through :func:`atomic_path`: the content is written to a
temporary name in the destination's folder, flushed to disk, and only then
renamed over the destination with :func:`os.replace`, which is atomic on
POSIX and Windows within one file system. A crash, a full disk or a
``SIGKILL`` at any moment leaves either the old file or the new one, plus at
worst a stray temporary file whose name starts with ``.skface-``.

The file gets the permissions a plain ``open(path, "w")`` would give it: the
destination's own mode when it already exists, else ``0o666`` less the
user's umask (``-rw-r--r--`` under the usual umask 022), not the private
``0o600`` of :func:`tempfile.mkstemp`, so that a model or a report written
for a team is readable by the team.
"""

import contextlib
import os
import secrets
import stat

#: prefix of the temporary files; :func:`remove_stale` deletes leftovers
TEMP_PREFIX = ".skface-"


def _fsync_file(path):
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory):
    # makes the rename itself durable; not possible on every platform
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _create_temp(directory, suffix):
    """Create an empty temporary file in ``directory`` and return its path.

    ``os.open`` with mode ``0o666`` lets the kernel apply the umask, as
    ``open(path, "w")`` does; ``O_EXCL`` makes the name ours alone, as in
    :func:`tempfile.mkstemp`, which would create the file ``0o600``.
    """
    for _ in range(100):
        tmp = os.path.join(directory, f"{TEMP_PREFIX}{secrets.token_hex(8)}{suffix}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"could not create a temporary file in {directory!r}: every name tried exists.")


def _keep_mode(path, tmp):
    # replacing a file must not change its permissions, as open(path, "w") would not
    with contextlib.suppress(OSError):
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))


@contextlib.contextmanager
def atomic_path(path, *, suffix=None, durable=True):
    """Yield a temporary path to write; on success rename it to ``path``.

    The temporary file lives in the destination's folder (a rename across file
    systems would not be atomic) and keeps ``path``'s extension unless
    ``suffix`` says otherwise, because some writers (Keras's ``model.save``,
    PIL) pick the format from it. On any error, including
    ``KeyboardInterrupt``, the temporary file is removed and ``path`` is left
    as it was.

    ``durable=True`` also flushes the file and the rename to disk (fsync), so
    that a power cut cannot leave an empty file under ``path``; writers of
    many small files (the images of ``write_faces``) pass False and keep the
    protection against crashed or killed processes only.

    Examples
    --------
    >>> import os, tempfile
    >>> from skface._atomic import atomic_path
    >>> target = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_path(target) as tmp:
    ...     with open(tmp, "w") as handle:
    ...         _ = handle.write("done")
    >>> open(target).read()
    'done'
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if suffix is None:
        suffix = os.path.splitext(path)[1]
    tmp = _create_temp(directory, suffix)
    try:
        yield tmp
        if os.path.exists(path):
            _keep_mode(path, tmp)
        if durable:
            _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    if durable:
        _fsync_dir(directory)


def write_text(path, text, *, encoding="utf-8", durable=True):
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`); return the path.

    Examples
    --------
    >>> import os, tempfile
    >>> from skface._atomic import write_text
    >>> path = write_text(os.path.join(tempfile.mkdtemp(), "note.txt"), "hello")
    >>> open(path).read()
    'hello'
    """
    path = os.fspath(path)
    with atomic_path(path, durable=durable) as tmp:
        # newline="" writes the text as given, "\n" included, on every platform
        with open(tmp, "w", encoding=encoding, newline="") as handle:
            handle.write(text)
    return path


def write_csv(frame, path, *, durable=True):
    """Write the DataFrame ``frame`` to ``path`` atomically, without its index; return the path."""
    path = os.fspath(path)
    with atomic_path(path, durable=durable) as tmp:
        frame.to_csv(tmp, index=False)
    return path


def remove_stale(directory):
    """Delete temporary files that a killed process left in ``directory``."""
    with contextlib.suppress(OSError):
        for name in os.listdir(directory):
            if name.startswith(TEMP_PREFIX):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(directory, name))
