"""Reading text files line by line with errors that name the file, the line
and what was expected. Every loader reads through here."""

import codecs
import json
import os


class DataFormatError(ValueError):
    """A data file does not follow its format; the message starts `path:line:`."""

    def __init__(self, path, line, message):
        self.path, self.line = os.fspath(path), line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


def check_file(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file.")
    return path


def _without_bom(encoding):
    """UTF-8 files may start with a byte-order mark (Windows editors write
    one); it is not text, so UTF-8 is read as "utf-8-sig" at a file's start."""
    try:
        return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}.") from None


def read_lines(path, encoding="utf-8"):
    """Yield (line number, line without its newline). Undecodable bytes raise
    `DataFormatError` naming the encoding tried; a UTF-8 byte-order mark is
    dropped."""
    path = check_file(path)
    first = _without_bom(encoding)
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode(first if number == 1 else encoding)
            except UnicodeDecodeError as error:
                raise DataFormatError(
                    path, number,
                    f"cannot decode byte {raw[error.start:error.start + 1]!r} as {encoding} "
                    f"(column {error.start + 1}); pass encoding= (e.g. 'latin-1')."
                ) from None
            except LookupError:
                raise ValueError(f"unknown encoding {encoding!r}.") from None
            yield number, line.rstrip("\r\n")


def read_blocks(path, encoding="utf-8"):
    """Yield blocks of non-blank (line number, line) pairs; blank or
    whitespace-only lines separate blocks (sentences in column formats)."""
    block = []
    for number, line in read_lines(path, encoding):
        if line.strip():
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:  # a last block without its blank line
        yield block


def read_text(path, encoding="utf-8"):
    """A whole file as one string, unchanged but for a UTF-8 byte-order mark
    (same decoding errors as `read_lines`)."""
    path = check_file(path)
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode(_without_bom(encoding))
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DataFormatError(
            path, line, f"cannot decode byte {data[error.start:error.start + 1]!r} as {encoding}; "
            "pass encoding= (e.g. 'latin-1')."
        ) from None
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}.") from None


def require_examples(examples, path, what):
    """Empty files or splits are an error, not an empty dataset."""
    if not examples:
        raise DataFormatError(path, None, f"no {what} found (is the file empty or in another format?).")
    return examples


def read_json(path, encoding="utf-8"):
    """A JSON file's value; invalid JSON raises `DataFormatError` naming the line."""
    try:
        return json.loads(read_text(path, encoding))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, error.lineno, f"not valid JSON ({error.msg}).") from None
