"""Write files so that they are never seen half-written.

Every file skface writes (model files, checkpoints, CSVs, images of synthetic
datasets) goes through :func:`atomic_path`: the content is written to a
temporary name in the destination's folder, flushed to disk, and only then
renamed over the destination with :func:`os.replace`, which is atomic on
POSIX and Windows within one file system. A crash, a full disk or a
``SIGKILL`` at any moment leaves either the old file or the new one, plus at
worst a stray temporary file whose name starts with ``.skface-``.
"""

import contextlib
import os
import tempfile

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
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX, suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        if durable:
            _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    if durable:
        _fsync_dir(directory)


def remove_stale(directory):
    """Delete temporary files that a killed process left in ``directory``."""
    with contextlib.suppress(OSError):
        for name in os.listdir(directory):
            if name.startswith(TEMP_PREFIX):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(directory, name))
