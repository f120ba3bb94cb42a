"""Column files of entity tags (CoNLL-2003, WNUT-17): a word and its tag per
line, the word in the first column and the tag in the last; sentences are
separated by blank lines or lines holding only whitespace (WNUT-17 uses a
lone tab)."""

import re

from rnnzoo.data.examples import TaggedSentence
from rnnzoo.data.reading import DataFormatError, read_blocks, require_examples

TAG_PATTERN = re.compile(r"^(O|[BIES]-\S+)$")


def load_bio(path, encoding="utf-8"):
    """Sentences of (words, BIO / IOB1 / BIOES tags). `-DOCSTART-` lines
    (CoNLL-2003 document breaks) are skipped."""
    sentences = []
    for block in read_blocks(path, encoding):
        words, tags = [], []
        for number, line in block:
            fields = [f.strip() for f in (line.split("\t") if "\t" in line else line.split())]
            if fields[0] == "-DOCSTART-":
                continue
            if len(fields) < 2 or not fields[0]:
                raise DataFormatError(path, number, f"expected `word<TAB>tag`, found {line!r}.")
            if not TAG_PATTERN.match(fields[-1]):
                raise DataFormatError(path, number,
                                      f"expected a tag such as O, B-PER or I-LOC, found {fields[-1]!r}.")
            words.append(fields[0])
            tags.append(fields[-1])
        if words:
            sentences.append(TaggedSentence(words, tags))
    return require_examples(sentences, path, "sentences")
