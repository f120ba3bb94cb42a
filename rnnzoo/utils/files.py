"""Atomic writes: a crash mid-save never leaves a half-written file, and the
previous version stays readable until the new one is complete. What is
written gets the user's umask, like any other program's files (the
temporary files it starts as are private)."""

import contextlib
import json
import math
import os
import shutil
import tempfile


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
    # Keep the extensions: Keras picks the file format from them (".keras", ".weights.h5").
    base, dot, ext = os.path.basename(path).partition(".")
    ext = dot + ext
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=f".tmp{ext}", dir=folder)
    os.close(fd)
    apply_umask(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def apply_umask(path):
    """Give a file or folder made private by `tempfile` (0600 / 0700) the
    mode that `open` or `mkdir` would have given it: 0666 / 0777 less the
    umask."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~mask)
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
    `target` is removed only once the new folder is in place."""
    if not os.path.exists(target):
        os.replace(source, target)
        return
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.old.", dir=os.path.dirname(target))
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
