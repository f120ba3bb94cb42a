"""Atomic writes: a crash mid-save never leaves a half-written file, and the
previous version stays readable until the new one is complete. What is
written gets the user's umask, like any other program's files (the
temporary files it starts as are private).

Every temporary file or folder rnnzoo makes carries `TEMPORARY_MARK` in its
name, so what a killed process left behind can be recognised (and removed by
`remove_stale_temporaries` in folders rnnzoo owns) without touching anything
else. A save is flushed to the disk (`fsync`) before it is renamed into
place, and the folder after, so a power cut leaves the old file or the new
one.
"""

import contextlib
import json
import math
import os
import re
import shutil
import signal
import tempfile
import threading

TEMPORARY_MARK = ".rnnzoo-tmp"
# Temporaries of versions before the mark: `.<name>.<8 random characters>.tmp[.ext]`.
_LEGACY_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp(\.[A-Za-z0-9.]+)?$")
# Fault injection for tests: SIGKILL the process while saving the file or folder of this base name (after
# the temporary one is written, before it is renamed into place).
KILL_IN_SAVE = "RNNZOO_KILL_IN_SAVE"


def _split_extension(name):
    # Keep the extensions: Keras picks the file format from them (".keras", ".weights.h5").
    base, dot, ext = name.partition(".")
    return base, dot + ext


@contextlib.contextmanager
def atomic_write(path):
    """Yield a temporary path beside `path`; rename it onto `path` only if the
    block finishes. On error the temporary file is removed and `path` is
    untouched.

    ```python
    with atomic_write("model.keras") as tmp:
        model.save(tmp)
    ```
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    base, ext = _split_extension(os.path.basename(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=f"{TEMPORARY_MARK}{ext}", dir=folder)
    os.close(fd)
    apply_umask(tmp)
    try:
        try:
            yield tmp
            _sync(tmp)
        except OSError as error:  # a full or read-only disk: say which file could not be written
            if error.filename is None and error.errno is not None:
                raise OSError(error.errno, f"{error.strerror} (writing {path})") from None
            raise
        _kill_if_asked(path)
        os.replace(tmp, path)
        _sync(folder)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _kill_if_asked(path):
    if os.environ.get(KILL_IN_SAVE) == os.path.basename(os.fspath(path)):
        os.kill(os.getpid(), signal.SIGKILL)


def _sync(path):
    """fsync a file or a folder (a folder's entry for a renamed file); where
    the platform cannot sync a folder, skip it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        if not os.path.isdir(path):
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def scratch_folder(path):
    """A temporary folder beside `path` (with the user's umask), removed when
    the block ends: build a folder there, then `replace_folder` it onto `path`."""
    parent = os.path.dirname(os.path.abspath(os.fspath(path)))
    os.makedirs(parent, exist_ok=True)
    scratch = apply_umask(tempfile.mkdtemp(prefix=f".{os.path.basename(os.fspath(path))}.", suffix=TEMPORARY_MARK,
                                           dir=parent))
    try:
        yield scratch
    finally:
        if os.path.isdir(scratch):
            shutil.rmtree(scratch, ignore_errors=True)


def is_temporary(name):
    """Whether a file or folder name is one of rnnzoo's temporaries."""
    return name.startswith(".") and (TEMPORARY_MARK in name or bool(_LEGACY_TEMPORARY.match(name)))


def remove_stale_temporaries(folder):
    """Remove the temporaries a killed process left under `folder` (only in
    a folder rnnzoo owns, while no other process writes there: a locked run
    folder). Returns the paths removed."""
    removed = []
    for base, folders, files in os.walk(folder):
        for name in [n for n in folders if is_temporary(n)]:
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
            folders.remove(name)
            removed.append(os.path.join(base, name))
        for name in files:
            if is_temporary(name):
                os.remove(os.path.join(base, name))
                removed.append(os.path.join(base, name))
    return removed


_UMASK_LOCK = threading.Lock()


def current_umask():
    """The process's umask, read without changing it where the platform
    tells it (Linux: /proc/self/status); elsewhere set and restored under a
    lock, so other threads of rnnzoo never see it at 0."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def apply_umask(path):
    """Give a file or folder made private by `tempfile` (0600 / 0700) the
    mode that `open` or `mkdir` would have given it: 0666 / 0777 less the
    umask."""
    os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~current_umask())
    return path


def write_text(path, text, encoding="utf-8"):
    with atomic_write(path) as tmp:
        with open(tmp, "w", encoding=encoding) as f:
            f.write(text)
    return os.fspath(path)


def write_json(path, obj):
    """JSON with NumPy scalars and arrays converted to plain Python values."""
    return write_text(path, json.dumps(to_jsonable(obj), indent=2, sort_keys=False) + "\n")


def to_jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):  # NumPy arrays and scalars, tensors
        return to_jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None  # NaN and infinity are not valid JSON
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return str(obj)


def replace_folder(source, target):
    """Move the folder `source` onto `target` (same file system); an existing
    `target` is removed only once the new folder is in place. Callers make
    sure `target` is theirs to replace (an earlier export, a run's own
    folder)."""
    _kill_if_asked(target)
    if not os.path.exists(target):
        os.replace(source, target)
        return
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.old.", suffix=TEMPORARY_MARK,
                           dir=os.path.dirname(target))
    os.rmdir(old)
    os.replace(target, old)
    os.replace(source, target)
    shutil.rmtree(old, ignore_errors=True)


def gzipped_size(path):
    """Bytes of the file at `path` once gzip-compressed (level 9): the
    download size of a pruned model, whose zeros compress."""
    import gzip

    with open(path, "rb") as f:
        return len(gzip.compress(f.read(), compresslevel=9))
