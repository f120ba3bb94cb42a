"""Plain text for language modelling: a file, or a folder of files (a
corpus), with Brown-style `word/tag` files read as their words and
annotated CoNLL files (`.conllu`, `.conll` BIO columns) as their sentences,
one per line, words joined by spaces (as a tagger reads them)."""

import os
import re

from rnnzoo.data.formats.bio import load_bio
from rnnzoo.data.formats.conllu import load_conllu
from rnnzoo.data.reading import read_text, require_examples

_TAGGED = re.compile(r"^.+/([a-z$*+\-]+|[^\w\s]+)$")


def load_text(path, encoding="utf-8"):
    """The file's text, unchanged; or, for a folder, `corpus_text`. An empty
    (or whitespace-only) text raises."""
    text = corpus_text(path, encoding) if os.path.isdir(path) else read_text(path, encoding)
    require_examples(text.strip(), path, "text")
    return text


def corpus_files(folder):
    """The text files of a corpus folder, recursively (through linked
    folders too), in sorted order; hidden files and documentation (`*.md`,
    and names in capitals such as `README`, `CONTENTS`, `LICENSE.txt`) are
    left out."""
    found = []
    for root, folders, files in os.walk(folder, followlinks=True):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in sorted(files):
            stem = os.path.splitext(name)[0]
            if name.startswith(".") or name.endswith(".md") or stem.isupper():
                continue
            found.append(os.path.join(root, name))
    return found


def untagged(text):
    """`text` without Brown-style tags when nearly every token (90%) is
    `word/tag` (lowercase tags, as the Brown corpus writes them); else as is.
    Lines are kept."""
    tokens = text.split()
    if not tokens or sum(bool(_TAGGED.match(t)) for t in tokens) < 0.9 * len(tokens):
        return text
    return "\n".join(" ".join(t.rsplit("/", 1)[0] if _TAGGED.match(t) else t for t in line.split())
                     for line in text.splitlines() if line.strip())


def file_text(path, encoding="utf-8"):
    """A corpus file's words: a CoNLL-U (`.conllu`) or BIO-column
    (`.conll`) file's sentences, one per line; any other file `untagged`."""
    if path.endswith((".conllu", ".conll")):
        load = load_conllu if path.endswith(".conllu") else load_bio
        return "\n".join(" ".join(s.words) for s in load(path, encoding=encoding))
    return untagged(read_text(path, encoding))


def corpus_text(folder, encoding="utf-8"):
    """Every `corpus_files` file's text (`file_text`), one after another,
    each ending with a line break."""
    files = corpus_files(folder)
    if not files:
        raise ValueError(f"{folder}: no text file in this folder.")
    return "".join(file_text(path, encoding).rstrip("\n") + "\n" for path in files)
